"""Cells edited as hnn-core scripts edit them, vs hnn-core 0.6.1 + NEURON 8.2.7
(tests/fixtures/cells_edited.npz, ``tools/make_reference.py --cell-edits``).

Two variants of the isolated cells: the default cells changed by
``Cell.modify_section``, mechanism parameters and a receptor ('edits'), and
pyramidal cells built with ``override_params`` put into the network
('override').  Each is driven by a current step and a synaptic event, and
simulated by the same API calls in both libraries.
"""
import functools
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import hnnjax as hnn
from hnnjax import cells_default

sys.path.insert(0, str(Path(__file__).parents[1] / "tools"))
from make_reference import apply_cell_edits  # noqa: E402  (the calls the fixture's tool made)

FIX = np.load(Path(__file__).parent / "fixtures" / "cells_edited.npz")
META = json.loads(str(FIX["meta"]))
STEP = META["record_step"]


def simulate(case, edits):
    net = hnn.neymotin_2020_model(mesh_shape=(1, 1))
    net.clear_connectivity()
    apply_cell_edits(net, edits, cells_default)
    kw = dict(case["kwargs"])
    if case["method"] == "add_tonic_bias":
        net.add_tonic_bias(**kw)
    else:
        net.add_spike_train_drive(kw.pop("name"), **kw)
    dpl = hnn.simulate_dipole(net, tstop=META["tstop"], dt=META["dt"], n_trials=1,
                              record_vsec="all", progress=False, verbose=False)[0]
    return net, dpl


@functools.lru_cache(maxsize=None)
def errors(k):
    """Worst differences from NEURON of fixture run ``k`` (variant, case)."""
    case = META["cases"][k]
    v, c = divmod(k, 2)
    net, dpl = simulate(case, META["edits"][case["variant"]])
    cr = net.cell_response
    sel = (FIX["spike_variant"] == v) & (FIX["spike_case"] == c)
    ref = sorted((g, t) for g, t in zip(FIX["spike_gids"][sel].tolist(),
                                        FIX["spike_times"][sel].tolist()) if g < 4)  # cells, not drives
    mine = sorted((g, t) for g, t in zip(cr.spike_gids[0], cr.spike_times[0]) if g < 4)
    out = {"spikes": (len(ref), len(mine)), "spike_dt": 0.0, "v_rms": 0.0, "dpl_rel": 0.0}
    if len(ref) == len(mine) and mine:
        assert [g for g, _ in mine] == [g for g, _ in ref]
        out["spike_dt"] = max(abs(a[1] - b[1]) for a, b in zip(mine, ref))
    for row, (gid, sec) in enumerate(zip(FIX["vsec_gid"], FIX["vsec_section"])):
        d = cr.vsec[0][int(gid)][str(sec)][::STEP] - FIX["vsec"][v, c, row]
        out["v_rms"] = max(out["v_rms"], float(np.sqrt(np.mean(d ** 2))))
    for i, layer in enumerate(("agg", "L2", "L5")):
        r = FIX["dipole"][v, c, i]
        d = dpl.data[layer] - r
        out["dpl_rel"] = max(out["dpl_rel"], float(np.sqrt(np.mean(d ** 2) / np.mean(r ** 2))))
    return out


@pytest.mark.parametrize("k", range(len(META["cases"])),
                         ids=[f"{c['variant']}-{c['method']}" for c in META["cases"]])
def test_edited_cells_match_neuron(k):
    """Measured on 2026-12-07 (AMD EPYC host), worst of the four runs:
    spikes within 1.05e-10 ms of NEURON's, voltages within 5.1e-6 mV RMS,
    dipoles within 2.9e-7 relative RMS.  The bounds are the unedited
    cells' (tests/test_cells_reference.py)."""
    e = errors(k)
    assert e["spikes"][0] == e["spikes"][1], e
    assert e["spike_dt"] <= 1e-6, e  # ms
    assert e["v_rms"] <= 1e-3, e  # mV
    assert e["dpl_rel"] <= 2e-5, e


def test_the_edits_change_every_cell():
    """Without the edits, every cell a variant edits has voltages far from
    NEURON's, beyond the bound above (an edit that did nothing would pass
    the comparison unnoticed otherwise); both variants spike."""
    for k, case in enumerate(META["cases"]):
        if case["method"] != "add_tonic_bias":
            continue
        v, edits = k // 2, META["edits"][case["variant"]]
        net, _ = simulate(case, [])
        for cell_type in {c for _, c, _ in edits}:
            gid = net.gid_ranges[cell_type][0]
            rows = np.flatnonzero(FIX["vsec_gid"] == gid)
            d = max(np.abs(net.cell_response.vsec[0][gid][str(FIX["vsec_section"][r])][::STEP]
                           - FIX["vsec"][v, k % 2, r]).max() for r in rows)
            assert d > 0.1, (case["variant"], cell_type, d)  # mV
    assert set(FIX["spike_variant"].tolist()) == {0, 1}


def test_modify_section_keeps_nseg_and_sets_v0():
    net = hnn.neymotin_2020_model(mesh_shape=(1, 1))
    ct = net.cell_types["L5_pyramidal"]
    cell = ct["cell_object"]
    section = cell.sections["apical_1"]  # a live view
    assert (section.L, section.nseg, section.v0) == (680.0, 13, -71.32)
    cell.modify_section("apical_1", L=1000.0, v0=-60.0)
    assert (section.L, section.nseg, section.v0) == (1000.0, 13, -60.0)  # 19 for a new 1000 µm section
    assert ct.edited and not net.cell_types["L2_pyramidal"].edited
    own = ct.tree.section_index == ct.section_names.index("apical_1")
    assert np.all(ct.v_init[own] == -60.0) and np.all(ct.v_init[~own] != -60.0)
    with pytest.raises(ValueError, match="sec_name must be one of 'soma'"):
        cell.modify_section("apical3", L=10.0)
    with pytest.raises(ValueError, match="diam must be a finite number > 0 µm"):
        cell.modify_section("soma", diam=0)
    with pytest.raises(TypeError, match="Ra must be"):
        cell.modify_section("soma", Ra="200")
    with pytest.raises(AttributeError):
        section.L = 5.0  # read-only, as in hnn-core: modify_section changes it


def test_mechanism_parameters():
    net = hnn.neymotin_2020_model(mesh_shape=(1, 1))
    cell = net.cell_types["L5_pyramidal"]["cell_object"]
    hh2 = cell.sections["soma"].mechs["hh2"]
    assert dict(hh2) == {"gkbar_hh2": 0.01, "gnabar_hh2": 0.16, "gl_hh2": 4.26e-5, "el_hh2": -65.0}
    hh2["gkbar_hh2"] = 0.02
    assert cell.sections["soma"].mechs["hh2"]["gkbar_hh2"] == 0.02
    xs, ar = cell.sections["apical_1"].mechs["ar"]["gbar_ar"]  # by distance: hnn-core's lists
    assert len(xs) == 13 and ar[0] < ar[-1] and xs[6] == 0.5
    ca = cell.sections["apical_1"].mechs["ca"]
    ca["gbar_ca"] = lambda d: 50.0 + d / 100.0  # evaluated at each segment's path distance
    d = net.cell_types["L5_pyramidal"].tree.path_distance[
        net.cell_types["L5_pyramidal"].tree.nodes_of("apical_1")]
    assert np.allclose(ca["gbar_ca"][1], 50.0 + d / 100.0, rtol=0, atol=1e-12)
    ca["gbar_ca"] = [xs, list(range(13))]  # hnn-core's per-segment form
    assert ca["gbar_ca"][1] == list(map(float, range(13)))
    with pytest.raises(ValueError, match=r"\[segment x, values\] for the section's 13 segments"):
        ca["gbar_ca"] = [xs[:3], [1.0, 2.0, 3.0]]
    with pytest.raises(ValueError, match=r"mechs\['ca'\]\['gbar_ca'\] must be a finite number >= 0"):
        ca["gbar_ca"] = -1.0
    with pytest.raises(ValueError, match=r"mechs\['ca'\]\['gbar_ca'\] must be a finite number"):
        ca["gbar_ca"] = lambda d: float("nan")
    with pytest.raises(ValueError, match="parameter must be one of 'gbar_ca'"):
        ca["gkbar_hh2"] = 1.0
    with pytest.raises(NotImplementedError, match="taur 20 ms on every section"):
        cell.sections["soma"].mechs["cad"]["taur_cad"] = 30.0
    del cell.sections["soma"].mechs["ca"]
    assert "ca" not in cell.sections["soma"].mechs
    cell.sections["soma"].mechs["ca"] = {"gbar_ca": 10.0}  # back, with a new value
    assert cell.sections["soma"].mechs["ca"]["gbar_ca"] == 10.0
    with pytest.raises(NotImplementedError, match="fixed mechanisms"):
        net.cell_types["L2_pyramidal"]["cell_object"].sections["soma"].mechs["ca"] = {"gbar_ca": 1.0}


def test_override_params():
    cell = cells_default.pyramidal("L5_pyramidal", override_params={"L5Pyr_apicaltuft_L": 500.0,
                                                                    "L5Pyr_dend_cm": 0.9})
    assert (cell.sections["apical_tuft"].L, cell.sections["apical_tuft"].nseg) == (500.0, 11)  # new nseg
    assert cell.sections["basal_3"].cm == 0.9 and cell.sections["soma"].cm == 0.85 and cell.edited
    soma_km = cells_default.pyramidal("L5_pyramidal", override_params={"L5Pyr_soma_gbar_km": lambda d: 150.0})
    assert soma_km.sections["soma"].mechs["km"]["gbar_km"] == 150.0  # hnn-core evaluates it on the soma too
    assert not cells_default.pyramidal("L2_pyramidal", override_params={"L2Pyr_soma_L": 22.1}).edited
    for override, error, match in (
            ({"L5Pyr_soma_Lx": 3.0}, ValueError, r"'L5Pyr_soma_Lx' is not a parameter .*'L5Pyr_soma_L'"),
            ({"L5Pyr_soma_L": 0.0}, ValueError, r"override_params\['L5Pyr_soma_L'\] must be .* > 0 µm"),
            ({"L5Pyr_soma_gbar_km": lambda d: -1.0}, ValueError,
             r"\['L5Pyr_soma_gbar_km'\] must be a finite number >= 0 pS/µm²; got -1.0 \(at 19.5 µm"),
            ({"L5Pyr_soma_gbar_km": "200"}, TypeError, r"\['L5Pyr_soma_gbar_km'\] must be a finite"),
            ({"L5Pyr_dend_taur_cad": 10.0}, NotImplementedError, "taur 20 ms"),
            ({"L5Pyr_dend_gbar_ca": lambda d: 60.0 - d / 10.0}, ValueError,
             r"override_params\['L5Pyr_dend_gbar_ca'\] must be .* >= 0 .*\(at 6\d\d.* µm from the soma\)"),
            ([("L5Pyr_soma_L", 3.0)], TypeError, "override_params must be a dict")):
        with pytest.raises(error, match=match):
            cells_default.pyramidal("L5_pyramidal", override_params=override)
    with pytest.warns(UserWarning, match="'L5Pyr_dend_gbar_ar'.* no effect"):
        cells_default.pyramidal("L5_pyramidal", override_params={"L5Pyr_dend_gbar_ar": 2e-6})
    with pytest.warns(UserWarning, match=r"\['L5Pyr_soma_gkbar_hh2'\] have no effect"):
        cells_default.pyramidal_ca("L5_pyramidal", override_params={"L5Pyr_soma_gkbar_hh2": 0.1})
    net = hnn.neymotin_2020_model(mesh_shape=(1, 1))
    with pytest.raises(ValueError, match="a L2_pyramidal cell cannot stand for L5_pyramidal"):
        net.cell_types["L5_pyramidal"]["cell_object"] = cells_default.pyramidal("L2_pyramidal")
    net.cell_types["L5_pyramidal"]["cell_object"] = cell
    cell.modify_section("soma", L=10.0)  # the network holds a copy
    assert net.cell_types["L5_pyramidal"]["cell_object"].sections["soma"].L == 39.0


def test_cell_methods_of_hnn_core():
    """``cell_tree``, ``sect_loc``, ``distance_section``, ``copy`` and
    ``to_dict``; the distances are hnn-core 0.6.1's (its ``distance_section``
    on the same cell, 102 section/node pairs compared ad hoc on 2026-12-07)."""
    from hnnjax.io.cell_config import cell_type_from_dict, default_cell_dicts

    cell = cells_default.pyramidal("L5_pyramidal")
    cell.modify_section("apical_1", L=800.0)
    tree = {f"{a},{b}": sorted(f"{c},{d}" for c, d in v) for (a, b), v in cell.cell_tree.items()}
    ref = default_cell_dicts()["L5_pyramidal"]["cell_object"]
    assert tree == {k: sorted(v) for k, v in ref["cell_tree"].items()} and cell.sect_loc == ref["sect_loc"]
    assert cell.distance_section("apical_tuft", ("soma", 0)) == 1833.5  # 39 + 102 + 800 + 680 + 425 / 2
    assert cell.distance_section("apical_1", ("apical_trunk", 1)) == 400.0
    assert np.isnan(cell.distance_section("soma", ("apical_1", 0)))  # not beyond the node
    assert cells_default.basket("L2_basket").cell_tree is None
    with pytest.raises(TypeError, match="several sections"):
        cells_default.basket("L2_basket").distance_section("soma", ("soma", 0))
    with pytest.raises(ValueError, match="target_sec_name must be one of"):
        cell.distance_section("apical", ("soma", 0))
    twin = cell.copy()
    twin.modify_section("soma", L=10.0)
    assert (cell.sections["soma"].L, twin.sections["soma"].L) == (39.0, 10.0)
    data = cell.to_dict()
    assert data["sections"]["apical_1"]["L"] == 800.0 and data["sections"]["apical_1"]["nseg"] == 13
    back = cell_type_from_dict("L5_pyramidal", data)
    assert np.array_equal(back.tree.area, cell.tree.area) and back.receptors == cell.receptors


def _cell_from_dict(data, cell_class, section_class):
    """A cell built the way hnn-core's reader builds one from a file
    (``Section`` objects, then ``Cell``)."""
    sections = {}
    for name, desc in data["sections"].items():
        sections[name] = section_class(L=desc["L"], diam=desc["diam"], cm=desc["cm"], Ra=desc["Ra"],
                                       v0=desc["v0"], end_pts=desc["end_pts"])
        sections[name].syns, sections[name].mechs = desc["syns"], desc["mechs"]

    def node(text):  # 'soma,0' -> ('soma', 0)
        section, end = text.split(",")
        return section, int(end)

    tree = None if data["cell_tree"] is None else {
        node(k): [node(c) for c in v] for k, v in data["cell_tree"].items()}
    return cell_class(data["name"], tuple(data["pos"]), sections, data["synapses"], data["sect_loc"],
                      tree)


def test_cell_constructor_builds_hnnjax_cell_types():
    """hnn-core's ``Cell(name, pos, sections, ...)`` for each of the four
    cell types, from hnn-core's own file of ``override`` cells and of
    ``calcium_model``: the same cell types as hnnjax's API builds
    (tests/test_cell_config.py checks those files against NEURON-validated
    cells); a function of distance evaluated at the segments."""
    from hnnjax.cell import Cell, Section
    from test_cell_config import FIX as CONFIGS

    for config, cell_types in (("override", {"L2_pyramidal", "L5_pyramidal"}), ("calcium", {"L5_pyramidal"})):
        data = json.loads(str(CONFIGS[f"config_{config}"]))["cell_types"]
        net = hnn.dict_to_network(json.loads(str(CONFIGS[f"config_{config}"])))
        for name, entry in data.items():
            cell = _cell_from_dict(entry["cell_object"], Cell, Section)
            ct, ref = cell._ct, net.cell_types[name]
            assert ct.name == name and cell.name == entry["cell_object"]["name"]
            assert ct.edited == (name in cell_types)
            assert np.array_equal(ct.tree.area, ref.tree.area) and np.array_equal(ct.v_init, ref.v_init)
            for a, b in zip(ct.membrane_channels(), ref.membrane_channels()):
                assert all(np.array_equal(np.asarray(v), np.asarray(getattr(b, k)))
                           for k, v in vars(a).items() if k != "table")
    entry = json.loads(str(CONFIGS["config_edits"]))["cell_types"]["L5_pyramidal"]["cell_object"]
    with pytest.raises(ValueError, match=r"\['ar'\]\['gbar_ar'\] must be .* the section's 17 segments"):
        _cell_from_dict(entry, Cell, Section)  # 13 values of the modified 800 µm section (hnn-core zips them)
    entry["sections"]["apical_1"]["mechs"]["ar"]["gbar_ar"] = lambda d: 1e-6 * np.exp(0.003 * d)
    entry["sections"]["apical_1"]["mechs"]["ca"]["gbar_ca"] = lambda d: 40.0 + d / 100.0
    cell = _cell_from_dict(entry, Cell, Section)
    ct = cell._ct
    assert np.allclose(cell.sections["apical_1"].mechs["ca"]["gbar_ca"][1],
                       40.0 + ct.tree.path_distance[ct.tree.nodes_of("apical_1")] / 100.0)
    assert cell.sections["apical_1"].nseg == 17  # a new Section takes hnn-core's rule for its 800 µm
    net = hnn.neymotin_2020_model(mesh_shape=(1, 1))
    net.cell_types["L5_pyramidal"]["cell_object"] = cell  # and simulates
    hnn.simulate_dipole(net, tstop=5.0, n_trials=1, progress=False, verbose=False)
    entry["name"] = "L6Pyr"
    with pytest.raises(NotImplementedError, match="Cell name 'L6Pyr': hnnjax simulates its four"):
        _cell_from_dict(entry, Cell, Section)
    entry["name"] = "L5Pyr"
    entry["sections"]["apical_3"] = dict(entry["sections"]["apical_2"])
    with pytest.raises(ValueError, match="sections, synapse sites, tree or location groups differ"):
        _cell_from_dict(entry, Cell, Section)
    with pytest.raises(ValueError, match="L must be a finite number > 0 µm"):
        Section(L=0, diam=1.0, Ra=100.0, cm=1.0)
