"""Bad input to every public entry point: a clear error (type, and a message
naming the argument) or a warning, before anything compiles.

Compilation is replaced by a stub that raises ``Compiled``: an argument check
that let bad input through would show up as ``Compiled`` instead of the
expected error, and valid input must get as far as the stub."""
import importlib
import json

import jax.numpy as jnp
import numpy as np
import optax
import pytest

import hnnjax as hnn
from hnnjax import cli
from hnnjax.fit import fit_drives, sensitivity
from hnnjax.grad import model
from hnnjax.source.inverse import label_dipole
from hnnjax.viz import plot_dipole


class Compiled(Exception):
    """Raised by the stubs in place of building or compiling a model."""


def _stop(*args, **kwargs):
    raise Compiled


@pytest.fixture(autouse=True)
def no_compile(monkeypatch):
    monkeypatch.setattr("hnnjax.network.simulate.compile_network", _stop)
    for module in ("hnnjax.fit.objective", "hnnjax.fit.sensitivity"):  # not the functions
        monkeypatch.setattr(importlib.import_module(module), "dipole_fn", _stop)


@pytest.fixture(scope="module")
def net():
    net = hnn.jones_2009_model(mesh_shape=(2, 2))
    net.add_evoked_drive("evprox1", mu=15.0, sigma=2.0, numspikes=1, location="proximal",
                         weights_ampa={"L5_pyramidal": 0.004})
    return net


# ------------------------------------------------------------ simulate_dipole
@pytest.mark.parametrize("kwargs", [
    dict(tstop=np.float32(40)), dict(tstop=np.int64(40)), dict(tstop=40, dt=np.float32(0.025)),
    dict(tstop=40.0, n_trials=np.int64(2)), dict(tstop=40.0, batch_size=np.int32(1)),
])
def test_simulate_accepts_numpy_scalars(net, kwargs):
    with pytest.raises(Compiled):
        hnn.simulate_dipole(net, **kwargs)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(tstop="40"), TypeError, r"tstop must be a finite number > 0 ms; got '40'"),
    (dict(tstop=None), TypeError, "tstop must be"),
    (dict(tstop=float("nan")), ValueError, "tstop must be .* got nan"),
    (dict(tstop=-5.0), ValueError, "tstop must be .* > 0"),
    (dict(tstop=40.0, dt=0), ValueError, "dt must be .* > 0"),
    (dict(tstop=40.0, dt=50.0), ValueError, r"dt \(50 ms\) must not exceed tstop \(40 ms\)"),
    (dict(tstop=40.0, n_trials=True), TypeError, "n_trials must be an integer >= 1; got True"),
    (dict(tstop=40.0, n_trials=2.0), TypeError, "n_trials must be an integer"),
    (dict(tstop=40.0, n_trials=0), ValueError, "n_trials must be an integer >= 1"),
    (dict(tstop=40.0, record_vsec=0), ValueError, "record_vsec must be one of"),
    (dict(tstop=40.0, record_ca=True), ValueError, "record_ca must be one of"),
    (dict(tstop=40.0, record_isec="dendrites"), ValueError, "record_isec must be one of"),
    (dict(tstop=40.0, dtype="float16"), ValueError, "dtype must be one of"),
    (dict(tstop=40.0, batch_size=0), ValueError, "batch_size must be an integer >= 1"),
    (dict(tstop=40.0, batch_size=True), TypeError, "batch_size must be an integer"),
    (dict(tstop=1e9), ValueError, r"tstop=1e\+09 ms.*needs about .* GiB"),
])
def test_simulate_rejects(net, kwargs, error, match):
    with pytest.raises(error, match=match):
        hnn.simulate_dipole(net, **kwargs)


def test_simulate_rejects_drive_values_edited_to_nan(net):
    edited = net.copy()
    edited.external_drives["evprox1"]["dynamics"]["mu"] = np.nan
    with pytest.raises(ValueError, match=r"drive 'evprox1': dynamics\['mu'\] = nan is not finite"):
        hnn.simulate_dipole(edited, tstop=40.0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(progress="yes"), "progress must be True or False"),
    (dict(postproc=1), "postproc must be True or False"),
])
def test_simulate_rejects_non_bool_flags(net, kwargs, match):
    with pytest.raises(TypeError, match=match):
        hnn.simulate_dipole(net, tstop=40.0, **kwargs)


def test_simulate_rejects_a_non_network():
    with pytest.raises(TypeError, match="net must be a Network; got dict"):
        hnn.simulate_dipole({}, tstop=40.0)


def test_simulate_checks_n_trials_from_params(net):
    bad = net.copy()
    bad._params["N_trials"] = 0
    with pytest.raises(ValueError, match=r"params\['N_trials'\]"):
        hnn.simulate_dipole(bad, tstop=40.0)


def test_simulate_checks_postproc_params_before_the_run(net):
    bad = net.copy()
    bad._params["dipole_smooth_win"] = 0
    with pytest.warns(DeprecationWarning), pytest.raises(
            ValueError, match=r"params\['dipole_smooth_win'\] \(postproc=True\) must be"):
        hnn.simulate_dipole(bad, tstop=40.0, postproc=True)


@pytest.mark.parametrize("mu", [1000.0, -50.0])
def test_simulate_warns_about_a_drive_that_cannot_fire(net, mu):
    late = net.copy()
    late.add_evoked_drive("late", mu=mu, sigma=1.0, numspikes=1, location="proximal",
                          weights_ampa={"L5_pyramidal": 0.004})
    with pytest.warns(UserWarning, match="drive 'late' cannot fire within the run"), \
            pytest.raises(Compiled):
        hnn.simulate_dipole(late, tstop=40.0)


def test_simulate_warns_about_a_poisson_drive_with_no_window(net):
    empty = net.copy()
    empty.add_poisson_drive("p", tstart=10.0, tstop=10.0, rate_constant=10.0,
                            location="proximal", weights_ampa={"L5_pyramidal": 0.004})
    with pytest.warns(UserWarning, match="drive 'p' cannot fire within the run"), \
            pytest.raises(Compiled):
        hnn.simulate_dipole(empty, tstop=40.0)


def test_simulate_warns_about_a_coarse_dt(net):
    with pytest.warns(UserWarning, match="dt=0.5 ms is over 10x NEURON's 0.025 ms"), \
            pytest.raises(Compiled):
        hnn.simulate_dipole(net, tstop=40.0, dt=0.5)


# ----------------------------------------------------- fit_drives, sensitivity
TARGET = (np.arange(0.0, 41.0), np.sin(np.arange(41.0) / 5))
FIT = dict(tstop=40.0, n_steps=1, progress=False)


def test_fit_accepts_numpy_scalars(net):
    with pytest.raises(Compiled):
        fit_drives(net, TARGET, ["evprox1.mu"], **{**FIT, "tstop": np.float32(40)},
                   n_trials=np.int64(1), scale=np.float64(2.0))


@pytest.mark.parametrize("target, params, kwargs, error, match", [
    (TARGET, [], {}, TypeError, "params must be a non-empty list"),
    (TARGET, "evprox1.mu", {}, TypeError, "params must be a non-empty list"),
    (TARGET, [3], {}, TypeError, r"params\[0\] must be a str"),
    (TARGET, ["evprox9.mu"], {}, ValueError, "params: 'evprox9.mu' matches no parameter"),
    (TARGET, ["evprox1.mu"], dict(dt=0), ValueError, "dt must be .* > 0"),
    (TARGET, ["evprox1.mu"], dict(tstop=-5.0), ValueError, "tstop must be .* > 0"),
    (TARGET, ["evprox1.mu"], dict(dt=0.3), ValueError, "dt=0.3 ms does not divide tstop=40 ms"),
    (TARGET, ["evprox1.mu"], dict(n_trials=True), TypeError, "n_trials must be an integer"),
    (TARGET, ["evprox1.mu"], dict(smooth_window=50.0), ValueError, "smooth_window must be"),
    (TARGET, ["evprox1.mu"], dict(smooth_window=0.01), ValueError,
     "smooth_window must be a finite number >= 0.025 ms and < 40 ms; got 0.01"),
    (TARGET, ["evprox1.mu"], dict(max_delay=0.0), ValueError, "max_delay must be"),
    (TARGET, ["evprox1.mu"], dict(n_steps=-1), ValueError, "n_steps must be an integer >= 0"),
    (TARGET, ["evprox1.mu"], dict(scale=0), ValueError,
     r"scale \(or 'fit'\) must be a finite non-zero number; got 0"),
    (TARGET, ["evprox1.mu"], dict(scale="auto"), ValueError, "scale must be one of 'fit'"),
    (TARGET, ["evprox1.mu"], dict(scale=None), TypeError,
     r"scale \(or 'fit'\) must be a finite number"),
    (TARGET, ["evprox1.mu"], dict(progress="yes"), TypeError, "progress must be True or False"),
    (TARGET, ["evprox1.mu"], dict(optimizer=optax.adam(-0.1)), ValueError,
     "optimizer does not step down the gradient"),
    (TARGET, ["evprox1.mu"], dict(optimizer=optax.sgd(0.0)), ValueError, "learning rate > 0"),
    (TARGET, ["evprox1.mu"], dict(optimizer="adam"), TypeError, "optimizer must be an optax"),
    (TARGET, ["evprox1.mu"], dict(bounds={"evprox1.mu": (20.0, 30.0)}), ValueError,
     r"evprox1.mu starts at 15, outside its bounds \[20, 30\]"),
    (TARGET, ["evprox1.mu"], dict(bounds={"evprox1.sigma": (0.0, 3.0)}), ValueError,
     r"bounds: \['evprox1.sigma'\] are not among the fitted parameters"),
    (TARGET, ["evprox1.mu"], dict(bounds=[(0.0, 30.0)]), TypeError, "bounds must be a dict"),
    (TARGET, ["evprox1.mu"], dict(bounds={"evprox1.mu": 30.0}), TypeError,
     r"bounds\['evprox1.mu'\] must be a \(low, high\) pair"),
    ((np.arange(0.0, 41.0), np.zeros(40)), ["evprox1.mu"], {}, ValueError,
     r"target times \(ms\) and values \(nAm\) must have the same length; got 41 and 40"),
    ((np.arange(0.0, 41.0), np.r_[np.ones(20), np.nan, np.ones(20)]), ["evprox1.mu"], {},
     ValueError, r"target values \(nAm\) has 1 non-finite .* index 20"),
    ((np.arange(0.0, 41.0), np.zeros(41)), ["evprox1.mu"], {}, ValueError,
     "target values are all 0 nAm"),
    ((np.arange(40.0, -1.0, -1.0), np.ones(41)), ["evprox1.mu"], {}, ValueError,
     r"target times \(ms\) must be strictly increasing"),
    ((np.arange(0.0, 21.0), np.ones(21)), ["evprox1.mu"], {}, ValueError, "target spans 0-20 ms"),
    (np.ones(41), ["evprox1.mu"], {}, TypeError, "target must be a Dipole, a .* pair, an"),
    (np.ones((41, 3)), ["evprox1.mu"], {}, ValueError, r"target as an array must have shape \(n, 2\)"),
    (np.c_[np.arange(0.0, 41.0), np.r_[np.ones(40), np.inf]], ["evprox1.mu"], {}, ValueError,
     r"target values \(nAm\) has 1 non-finite .* index 40"),
    ((np.arange(0.0, 39.0), np.ones(39)), ["evprox1.mu"], {}, ValueError,
     r"target spans 0-38 ms; it must cover 0-40 ms \(to within one of its samples\)"),
    ("no_such_wave.txt", ["evprox1.mu"], {}, FileNotFoundError,
     r"no_such_wave.txt \(neither here nor among the shipped waveforms \['S1_SupraT.txt'"),
    (TARGET, ["evprox1.mu"], dict(key=0), TypeError, "key must be None or a JAX PRNG key"),
    (TARGET, ["evprox1.mu"], dict(grid=[10.0]), TypeError, "grid must be a dict"),
    (TARGET, ["evprox1.mu"], dict(grid={"evprox1.mu": ["a"]}), TypeError,
     r"grid\['evprox1.mu'\] must be a 1-D array of numbers"),
    (TARGET, ["evprox1.mu"], dict(grid={"evprox1.mu": [10.0, np.nan]}), ValueError,
     r"grid\['evprox1.mu'\] has 1 non-finite"),
    ((np.arange(0.0, 2e9, 1e6), np.ones(2000)), ["evprox1.mu"], dict(tstop=1e9), ValueError,
     r"a fit over 1 trial\(s\) .*tstop=1e\+09 ms.*needs about .* GiB"),
])
def test_fit_rejects(net, target, params, kwargs, error, match):
    with pytest.raises(error, match=match):
        fit_drives(net, target, params, **{**FIT, **kwargs})


def test_fit_memory_check_counts_reverse_modes_checkpoints_and_forward_modes_derivatives(net):
    """Trials that reverse mode's checkpointed states cannot hold are refused
    (naming the mode and forward mode as a way out); forward mode, which
    keeps no states, takes them; sensitivity's 2 runs per parameter count."""
    import math
    import os
    from hnnjax.fit.arguments import REVERSE_BYTES_PER_NODE
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    n_steps, n_nodes = 1600, sum(len(net.gid_ranges[ct]) * net.cell_types[ct].tree.n_nodes
                                 for ct in net.cell_types)
    dipoles = 8 * 2 * (n_steps + 1)
    n = total // (dipoles + REVERSE_BYTES_PER_NODE * 2 * math.isqrt(n_steps) * n_nodes) + 1
    assert n * dipoles * 2 < total  # forward mode's dipoles and derivatives fit
    with pytest.raises(ValueError, match=r"a fit over \d+ trial\(s\) x 1601 steps \(tstop=40 ms, "
                       r"dt=0.025 ms, reverse mode\) needs about .* GiB.*autodiff='forward'"):
        fit_drives(net, TARGET, ["evprox1.mu"], n_trials=n, autodiff="reverse", **FIT)
    with pytest.raises(Compiled):
        fit_drives(net, TARGET, ["evprox1.mu"], n_trials=n, autodiff="forward", **FIT)
    with pytest.raises(ValueError, match=r"a sensitivity over \d+ trial\(s\) .* needs about"):
        sensitivity(net, ["evprox1.mu"], tstop=40.0, n_trials=total // (2 * dipoles) + 1)


def test_fit_takes_targets_as_users_hold_them(net, tmp_path):
    """A Dipole, a pair, np.loadtxt's (n, 2) array, a file's path or a
    shipped waveform's bare name; HNN's files end a sample (1.665 ms) short of
    170 ms, which is enough.  Bad file content is named with the file."""
    table = np.loadtxt(hnn.dipole.waveform_path("yes_trial_S1_ERP_all_avg.txt"))
    assert table[-1, 0] == pytest.approx(169.826, abs=1e-3)
    for target in (hnn.Dipole(*table.T), tuple(table.T), table, "yes_trial_S1_ERP_all_avg.txt",
                   hnn.dipole.waveform_path("yes_trial_S1_ERP_all_avg.txt")):
        with pytest.raises(Compiled):
            fit_drives(net, target, ["evprox1.mu"], **{**FIT, "tstop": 170.0})
    with pytest.raises(Compiled):  # within one of its 1 ms samples of tstop
        fit_drives(net, (np.arange(0.0, 39.5), np.ones(40) + np.arange(40)), ["evprox1.mu"], **FIT)
    short = tmp_path / "short.txt"
    np.savetxt(short, table[:20])
    with pytest.raises(ValueError, match=r"target short.txt spans 0-31.6342 ms; it must cover 0-170 ms"):
        fit_drives(net, short, ["evprox1.mu"], **{**FIT, "tstop": 170.0})
    short.write_text("0 1\n1 nan\n")
    with pytest.raises(ValueError, match="short.txt, line 2: NaN or inf"):
        fit_drives(net, str(short), ["evprox1.mu"], **FIT)


def test_fit_warns_when_the_loss_rose(net, monkeypatch):
    """A toy model (dipole = mu · sin(t / 5)) in place of the network: a
    huge learning rate jumps past the optimum mu = 20 ms to mu ≈ 40 ms."""
    objective = importlib.import_module("hnnjax.fit.objective")
    times = np.arange(0.0, 40.0 + 0.0125, 0.025)

    def toy_dipole_fn(net, tstop, dt, max_delay, gn=None, forward_mode=False):
        names, theta0 = model.drive_parameters(net)

        def fn(theta, z, row_axis=None):
            return theta[0] * jnp.sin(times / 5)[None] + 0 * z, jnp.zeros(1, bool)
        return fn, None, names, theta0, times

    monkeypatch.setattr(objective, "dipole_fn", toy_dipole_fn)
    monkeypatch.setattr(objective, "trial_draws", lambda *args: jnp.zeros((1, 1)))
    target = (times, 20 * np.sin(times / 5))
    with pytest.warns(UserWarning, match=r"the loss rose over the 1 gradient steps .*"
                      r"the best point seen \([0-9.e+-]+, the start\) is returned"):
        fit = fit_drives(net, target, ["evprox1.mu"], **FIT, scale=1.0, smooth_window=None,
                         optimizer=optax.sgd(1e4), score_trials=0)  # no faithful model here
    assert fit.values["evprox1.mu"] == pytest.approx(15.0)  # the start: the best point seen


def test_fit_rejects_a_non_network():
    with pytest.raises(TypeError, match="net must be a Network"):
        fit_drives(None, TARGET, ["evprox1.mu"], **FIT)


@pytest.mark.parametrize("params, kwargs, error, match", [
    ([], {}, TypeError, "params must be a non-empty list"),
    (["evprox1.mu"], dict(dt=0), ValueError, "dt must be"),
    (["evprox1.mu"], dict(time_step=0.0), ValueError, "time_step must be"),
    (["evprox1.mu"], dict(rel_step=1.0), ValueError, "rel_step must be"),
    (["evprox1.mu"], dict(draws="numpy"), ValueError, "draws must be one of"),
])
def test_sensitivity_rejects(net, params, kwargs, error, match):
    with pytest.raises(error, match=match):
        sensitivity(net, params, **{"tstop": 40.0, **kwargs})


# ----------------------------------------------------------------- Dipole
def _dipole():
    return hnn.Dipole(np.arange(100) * 0.5, np.ones(100))


@pytest.mark.parametrize("method, arg, error, match", [
    ("scale", 0, ValueError, "factor must be a finite non-zero number"),
    ("scale", "2", TypeError, "factor must be a finite number"),
    ("scale", np.inf, ValueError, "factor must be a finite number"),
    ("smooth", float("inf"), ValueError, "window_len must be a finite number > 0 ms; got inf"),
    ("smooth", True, TypeError, "window_len must be"),
    ("savgol_filter", np.nan, ValueError, "h_freq must be"),
])
def test_dipole_methods_reject(method, arg, error, match):
    with pytest.raises(error, match=match):
        getattr(_dipole(), method)(arg)


def test_dipole_accepts_numpy_scalars():
    dpl = _dipole().scale(np.float32(2)).smooth(np.int64(5))
    assert dpl.scale_applied == 2.0


def test_dipole_write_rejects(tmp_path):
    with pytest.raises(TypeError, match="fname must be a str or path; got 3"):
        _dipole().write(3)
    with pytest.raises(ValueError, match="fname must end with '.txt'"):
        _dipole().write(tmp_path / "dpl.csv")


def test_dipole_constructor_rejects():
    with pytest.raises(TypeError, match="nave must be an integer"):
        hnn.Dipole(np.arange(3.0), np.ones(3), nave=True)
    with pytest.raises(ValueError, match=r"times \(ms\) has 1 non-finite"):
        hnn.Dipole([0.0, np.nan, 2.0], np.ones(3))
    with pytest.raises(TypeError, match=r"times \(ms\) must be a 1-D array of numbers"):
        hnn.Dipole("abc", [1.0])
    with pytest.raises(TypeError, match=r"data\['agg'\] must be an array of numbers"):
        hnn.Dipole([0.0, 1.0], {"agg": ["a", "b"]})


@pytest.mark.parametrize("dpls", [None, 3, hnn.Dipole([0.0, 1.0], [1.0, 2.0])])
def test_average_dipoles_rejects(dpls):
    with pytest.raises(ValueError, match="dpls must be a non-empty list of Dipole"):
        hnn.average_dipoles(dpls)


def test_plot_dipole_rejects():
    with pytest.raises(ValueError, match="dpl must be a Dipole or a non-empty list"):
        plot_dipole(None, show=False)


# ----------------------------------------------------------------- readers
@pytest.mark.parametrize("text, match", [
    ("time agg\n0.0 1.0\n0.5 2.0\n",
     r"line 1: expected 2 or 4 numbers per line \(time ms, agg nAm"),
    ("0.0 1.0\n0.5 2.0\n1.0 3.0 4.0\n", "line 3: expected 2 or 4 numbers"),
    ("0.0 1.0\n0.5 nan\n1.0 3.0\n", "line 2: NaN or inf"),
    ("0.0 1.0\n0.5 2.0\n2.0 3.0\n", "time steps must be uniform; the first is 0.5 ms but 0.5-2 ms"),
    ("0.0 1.0\n0.5 2.0\n0.25 3.0\n", r"line 3: times \(ms\) must be strictly increasing"),
    ("0.0 1.0\n", "expected at least 2 lines"),
])
def test_read_dipole_names_file_line_and_format(tmp_path, text, match):
    fname = tmp_path / "dpl.txt"
    fname.write_text(text)
    with pytest.raises(ValueError, match=f"dpl.txt.*{match}"):
        hnn.read_dipole(fname)


def test_read_dipole_rejects(tmp_path):
    with pytest.raises(TypeError, match="fname must be a str or path"):
        hnn.read_dipole(3)
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        hnn.read_dipole(tmp_path / "missing.txt")
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ValueError, match="bin.txt is not a text file"):
        hnn.read_dipole(tmp_path / "bin.txt")


def test_read_waveform_rejects(tmp_path):
    fname = tmp_path / "wave.txt"
    fname.write_text("0.0 1.0\n1.0 2.0\n3.0 3.0\n")
    with pytest.raises(ValueError, match="wave.txt: time steps must be uniform.*pass times="):
        hnn.read_waveform(fname)
    assert hnn.read_waveform(fname, times=[0.0, 1.5, 3.0]).data["agg"][1] == 2.25
    with pytest.raises(ValueError, match=r"times \(ms\) has 1 non-finite"):
        hnn.read_waveform(fname, times=[0.0, np.nan, 3.0])
    fname.write_text("0.0 1.0\n1.0 inf\n")
    with pytest.raises(ValueError, match="wave.txt, line 2: NaN or inf"):
        hnn.read_waveform(fname)


@pytest.mark.parametrize("text, line", [
    ("1.0\t3\tL2_basket\n2.0\t4\n", 2), ("1.0\t3.5\tL2_basket\n", 1),
    ("time gid type\n1.0\t3\tL2_basket\n", 1), ("1.0\t3\tL2_basket\nnan\t4\tL2_basket\n", 2),
    ("1.0\t-3\tL2_basket\n", 1), ("1.0\n", 1),
])
def test_read_spikes_names_file_line_and_format(tmp_path, text, line):
    (tmp_path / "spk_0.txt").write_text(text)
    with pytest.raises(ValueError, match=f"spk_0.txt, line {line}: expected 'time \\(ms\\) gid"):
        hnn.read_spikes(tmp_path / "spk_*.txt")


def test_read_spikes_rejects_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="fname must be a str or path"):
        hnn.read_spikes(None)
    (tmp_path / "spk_0.txt").write_text("1.0\t3\n")
    with pytest.raises(TypeError, match="gid_ranges must be a dict"):
        hnn.read_spikes(tmp_path / "spk_*.txt", gid_ranges=[range(4)])
    with pytest.raises(TypeError, match="gid_ranges must be a dict of name -> range"):
        hnn.read_spikes(tmp_path / "spk_*.txt", gid_ranges={"L2_basket": 4})


def _default_params():
    with open(hnn.io.params.params_path("default")) as fp:
        return json.load(fp)


def test_read_params_names_file_and_line_of_a_bad_value(tmp_path):
    params = _default_params()
    params["gbar_L2Pyr_L2Pyr_ampa"] = None
    fname = tmp_path / "p.json"
    fname.write_text(json.dumps(params, indent=4))
    line = fname.read_text().splitlines().index('    "gbar_L2Pyr_L2Pyr_ampa": null,') + 1
    with pytest.raises(ValueError, match=f"p.json, line {line}: gbar_L2Pyr_L2Pyr_ampa must be "
                                         "a finite number .*; got null"):
        hnn.read_params(fname)
    legacy = tmp_path / "p.param"
    legacy.write_text("tstop: 170.\nt_evprox_1: soon\n")
    with pytest.raises(ValueError, match='p.param, line 2: t_evprox_1 must be a finite number'):
        hnn.read_params(legacy)
    with pytest.raises(ValueError, match=r"params: tstop must be a finite number .*; got nan"):
        hnn.read_params({"tstop": float("nan")})


def test_network_checks_params_set_by_hand():
    params = hnn.read_params(hnn.io.params.params_path("default"))
    params["gbar_L2Pyr_L2Pyr_ampa"] = None
    with pytest.raises(ValueError, match="params: gbar_L2Pyr_L2Pyr_ampa must be a finite number"):
        hnn.jones_2009_model(params)


def test_models_name_the_params_key_of_a_negative_weight():
    params = hnn.read_params(hnn.io.params.params_path("default"))
    params["gbar_L2Pyr_L2Pyr_ampa"] = -1.0
    with pytest.raises(ValueError, match=r"params\['gbar_L2Pyr_L2Pyr_ampa'\] must be .* >= 0 µS"):
        hnn.jones_2009_model(params)
    params = hnn.read_params(hnn.io.params.params_path("default"))
    params["gbar_evprox_1_L2Pyr_ampa"] = -1.0
    with pytest.raises(ValueError, match=r"drive 'evprox1' from the params: weights_ampa"):
        hnn.jones_2009_model(params, add_drives_from_params=True)


def test_read_params_warns_about_ignored_keys(tmp_path):
    params = {**_default_params(), "gbar_L2Pyr_L2Pyr_ampaa": 1.0, "Itonic_A_L2Basket": 0.5}
    fname = tmp_path / "p.json"
    fname.write_text(json.dumps(params))
    with pytest.warns(UserWarning) as record:
        hnn.read_params(fname)
    messages = [str(w.message) for w in record]
    assert any("unknown parameter(s) ['gbar_L2Pyr_L2Pyr_ampaa'] are ignored" in m for m in messages)
    assert any("tonic inputs ['Itonic_A_L2Basket'] are ignored" in m for m in messages)


def test_read_params_rejects(tmp_path):
    with pytest.raises(TypeError, match="fname must be a path to a .json or .param file"):
        hnn.read_params(3)
    with pytest.raises(FileNotFoundError, match="missing.json does not exist"):
        hnn.read_params(tmp_path / "missing.json")


# ------------------------------------------------------------ Network, drives
def test_network_rejects():
    with pytest.raises(ValueError, match=r"mesh_shape\[0\] must be an integer >= 1; got 0"):
        hnn.jones_2009_model(mesh_shape=(0, 3))
    with pytest.raises(TypeError, match="mesh_shape must be a pair of integers"):
        hnn.jones_2009_model(mesh_shape=3)
    with pytest.raises(TypeError, match=r"mesh_shape\[1\] must be an integer"):
        hnn.jones_2009_model(mesh_shape=(2, 2.5))
    with pytest.raises(TypeError, match="add_drives_from_params must be True or False"):
        hnn.jones_2009_model(add_drives_from_params="yes")


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(weight=-1.0), ValueError, "weight must be a finite number >= 0 µS"),
    (dict(weight=None), TypeError, "weight must be"),
    (dict(delay=np.nan), ValueError, "delay must be"),
    (dict(lamtha=0.0), ValueError, "lamtha must be a finite number > 0"),
    (dict(probability=0.0), ValueError, "probability must be a finite number > 0 and <= 1"),
    (dict(probability=1.5), ValueError, "probability must be"),
    (dict(allow_autapses="no"), TypeError, "allow_autapses must be True or False"),
    (dict(probability=0.5, conn_seed=-1), ValueError, "conn_seed must be an integer >= 0"),
])
def test_add_connection_rejects(net, kwargs, error, match):
    args = dict(src_gids="L2_basket", target_gids="L2_pyramidal", loc="soma", receptor="gabaa",
                weight=1e-3, delay=1.0, lamtha=3.0)
    with pytest.raises(error, match=match):
        net.copy().add_connection(**{**args, **kwargs})


def test_add_connection_rejects_gids_of_the_wrong_kind(net):
    with pytest.raises(TypeError, match="src_gids must be a cell type or drive name, a gid"):
        net.copy().add_connection(3.5, "L2_pyramidal", "soma", "gabaa", 1e-3, 1.0, 3.0)


def test_add_connection_accepts_numpy_scalars(net):
    n = net.copy()
    n.add_connection("L2_basket", "L2_pyramidal", "soma", "gabaa", np.float32(1e-3),
                     np.float64(1.0), np.int64(3), probability=np.float32(0.5), conn_seed=1)
    assert n.connectivity[-1]["nc_dict"]["lamtha"] == 3.0


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(amplitude={"L5_pyramidal": np.nan}), ValueError, "amplitude for L5_pyramidal must be"),
    (dict(amplitude={"L5_pyramidal": 1.0}, t0=-1.0), ValueError, "t0 must be .* >= 0 ms"),
    (dict(amplitude={"L5_pyramidal": 1.0}, t0=10.0, tstop=5.0), ValueError,
     "tstop must be .* >= 10 ms"),
])
def test_add_tonic_bias_rejects(net, kwargs, error, match):
    with pytest.raises(error, match=match):
        net.copy().add_tonic_bias(**kwargs)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(mu=None), TypeError, r"mu must be a finite number \(ms\); got None"),
    (dict(mu=np.inf), ValueError, "mu must be a finite number"),
    (dict(numspikes=True), TypeError, "numspikes must be an integer"),
    (dict(sigma=-1.0), ValueError, "sigma must be a finite number >= 0 ms"),
])
def test_add_evoked_drive_rejects(net, kwargs, error, match):
    args = dict(mu=10.0, sigma=1.0, numspikes=1, location="proximal",
                weights_ampa={"L5_pyramidal": 1e-3})
    with pytest.raises(error, match=match):
        net.copy().add_evoked_drive("d", **{**args, **kwargs})


def test_mean_rates_rejects_an_empty_window():
    response = hnn.CellResponse(["L2_basket"], times=np.arange(3.0),
                                gid_ranges={"L2_basket": range(2)})
    response.add_trial([1.0], [0])
    with pytest.raises(ValueError, match="tstop must be a finite number > 10 ms; got 5"):
        response.mean_rates(10.0, 5.0)
    with pytest.raises(ValueError, match="mean_type must be one of"):
        response.mean_rates(0.0, 5.0, mean_type="median")
    with pytest.raises(TypeError, match="gid_ranges must be None or a dict"):
        response.mean_rates(0.0, 5.0, gid_ranges=3)
    with pytest.raises(TypeError, match="fname must be a str or path"):
        response.write(3)


# ------------------------------------------------------------ label_dipole
@pytest.mark.parametrize("kwargs, match", [
    (dict(l_freq=40.0, h_freq=1.0), r"l_freq \(40.0 Hz\) must be < h_freq \(1.0 Hz\).*band-stop"),
    (dict(l_freq=-1.0), "l_freq must be a finite number > 0 Hz"),
    (dict(h_freq=np.inf), "h_freq must be a finite number > 0 Hz"),
    (dict(lambda2=0.0), "lambda2"),
    (dict(method="LCMV"), "method must be one of"),
])
def test_label_dipole_rejects_before_reading(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        label_dipole(tmp_path / "never_read_raw.fif", None, tmp_path, "subject", **kwargs)


# ---------------------------------------------------------------- workflows
def test_somato_paths_rejects(tmp_path):
    from hnnjax.source.somato import somato_paths
    with pytest.raises(TypeError, match="data_path must be a str, a path or None; got 3"):
        somato_paths(3)
    with pytest.raises(ValueError, match="hemi must be one of 'lh', 'rh'; got 'both'"):
        somato_paths(tmp_path, hemi="both")


@pytest.mark.parametrize("args, kwargs, match", [
    ((3,), {}, r"params must be a shipped name \(default, N20\), a .json / .param path"),
    (("default",), dict(out_dir=3), "out_dir must be None, a str or a path; got 3"),
    (("default",), dict(n_trials=1.0), "n_trials must be an integer >= 1"),
])
def test_run_simulation_rejects(args, kwargs, match):
    from hnnjax.workflows.simulate import run_simulation
    with pytest.raises(TypeError, match=match):
        run_simulation(*args, **kwargs)


# -------------------------------------------------------------------- CLI
@pytest.mark.parametrize("argv, message", [
    (["simulate", "default", "--tstop", "40", "--dt", "0.03", "--mesh-shape", "2", "2"],
     "dt_ms=0.03 ms does not divide tstop_ms=40 ms"),
    (["simulate", "default", "--tstop", "1e9", "--mesh-shape", "2", "2"], "GiB"),
    (["simulate", "default", "--mesh-shape", "0", "2"], "mesh_shape must be"),
])
def test_cli_errors_exit_2_with_a_usage_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: hnnjax simulate ")
    assert "\nhnnjax simulate: error: " in err and message in err
    assert "Traceback" not in err
