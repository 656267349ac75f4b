"""hnn-core's API in hnnjax: shapes, conventions and input validation."""
import numpy as np
import pytest

import hnnjax as hnn
from hnnjax import progress


@pytest.fixture
def small_net():
    net = hnn.jones_2009_model(mesh_shape=(1, 1))
    net.clear_connectivity()
    return net


def test_gid_ranges_and_positions():
    net = hnn.jones_2009_model()
    assert [(k, r.start, r.stop) for k, r in net.gid_ranges.items()] == [
        ("L2_basket", 0, 35), ("L2_pyramidal", 35, 135), ("L5_basket", 135, 170), ("L5_pyramidal", 170, 270)]
    assert net.pos_dict["origin"] == (4.0, 4.0, 653.0)
    assert net.pos_dict["L2_basket"][:4] == [(0.0, 0.0, 1045.92), (3.0, 0.0, 1045.92),
                                             (6.0, 0.0, 1045.92), (9.0, 0.0, 1045.92)]
    assert len(net.connectivity) == 16
    n_netcons = sum(len(ts) * len(net.cell_types[c["target_type"]].sections_for(c["loc"]))
                    for c in net.connectivity for ts in c["gid_pairs"].values())
    assert n_netcons == 189215  # spec §5.4


def test_erp_drive_gids():
    net = hnn.jones_2009_model()
    hnn.add_erp_drives_to_jones_model(net)
    assert [(k, r.start, r.stop) for k, r in list(net.gid_ranges.items())[4:]] == [
        ("evdist1", 270, 505), ("evprox1", 505, 775), ("evprox2", 775, 1045)]


def test_simulate_outputs_follow_hnn_core(small_net):
    small_net.add_tonic_bias(amplitude={"L5_pyramidal": 1.0}, t0=5.0, tstop=30.0)
    dpls = hnn.simulate_dipole(small_net, tstop=40.0, n_trials=2, record_vsec="all", record_ca="soma")
    assert len(dpls) == 2 and dpls[0].times.shape == (1601,) and dpls[0].sfreq == pytest.approx(40000.0)
    # baseline renormalisation of a raw 0 at t = 0 (spec §12.8), N = 1 cell per layer
    assert dpls[0].data["L2"][0] == pytest.approx(-4.43e-8)
    assert dpls[0].data["L5"][0] == pytest.approx(4.90502e-5)
    cr = small_net.cell_response
    gid = small_net.gid_ranges["L5_pyramidal"][0]
    assert set(cr.vsec[0][gid]) == set(small_net.cell_types["L5_pyramidal"].section_names)
    assert cr.vsec[1][gid]["apical_tuft"].shape == (1601,)
    assert set(cr.ca[0][gid]) == {"soma"}
    assert len(cr.spike_times) == 2 and all(t == "L5_pyramidal" for t in cr.spike_types[0])
    assert len(cr.spike_times[0]) > 0
    # no drives: trials equal up to rounding (XLA may vectorise batch rows differently)
    np.testing.assert_allclose(dpls[0].data["agg"], dpls[1].data["agg"], rtol=0, atol=1e-12)


def test_n_trials_defaults_to_params(small_net):
    small_net._params["N_trials"] = 3
    assert len(hnn.simulate_dipole(small_net, tstop=5.0)) == 3


@pytest.mark.parametrize("kwargs,param", [
    (dict(tstop=0.0), "tstop"), (dict(tstop=-5.0), "tstop"), (dict(tstop=10.0, dt=-0.025), "dt"),
    (dict(tstop=10.0, n_trials=0), "n_trials"), (dict(tstop=10.0, record_vsec="dend"), "record_vsec"),
    (dict(tstop=10.0, record_ca=True), "record_ca"), (dict(tstop=10.0, dtype="float16"), "dtype"),
])
def test_simulate_rejects_bad_arguments(small_net, kwargs, param):
    with pytest.raises(ValueError, match=param):
        hnn.simulate_dipole(small_net, **kwargs)


def test_tonic_bias_validation(small_net):
    with pytest.raises(ValueError, match="amplitude.*L4_pyramidal"):
        small_net.add_tonic_bias(amplitude={"L4_pyramidal": 1.0}, t0=0.0, tstop=10.0)
    with pytest.raises(ValueError, match="section"):
        small_net.add_tonic_bias(amplitude={"L5_pyramidal": 1.0}, section="axon")
    with pytest.raises(ValueError, match="t0"):
        small_net.add_tonic_bias(amplitude={"L5_pyramidal": 1.0}, t0=-1.0)
    small_net.add_tonic_bias(amplitude={"L5_pyramidal": 1.0}, t0=50.0)
    with pytest.raises(ValueError, match="t0=50"):
        hnn.simulate_dipole(small_net, tstop=20.0)


def test_drive_validation(small_net):
    with pytest.raises(ValueError, match="location"):
        small_net.add_evoked_drive("d", mu=10.0, sigma=1.0, numspikes=1, location="axonal",
                                   weights_ampa={"L5_pyramidal": 1e-3})
    with pytest.raises(ValueError, match="L5_basket"):
        small_net.add_evoked_drive("d", mu=10.0, sigma=1.0, numspikes=1, location="distal",
                                   weights_ampa={"L5_basket": 1e-3})
    with pytest.raises(ValueError, match="sigma"):
        small_net.add_evoked_drive("d", mu=10.0, sigma=-1.0, numspikes=1, location="distal",
                                   weights_ampa={"L5_pyramidal": 1e-3})
    small_net.add_evoked_drive("d", mu=10.0, sigma=1.0, numspikes=1, location="distal",
                               weights_ampa={"L5_pyramidal": 1e-3})
    with pytest.raises(ValueError, match="d"):
        small_net.add_evoked_drive("d", mu=10.0, sigma=1.0, numspikes=1, location="distal",
                                   weights_ampa={"L5_pyramidal": 1e-3})
    small_net.add_poisson_drive("p", tstart=50.0, rate_constant=10.0, location="proximal",
                                weights_ampa={"L5_pyramidal": 1e-3})
    with pytest.raises(ValueError, match="p.*tstop"):
        hnn.simulate_dipole(small_net, tstop=20.0)


def test_connection_validation(small_net):
    with pytest.raises(ValueError, match="receptor|gabab"):
        small_net.add_connection("L2_basket", "L2_basket", "soma", "gabab", 1e-3, 1.0, 3.0)
    with pytest.raises(ValueError, match="weight"):
        small_net.add_connection("L2_basket", "L2_pyramidal", "soma", "gabaa", -1e-3, 1.0, 3.0)
    with pytest.raises(ValueError, match="target_gids"):
        small_net.add_connection("L2_basket", "L7_basket", "soma", "gabaa", 1e-3, 1.0, 3.0)


def test_bad_params_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        hnn.jones_2009_model(params=bad)


def test_results_are_reproducible():
    net = hnn.jones_2009_model(mesh_shape=(2, 2))
    hnn.add_erp_drives_to_jones_model(net)
    a = hnn.simulate_dipole(net, tstop=40.0, n_trials=2)
    b = hnn.simulate_dipole(net, tstop=40.0, n_trials=2)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.data["agg"], y.data["agg"])
    assert not np.array_equal(a[0].data["agg"], a[1].data["agg"])  # trials differ by seed


def test_no_recompile_for_new_drive_values_or_trial_count():
    import jax.monitoring

    compiles = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda name, *a, **k: compiles.append(name) if "backend_compile" in name else None)
    net = hnn.jones_2009_model(mesh_shape=(2, 2))
    hnn.add_erp_drives_to_jones_model(net)
    hnn.simulate_dipole(net, tstop=30.0, n_trials=3)
    first = len(compiles)
    assert first > 0
    net.external_drives["evprox1"]["dynamics"]["mu"] = 20.0
    hnn.simulate_dipole(net, tstop=30.0, n_trials=4)
    assert len(compiles) == first


def test_first_trial_runs_hnn_cores_later_trials():
    """first_trial=k gives hnn-core's trials k, k+1, ...: the drive spikes,
    spikes and dipoles of those trials of a run from trial 0."""
    net = hnn.jones_2009_model(mesh_shape=(2, 2))
    hnn.add_erp_drives_to_jones_model(net)
    run = dict(tstop=30.0, verbose=False, progress=False)
    whole = hnn.simulate_dipole(net, n_trials=3, **run)
    drives, spikes = net.external_drives["evprox1"]["events"], net.cell_response.spike_times
    later = hnn.simulate_dipole(net, n_trials=2, first_trial=1, **run)
    assert not np.allclose(whole[0].data["agg"], later[0].data["agg"])  # trials differ
    for k, dpl in enumerate(later):
        np.testing.assert_allclose(dpl.data["agg"], whole[k + 1].data["agg"], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(np.concatenate(net.external_drives["evprox1"]["events"][k]),
                                      np.concatenate(drives[k + 1]))
        np.testing.assert_array_equal(net.cell_response.spike_times[k], spikes[k + 1])
    with pytest.raises(ValueError, match="first_trial"):
        hnn.simulate_dipole(net, n_trials=1, first_trial=-1, **run)


def test_batches_and_progress_give_the_same_trials(capsys, monkeypatch):
    net = hnn.jones_2009_model(mesh_shape=(2, 2))
    hnn.add_erp_drives_to_jones_model(net)
    whole = hnn.simulate_dipole(net, tstop=30.0, n_trials=3)
    monkeypatch.setattr(progress, "DELAY_S", 0.0)  # show the bar of a short call
    parts = hnn.simulate_dipole(net, tstop=30.0, n_trials=3, batch_size=2, progress=True)
    for a, b in zip(whole, parts):
        np.testing.assert_allclose(a.data["agg"], b.data["agg"], rtol=0, atol=1e-12)
    err = capsys.readouterr().err
    assert "trials: 100%" in err and "3/3" in err and "trial/s" in err  # trials, not batches
    with pytest.raises(ValueError, match="batch_size"):
        hnn.simulate_dipole(net, tstop=30.0, n_trials=3, batch_size=0)
