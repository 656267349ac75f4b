"""optimize_evoked (hnn-core's older evoked-drive optimizer) against
hnn-core's run on a 3x3 network (opt_evoked.npz): its chunk plan, its
weighted RMSE, its simulations after re-adding a drive, and a fit."""
import importlib
import warnings
from pathlib import Path

import numpy as np
import pytest

import hnnjax as hnn
from hnnjax.network_models import add_erp_drives_to_jones_model
from hnnjax.optimization import optimize_evoked
from hnnjax.optimization.objective_functions import dipole_rmse

oe = importlib.import_module("hnnjax.optimization.optimize_evoked")  # the module, not its function

FIXTURE = np.load(Path(__file__).parent / "fixtures" / "opt_evoked.npz")
TSTOP, DT = 100.0, 0.025
FIT = dict(scale_factor=3000.0, smooth_window_len=20.0)


def erp_net():
    net = hnn.neymotin_2020_model(mesh_shape=(3, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        add_erp_drives_to_jones_model(net)
    return net


def dipole(agg):
    return hnn.Dipole(np.linspace(0, TSTOP, len(agg)), agg)


TARGET = hnn.Dipole(FIXTURE["target_times"], FIXTURE["target_agg"])


def steps():
    params, values = oe.drive_parameters(erp_net(), ["evdist1", "evprox1"])
    chunks = oe.plan(params, values, TSTOP, DT, (3.0, 50.0, 500.0), 1.6)
    return chunks + [oe.last_chunk(chunks)]


def test_plan_matches_hnn_core():
    chunks = steps()
    assert [",".join(c.inputs) for c in chunks] == list(FIXTURE["plan_inputs"])
    np.testing.assert_array_equal([c.window for c in chunks], FIXTURE["plan_window"])
    np.testing.assert_allclose(np.stack([c.weights for c in chunks]), FIXTURE["plan_weights"],
                               rtol=0, atol=1e-12)
    assert [n for c in chunks for n in c.ranges] == list(FIXTURE["plan_param_names"])
    np.testing.assert_array_equal([r for c in chunks for r in c.ranges.values()],
                                  FIXTURE["plan_param_ranges"])
    # a zero sigma has no CDF: hnn-core takes 0.01 ms; a zero weight ranges over 0-1 µS
    net = erp_net()
    net.external_drives["evprox1"]["dynamics"]["sigma"] = 0.0
    params, values = oe.drive_parameters(net, ["evprox1"])
    values["evprox1_gbar_ampa_L2_basket"] = 0.0
    (chunk,) = oe.plan(params, values, TSTOP, DT, (3.0, 50.0, 500.0), 1.6)
    assert chunk.ranges["evprox1_sigma"] == (0.01, 0.005, 0.015)
    assert chunk.ranges["evprox1_gbar_ampa_L2_basket"] == (0.0, 0.0, 1.0)


def test_weighted_rmse_matches_hnn_core():
    """Every simulation hnn-core ran, scored by hnnjax's RMSE with its step's
    window and weights, gives the value COBYLA saw there."""
    chunks = steps()
    for k, step in enumerate(FIXTURE["run_step"]):
        chunk = chunks[step]
        np.testing.assert_array_equal(chunk.window, FIXTURE["run_window"][k])
        got = dipole_rmse(dipole(FIXTURE["run_agg"][k]), TARGET, *chunk.window,
                          weights=chunk.weights)
        assert got == pytest.approx(FIXTURE["run_wrmse"][k], rel=1e-12)
        unweighted = dipole_rmse(dipole(FIXTURE["run_agg"][k]), TARGET, chunk.window[0], TSTOP)
        assert unweighted == pytest.approx(FIXTURE["run_rmse"][k], rel=1e-12)
    # weights count: all ones is the plain RMSE, others change it
    agg = dipole(FIXTURE["run_agg"][0])
    assert dipole_rmse(agg, TARGET, 0.0, TSTOP, weights=np.ones(4001)) == pytest.approx(
        dipole_rmse(agg, TARGET, 0.0, TSTOP), rel=1e-12)
    assert dipole_rmse(agg, TARGET, *chunks[0].window, weights=chunks[0].weights) != \
        pytest.approx(dipole_rmse(agg, TARGET, *chunks[0].window), rel=1e-3)


def test_a_deleted_drive_added_again_matches_hnn_core():
    """hnn-core's way of changing a drive (delete it, add it again under its
    name): the drive moves to the end with new gids, and simulates as
    hnn-core's did (its first simulation of step 1)."""
    net = erp_net()
    drive = net.external_drives["evprox1"]
    weights = {c["target_type"]: c["nc_dict"]["A_weight"] for c in net.connectivity
               if c["src_type"] == "evprox1"}
    del net.external_drives["evprox1"]
    assert "evprox1" not in net.external_drives
    net.add_evoked_drive("evprox1", mu=26.61, sigma=2.47, numspikes=1, location="proximal",
                         weights_ampa=weights, weights_nmda={},
                         synaptic_delays=drive["synaptic_delays"],
                         probability=drive["probability"], event_seed=drive["event_seed"],
                         conn_seed=drive["conn_seed"])
    assert list(net.external_drives) == ["evdist1", "evprox2", "evprox1"]
    assert net.gid_ranges["evprox1"] == range(93, 117)  # hnn-core's
    with pytest.raises(ValueError, match="already used"):
        net.add_evoked_drive("evprox1", mu=20.0, sigma=1.0, numspikes=1, location="proximal",
                             weights_ampa={"L2_basket": 0.01})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # evprox2 cannot fire within 100 ms
        dpl = hnn.simulate_dipole(net, tstop=TSTOP, n_trials=1, verbose=False, progress=False)[0]
    dpl.scale(FIT["scale_factor"]).smooth(FIT["smooth_window_len"])
    ref = FIXTURE["run_agg"][0]
    assert np.sqrt(np.mean((dpl.data["agg"] - ref) ** 2) / np.mean(ref ** 2)) < 1e-5  # 1.4e-6


def test_optimize_evoked_fits_within_ranges_and_returns_its_best(capsys):
    net = erp_net()
    before = {n: dict(d["dynamics"]) for n, d in net.external_drives.items()}
    initial = dipole(FIXTURE["initial_agg"])
    with warnings.catch_warnings(record=True) as caught:  # evprox2 cannot fire within 100 ms
        warnings.simplefilter("always")
        fitted, rmse = optimize_evoked(net, TSTOP, 1, TARGET, initial, maxiter=12,
                                       which_drives=["evprox1", "evdist1"], return_rmse=True,
                                       **FIT)
        best = hnn.simulate_dipole(fitted, tstop=TSTOP, n_trials=1, verbose=False,
                                   progress=False)[0]
    out = capsys.readouterr().out
    # the first simulation is hnn-core's: the same start, the same dipole
    assert rmse[0] == pytest.approx(FIXTURE["run_rmse"][0], rel=1e-5)
    assert len(rmse) == 12 + 12 + 16 and out.count("Optimization step 3/3, simulation") == 16
    assert ("Starting optimization step 3/3: evprox1, evdist1 (14 parameters) over 0.000-100.000 ms, "
            "16 simulations (COBYLA's least for 14 parameters)") in out
    assert not [w for w in caught if "MAXFUN" in str(w.message)]  # said above, not by SciPy
    assert {n: d["dynamics"] for n, d in net.external_drives.items()} == before  # net untouched
    start = dipole_rmse(initial, TARGET, tstop=TSTOP)
    final = dipole_rmse(best.scale(FIT["scale_factor"]).smooth(FIT["smooth_window_len"]),
                        TARGET, tstop=TSTOP)
    assert f"Final RMSE: {final:.4g} nAm" in out  # the returned network is the fit reported
    assert final < start - 1.0  # nAm: 25.7 -> 23.8 here (hnn-core 0.6.1: 24.7)
    changed = [n for n in ("evprox1", "evdist1")
               if fitted.external_drives[n]["dynamics"] != before[n]]
    assert changed and fitted.external_drives["evprox2"]["dynamics"] == before["evprox2"]
    mu = fitted.external_drives["evprox1"]["dynamics"]["mu"]
    assert 19.2 <= mu <= 34.02  # its range, mu ± 3 sigma


def test_optimize_evoked_single_chunk_maxiter_and_zero(capsys):
    net = erp_net()
    initial = dipole(FIXTURE["initial_agg"])
    same, rmse = optimize_evoked(net, TSTOP, 1, TARGET, initial, maxiter=0, return_rmse=True,
                                 which_drives=["evprox1", "evdist1"])
    out = capsys.readouterr().out
    assert rmse == [] and all(f"Skipping optimization step {k}" in out for k in (1, 2, 3))
    assert same is not net and same.external_drives["evprox1"]["dynamics"] == \
        net.external_drives["evprox1"]["dynamics"]
    with pytest.warns(UserWarning) as caught:  # also: evdist1 and evprox2 cannot fire by 40 ms
        optimize_evoked(net, 40.0, 1, TARGET, initial, maxiter=5, which_drives=["evprox1"])
    assert any("maxiter=5: each step needs at least 12 simulations; running 12"
               in str(w.message) for w in caught)
    out = capsys.readouterr().out
    assert "step 1/1" in out and "step 2" not in out
    assert out.count("simulation ") >= 12


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(which_drives=["evprox9"]), ValueError, "'evprox9' is not a drive of net"),
    (dict(which_drives=["poiss"]), ValueError, "'poiss' is a poisson drive"),
    (dict(which_drives="evprox1"), TypeError, "which_drives must be 'all' or a non-empty list"),
    (dict(maxiter=-1), ValueError, "maxiter must be an integer >= 0"),
    (dict(n_trials=0), ValueError, "n_trials must be an integer >= 1"),
    (dict(tstop=-5.0), ValueError, "tstop must be a finite number > 0 ms"),
    (dict(target_dpl=np.zeros(10)), TypeError, "target_dpl must be a Dipole"),
    (dict(scale_factor=0.0), ValueError, "scale_factor must be a finite non-zero number"),
    (dict(smooth_window_len=0.0), ValueError, "smooth_window_len must be a finite number > 0"),
    (dict(timing_range_multiplier=float("nan")), ValueError, "timing_range_multiplier"),
    (dict(return_rmse=1), TypeError, "return_rmse must be True or False"),
    (dict(which_drives=["evprox2"]), ValueError,
     r"'evprox2' \(mu=137.12 ms, sigma=8.33 ms\) has no time within 0-100 ms to fit"),
])
def test_optimize_evoked_bad_input(kwargs, error, match):
    net = erp_net()
    net.add_poisson_drive("poiss", rate_constant=10.0, location="proximal",
                          weights_ampa={"L2_pyramidal": 0.01})
    args = dict(net=net, tstop=TSTOP, n_trials=1, target_dpl=TARGET,
                initial_dpl=dipole(FIXTURE["initial_agg"]))
    with pytest.raises(error, match=match):
        optimize_evoked(**{**args, **kwargs})


def test_optimize_evoked_needs_evoked_drives():
    net = hnn.neymotin_2020_model(mesh_shape=(3, 3))
    with pytest.raises(ValueError, match="no evoked drives"):
        optimize_evoked(net, TSTOP, 1, TARGET, dipole(FIXTURE["initial_agg"]))
