"""One trial in two parts of its cells, each advanced by a thread of its own
and exchanging spikes every block (``network/split.py``): the same spikes as
the whole network, dipoles within 1e-12 of their peak (summed per part), the
overflow retry, the conditions under which ``simulate_dipole`` splits, and an
error in a part reaching the caller."""
import dataclasses
import threading
import time
from concurrent.futures import CancelledError

import jax
import numpy as np
import pytest

import hnnjax as hnn
from hnnjax.network import simulate, split
from hnnjax.network.compile import compile_network, drive_events
from hnnjax.network.simulate import instantiate_drives, run_batch

TSTOP, DT = 60.0, 0.025


def _setup(mesh=(4, 6), tstop=TSTOP, **compile_kw):
    """Jones' ERP network; on the default mesh, 24 pyramidal and 9 basket
    cells per layer (the second part has an idle copy of a basket cell)."""
    net = hnn.neymotin_2020_model(mesh_shape=mesh)
    hnn.add_erp_drives_to_jones_model(net)
    net.add_tonic_bias(cell_type="L5_pyramidal", amplitude=0.5, t0=5.0, tstop=30.0)
    arrays, drive_tab, _, _, n_steps = compile_network(net, tstop, DT, np.float64, **compile_kw)
    events = drive_events(drive_tab, instantiate_drives(net, tstop, 1), DT, n_steps, np.float64)
    return arrays, events, n_steps


def _unpack(packed, n_cells):
    return np.unpackbits(packed, axis=-1)[..., :n_cells].astype(bool)


@pytest.mark.parametrize("lag", [2, 1])
def test_parts_give_the_whole_networks_spikes_and_dipoles(lag):
    arrays, events, n_steps = _setup()
    assert split.exchange_plan(arrays, n_steps, cores=2, min_cells=0) == (40, 1)  # delays >= 40 steps
    plan = split.Exchange(40 // lag, lag)
    parts = split.split_network(arrays)
    n_cells = arrays.cell_offsets[1]
    cells = np.concatenate([p.cells for p in parts])
    assert sorted(cells[cells >= 0]) == list(range(n_cells)) and (cells < 0).sum() == 2
    # the same shapes: one compiled program serves both parts
    shapes = [jax.tree_util.tree_map(np.shape, p.net) for p in parts]
    assert jax.tree_util.tree_structure(parts[0].net) == jax.tree_util.tree_structure(parts[1].net)
    assert jax.tree_util.tree_leaves(shapes[0]) == jax.tree_util.tree_leaves(shapes[1])
    (ref_spk, ref_dip, _), _ = run_batch(arrays, events, n_steps, DT)
    (spk, dip, traces), room = split.run_trial(arrays, events, n_steps, DT, plan)
    whole, got = _unpack(ref_spk[0], n_cells), _unpack(spk[0], n_cells)
    # cells of both parts fire, also after the drives' first volley (the network's own events)
    for p in parts:
        assert got[:, p.cells].sum() > 5
    assert got[800:].sum() > 10
    np.testing.assert_array_equal(got, whole)
    assert dip.shape == ref_dip.shape
    np.testing.assert_allclose(dip, ref_dip, rtol=0, atol=1e-12 * np.abs(ref_dip).max())
    assert room.capacity == arrays.capacity
    assert [t["v"].shape for t in traces] == [(1, n_steps + 1, 0)] * len(arrays.types)


def test_a_run_whose_parts_overflow_is_rerun_with_more_room():
    arrays, events, n_steps = _setup()
    plan = split.exchange_plan(arrays, n_steps, cores=2, min_cells=0)
    (ref_spk, ref_dip, _), _ = run_batch(arrays, events, n_steps, DT)
    tiny = dataclasses.replace(arrays, capacity=16)  # the parts of this network need 32
    (spk, dip, _), room = split.run_trial(tiny, events, n_steps, DT, plan, threading.Event())
    assert room.capacity == 32
    np.testing.assert_array_equal(spk, ref_spk)
    np.testing.assert_allclose(dip, ref_dip, rtol=0, atol=1e-12 * np.abs(ref_dip).max())


def test_when_a_trial_is_split():
    arrays, _, n_steps = _setup(mesh=(10, 10), tstop=20.0)
    assert split.exchange_plan(arrays, n_steps, cores=2) == (40, 1)
    assert split.exchange_plan(arrays, n_steps, cores=1) is None
    assert split.exchange_plan(arrays, 30, cores=2) == (30, 1)  # blocks past the run's end are cut
    assert split.exchange_plan(arrays, 5, cores=2) is None  # too short to meet usefully
    short = dataclasses.replace(arrays, block=30)  # 30-step delay blocks
    assert split.exchange_plan(short, n_steps, cores=2) == (30, 1)
    assert split.exchange_plan(dataclasses.replace(arrays, block=16), n_steps, cores=2) is None
    small, _, n_small = _setup(tstop=20.0)
    assert split.exchange_plan(small, n_small, cores=2) is None  # 66 cells: too few
    assert split.exchange_plan(small, n_small, cores=2, min_cells=0) == (40, 1)
    odd, _, _ = _setup(mesh=(3, 3), tstop=20.0)  # 9 pyramidal cells: an idle one would add to the dipole
    assert split.exchange_plan(odd, n_small, cores=2, min_cells=0) is None
    recorded, _, _ = _setup(mesh=(10, 10), tstop=20.0, record_vsec="soma")
    assert split.exchange_plan(recorded, n_steps, cores=2) is None
    assert simulate.split_plan(arrays, 2, n_steps) is None  # two trials: a core each


@pytest.mark.filterwarnings("ignore:drive .* cannot fire")
def test_simulate_dipole_splits_a_lone_trial(monkeypatch):
    """A lone trial of a 10x10 network runs in parts (when the host has 2
    cores: forced here), with trial 0 of a two-trial run's spikes."""
    monkeypatch.setattr(simulate._host, "usable_cores", lambda: 2)
    net = hnn.neymotin_2020_model()
    hnn.add_erp_drives_to_jones_model(net)
    calls = []
    real = split.run_trial
    monkeypatch.setattr(split, "run_trial", lambda *a: calls.append(a[4]) or real(*a))
    kw = dict(tstop=40.0, progress=False, verbose=False)
    one = hnn.simulate_dipole(net, n_trials=1, **kw)[0]
    spikes_one = net.cell_response.spike_times[0]
    two = hnn.simulate_dipole(net, n_trials=2, **kw)[0]
    assert calls == [(40, 1)]
    assert len(spikes_one) > 20
    np.testing.assert_array_equal(spikes_one, net.cell_response.spike_times[0])
    agg = two.data["agg"]
    np.testing.assert_allclose(one.data["agg"], agg, rtol=0, atol=1e-12 * np.abs(agg).max())


def test_an_error_in_a_part_reaches_the_caller(monkeypatch):
    """Part 1 fails at step 60 (its fourth block): the error is raised in the caller's
    thread and part 0, waiting at the meeting, stops instead of hanging."""
    arrays, events, n_steps = _setup()
    parts = split.split_network(arrays)
    real = split._advance

    def failing(net, events, carry, n0, *rest):
        if net is parts[1].net and n0 == 60:
            raise RuntimeError("part 1 failed")
        return real(net, events, carry, n0, *rest)

    monkeypatch.setattr(split, "_advance", failing)
    trial = dataclasses.replace(events, ptr=events.ptr[0], dst=events.dst[0], w=events.w[0])
    with pytest.raises(RuntimeError, match="part 1 failed"):
        split.run_split(parts, trial, n_steps, DT, (20, 2))


def test_a_stopped_trial_ends_at_the_next_block():
    """What ``run_events`` does on Ctrl-C: the parts stop within a block and
    the call raises instead of returning a partial trial."""
    arrays, events, n_steps = _setup(tstop=600.0)
    trial = dataclasses.replace(events, ptr=events.ptr[0], dst=events.dst[0], w=events.w[0])
    parts = split.split_network(arrays)
    split.run_split(parts, trial, 400, DT, (20, 2))  # compiled
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    t0 = time.perf_counter()
    with pytest.raises(CancelledError):
        split.run_split(parts, trial, n_steps, DT, (20, 2), stop)
    stopped = time.perf_counter() - t0
    t0 = time.perf_counter()
    split.run_split(parts, trial, n_steps, DT, (20, 2))
    assert stopped < 0.5 * (time.perf_counter() - t0)
    assert not [t for t in threading.enumerate() if t.name.startswith("hnnjax-part")]
