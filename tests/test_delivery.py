"""Network event delivery: a step with more connection chunks due than the
scatter holds is detected and only the trials that overflowed are rerun with
more room, giving the same result; drive events are prepared in bulk."""
import dataclasses
import functools

import jax
import numpy as np
import pytest

import hnnjax as hnn
from hnnjax.network.compile import compile_network, delivery_step, drive_events
from hnnjax.network import simulate
from hnnjax.network.grid import run
from hnnjax.network.simulate import _run_trials, instantiate_drives, run_batch

TSTOP, DT = 60.0, 0.025


def _setup(n_trials=2):
    net = hnn.jones_2009_model(mesh_shape=(3, 3))
    hnn.add_erp_drives_to_jones_model(net)
    arrays, drive_tab, _, _, n_steps = compile_network(net, TSTOP, DT, np.float64)
    spikes = instantiate_drives(net, TSTOP, n_trials)
    return net, arrays, drive_tab, spikes, n_steps


def test_small_capacity_overflows_and_the_retry_is_exact(monkeypatch):
    net, arrays, drive_tab, spikes, n_steps = _setup()
    events = drive_events(drive_tab, spikes, DT, n_steps, np.float64)
    tiny = dataclasses.replace(arrays, capacity=1)
    spk, _, _, overflow = _run_trials(tiny, events, n_steps, DT)  # spikes packed 8 cells to a byte
    assert np.unpackbits(np.asarray(spk)).sum() > 20  # the network spikes, so chunks are due
    assert np.all(np.asarray(overflow))  # one chunk per step is too few
    (ref_spikes, ref_dip, _), room = run_batch(arrays, events, n_steps, DT)
    assert room.capacity == arrays.capacity
    (got_spikes, got_dip, _), room = run_batch(tiny, events, n_steps, DT)
    assert room.capacity > 1  # the room that sufficed is returned
    np.testing.assert_array_equal(got_spikes, ref_spikes)
    np.testing.assert_array_equal(got_dip, ref_dip)


def test_only_the_trials_that_overflowed_are_rerun(monkeypatch):
    """Trial 1 has no drive (its network stays silent); with room for one
    chunk only trial 0 overflows, and only trial 0 is run again."""
    net, arrays, drive_tab, spikes, n_steps = _setup()
    spikes[1] = {gid: t[:0] for gid, t in spikes[1].items()}
    events = drive_events(drive_tab, spikes, DT, n_steps, np.float64)
    calls = []
    real = simulate._run_padded
    monkeypatch.setattr(simulate, "_run_padded",
                        lambda a, ev, *r: calls.append(ev.ptr.shape[0]) or real(a, ev, *r))
    (spk, _, _), _ = run_batch(dataclasses.replace(arrays, capacity=1), events, n_steps, DT)
    assert np.unpackbits(spk[0]).sum() > 20 and not spk[1].any()
    assert calls[0] == 2 and all(c == 1 for c in calls[1:]) and len(calls) > 1


def _vmapped(arrays, events, n_steps, **options):
    one = functools.partial(run, **options)
    fn = jax.vmap(one, in_axes=(None, 0, None, None), axis_name=options.get("batch_axis"))
    return jax.device_get(jax.jit(lambda ev: fn(arrays, ev, n_steps, DT))(events))


def test_skipping_idle_steps_changes_no_bit():
    """Trial 1 has no drive, so its network stays silent while trial 0's
    spikes: the steps where some trial has network events due differ between
    the trials.  Skipping the scatter elsewhere (over the batch, per trial
    under vmap, and for one trial alone) gives the bits of never skipping."""
    net, arrays, drive_tab, spikes, n_steps = _setup()
    spikes[1] = {gid: t[:0] for gid, t in spikes[1].items()}
    events = drive_events(drive_tab, spikes, DT, n_steps, np.float64)
    ref = _vmapped(arrays, events, n_steps)
    assert ref[0][0].sum() > 20 and ref[0][1].sum() == 0
    packed, *rest = jax.device_get(_run_trials(arrays, events, n_steps, DT))  # spikes as bits
    runs = {"over the batch": _vmapped(arrays, events, n_steps, skip_idle=True, batch_axis="trials"),
            "per trial": _vmapped(arrays, events, n_steps, skip_idle=True),
            "_run_trials": (np.unpackbits(packed, axis=-1, count=ref[0].shape[-1]).astype(bool), *rest)}
    for name, out in runs.items():
        for a, b in zip(jax.tree_util.tree_leaves(ref), jax.tree_util.tree_leaves(out)):
            np.testing.assert_array_equal(a, b, err_msg=name)
    alone = jax.jit(lambda ev: run(arrays, ev, n_steps, DT, skip_idle=True))
    for k in range(2):
        out = jax.device_get(alone(jax.tree_util.tree_map(lambda a: a[k], events)))
        for a, b in zip(jax.tree_util.tree_leaves(ref), jax.tree_util.tree_leaves(out)):
            np.testing.assert_array_equal(a[k], b, err_msg=f"trial {k} alone")


def test_batched_runs_on_one_cpu_skip_idle_steps_with_a_conditional():
    """What ``simulate_dipole`` compiles on one CPU device branches around the
    network-event scatter (a per-trial predicate under vmap would not)."""
    net, arrays, drive_tab, spikes, n_steps = _setup()
    events = drive_events(drive_tab, spikes, DT, n_steps, np.float64)
    hlo = lambda lowered: lowered.compile().as_text()  # noqa: E731
    assert " conditional(" in hlo(_run_trials.lower(arrays, events, n_steps, DT))
    per_trial = jax.jit(lambda ev: jax.vmap(functools.partial(run, skip_idle=True),
                                            in_axes=(None, 0, None, None))(arrays, ev, n_steps, DT))
    assert " conditional(" not in hlo(per_trial.lower(events))


def test_simulate_dipole_remembers_the_room_it_needed():
    net = hnn.jones_2009_model(mesh_shape=(3, 3))
    hnn.add_erp_drives_to_jones_model(net)
    net._delivery_capacity = 1
    hnn.simulate_dipole(net, tstop=TSTOP, n_trials=1)
    assert net._delivery_capacity > 1


def test_default_capacity_does_not_overflow_here():
    net, arrays, drive_tab, spikes, n_steps = _setup()
    _, _, _, overflow = _run_trials(arrays, drive_events(drive_tab, spikes, DT, n_steps, np.float64),
                                    n_steps, DT)
    assert not np.any(np.asarray(overflow))


@pytest.mark.parametrize("n_trials", [1, 3])
def test_drive_events_are_the_per_synapse_sums_of_every_spike_and_connection(n_trials):
    """Against a direct loop over trials, connections and spikes: each
    (trial, step, synapse) appears once with the sequential sum of its
    weights; steps past the run and zero weights are dropped."""
    net, arrays, drive_tab, spikes, n_steps = _setup(n_trials)
    src, dst, w, delay = drive_tab
    ev = drive_events(drive_tab, spikes, DT, n_steps, np.float64)
    for trial, sp in enumerate(spikes):
        want = {}
        for k in range(len(src)):
            for t in sp.get(int(src[k]), []):
                step = int(delivery_step(t + delay[k], DT))
                if step < n_steps and w[k] != 0:
                    want[(step, int(dst[k]))] = want.get((step, int(dst[k])), 0.0) + w[k]
        ptr = np.asarray(ev.ptr[trial])
        got = {}
        for step in range(n_steps):
            for j in range(ptr[step], ptr[step + 1]):
                key = (step, int(ev.dst[trial, j]))
                assert key not in got  # one event per synapse and step
                got[key] = float(ev.w[trial, j])
        assert got.keys() == want.keys() and len(got) > 50
        assert all(got[k] == want[k] for k in got)  # same order of summation: same bits
        assert int(np.diff(ptr).max()) <= ev.max_per_step


def test_calls_at_once_give_the_bits_of_calls_one_after_another():
    """Trials split over calls run at the same time (threads on one CPU
    device) give the bits of the same calls run one after another.  (Batches
    of up to 4 give the same bits here; a batch of 8 may not: its sums run
    8 trials wide in 512-bit vectors.)"""
    net, arrays, drive_tab, spikes, n_steps = _setup(n_trials=5)
    events = drive_events(drive_tab, spikes, DT, n_steps, np.float64)
    (ref_spk, ref_dip, _), ref_room = simulate.run_events(arrays, events, n_steps, DT,
                                                          batch_size=1, at_once=1)
    assert ref_room.capacity == arrays.capacity
    for size, start in ((4, arrays), (2, dataclasses.replace(arrays, capacity=1))):
        (spk, dip, _), room = simulate.run_events(start, events, n_steps, DT, batch_size=size,
                                                  at_once=2)
        np.testing.assert_array_equal(spk, ref_spk)
        np.testing.assert_array_equal(dip, ref_dip)
        assert room.capacity > 1


def test_a_call_starts_with_the_room_an_earlier_call_grew_to(monkeypatch):
    net, arrays, drive_tab, spikes, n_steps = _setup(n_trials=3)
    events = drive_events(drive_tab, spikes, DT, n_steps, np.float64)
    starts, real = [], simulate.run_batch
    monkeypatch.setattr(simulate, "run_batch",
                        lambda a, *r: starts.append(a.capacity) or real(a, *r))
    _, room = simulate.run_events(dataclasses.replace(arrays, capacity=1), events, n_steps, DT,
                                  batch_size=1, at_once=1)
    assert starts[0] == 1 and starts[1:] == [room.capacity] * 2 and room.capacity > 1


def test_default_plan_keeps_every_core_busy_on_one_cpu_device(monkeypatch):
    monkeypatch.setattr(simulate._host, "usable_cores", lambda: 2)
    assert simulate._host.calls_at_once() == 2
    assert [simulate.default_batch_size(n) for n in (1, 2, 3, 8, 9, 100)] == [1, 1, 2, 2, 2, 2]


def test_connection_sources_map_to_cells_as_gid_by_gid():
    """``Layout.cell_indices`` (all sources at once) gives each cell gid's
    type offset plus its place in the type, as the gid-by-gid rule does;
    a drive's gid or one outside the network is refused."""
    from hnnjax.network.compile import Layout

    net = hnn.neymotin_2020_model(mesh_shape=(3, 3))
    hnn.add_erp_drives_to_jones_model(net)
    layout = Layout(net)
    gids = np.array([g for t in net.cell_types for g in net.gid_ranges[t]])[::-1]
    one_by_one = [layout.cell_off[net.gid_to_type(g)] + g - net.gid_ranges[net.gid_to_type(g)].start
                  for g in gids]
    assert layout.cell_indices(net, gids).tolist() == one_by_one
    drive_gid = net.gid_ranges["evprox1"].start
    for bad in ([drive_gid], [net._n_gids + 5], [-1]):
        with pytest.raises(ValueError, match="are not cells"):
            layout.cell_indices(net, bad)


def test_fixed_point_event_sums_are_exact_in_any_order():
    """Network events are summed as integers (``fixed_point_weights``): any
    subset of a target's connections, added in any order, gives the exactly
    rounded sum of the weights' fixed-point values, and cannot overflow; each
    weight is within 2**-61 of its target's total weight, and exact where it is
    a sizeable part of it."""
    from fractions import Fraction

    from hnnjax.network.compile import fixed_point_weights
    rng = np.random.default_rng(3)
    slot = rng.integers(0, 5, 400)
    w = rng.lognormal(-6, 2, 400)  # weights over ~4 decades, as distance falls off
    w[:3], slot[:3] = [1.0, 1e-16, 1e-16], 4  # a float sum of these depends on the order
    fixed, scale = fixed_point_weights(w, slot, 5)
    assert fixed.dtype == np.int64
    for t in range(5):  # every connection of a target at once fits an int64
        assert sum(int(abs(f)) for f in fixed[slot == t]) < 2**62
    exact = lambda idx: float(sum(Fraction(int(fixed[i])) for i in idx) * Fraction(scale[slot[idx[0]]]))
    for t in range(5):
        idx = np.flatnonzero(slot == t)
        for _ in range(3):
            sub = rng.permutation(idx)[:rng.integers(1, len(idx) + 1)]
            got = np.float64(np.sum(fixed[sub])) * scale[t]  # what GridDelivery does
            assert got == exact(sub)
            assert np.float64(np.sum(fixed[sub[::-1]])) * scale[t] == got
    assert (1.0 + 1e-16) + 1e-16 != (1e-16 + 1e-16) + 1.0  # the float sums differ by order
    total = np.bincount(slot, w)[slot]  # each weight within 2**-61 of its target's total
    assert np.max(np.abs(fixed * scale[slot] - w) / total) <= 2.0**-61
    big = w > 0.05 * total  # weights near their target's total are exact
    assert big.sum() > 3 and np.array_equal(fixed[big] * scale[slot[big]], w[big])


def test_network_arrays_refuse_to_build_without_64_bit_types():
    """Fixed-point sums need int64: with JAX's 64-bit types switched off after
    import, building the network says so instead of overflowing silently."""
    net = hnn.jones_2009_model(mesh_shape=(2, 2))
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.raises(RuntimeError, match="jax_enable_x64"):
            compile_network(net, 10.0, DT, np.float32)
    finally:
        jax.config.update("jax_enable_x64", True)


@pytest.mark.parametrize("capacity", [256, 8])
def test_continuous_delivery_finds_the_chunks_every_group_test_finds(capacity):
    """The differentiable model finds the local-connection chunks due in
    (t_n - dt, t_n] by bisecting each cell's groups (sorted by delay): the same
    chunks, in the same order, as testing every group's arrival time, with
    each chunk's (cell, slot) the spike that reached it and the count due."""
    from hnnjax.grad import model
    from hnnjax.grad.delivery import ContinuousDelivery

    net = hnn.jones_2009_model(mesh_shape=(3, 3))
    gn = dataclasses.replace(model.build(net, TSTOP)[0], capacity=capacity)
    cell_g0 = np.asarray(gn.cell_g0)
    g_src = np.repeat(np.arange(len(cell_g0) - 1), np.diff(cell_g0))
    g_delay = np.asarray(gn.g_delay)
    chunk_group = np.asarray(gn.chunk_group)[:-1]
    delivery = ContinuousDelivery(gn, None, None, None, None, None, dt=DT)
    rng = np.random.default_rng(0)
    n_cells, totals = len(cell_g0) - 1, []
    for t_n in (5.0, 12.3, 20.0):
        # spikes 0.5-9 ms apart; some slots empty
        t_spike = t_n - rng.uniform(0.0, 3.0, (n_cells, 1)) - np.cumsum(
            rng.uniform(0.5, 9.0, (n_cells, gn.spike_slots)), axis=1) + 0.5
        t_spike[rng.random(t_spike.shape) < 0.3] = -np.inf
        # most cells' newest spike reaches one of its groups (and those at the same delay) now
        aimed = np.flatnonzero((np.diff(cell_g0) > 0) & (rng.random(n_cells) < 0.7))
        group = cell_g0[aimed] + rng.integers(0, np.diff(cell_g0)[aimed])
        t_spike[aimed, 0] = t_n - g_delay[group] - rng.uniform(0.05, 0.95, len(aimed)) * DT
        # and in some, two spikes at once: the older reaching the longer delays, in slot 0
        first, last = cell_g0[aimed], cell_g0[aimed + 1] - 1
        two = aimed[(g_delay[last] - g_delay[first] > 2 * DT) & (rng.random(len(aimed)) < 0.5)]
        t_spike[two, 0] = t_n - g_delay[cell_g0[two + 1] - 1] - 0.5 * DT
        t_spike[two, 1] = t_n - g_delay[cell_g0[two]] - 0.5 * DT
        arr = t_spike[g_src] + g_delay[:, None]
        hits = (arr > t_n - DT) & (arr <= t_n)
        assert hits.sum(axis=1).max() <= 1
        due = np.flatnonzero(hits.any(axis=1)[chunk_group])
        c0, count = jax.jit(lambda ts, t: delivery._arriving(ts, t))(t_spike, t_n)
        c, src, total = jax.jit(lambda a, b: delivery._first_chunks(a, b))(c0, count)
        assert int(total) == len(due)
        np.testing.assert_array_equal(np.asarray(c[:len(due)]), due[:capacity])
        assert np.all(np.asarray(c[len(due):]) == len(chunk_group))  # the padding chunk
        cell, slot = np.divmod(np.asarray(src[:len(due)]), gn.spike_slots)
        np.testing.assert_array_equal(g_src[chunk_group[due[:capacity]]], cell[:capacity])
        assert np.all(hits[chunk_group[due[:capacity]], slot[:capacity]])
        totals.append(len(due))
    assert min(totals) > 8  # many chunks are due, more than the small capacity
    assert len(two) > 3


@pytest.mark.parametrize("size", [128, 5])
def test_gpu_compaction_kernel_lists_the_due_chunks_nonzero_lists(size):
    """The GPU's listing of due chunks (one Pallas kernel, here in interpret
    mode) gives ``jnp.nonzero``'s integers: the first ``size`` chunks whose
    group fired, in order, filled with n_chunks, and how many were due, per
    trial under ``vmap``; with none, a few and more due than listed."""
    from hnnjax.network.compaction import first_due

    rng = np.random.default_rng(1)
    chunk_group = np.sort(rng.integers(0, 300, 1000)).astype(np.int32)  # neither is a power of 2
    fired = rng.random((3, 20, 15)) < np.array([0.0, 0.02, 0.3])[:, None, None]
    got = {s: jax.device_get(jax.vmap(lambda f: first_due(s, chunk_group, f, size))(fired))
           for s in ("xla", "pallas_interpret")}
    counts = fired.reshape(3, -1)[:, chunk_group].sum(axis=1)
    assert counts[0] == 0 and 5 < counts[1] < 128 < counts[2]  # none; fewer, more than 128 due
    np.testing.assert_array_equal(got["xla"][1], counts)
    for a, b in zip(got["pallas_interpret"], got["xla"]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("capacity", [1, 128])
def test_gpu_compaction_gives_the_same_bits_in_a_network_run(capacity):
    """A network run whose cells spike early: the Pallas listing of due chunks
    gives the bits and overflow flags of ``jnp.nonzero``'s, with room enough
    and with too little."""
    net = hnn.jones_2009_model(mesh_shape=(2, 2))
    w = {name: 0.02 for name in net.cell_types}
    net.add_evoked_drive("early", mu=2.0, sigma=0.5, numspikes=1, weights_ampa=w, location="proximal",
                         synaptic_delays={name: 0.1 for name in w}, event_seed=3)
    tstop = 15.0
    arrays, drive_tab, _, _, n_steps = compile_network(net, tstop, DT, np.float64, capacity=capacity)
    events = drive_events(drive_tab, instantiate_drives(net, tstop, 2), DT, n_steps, np.float64)
    outs = {}
    for strategy in ("xla", "pallas_interpret"):
        a = dataclasses.replace(arrays, compaction=strategy)
        outs[strategy] = jax.device_get(jax.jit(
            lambda ev: jax.vmap(run, in_axes=(None, 0, None, None))(a, ev, n_steps, DT))(events))
    spikes, overflow = outs["xla"][0], outs["xla"][-1]
    assert spikes.sum(axis=(1, 2)).min() > 5 and list(overflow) == [capacity == 1] * 2
    for x, y in zip(jax.tree_util.tree_leaves(outs["pallas_interpret"]), jax.tree_util.tree_leaves(outs["xla"])):
        np.testing.assert_array_equal(x, y)


def test_increments_gathered_by_the_synapses_give_the_scattered_bits():
    """The GPU program's synapses gather their target slot's due sum (a zero
    where none targets them) instead of a scatter of the slots into zeros
    (``grid.increments_for_solver``): the same bits in a network run whose
    cells spike and whose synapses get network events, float64 and float32."""
    from hnnjax.network.grid import increments_for_solver

    assert increments_for_solver("pallas") == increments_for_solver("pallas_interpret") == "gather"
    assert increments_for_solver("native") == increments_for_solver("loop") == "scatter"
    net = hnn.jones_2009_model(mesh_shape=(2, 2))
    w = {name: 0.02 for name in net.cell_types}
    net.add_evoked_drive("early", mu=2.0, sigma=0.5, numspikes=1, weights_ampa=w, location="proximal",
                         synaptic_delays={name: 0.1 for name in w}, event_seed=3)
    tstop = 15.0
    for dtype in (np.float64, np.float32):
        arrays, drive_tab, _, _, n_steps = compile_network(net, tstop, DT, dtype, record_vsec="all")
        assert arrays.increments == "scatter"
        _, n_syn = arrays.syn_offsets
        untargeted = np.asarray(arrays.syn_target) == len(arrays.target_syn)
        assert 0 < untargeted.sum() < n_syn  # synapses with and without network connections
        events = drive_events(drive_tab, instantiate_drives(net, tstop, 2), DT, n_steps, dtype)
        outs = {}
        for how in ("scatter", "gather"):
            a = dataclasses.replace(arrays, increments=how)
            outs[how] = jax.device_get(jax.jit(
                lambda ev: jax.vmap(run, in_axes=(None, 0, None, None))(a, ev, n_steps, DT))(events))
        assert outs["scatter"][0].sum(axis=(1, 2)).min() > 5
        for x, y in zip(jax.tree_util.tree_leaves(outs["gather"]), jax.tree_util.tree_leaves(outs["scatter"])):
            np.testing.assert_array_equal(x, y)
