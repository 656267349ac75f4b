"""Electrode arrays: extracellular potentials against hnn-core/NEURON (net_lfp.npz:
a 3x3 network, ERP drives and a tonic bias, three arrays, point and line
sources), and the ExtracellularArray API."""
import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import hnnjax as hnn
from hnnjax.extracellular import ExtracellularArray, calculate_csd2d, laminar_z

matplotlib.use("Agg")
FIXTURE = Path(__file__).parent / "fixtures" / "net_lfp.npz"


def _fixture_network(meta):
    """The fixture's network, without its electrode arrays."""
    net = hnn.neymotin_2020_model(mesh_shape=tuple(meta["mesh_shape"]))
    net.set_cell_positions(inplane_distance=meta["inplane_distance"])
    hnn.add_erp_drives_to_jones_model(net)
    net.add_tonic_bias(**meta["tonic_bias"])
    return net


@pytest.fixture(scope="module")
def reference():
    ref = np.load(FIXTURE)
    meta = json.loads(str(ref["meta"]))
    net = _fixture_network(meta)
    for name, a in meta["arrays"].items():
        net.add_electrode_array(name, [tuple(p) for p in a["positions"]],
                                conductivity=a["conductivity"], method=a["method"],
                                min_distance=a["min_distance"])
    dpls = hnn.simulate_dipole(net, tstop=meta["tstop"], dt=meta["dt"], n_trials=1,
                               progress=False, verbose=False)
    return ref, meta, net, dpls


def test_lfp_matches_neuron(reference):
    """Every contact within 2e-5 of the array's largest |potential| (measured:
    3e-6); the tonic bias, an electrode current, is not a membrane current."""
    ref, meta, net, dpls = reference
    assert np.allclose(dpls[0].data["agg"], ref["dipoles"][0], rtol=0, atol=1e-6 * np.abs(ref["dipoles"][0]).max())
    for name in meta["arrays"]:
        got, want = net.rec_arrays[name], ref[f"{name}_voltages"]
        assert got.voltages.shape == want.shape
        np.testing.assert_allclose(got.times, ref[f"{name}_times"], rtol=0, atol=1e-9)  # NEURON sums dt
        assert got.voltages[0, :, 0].tolist() == [0.0] * got.n_contacts  # hnn-core's t = 0
        err = np.abs(got.voltages - want).max()
        assert err <= 2e-5 * np.abs(want).max(), (name, err, np.abs(want).max())


def test_arrays_do_not_change_the_model(reference):
    ref, meta, net, dpls = reference
    plain = _fixture_network(meta)
    d = hnn.simulate_dipole(plain, tstop=meta["tstop"], n_trials=1, progress=False, verbose=False)
    # recording changes XLA's fusions (rounding at 1e-13), not the spikes
    np.testing.assert_allclose(d[0].data["agg"], dpls[0].data["agg"], rtol=0,
                               atol=1e-12 * np.abs(dpls[0].data["agg"]).max())
    assert plain.cell_response.spike_times == net.cell_response.spike_times


def test_array_api(reference):
    _, _, net, _ = reference
    arr = net.rec_arrays["shank_psa"]
    assert len(arr) == 1 and arr.sfreq == pytest.approx(40000.0)
    assert "6 electrodes" in repr(arr) and "1 trials" in repr(arr)
    assert arr[0] == arr and arr[[0]] == arr and len(arr[0:0]) == 0
    d = arr.to_dict()
    assert d["method"] == "psa" and d["voltages"].shape == arr.voltages.shape
    smoothed = arr.copy().smooth(1.0)
    assert smoothed != arr and smoothed.voltages.shape == arr.voltages.shape
    window = np.hamming(40) / np.hamming(40).sum()
    np.testing.assert_allclose(smoothed.voltages[0, 3], np.convolve(arr.voltages[0, 3], window, "same"))
    with pytest.raises(IndexError, match="1 trials"):
        arr[[3]]


def test_plots_label_their_axes(reference):
    _, _, net, _ = reference
    fig = net.rec_arrays["shank_lsa"].plot_lfp(show=False)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Time (ms)" and "Contact depth (µm)" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["-200", "0", "400", "800", "1300", "1700"]
    with pytest.raises(ValueError, match="equally spaced"):
        net.rec_arrays["shank_psa"].plot_csd(show=False)  # contacts unevenly spaced
    arr = ExtracellularArray([(0.0, 0.0, z) for z in (0.0, 100.0, 200.0, 300.0)],
                             times=np.arange(5.0), voltages=np.random.default_rng(0).normal(size=(1, 4, 5)))
    fig = arr.plot_csd(show=False)
    assert fig.axes[0].get_ylabel() == "Contact depth (µm)"
    assert "CSD" in fig.axes[1].get_ylabel()


def test_csd2d_and_laminar_depths():
    lfp = np.array([[0.0, 1.0], [1.0, 1.0], [4.0, 1.0], [9.0, 1.0]])  # z² along contacts
    csd = calculate_csd2d(lfp, delta=1)
    np.testing.assert_allclose(csd[:, 0], -2.0)
    np.testing.assert_allclose(csd[:, 1], 0.0)
    z, dz = laminar_z([(0, 0, 10), (0, 0, 30), (0, 0, 50)])
    assert z.tolist() == [10, 30, 50] and dz == 20
    with pytest.raises(ValueError, match="at least 2 contacts"):
        laminar_z([(0, 0, 0)])


@pytest.mark.parametrize("kwargs, match", [
    (dict(electrode_pos=[(0, 0)]), r"\(x, y, z\) triplets"),
    (dict(electrode_pos="top"), "must be an"),
    (dict(electrode_pos=[(0, 0, float("nan"))]), "positions coordinate 2"),
    (dict(electrode_pos=(0, 0, 0), method="csd"), "method"),
    (dict(electrode_pos=(0, 0, 0), conductivity=0.0), "conductivity"),
    (dict(electrode_pos=(0, 0, 0), min_distance=-1.0), "min_distance"),
])
def test_bad_arrays_are_refused(kwargs, match):
    net = hnn.jones_2009_model(mesh_shape=(2, 2))
    with pytest.raises((TypeError, ValueError), match=match):
        net.add_electrode_array("a", **kwargs)
    net.add_electrode_array("a", (0, 0, 0))
    with pytest.raises(ValueError, match="already exists"):
        net.add_electrode_array("a", (0, 0, 100))


def test_arrays_in_network_configurations(reference, tmp_path):
    _, _, net, _ = reference
    data = net.to_dict(write_output=True)
    assert np.array_equal(data["rec_arrays"]["near_lsa"]["voltages"], net.rec_arrays["near_lsa"].voltages)
    net.write_configuration(tmp_path / "net.json")
    back = hnn.read_network_configuration(tmp_path / "net.json")
    assert list(back.rec_arrays) == list(net.rec_arrays)
    for name, arr in net.rec_arrays.items():
        got = back.rec_arrays[name]
        assert (got.positions, got.method, got.conductivity, got.min_distance, len(got)) == \
            (arr.positions, arr.method, arr.conductivity, arr.min_distance, 0)


def test_record_extracellular_example(tmp_path):
    """hnn-core 0.6.1's examples/howto/plot_record_extracellular_potentials.py,
    its calls with the import renamed, on 30 ms instead of 170."""
    import matplotlib.pyplot as plt

    from hnnjax import neymotin_2020_model, simulate_dipole
    from hnnjax.network_models import add_erp_drives_to_jones_model

    net = neymotin_2020_model()
    add_erp_drives_to_jones_model(net)
    net.set_cell_positions(inplane_distance=30.)
    depths = list(range(-325, 2150, 100))
    net.add_electrode_array('shank1', [(135, 135, dep) for dep in depths])
    net.plot_cells(show=False)
    dpl = simulate_dipole(net, tstop=30., progress=False, verbose=False)
    fig, axs = plt.subplots(4, 1, sharex=True, figsize=(6, 8),
                            gridspec_kw={'height_ratios': [1, 3, 3, 3]})
    dpl[0].smooth(window_len=10)
    dpl[0].plot(ax=axs[0], decim=[5, 4], show=False)
    net.rec_arrays['shank1'][0].smooth(window_len=10).plot_lfp(ax=axs[1], decim=[5, 4], show=False)
    net.cell_response.plot_spikes_raster(ax=axs[2], show=False)
    net.rec_arrays['shank1'][0].smooth(window_len=10).plot_csd(ax=axs[3], show=False)
    fig.savefig(tmp_path / "lfp.png")
    lfp = net.rec_arrays['shank1'].voltages
    assert lfp.shape == (1, len(depths), 1201) and np.all(np.isfinite(lfp)) and np.abs(lfp).max() > 1.0
    plt.close("all")


def test_synaptic_currents_match_neuron():
    """record_isec='all': each Exp2Syn's current (nA) of one cell per type,
    against NEURON's, in hnn-core's layout gid -> section -> '<section>_<receptor>'."""
    ref = np.load(FIXTURE)
    meta = json.loads(str(ref["meta"]))
    net = _fixture_network(meta)
    hnn.simulate_dipole(net, tstop=meta["tstop"], n_trials=1, record_isec="all", progress=False,
                        verbose=False)
    isec = net.cell_response.isec[0]
    keys = [k.split("|") for k in ref["isec_keys"]]
    for gid in {int(g) for g, _, _ in keys}:
        want = {(sec, key) for g, sec, key in keys if int(g) == gid}
        assert {(sec, key) for sec in isec[gid] for key in isec[gid][sec]} == want
    got = np.stack([isec[int(g)][sec][key] for g, sec, key in keys])
    assert (np.abs(ref["isec"]).max(axis=1) > 0.1).sum() >= 5  # the fixture has active synapses
    scale = np.abs(ref["isec"]).max()
    err = np.abs(got - ref["isec"]).max()
    print(f"isec: max |error| {err:.2e} nA of max |I| {scale:.2f} nA")
    assert err <= 1e-5 * scale, err
    assert sorted(isec) == [g for ct in net.cell_types for g in net.gid_ranges[ct]]  # every cell
