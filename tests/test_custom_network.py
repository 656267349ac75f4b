"""``Network(params, pos_dict=, cell_types=)`` vs hnn-core 0.6.1 + NEURON 8.2.7
(tests/fixtures/net_custom.npz, ``tools/make_reference.py --custom``).

14 cells at positions of their own (not hnn-core's grid), the L5 pyramidal
template built with ``override_params``, six local connections whose
weights and delays follow the cells' distances, and the ERP drives (one
drive cell per target cell), 80 ms, 2 trials in one call.
"""
import json
from pathlib import Path

import numpy as np
import pytest

import hnnjax as hnn
from hnnjax import cells_default

FIX = np.load(Path(__file__).parent / "fixtures" / "net_custom.npz")
META = json.loads(str(FIX["meta"]))


def custom_network():
    """The fixture's network, by the same calls hnn-core's tool made."""
    cell_types = hnn.neymotin_2020_model(mesh_shape=(1, 1)).cell_types
    cell_types = {name: {"cell_object": ct["cell_object"], "cell_metadata": ct["cell_metadata"]}
                  for name, ct in cell_types.items()}
    cell_types["L5_pyramidal"]["cell_object"] = cells_default.pyramidal(
        "L5_pyramidal", override_params=dict(META["l5_override"]))
    pos = {k: (tuple(v) if k == "origin" else [tuple(p) for p in v]) for k, v in META["pos_dict"].items()}
    net = hnn.Network({"threshold": 0.0, "celsius": 37.0}, pos_dict=pos, cell_types=cell_types)
    for src, tgt, loc, receptor, weight, delay, lamtha in META["connections"]:
        net.add_connection(src, tgt, loc, receptor, weight, delay, lamtha)
    hnn.add_erp_drives_to_jones_model(net)
    return net


@pytest.fixture(scope="module")
def run():
    net = custom_network()
    dpls = hnn.simulate_dipole(net, tstop=META["tstop"], dt=META["dt"], n_trials=META["n_trials"],
                               progress=False, verbose=False)
    return net, dpls


def test_custom_cells_and_positions_match_neuron(run):
    """Measured 2026-12-07 (AMD EPYC host): dipoles within 3.3e-7 relative
    RMS, every spike (35 and 32 of cells, the rest of drive cells) within
    1.1e-10 ms; the bounds are tests/test_network_reference.py's."""
    net, dpls = run
    names = FIX["gid_range_names"].tolist()
    assert list(net.gid_ranges) == names
    assert [(net.gid_ranges[n].start, net.gid_ranges[n].stop) for n in names] == \
        list(zip(FIX["gid_range_start"].tolist(), FIX["gid_range_stop"].tolist()))
    cr = net.cell_response
    for trial in range(META["n_trials"]):
        for k, layer in enumerate(("agg", "L2", "L5")):
            ref = FIX["dipoles"][trial, k]
            d = dpls[trial].data[layer] - ref
            assert np.sqrt(np.mean(d ** 2) / np.mean(ref ** 2)) < 5e-6, (trial, layer)
        sel = FIX["spike_trials"] == trial
        ref = sorted(zip(FIX["spike_gids"][sel].tolist(), FIX["spike_times"][sel].tolist()))
        mine = sorted(zip(cr.spike_gids[trial], cr.spike_times[trial]))
        assert [g for g, _ in mine] == [g for g, _ in ref], trial  # cells' and drive cells' spikes
        assert max(abs(a[1] - b[1]) for a, b in zip(mine, ref)) <= 1e-6, trial  # ms


def test_the_network_is_active_and_its_positions_matter(run):
    net, _ = run
    cells = FIX["spike_gids"] < net.gid_ranges["L5_pyramidal"].stop
    assert cells.sum() >= 10 and {net.gid_to_type(g) for g in FIX["spike_gids"][cells]} >= \
        {"L2_basket", "L2_pyramidal", "L5_pyramidal"}
    weights = {round(w, 12) for c in net.connectivity if c["src_type"] == "L2_pyramidal"
               and c["target_type"] == "L5_pyramidal"
               for w in [c["nc_dict"]["A_weight"]]}
    assert weights == {2.5e-4}  # the distance factor acts in the compiled network, not the dict
    grid = hnn.Network({"threshold": 0.0, "celsius": 37.0}, mesh_shape=(2, 2))
    assert len(net.gid_ranges["L5_pyramidal"]) == 5 != len(grid.gid_ranges["L5_pyramidal"])


def test_pos_dict_and_cell_types_are_checked():
    cells = {n: {"cell_object": ct["cell_object"]}
             for n, ct in hnn.neymotin_2020_model(mesh_shape=(1, 1)).cell_types.items()}
    pos = {k: (tuple(v) if k == "origin" else [tuple(p) for p in v]) for k, v in META["pos_dict"].items()}
    params = {"threshold": 0.0, "celsius": 37.0}
    same = hnn.Network(params, mesh_shape=(2, 2), cell_types=cells,
                       pos_dict=hnn.Network(params, mesh_shape=(2, 2)).pos_dict)
    assert same.to_dict() == hnn.Network(params, mesh_shape=(2, 2)).to_dict()
    for kwargs, error, match in (
            (dict(pos_dict=pos), ValueError, "pos_dict and cell_types go together"),
            (dict(pos_dict=pos, cell_types={**cells, "L6_pyramidal": cells["L5_pyramidal"]}),
             ValueError, "four cell types in hnn-core's order"),
            (dict(pos_dict=pos, cell_types=dict(reversed(cells.items()))), ValueError, "order"),
            (dict(pos_dict={**pos, "evprox1": [(0, 0, 0)]}, cell_types=cells), ValueError, "'origin'"),
            (dict(pos_dict={**pos, "L2_basket": [(0, 0)]}, cell_types=cells), TypeError,
             r"pos_dict\['L2_basket'\]\[0\] must be an \(x, y, z\)"),
            (dict(pos_dict={**pos, "L2_basket": [(0, 0, float("nan"))]}, cell_types=cells),
             ValueError, r"pos_dict\['L2_basket'\]\[0\]\[2\] must be a finite number"),
            (dict(pos_dict=pos, cell_types={**cells, "L2_basket": cells["L5_basket"]}), TypeError,
             "with a L2_basket cell"),
            (dict(pos_dict=pos, cell_types={**cells, "L2_basket": {
                "cell_object": cells["L2_basket"]["cell_object"], "cell_metadata": {"layer": "2"}}}),
             ValueError, "cell_metadata'] must be hnn-core's")):
        with pytest.raises(error, match=match):
            hnn.Network(params, **kwargs)
