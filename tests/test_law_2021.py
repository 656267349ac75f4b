"""law_2021_model against hnn-core/NEURON (net_law.npz: 3x3 mesh, ERP drives,
80 ms): edited GABA-B kinetics, L5 ca removed from soma and basal
dendrites, changed connections; and the cell-object edits it is made of."""
import json
from pathlib import Path

import numpy as np
import pytest

import hnnjax as hnn

FIXTURE = Path(__file__).parent / "fixtures" / "net_law.npz"


@pytest.fixture(scope="module")
def law():
    ref = np.load(FIXTURE)
    meta = json.loads(str(ref["meta"]))
    net = hnn.law_2021_model(mesh_shape=tuple(meta["mesh_shape"]))
    hnn.add_erp_drives_to_jones_model(net)
    dpls = hnn.simulate_dipole(net, tstop=meta["tstop"], n_trials=1, record_vsec="soma",
                               progress=False, verbose=False)
    return ref, meta, net, dpls


def test_law_2021_matches_neuron(law):
    ref, meta, net, dpls = law
    assert len(net.connectivity) == meta["n_connections"]
    cr = net.cell_response
    got = sorted(zip(np.round(cr.spike_times[0], 6), cr.spike_gids[0]))
    want = sorted(zip(np.round(ref["spike_times"], 6), ref["spike_gids"]))
    assert got == want and len(want) > 50
    for k, layer in enumerate(("agg", "L2", "L5")):  # measured: 1.4e-7 to 2.3e-7
        err = dpls[0].data[layer] - ref["dipoles"][k]
        assert np.sqrt(np.mean(err**2) / np.mean(ref["dipoles"][k] ** 2)) <= 1e-6, layer
    v = np.stack([cr.vsec[0][int(g)]["soma"][::meta["record_step"]] for g in ref["vsoma_gids"]])
    assert np.abs(v - ref["vsoma"]).max() < 1e-3  # mV; measured 2.6e-4, on a spike's upstroke


def test_edits_change_the_model():
    """Each of law_2021_model's cell edits moves the dipole (the fixture test
    would not see an edit that does nothing)."""
    def run(edit):
        net = hnn.neymotin_2020_model(mesh_shape=(3, 3))
        hnn.add_erp_drives_to_jones_model(net)
        edit(net)
        return hnn.simulate_dipole(net, tstop=40.0, n_trials=1, progress=False,
                                   verbose=False)[0].data["agg"]
    base = run(lambda net: None)
    tau = run(lambda net: net.cell_types["L5_pyramidal"]["cell_object"].synapses["gabaa"].update(tau2=20.0))

    def no_ca(net):
        del net.cell_types["L5_pyramidal"]["cell_object"].sections["soma"].mechs["ca"]
    assert np.abs(tau - base).max() > 1e-3 * np.abs(base).max()
    assert np.abs(run(no_ca) - base).max() > 1e-6 * np.abs(base).max()


def test_cell_object_view():
    net = hnn.neymotin_2020_model(mesh_shape=(2, 2))
    cell = net.cell_types["L5_pyramidal"]["cell_object"]
    assert cell.synapses["gabab"] == {"e": -80.0, "tau1": 1.0, "tau2": 20.0}
    mechs = cell.sections["soma"].mechs
    assert sorted(mechs) == ["ar", "ca", "cad", "cat", "hh2", "kca", "km"]
    assert mechs["ca"]["gbar_ca"] == 60.0 and cell.sections["soma"].L == 39.0
    with pytest.raises(TypeError, match="cannot be deleted"):
        del mechs["ca"]["gbar_ca"]  # parameters are set (tests/test_cell_edits.py), not deleted
    del mechs["ca"]
    assert "ca" not in cell.sections["soma"].mechs and "ca" in cell.sections["basal_1"].mechs
    assert net.cell_types["L5_pyramidal"].edited and not net.cell_types["L2_pyramidal"].edited
    other = hnn.neymotin_2020_model(mesh_shape=(2, 2))  # edits stay with their network
    assert not other.cell_types["L5_pyramidal"].edited
    with pytest.raises(KeyError, match="no mechanism 'ca'"):
        del mechs["ca"]
    with pytest.raises(NotImplementedError, match="cad"):
        del mechs["cad"]
    cell.synapses["ampa"]["tau2"] = 0.1  # decays faster than it rises
    with pytest.raises(ValueError, match=r"L5_pyramidal synapses\['ampa'\]\['tau2'\] must be .* > 0.5"):
        hnn.simulate_dipole(net, tstop=5.0, n_trials=1, progress=False, verbose=False)


def test_network_files_keep_the_edits(law):
    _, _, net, _ = law
    back = hnn.dict_to_network(net.to_dict())
    for name in ("L2_pyramidal", "L5_pyramidal"):
        ct, again = net.cell_types[name], back.cell_types[name]
        assert (again.receptors, again.removed) == (ct.receptors, ct.removed) and again.edited
    assert back.cell_types["L5_pyramidal"].removed == {(s, "ca") for s in ("soma", "basal_1", "basal_2",
                                                                          "basal_3")}


def test_cell_builders():
    import matplotlib
    matplotlib.use("Agg")
    cell = hnn.pyramidal("L5_pyramidal", pos=(10, 0, 0), gid=3)
    assert (cell.pos, cell.gid, cell.name) == ((10.0, 0.0, 0.0), 3, "L5Pyr")  # hnn-core's cell name
    assert sorted(cell.sections) == sorted(["soma", "apical_trunk", "apical_1", "apical_2",
                                            "apical_tuft", "apical_oblique", "basal_1", "basal_2",
                                            "basal_3"])
    cell.plot_morphology(show=False)
    assert list(hnn.basket("L2_basket").synapses) == ["ampa", "nmda", "gabaa"]  # no GABA-B sites
    with pytest.raises(ValueError, match="cell_name"):
        hnn.pyramidal("L4_pyramidal")
    assert hnn.pyramidal("L2_pyramidal", override_params={"L2Pyr_soma_L": 10.0}).sections["soma"].L == 10.0
    from hnnjax.cells_default import pyramidal_ca  # calcium_model's L5 cell

    ca = pyramidal_ca("L5_pyramidal", pos=(0, 5, 0), gid=1)
    assert (ca.pos, ca.gid, sorted(ca.sections)) == ((0.0, 5.0, 0.0), 1, sorted(cell.sections))
    assert ca.sections["apical_tuft"].mechs["ca"] == {"gbar_ca": 40.0}  # 60 in the default cell
    assert cell.sections["apical_tuft"].mechs["ca"] == {"gbar_ca": 60.0}
    with pytest.raises(ValueError, match="cell_name"):
        pyramidal_ca("L2_pyramidal")
