"""Network files whose cells are not hnn-core's defaults
(tests/fixtures/cell_configs.npz, ``tools/make_reference.py --cell-configs``).

hnn-core 0.6.1 wrote each file: ``calcium_model``, ``law_2021_model`` and
the default network with the cell edits of tests/test_cell_edits.py, all
1x1.  hnnjax reads each into the cell types its own API builds (those are
checked against NEURON in test_cells_reference.py, test_law_2021.py and
test_cell_edits.py), and writes them back unchanged.
"""
import copy
import io
import json
from pathlib import Path

import numpy as np
import pytest

import hnnjax as hnn
from hnnjax import cells_default
from test_cell_edits import apply_cell_edits

FIX = np.load(Path(__file__).parent / "fixtures" / "cell_configs.npz")
META = json.loads(str(FIX["meta"]))
TREE = ("parent", "r_parent", "area", "cm", "x", "path_distance", "dipole_weight")


def hnn_core_file(name):
    return json.loads(str(FIX[f"config_{name}"]))


def built(name):
    """The same network, built by hnnjax's API."""
    if name in ("calcium", "law"):
        return getattr(hnn, f"{name}_model" if name == "calcium" else "law_2021_model")(mesh_shape=(1, 1))
    net = hnn.neymotin_2020_model(mesh_shape=(1, 1))
    apply_cell_edits(net, META["edits"][name], cells_default)
    return net


def worst_difference(a, b):
    """Largest relative difference between the cell types of networks
    ``a`` and ``b`` (trees, conductances as simulated); their initial
    voltages, receptors and removed mechanisms must be equal."""
    worst = 0.0

    def rel(u, v):
        return float(np.max(np.abs(u - v) / np.maximum(np.abs(v), 1e-300), initial=0.0))

    for name, x in a.cell_types.items():
        y = b.cell_types[name]
        for f in TREE:
            assert getattr(x.tree, f).shape == getattr(y.tree, f).shape, (name, f)
            worst = max(worst, rel(getattr(x.tree, f), getattr(y.tree, f)))
        assert np.array_equal(x.v_init, y.v_init), name
        assert (x.receptors, x.removed) == (y.receptors, y.removed), name
        for cx, cy in zip(x.membrane_channels(), y.membrane_channels()):
            for field, value in vars(cx).items():
                if field != "table":
                    worst = max(worst, rel(np.asarray(value, float), np.asarray(getattr(cy, field), float)))
    return worst


@pytest.mark.parametrize("name", META["configs"])
def test_hnn_core_files_read_as_the_models_hnnjax_builds(name):
    """Measured 2026-12-07: within 1.04e-15 relative (the per-segment
    conductances hnn-core computed and wrote); nseg as the file says."""
    net = hnn.dict_to_network(hnn_core_file(name))
    assert worst_difference(net, built(name)) <= 1e-13
    for cell_type, ct in net.cell_types.items():
        cell = hnn_core_file(name)["cell_types"][cell_type]["cell_object"]
        assert {s.name: s.nseg for s in ct.tree.sections} == \
            {s: d["nseg"] for s, d in cell["sections"].items()}


@pytest.mark.parametrize("name", META["configs"])
def test_written_cells_read_back_unchanged(name):
    net = built(name)
    buf = io.StringIO()
    hnn.write_network_configuration(net, buf)
    assert worst_difference(hnn.dict_to_network(json.load(buf)), net) == 0.0


def _same(a, b, where=""):
    """``a`` and ``b`` equal as JSON, numbers to 1e-12 (hnn-core's end points
    carry round-off that depends on how a cell was built)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert list(a) == list(b), where
        for key in a:
            _same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        assert abs(a - b) <= 1e-12 * max(1.0, abs(b)), (where, a, b)
    else:
        assert a == b, (where, a, b)


def test_default_cells_are_written_as_hnn_core_writes_them():
    data = hnn.neymotin_2020_model(mesh_shape=(1, 1)).to_dict()["cell_types"]
    theirs = hnn_core_file("calcium")["cell_types"]  # calcium_model changes only L5_pyramidal
    for name in ("L2_basket", "L2_pyramidal", "L5_basket"):
        _same(data[name], theirs[name], name)
    assert not any(ct.edited for ct in hnn.dict_to_network(
        hnn.neymotin_2020_model(mesh_shape=(1, 1)).to_dict()).cell_types.values())
    ours = hnn.calcium_model(mesh_shape=(1, 1)).to_dict()["cell_types"]["L5_pyramidal"]
    _same(ours["cell_object"]["synapses"], theirs["L5_pyramidal"]["cell_object"]["synapses"])
    for sec, desc in ours["cell_object"]["sections"].items():  # geometry and conductances
        ref = theirs["L5_pyramidal"]["cell_object"]["sections"][sec]
        _same({k: desc[k] for k in ("L", "diam", "cm", "Ra", "nseg", "v0", "end_pts")},
              {k: ref[k] for k in ("L", "diam", "cm", "Ra", "nseg", "v0", "end_pts")}, sec)

        def per_segment(v):  # a number or [segment x, values]
            return np.broadcast_to(v[1] if isinstance(v, list) else v, desc["nseg"])

        for mech, params in desc["mechs"].items():
            for param, value in params.items():
                theirs_value = ref["mechs"][mech][param]
                assert np.allclose(per_segment(value), per_segment(theirs_value), rtol=1e-12, atol=0), \
                    (sec, param)


def test_modified_length_keeps_nseg_in_the_file():
    """hnnjax writes and reads ``nseg``; hnn-core 0.6.1's reader recomputes it
    from L (the edited apical_1, 800 µm, would get 17 segments instead of
    its 13), so such a file simulates differently once hnn-core reads it."""
    data = hnn_core_file("edits")["cell_types"]["L5_pyramidal"]["cell_object"]["sections"]["apical_1"]
    assert (data["L"], data["nseg"]) == (800.0, 13)
    net = hnn.dict_to_network(hnn_core_file("edits"))
    assert net.cell_types["L5_pyramidal"]["cell_object"].sections["apical_1"].nseg == 13


def _edited(edit):
    data = copy.deepcopy(hnn_core_file("law"))
    edit(data["cell_types"]["L5_pyramidal"]["cell_object"])
    return data


@pytest.mark.parametrize("edit, error, match", [
    (lambda c: c["sections"]["soma"]["syns"].append("ampa"), ValueError,
     "sites, tree or location groups differ from hnn-core's L5_pyramidal"),
    (lambda c: c["sections"].pop("apical_2"), ValueError, "sections, synapse sites"),
    (lambda c: c["sections"]["soma"]["mechs"].update(na3={"gbar_na3": 1.0}), ValueError,
     r"\['na3'\] that hnnjax's L5_pyramidal lacks"),
    (lambda c: c["sections"]["soma"]["mechs"]["km"].pop("gbar_km"), ValueError,
     r"\['mechs'\]\['km'\]\['gbar_km'\] is missing"),
    (lambda c: c["sections"]["apical_1"]["mechs"]["ar"].update(gbar_ar=[[0.5], [1e-6]]), ValueError,
     "for the section's 13 segments"),
    (lambda c: c["sections"]["soma"]["mechs"]["hh2"].update(gkbar_hh2=-0.1), ValueError,
     r"\['gkbar_hh2'\] must be a finite number >= 0 S/cm²"),
    (lambda c: c["sections"]["soma"].update(nseg=0), ValueError, r"\['nseg'\] must be an integer >= 1"),
    (lambda c: c["sections"]["soma"]["mechs"]["cad"].update(taur_cad=50.0), NotImplementedError,
     "taur_cad must be 20 ms"),
    (lambda c: c["synapses"]["gabab"].update(tau1=0.0), ValueError, r"\['tau1'\] must be"),
])
def test_cells_hnnjax_cannot_simulate_are_refused_by_name(edit, error, match):
    with pytest.raises(error, match=match):
        hnn.dict_to_network(_edited(edit))


def test_files_of_the_older_layout_read_the_same():
    """hnn-core's files before cell metadata held each cell directly under
    its name (its reader takes both layouts)."""
    data = hnn_core_file("law")
    data["cell_types"] = {name: entry["cell_object"] for name, entry in data["cell_types"].items()}
    assert worst_difference(hnn.dict_to_network(data), built("law")) <= 1e-13
