"""Isolated cells vs hnn-core 0.6.1 + NEURON 8.2.7 (tests/fixtures/cells.npz).

Each case of the fixture (current steps and single synaptic events; see
tools/make_reference.py) is re-simulated in float64 with the same API calls,
and compared trace by trace.
"""
import json
from pathlib import Path

import numpy as np
import pytest

import hnnjax as hnn

FIX = np.load(Path(__file__).parent / "fixtures" / "cells.npz")
META = json.loads(str(FIX["meta"]))
CASES = META["cases"]
STEP = META["record_step"]


def simulate_case(case, dtype="float64"):
    net = hnn.jones_2009_model(mesh_shape=(1, 1))
    net.clear_connectivity()
    kw = dict(case["kwargs"])
    if case["method"] == "add_tonic_bias":
        net.add_tonic_bias(**kw)
    else:
        net.add_spike_train_drive(kw.pop("name"), **kw)
    dpls = hnn.simulate_dipole(net, tstop=META["tstop"], dt=META["dt"], n_trials=1,
                               record_vsec="all", record_ca="all", dtype=dtype)
    return net, dpls[0]


def case_errors(i, dtype="float64"):
    """Per-case worst errors against NEURON."""
    case = CASES[i]
    net, dpl = simulate_case(case, dtype)
    cr = net.cell_response
    out = {"v_rms": 0.0, "v_rms_pre": 0.0, "ca_rel": 0.0, "dpl_rel": 0.0, "spike_dt": 0.0}
    sel = FIX["spike_case"] == i
    ref_spikes = sorted(zip(FIX["spike_gids"][sel].tolist(), FIX["spike_times"][sel].tolist()))
    mine = sorted((g, t) for g, t in zip(cr.spike_gids[0], cr.spike_times[0])
                  if g in range(4))
    out["n_spikes"] = (len(ref_spikes), len(mine))
    if len(ref_spikes) == len(mine) and mine:
        assert [g for g, _ in mine] == [g for g, _ in ref_spikes]
        out["spike_dt"] = max(abs(a[1] - b[1]) for a, b in zip(mine, ref_spikes))
    first_spike = min([t for _, t in ref_spikes], default=np.inf)
    pre = FIX["times"] < first_spike
    for row, (gid, sec) in enumerate(zip(FIX["vsec_gid"], FIX["vsec_section"])):
        d = cr.vsec[0][int(gid)][str(sec)][::STEP] - FIX["vsec"][i, row]
        out["v_rms"] = max(out["v_rms"], float(np.sqrt(np.mean(d ** 2))))
        if pre.any():
            out["v_rms_pre"] = max(out["v_rms_pre"], float(np.sqrt(np.mean(d[pre] ** 2))))
    l5 = net.gid_ranges["L5_pyramidal"][0]
    for row, sec in enumerate(FIX["cai_section"]):
        ref = FIX["cai"][i, row]
        d = cr.ca[0][l5][str(sec)][::STEP] - ref
        out["ca_rel"] = max(out["ca_rel"], float(np.sqrt(np.mean(d ** 2)) / np.sqrt(np.mean(ref ** 2))))
    for k, layer in enumerate(("agg", "L2", "L5")):
        ref = FIX["dipole"][i, k]
        d = dpl.data[layer][::STEP] - ref
        out["dpl_rel"] = max(out["dpl_rel"], float(np.sqrt(np.mean(d ** 2)) / np.sqrt(np.mean(ref ** 2))))
    return out


@pytest.fixture(scope="module")
def errors():
    return {i: case_errors(i) for i in range(len(CASES))}


@pytest.mark.parametrize("i", range(len(CASES)), ids=[
    f"{c['kind']}-{c['amplitude'] if c['kind'] == 'step' else c['receptor'] + '-' + c['location'] + '-' + str(c['weight'])}"
    for c in CASES])
def test_case_matches_neuron(errors, i):
    e = errors[i]
    assert e["n_spikes"][0] == e["n_spikes"][1], e
    assert e["spike_dt"] <= 0.1, e  # ms
    assert e["v_rms"] <= 1.0 and e["v_rms_pre"] <= 1.0, e  # mV
    assert e["ca_rel"] <= 0.02, e
    assert e["dpl_rel"] <= 0.01, e


def test_cases_cover_spiking_and_subthreshold():
    """The fixture must exercise both regimes, or the comparison proves little."""
    counts = np.bincount(FIX["spike_case"], minlength=len(CASES))
    assert (counts > 0).sum() >= 8 and (counts == 0).sum() >= 2
