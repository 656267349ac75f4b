"""The differentiable model: gradients vs finite differences, distance to the
faithful mode, and parameter recovery with fit_drives."""
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import hnnjax as hnn
from hnnjax.grad import model
from hnnjax.fit import (Objective, dipole_fn, expand_names, fit_drives, hamming_smooth,
                        sensitivity, set_drive_parameter, trial_draws)
from hnnjax.fit.arguments import check_run
from hnnjax.fit.least_squares import levenberg_marquardt_step
from hnnjax.fit.stages import smoothed_value_and_grad
from hnnjax.network.simulate import baseline_renormalize, instantiate_drives
from hnnjax.network_models import somato_model


def two_drive_net(mu_p=15.0, mu_d=30.0, w_p=0.004, w_d=0.002, nmda=0.001, mesh=(2, 2)):
    net = hnn.jones_2009_model(mesh_shape=mesh)
    net.add_evoked_drive("evprox1", mu=mu_p, sigma=2.0, numspikes=1, location="proximal",
                         n_drive_cells=1, cell_specific=False, weights_ampa={"L5_pyramidal": w_p},
                         weights_nmda={"L5_pyramidal": nmda}, synaptic_delays=0.1, event_seed=1)
    net.add_evoked_drive("evdist1", mu=mu_d, sigma=2.0, numspikes=1, location="distal",
                         n_drive_cells=1, cell_specific=False, weights_ampa={"L2_pyramidal": w_d},
                         synaptic_delays=0.1, event_seed=2)
    return net


def _fd_check(net, tstop, names_to_check, rel_tol=0.05, draws="key", may_skip=2):
    """Reverse-mode gradient vs central differences of a smoothed dipole
    loss, for all but ``may_skip`` of the names (those at a kink);
    ``draws='hnn-core'``: the drive times of simulate_dipole's trial 0."""
    fn, gn, names, th0, times = dipole_fn(net, tstop)
    if draws == "key":
        z = model.draw_z(gn, jax.random.PRNGKey(3))[None]
    else:
        z = trial_draws(net, gn, 1, tstop, draws)
    target = jnp.asarray(0.01 * np.sin(times / 7.0))

    def loss(th):
        d, _ = fn(th, z)
        return jnp.mean((hamming_smooth(d.mean(0), 10.0, 0.025) - target) ** 2) * 1e4

    f, g = jax.jit(loss), jax.jit(jax.grad(loss))
    th = jnp.asarray(th0)
    grad = np.asarray(g(th))

    def fd(i, h):
        return (float(f(th.at[i].add(h))) - float(f(th.at[i].add(-h)))) / (2 * h)

    checked = []
    for name in names_to_check:
        i = names.index(name)
        assert np.isfinite(grad[i]), name
        h = 1e-4 * max(abs(th0[i]), 1e-2)
        coarse, fine = fd(i, 3 * h), fd(i, h)
        # The dipole is continuous but kinked where an event time crosses a grid
        # point: only compare where the difference quotient has converged.
        if abs(coarse - fine) <= 0.05 * abs(fine) and abs(fine) > 1e-6:
            assert grad[i] == pytest.approx(fine, rel=rel_tol), name
            checked.append(name)
    assert len(checked) >= len(names_to_check) - may_skip, checked


KINDS = ["evprox1.mu", "evprox1.sigma", "evprox1.weights_ampa.L5_pyramidal",
         "evprox1.weights_nmda.L5_pyramidal", "evprox1.synaptic_delays.L5_pyramidal",
         "evdist1.mu", "evdist1.weights_ampa.L2_pyramidal"]


def test_gradients_match_finite_differences_reduced_network():
    _fd_check(two_drive_net(mesh=(3, 3)), 50.0, KINDS)


@pytest.mark.slow
def test_gradients_match_finite_differences_full_somato():
    _fd_check(somato_model(), 45.0, ["evprox1.mu", "evprox1.sigma", "evprox1.weights_ampa.L5_pyramidal",
                                     "evprox1.weights_nmda.L2_basket", "evdist1.synaptic_delays.L2_pyramidal"])


def test_differentiable_mode_stays_close_to_faithful_mode():
    """Same drive spike times (hnn-core's draws), full somato network, 170 ms."""
    net = somato_model()
    faithful = hnn.simulate_dipole(net, tstop=170.0, n_trials=1)[0]
    times = instantiate_drives(net, 170.0, 1)[0]
    gn, names, th0, n_steps = model.build(net, 170.0)
    z = jnp.asarray(model.z_from_times(net, gn, times))
    dip, count, overflow = jax.jit(lambda th, z: model.run(gn, th, z, n_steps, 0.025))(jnp.asarray(th0), z)
    assert not bool(overflow)
    raw = np.zeros((n_steps + 1, 2))
    raw[1:] = np.asarray(dip)
    l2, l5 = baseline_renormalize(faithful.times, raw[:, 0], raw[:, 1], 100)
    agg = (l2 + l5) * 1e-6
    ref = faithful.data["agg"]
    rel = np.sqrt(np.mean((agg - ref) ** 2)) / np.sqrt(np.mean(ref ** 2))
    assert rel < 0.02, rel
    n_faithful = sum(g < 270 for g in net.cell_response.spike_gids[0])
    assert abs(int(count.sum()) - n_faithful) <= 0.05 * n_faithful


WEIGHTS = {"L2_pyramidal": 0.002, "L5_pyramidal": 0.004, "L2_basket": 0.002, "L5_basket": 0.002}


def drive_net(kind, mesh=(3, 3)):
    """A small network driven by one drive type (tonic: an evoked drive and a
    tonic bias), firing a few dozen spikes in 60 ms."""
    net = hnn.jones_2009_model(mesh_shape=mesh)
    if kind == "poisson":
        net.add_poisson_drive("pois", tstart=5.0, rate_constant=40.0, location="proximal",
                              weights_ampa=WEIGHTS, synaptic_delays=0.1, event_seed=4)
    elif kind == "bursty":
        net.add_bursty_drive("burst", tstart=10.0, tstart_std=2.0, location="distal",
                             burst_rate=40.0, burst_std=1.0, numspikes=2, spike_isi=5.0,
                             n_drive_cells=3, weights_ampa={"L2_pyramidal": 0.003,
                                                            "L5_pyramidal": 0.002,
                                                            "L2_basket": 0.002},
                             synaptic_delays=0.1, event_seed=5)
    elif kind == "spike_train":
        net.add_spike_train_drive("train", spike_data={"a": [8.0, 21.3, 33.7], "b": [15.2, 40.9]},
                                  location="proximal", weights_ampa=WEIGHTS,
                                  weights_nmda={"L5_pyramidal": 0.001}, synaptic_delays=0.1)
    else:
        net.add_evoked_drive("evprox1", mu=20.0, sigma=2.0, numspikes=1, location="proximal",
                             weights_ampa=WEIGHTS, synaptic_delays=0.1, event_seed=1)
        net.add_tonic_bias(cell_type="L5_pyramidal", amplitude=0.3, t0=5.0, tstop=45.0)
    return net


@pytest.mark.parametrize("kind", ["poisson", "bursty", "spike_train", "tonic"])
def test_every_drive_type_stays_close_to_faithful_mode(kind):
    """Same drive spike times (hnn-core's draws) in both modes, 3x3 network,
    60 ms.  Measured relative RMS: poisson 2.0 %, bursty 0.5 %, spike train
    1.7 %, tonic bias 1.8 %; the same spikes."""
    net, tstop = drive_net(kind), 60.0
    faithful = hnn.simulate_dipole(net, tstop=tstop, n_trials=1)[0]
    fn, gn, names, th0, times = dipole_fn(net, tstop)
    z = trial_draws(net, gn, 1, tstop, "hnn-core")
    agg, overflow = jax.jit(fn)(jnp.asarray(th0), z)
    assert not bool(overflow[0])
    ref = faithful.data["agg"]
    rel = np.sqrt(np.mean((np.asarray(agg[0]) - ref) ** 2)) / np.sqrt(np.mean(ref ** 2))
    assert rel < 0.03, rel
    n_cells = sum(len(net.gid_ranges[ct]) for ct in net.cell_types)
    assert sum(g < n_cells for g in net.cell_response.spike_gids[0]) > 20  # the network fires


def pois_burst_net():
    """2x2 network, weak Poisson (L5) and bursty (L2) drives."""
    net = hnn.jones_2009_model(mesh_shape=(2, 2))
    net.add_poisson_drive("pois", tstart=2.0, rate_constant=60.0, location="proximal",
                          weights_ampa={"L5_pyramidal": 0.0008}, synaptic_delays=1.0,
                          event_seed=4)
    net.add_bursty_drive("burst", tstart=12.0, location="distal", burst_rate=50.0,
                         burst_std=1.0, numspikes=2, spike_isi=4.0,
                         weights_ampa={"L2_pyramidal": 0.0008}, synaptic_delays=0.5,
                         event_seed=5)
    return net


def test_gradients_match_finite_differences_poisson_and_bursty_drives():
    """hnn-core's drive times, 40 ms: weights, a delay and the bursty onset
    tstart.  Measured relative errors 3e-6 to 1.3e-4."""
    _fd_check(pois_burst_net(), 40.0, ["pois.weights_ampa.L5_pyramidal", "pois.synaptic_delays.L5_pyramidal",
                          "burst.weights_ampa.L2_pyramidal", "burst.tstart"],
              rel_tol=1e-3, draws="hnn-core", may_skip=0)


def test_fit_drives_fits_poisson_and_bursty_drives():
    """fit_drives on simulate_dipole's own average (draws='hnn-core'): the
    starting loss is within the two modes' distance (measured: 0.2 % of its RMS);
    the fitted onset and weight are written back."""
    net, tstop = pois_burst_net(), 40.0
    dpls = hnn.simulate_dipole(net, tstop=tstop, n_trials=2)
    target = hnn.average_dipoles(dpls)
    rms = float(np.sqrt(np.mean(target.data["agg"] ** 2)))
    with pytest.warns(UserWarning, match="the loss rose"):  # it starts at the optimum
        res = fit_drives(net, target, ["burst.tstart", "pois.weights_ampa.L5_pyramidal"],
                         n_trials=2, tstop=tstop, smooth_window=None, scale=1.0, n_steps=1,
                         draws="hnn-core", progress=False, score_trials=0)
    assert res.loss_history[0] < 0.03 * rms
    assert res.values["burst.tstart"] == pytest.approx(12.0)  # the best point seen: the start
    assert res.net.external_drives["burst"]["dynamics"]["tstart"] == res.values["burst.tstart"]
    assert res.net.external_drives["pois"]["weights_ampa"]["L5_pyramidal"] == \
        res.values["pois.weights_ampa.L5_pyramidal"]


def test_bursty_times_move_with_tstart_as_hnn_core_samples_them():
    """A bursty drive's fixed z are hnn-core's times minus tstart; hnn-core
    samples the same pattern shifted at a fitted tstart (no burst entering
    or leaving the run), so re-simulating the fit's network sees the times
    the fit saw."""
    net = hnn.jones_2009_model(mesh_shape=(2, 2))
    net.add_bursty_drive("burst", tstart=10.0, tstart_std=2.0, location="distal",
                         burst_rate=40.0, burst_std=1.0, numspikes=2, spike_isi=5.0,
                         n_drive_cells=3, weights_ampa={"L2_pyramidal": 0.003}, event_seed=5)
    gn = model.build(net, 60.0)[0]
    before = trial_draws(net, gn, 2, 60.0, "hnn-core")
    assert before.shape == (2, 3, 4)  # 2 bursts of 2 spikes per drive cell
    set_drive_parameter(net, "burst.tstart", 12.5)
    assert net.external_drives["burst"]["dynamics"]["tstart"] == 12.5
    np.testing.assert_allclose(trial_draws(net, gn, 2, 60.0, "hnn-core"), before, atol=1e-9)


def test_key_draws_replace_evoked_normals_only():
    """draws='key': the evoked drive's z come from the key; the Poisson
    drive's stay hnn-core's sampled times (there is no other source)."""
    net = two_drive_net()
    net.add_poisson_drive("pois", tstart=5.0, rate_constant=80.0, location="proximal",
                          weights_ampa={"L5_pyramidal": 0.001}, event_seed=4)
    gn = model.build(net, 40.0)[0]
    with pytest.raises(ValueError, match="draw_z draws evoked drives only"):
        model.draw_z(gn, jax.random.PRNGKey(0))
    hc = np.asarray(trial_draws(net, gn, 2, 40.0, "hnn-core"))
    key = np.asarray(trial_draws(net, gn, 2, 40.0, "key", jax.random.PRNGKey(0)))
    gauss = np.asarray(gn.cell_gauss)
    assert gauss.sum() == 2 and (~gauss).sum() == len(net.gid_ranges["pois"])
    np.testing.assert_array_equal(key[:, ~gauss], hc[:, ~gauss])
    pois = hc[:, ~gauss]  # times (ms) in the drive's window, or no spike
    assert np.all((pois == model.PAD) | ((pois >= 5.0) & (pois <= 40.0))) and np.sum(pois > 0) > 10
    assert np.all(key[:, gauss, 0] != hc[:, gauss, 0]) and np.all(np.abs(key[:, gauss, 0]) < 6)


CELL_TYPES = ("L2_basket", "L2_pyramidal", "L5_basket", "L5_pyramidal")
LEGACY_DIR = Path("/work/shared/data/params")


def test_a_drive_switched_off_with_zero_weights_costs_nothing():
    """HNN's files switch a Poisson drive off with zero weights: the model has
    no row, connection or event for it (the same arrays as without it); its
    weights are not fitted ('.*' skips them, naming one is refused)."""
    on, off = two_drive_net(), two_drive_net()
    off.add_poisson_drive("extpois", rate_constant={ct: 1.0 for ct in CELL_TYPES},
                          location="proximal", weights_ampa={ct: 0.0 for ct in CELL_TYPES},
                          weights_nmda={ct: 0.0 for ct in CELL_TYPES}, event_seed=9)
    gn_on, gn_off = model.build(on, 30.0)[0], model.build(off, 30.0)[0]
    same = jax.tree_util.tree_map(lambda a, b: np.array_equal(a, b), gn_on, gn_off)
    assert all(jax.tree_util.tree_leaves(same))
    names = model.drive_parameters(off)[0]
    assert "extpois.weights_ampa.L5_pyramidal" in names
    assert model.switched_off(off) == {n for n in names if n.startswith("extpois.")}
    target = (np.arange(0, 31.0), np.sin(np.arange(0, 31.0) / 9.0))
    kw = dict(tstop=30.0, n_steps=1, progress=False, score_trials=0)
    with pytest.raises(ValueError, match="'extpois.weights_ampa.L2_basket' is switched off"):
        fit_drives(off, target, ["extpois.weights_ampa.L2_basket"], **kw)
    with pytest.raises(ValueError, match="'extpois.\\*' matches no parameter that acts"):
        fit_drives(off, target, ["extpois.*"], **kw)
    res = fit_drives(off, target, ["evprox1.*"], **kw)
    assert set(res.values) == {n for n in names if n.startswith("evprox1.")}


@pytest.mark.skipif(not LEGACY_DIR.is_dir(), reason="HNN's .param files not available")
def test_hnn_erp_parameter_file_network_is_accepted():
    """The network of HNN's ERP fit (three evoked drives and a Poisson drive
    with zero weights) builds, draws hnn-core's trials and passes the fit's
    checks; '.*' leaves out evprox1's zero NMDA weights (host side only)."""
    net = hnn.jones_2009_model(hnn.read_params(LEGACY_DIR / "ERPYes100Trials.param"),
                               add_drives_from_params=True)
    assert net.external_drives["extpois"]["type"] == "poisson"
    gn, names, th0, _ = model.build(net, 170.0)
    n_evoked = sum(len(net.gid_ranges[d]) for d in ("evdist1", "evprox1", "evprox2"))
    assert gn.cell_loc.shape == (n_evoked,) and bool(np.all(gn.cell_gauss))
    assert trial_draws(net, gn, 2, 170.0, "hnn-core").shape == (2, n_evoked, 1)
    free = check_run(net, ["evprox1.*"], 2, 170.0, 0.025, "hnn-core", 20.0, 25.0)[-1]
    assert free == ["evprox1.mu", "evprox1.sigma"] + [f"evprox1.weights_ampa.{ct}" for ct in CELL_TYPES] \
        + [f"evprox1.synaptic_delays.{ct}" for ct in CELL_TYPES]


@pytest.mark.skipif(not LEGACY_DIR.is_dir(), reason="HNN's .param files not available")
def test_hnn_rhythmic_parameter_file_network_is_accepted():
    """HNN's alpha/beta file: its rhythmic inputs are bursty drives, fitted
    in onset, weights and delays of the cell types they reach (host side)."""
    net = hnn.jones_2009_model(hnn.read_params(LEGACY_DIR / "AlphaAndBeta.param"),
                               add_drives_from_params=True)
    assert net.external_drives["bursty1"]["type"] == "bursty"
    free = check_run(net, ["bursty1.*"], 1, 170.0, 0.025, "hnn-core", 20.0, 25.0)[-1]
    pyr = ("L2_pyramidal", "L5_pyramidal")
    assert free == ["bursty1.tstart"] + [f"bursty1.weights_ampa.{ct}" for ct in pyr] \
        + [f"bursty1.synaptic_delays.{ct}" for ct in pyr]
    gn = model.build(net, 170.0)[0]
    z = trial_draws(net, gn, 1, 170.0, "hnn-core")
    rows = np.flatnonzero(np.asarray(gn.cell_loc) == model.drive_parameters(net)[0].index("bursty1.tstart"))
    times = instantiate_drives(net, 170.0, 1)[0]
    trains = [times[g] for g in net.gid_ranges["bursty1"]]
    assert len(rows) == 10 and sum(map(len, trains)) > 20  # bursts at 50 and 150 ms
    for row, t in zip(rows, trains):  # times = tstart + z
        np.testing.assert_allclose(np.asarray(z)[0, row, :len(t)] + 50.0, t)


def _erp_net():
    net = hnn.jones_2009_model(mesh_shape=(3, 3))
    hnn.add_erp_drives_to_jones_model(net)
    return net


def test_event_room_overflow_is_reported_and_grown_room_gives_the_same_results(monkeypatch):
    """Room for one chunk of local connections per step is too little for a
    spiking network: run() says so, grown room reproduces the default, and the
    fit's objective (which every stage of fit_drives calls) grows the room by
    itself."""
    net, tstop = _erp_net(), 60.0
    wide, names, th0, n_steps = model.build(net, tstop)
    z = model.draw_z(wide, jax.random.split(jax.random.PRNGKey(1), 1)[0])  # fit_drives' draw
    run = jax.jit(lambda gn, th: model.run(gn, th, z, n_steps, 0.025))
    dip_w, count_w, over_w = run(wide, jnp.asarray(th0))
    assert not bool(over_w) and int(count_w.sum()) > 20
    assert bool(run(model.build(net, tstop, capacity=1)[0], jnp.asarray(th0))[2])
    tight = model.build(net, tstop, capacity=16)[0]  # one doubling short (each room compiles)
    assert bool(run(tight, jnp.asarray(th0))[2])
    tight = model.grow(tight)
    assert tight.capacity == 32 < wide.capacity
    dip_t, _, over_t = run(tight, jnp.asarray(th0))
    assert not bool(over_t)
    np.testing.assert_allclose(dip_t, dip_w, rtol=0, atol=1e-9 * float(jnp.abs(dip_w).max()))
    # the objective (same draws) starting one doubling short of enough room
    target = (np.arange(0, 61.0), np.sin(np.arange(0, 61.0) / 9.0))
    kw = dict(n_trials=1, tstop=tstop, progress=False, key=jax.random.PRNGKey(1))
    ref = Objective(net, target, ["evprox1.mu"], **kw)
    ref_loss = ref.loss(ref.u0)  # built and compiled now, with the default room
    build, grow, grown = model.build, model.grow, []
    monkeypatch.setattr(model, "build", lambda *a, **k: build(*a, **{**k, "capacity": 16}))
    monkeypatch.setattr(model, "grow", lambda gn: grown.append(gn.capacity) or grow(gn))
    obj = Objective(net, target, ["evprox1.mu"], **kw)
    assert obj.loss(obj.u0) == pytest.approx(ref_loss, rel=1e-9)
    assert grown == [16]


def test_skipping_idle_steps_changes_no_bit_of_losses_or_gradients():
    """On one CPU device the model skips the local connections' scatter at
    steps where no group fires in any trial (and, under a vmap over
    parameter sets named ``row_axis``, in any set): the losses, gradients and
    dipoles of never skipping, bit for bit."""
    net, tstop = _erp_net(), 60.0
    out = {}
    for skip in (False, True):
        fn, gn, names, th0, times = dipole_fn(net, tstop, skip_idle=skip)
        z = trial_draws(net, gn, 2, tstop, "key", jax.random.PRNGKey(1))
        th0 = jnp.asarray(th0)

        def loss(th):
            return jnp.mean(hamming_smooth(fn(th, z)[0].mean(0), 10.0, 0.025) ** 2)
        grad = jax.jit(jax.value_and_grad(loss))
        rows = jax.jit(jax.vmap(lambda th: fn(th, z, "rows")[0], axis_name="rows"))
        two = jnp.stack([th0, 1.05 * th0])
        out[skip] = jax.device_get((grad(th0), rows(two)))
        for hlo in (grad.lower(th0).compile().as_text(), rows.lower(two).compile().as_text()):
            assert (" conditional(" in hlo) == skip
    counts = jax.vmap(lambda zz: model.run(gn, th0, zz, int(round(tstop / 0.025)), 0.025)[1])(z)
    assert np.all(np.asarray(counts).sum(axis=1) > 20)  # every trial's network spikes
    for a, b in zip(jax.tree_util.tree_leaves(out[False]), jax.tree_util.tree_leaves(out[True])):
        np.testing.assert_array_equal(a, b)


def test_too_few_spike_slots_is_reported_and_grown_slots_give_the_same_results():
    """With 15 ms local delays a cell spikes again before its previous spike
    has arrived everywhere: one slot per cell loses it (reported), grown
    slots reproduce the default."""
    net = _erp_net()
    for conn in net.connectivity:
        if conn["src_type"] not in net.external_drives:
            conn["nc_dict"]["A_delay"] = 15.0
    out = {}
    for slots in (1, 2, 4):
        gn, _, th0, n_steps = model.build(net, 60.0, spike_slots=slots, max_delay=100.0)
        z = model.draw_z(gn, jax.random.split(jax.random.PRNGKey(1), 1)[0])
        out[slots] = jax.jit(lambda th: model.run(gn, th, z, n_steps, 0.025))(jnp.asarray(th0))
    assert bool(out[1][2]) and not bool(out[2][2]) and not bool(out[4][2])
    assert int(out[1][1].sum()) < int(out[4][1].sum())  # the lost spike's targets missed it
    assert model.grow(gn).spike_slots == 8
    np.testing.assert_array_equal(out[2][0], out[4][0])


def test_parameter_recovery_reduced_network():
    """Target from known drives; start with mu ±5 ms and weights ×2 / ×0.5."""
    tstop, key = 50.0, jax.random.PRNGKey(3)
    truth = two_drive_net(nmda=0.0)
    fn, gn, names, th0, times = dipole_fn(truth, tstop)
    d, _ = fn(jnp.asarray(th0), model.draw_z(gn, jax.random.split(key, 1)[0])[None])
    start = two_drive_net(mu_p=20.0, mu_d=25.0, w_p=0.008, w_d=0.001, nmda=0.0)
    params = ["evprox1.mu", "evdist1.mu", "evprox1.weights_ampa.L5_pyramidal",
              "evdist1.weights_ampa.L2_pyramidal"]
    res = fit_drives(start, (times, np.asarray(d.mean(0))), params, n_trials=1, tstop=tstop,
                     smooth_window=None, scale=1.0, n_steps=110, key=key, progress=False,
                     optimizer=optax.adam(0.1), score_trials=0)
    # constant-rate Adam keeps moving near the optimum; fit_drives returns the best seen
    assert min(res.loss_history) < 0.2 * res.loss_history[0]
    assert abs(res.values["evprox1.mu"] - 15.0) < 1.0
    assert abs(res.values["evdist1.mu"] - 30.0) < 1.0
    assert res.values["evprox1.weights_ampa.L5_pyramidal"] == pytest.approx(0.004, rel=0.1)
    assert res.values["evdist1.weights_ampa.L2_pyramidal"] == pytest.approx(0.002, rel=0.1)
    # the fitted values are written back into a copy of the network
    drive = res.net.external_drives["evprox1"]
    assert drive["dynamics"]["mu"] == pytest.approx(res.values["evprox1.mu"])
    assert start.external_drives["evprox1"]["dynamics"]["mu"] == 20.0


def test_grid_stage_starts_the_fit_from_the_best_grid_point():
    """The grid's losses are the objective at each point (checked against a
    direct evaluation); the fit starts from, and here returns, the best point."""
    tstop, key = 45.0, jax.random.PRNGKey(3)
    truth = two_drive_net()
    fn, gn, names, th0, times = dipole_fn(truth, tstop)
    z = model.draw_z(gn, jax.random.split(key, 1)[0])[None]
    target = np.asarray(fn(jnp.asarray(th0), z)[0].mean(0))
    start = two_drive_net(mu_p=21.0, mu_d=24.0)
    grid = {"evdist1.mu": [24.0, 30.0, 36.0], "evprox1.mu": [9.0, 15.0]}
    res = fit_drives(start, (times, target), ["evprox1.mu", "evdist1.mu"], n_trials=1,
                     tstop=tstop, smooth_window=None, scale=1.0, n_steps=0, key=key,
                     progress=False, grid=grid, grid_batch=4, score_trials=0)
    # points in the order of params, the last name varying fastest
    np.testing.assert_array_equal(res.grid_points["evprox1.mu"], [9, 9, 9, 15, 15, 15])
    np.testing.assert_array_equal(res.grid_points["evdist1.mu"], [24, 30, 36] * 2)
    i_mu_p, i_mu_d = names.index("evprox1.mu"), names.index("evdist1.mu")
    for k in (0, 5):
        th = jnp.asarray(th0).at[i_mu_p].set(res.grid_points["evprox1.mu"][k])
        th = th.at[i_mu_d].set(res.grid_points["evdist1.mu"][k])
        direct = np.sqrt(np.mean((np.asarray(fn(th, z)[0].mean(0)) - target) ** 2))
        assert res.grid_losses[k] == pytest.approx(direct, rel=1e-6)
    assert int(np.argmin(res.grid_losses)) == 4 and res.grid_losses[4] < 1e-6 * res.grid_losses.max()
    assert res.values["evprox1.mu"] == pytest.approx(15.0, abs=1e-6)
    assert res.values["evdist1.mu"] == pytest.approx(30.0, abs=1e-6)
    assert res.loss_history == [pytest.approx(res.grid_losses[4], abs=1e-12)]


def test_smoothed_gradient_sees_jumps_and_matches_smooth_gradients():
    """A step f = [u0 > 0] has zero derivative almost everywhere; its Gaussian
    smoothing has derivative pdf(u0 / s) / s, which the estimate recovers.
    On a quadratic the antithetic estimate is the gradient times the draws'
    second-moment matrix, close to the gradient."""
    key = jax.random.PRNGKey(0)
    step = jax.vmap(lambda u: (u[0] > 0).astype(u.dtype))
    u = jnp.array([0.05, 1.0])
    val, g = smoothed_value_and_grad(step, u, key, 0.1, 4000)
    assert float(val) == 1.0 and float(jax.grad(lambda u: step(u[None])[0])(u)[0]) == 0.0
    assert float(g[0]) == pytest.approx(np.exp(-0.125) / np.sqrt(2 * np.pi) / 0.1, rel=0.1)
    assert abs(float(g[1])) < 0.1 * float(g[0])
    a, b = jnp.array([1.0, 3.0]), jnp.array([0.5, -2.0])
    quad = jax.vmap(lambda u: jnp.sum(a * u ** 2 + b * u))
    _, g = smoothed_value_and_grad(quad, u, key, 0.1, 4000)
    np.testing.assert_allclose(g, 2 * a * u + b, rtol=0.1)


def test_fit_with_smoothed_gradient_is_reproducible_and_descends():
    tstop, key = 40.0, jax.random.PRNGKey(3)
    truth = two_drive_net()
    fn, gn, names, th0, times = dipole_fn(truth, tstop)
    target = np.asarray(fn(jnp.asarray(th0), model.draw_z(gn, jax.random.split(key, 1)[0])[None])[0].mean(0))
    kw = dict(n_trials=1, tstop=tstop, smooth_window=None, scale=1.0, n_steps=6, key=key,
              progress=False, gradient="smoothed", n_samples=4, optimizer=optax.adam(0.1),
              score_trials=0)
    start = two_drive_net(mu_p=19.0, w_p=0.006)
    params = ["evprox1.mu", "evprox1.weights_ampa.L5_pyramidal"]
    res = fit_drives(start, (times, target), params, **kw)
    again = fit_drives(start, (times, target), params, **kw)
    assert res.loss_history == again.loss_history and len(res.loss_history) == 7
    assert min(res.loss_history) < 0.7 * res.loss_history[0]


def test_levenberg_marquardt_step_solves_a_linear_least_squares_problem():
    """Residual A u - b: central differences are exact, the lightly damped
    step lands on the least-squares solution; from there nothing improves."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(30, 3)) * [1.0, 1e-2, 1e-3], rng.normal(size=30)
    calls = []
    def batch(us):
        calls.append(us.shape)
        return us @ a.T - b
    u0 = np.zeros(3)
    u1, r1 = levenberg_marquardt_step(batch, u0, batch(u0[None])[0], 0.1)
    exact = np.linalg.lstsq(a, b, rcond=None)[0]
    np.testing.assert_allclose(u1, exact, rtol=1e-2)
    np.testing.assert_allclose(r1, a @ u1 - b, atol=1e-12)
    assert levenberg_marquardt_step(batch, exact, a @ exact - b, 0.1) is None
    assert set(calls[1:]) == {(6, 3), (4, 3)}  # 2 d Jacobian points, then 4 dampings
    with pytest.raises(FloatingPointError, match=r"moving \['w'\]"):
        levenberg_marquardt_step(lambda us: np.where(us[:, 1:2] > 0.05, np.nan, us @ a.T - b),
                                 u0, b, 0.1, ["mu", "w", "sigma"])


def test_refinement_converges_where_the_dipole_is_smooth_in_the_parameters():
    """Subthreshold drives (no spike appears or vanishes): Levenberg-Marquardt
    alone, from mu 3 ms and weights 30-50 % off, lowers the loss at every step
    and lands on the truth; the recorded loss is the returned dipole's."""
    tstop, key = 50.0, jax.random.PRNGKey(3)
    fn, gn, names, th0, times = dipole_fn(two_drive_net(w_p=0.001, w_d=0.0005, nmda=0.0), tstop)
    d, _ = fn(jnp.asarray(th0), model.draw_z(gn, jax.random.split(key, 1)[0])[None])
    start = two_drive_net(mu_p=18.0, mu_d=27.0, w_p=0.0015, w_d=0.00035, nmda=0.0)
    params = ["evprox1.mu", "evdist1.mu", "evprox1.weights_ampa.L5_pyramidal",
              "evdist1.weights_ampa.L2_pyramidal"]
    res = fit_drives(start, (times, np.asarray(d.mean(0))), params, n_trials=1, tstop=tstop,
                     smooth_window=None, scale=1.0, n_steps=0, key=key, progress=False, refine=8,
                     score_trials=0)
    h = res.loss_history
    assert len(h) >= 6 and all(b < a for a, b in zip(h, h[1:])) and h[-1] < 1e-6 * h[0]
    assert res.values["evprox1.mu"] == pytest.approx(15.0, abs=0.01)
    assert res.values["evdist1.mu"] == pytest.approx(30.0, abs=0.01)
    assert res.values["evprox1.weights_ampa.L5_pyramidal"] == pytest.approx(0.001, rel=1e-3)
    assert res.values["evdist1.weights_ampa.L2_pyramidal"] == pytest.approx(0.0005, rel=1e-3)
    direct = np.sqrt(np.mean((res.dipole.data["agg"] - np.asarray(d.mean(0))) ** 2))
    assert h[-1] == pytest.approx(direct, rel=1e-3)


def test_sensitivity_is_the_dipole_change_per_step_and_flags_invisible_parameters():
    """RMS change per step equals a direct evaluation; a zero weight (relative
    step: no change) gives a zero column and a zero singular value."""
    tstop, key = 40.0, jax.random.PRNGKey(3)
    net = two_drive_net(nmda=0.0)
    params = ["evprox1.mu", "evprox1.weights_ampa.L5_pyramidal", "evprox1.weights_nmda.L5_pyramidal"]
    sens = sensitivity(net, params, tstop=tstop, key=key)
    fn, gn, names, th0, times = dipole_fn(net, tstop)
    z = model.draw_z(gn, jax.random.split(key, 1)[0])[None]
    def direct(name, lo, hi):
        i = names.index(name)
        a, b = (np.asarray(fn(jnp.asarray(th0).at[i].set(v), z)[0][0]) for v in (hi, lo))
        return np.sqrt(np.mean((a - b) ** 2))

    assert sens.steps["evprox1.mu"] == (14.5, 15.5)
    lo_w, hi_w = sens.steps["evprox1.weights_ampa.L5_pyramidal"]
    assert hi_w / lo_w == pytest.approx(1.1) and np.sqrt(lo_w * hi_w) == pytest.approx(0.004)
    for name in params[:2]:
        assert sens.rms[name] == pytest.approx(direct(name, *sens.steps[name]), rel=1e-9)
        assert sens.rms[name] > 0
    assert sens.rms["evprox1.weights_nmda.L5_pyramidal"] == 0.0
    assert sens.subset(params[:2]).rms == {n: sens.rms[n] for n in params[:2]}
    sv = sens.singular_values
    assert sv[0] > 0 and sv[-1] < 1e-12 * sv[0] and "condition inf" in sens.table()
    for kw in (dict(time_step=0.0), dict(rel_step=1.0), dict(n_trials=0), dict(draws="nrn")):
        with pytest.raises(ValueError, match=list(kw)[0]):
            sensitivity(net, params, tstop=tstop, **kw)


def test_fit_argument_errors():
    net = two_drive_net()
    target = (np.arange(0, 41.0), np.ones(41))  # all-zero targets are rejected
    with pytest.raises(ValueError, match="params"):
        fit_drives(net, target, ["evprox9.mu"], tstop=40.0, n_steps=1, progress=False)
    with pytest.raises(ValueError, match="n_steps"):
        fit_drives(net, target, ["evprox1.mu"], tstop=40.0, n_steps=0, progress=False)
    with pytest.raises(ValueError, match=r"grid: \['evdist1.mu'\]"):
        fit_drives(net, target, ["evprox1.mu"], tstop=40.0, n_steps=1, progress=False,
                   grid={"evdist1.mu": [20.0]})
    with pytest.raises(ValueError, match=r"grid\['evprox1.mu'\].*inside the bounds \(0, 40\)"):
        fit_drives(net, target, ["evprox1.mu"], tstop=40.0, n_steps=1, progress=False,
                   grid={"evprox1.mu": [10.0, 45.0]})
    for kw in (dict(gradient="fd"), dict(gradient="smoothed", smoothing=0.0),
               dict(gradient="smoothed", n_samples=0)):
        with pytest.raises(ValueError, match=list(kw)[-1]):
            fit_drives(net, target, ["evprox1.mu"], tstop=40.0, n_steps=1, progress=False, **kw)
    for kw in (dict(refine=-1), dict(refine=2, loss="corr"), dict(refine=2, refine_step=0.0)):
        with pytest.raises(ValueError, match=list(kw)[-1]):
            fit_drives(net, target, ["evprox1.mu"], tstop=40.0, n_steps=1, progress=False, **kw)
    with pytest.raises(ValueError, match="grid_batch"):
        fit_drives(net, target, ["evprox1.mu"], tstop=40.0, n_steps=1, progress=False,
                   grid={"evprox1.mu": [10.0]}, grid_batch=0)
    with pytest.raises(ValueError, match="loss"):
        fit_drives(net, target, ["evprox1.mu"], tstop=40.0, n_steps=1, loss="mae", progress=False)
    with pytest.raises(ValueError, match="target spans"):
        fit_drives(net, (np.arange(0, 20.0), np.zeros(20)), ["evprox1.mu"], tstop=40.0,
                   n_steps=1, progress=False)
    with pytest.raises(ValueError, match="bounds"):
        fit_drives(net, target, ["evprox1.mu"], tstop=40.0, n_steps=1, progress=False,
                   bounds={"evprox1.mu": (30.0, 10.0)})


def test_nan_gradient_stops_with_a_clear_error():
    net = two_drive_net()
    target = (np.arange(0, 41.0), np.ones(41))  # all-zero targets are rejected
    bad_loss = lambda sim, tgt: jnp.sqrt(jnp.sum(sim - sim))  # d/dx sqrt(0) = inf
    with pytest.raises(FloatingPointError, match="step 0"):
        fit_drives(net, target, ["evprox1.mu"], tstop=40.0, n_steps=2, loss=bad_loss,
                   progress=False)


def test_name_shorthand():
    names = ["a.mu", "a.sigma", "b.mu"]
    assert expand_names(["a.*"], names) == ["a.mu", "a.sigma"]
    assert expand_names(["b.mu", "a.*"], names) == ["b.mu", "a.mu", "a.sigma"]


def test_hnn_core_draws_make_the_fit_see_the_trials_simulate_dipole_runs():
    """draws='hnn-core': the fit's objective is evaluated on simulate_dipole's
    trials (target = their average: loss within the two modes' distance);
    the key's draws are other trials."""
    net, tstop, n_trials = two_drive_net(), 45.0, 2
    dpls = hnn.simulate_dipole(net, tstop=tstop, n_trials=n_trials)
    target = (dpls[0].times, np.mean([d.data["agg"] for d in dpls], axis=0))
    rms = float(np.sqrt(np.mean(target[1] ** 2)))
    kw = dict(n_trials=n_trials, tstop=tstop, smooth_window=None, scale=1.0, progress=False)
    hc = Objective(net, target, ["evprox1.mu"], draws="hnn-core", **kw)
    by_key = Objective(net, target, ["evprox1.mu"], key=jax.random.PRNGKey(5), **kw)
    assert hc.loss(hc.u0) < 0.02 * rms
    assert by_key.loss(by_key.u0) > 0.1 * rms
    with pytest.raises(ValueError, match="draws"):
        fit_drives(net, target, ["evprox1.mu"], draws="numpy", n_steps=1, **kw)
