"""One trial with its cells in two parts, each advanced by a thread of its own.

XLA's CPU runtime runs one trial's step on about one core: it hands work to a
second thread only when more than 8 operations are ready at once, which a
step never has.  So a single trial leaves the second core idle.  Every
connection of a network has a delay of at least D steps (somato and Jones:
1.0 ms, 40 steps), so a spike reaches another cell D steps later at the
earliest: two parts of the cells can each advance D steps alone and then
exchange their spikes (NEURON's minimum-delay rule between the ranks of a
parallel run).  They advance in blocks of D steps, each part starting a
block once the other has done the block before; a part has its next block
queued while one runs, so neither waits for the exchange itself
(``Exchange``, ``run_split``).

A part is a ``NetArrays`` of its cells (about half of each cell type) and the
connections into them; its ring holds every cell's spikes and is filled at
each exchange, which also schedules the connections its step would have
scheduled at the spike (``GridDelivery.exchanged``).  Both parts have the
same shapes, so one program, compiled once, advances either.  Each cell does
the same arithmetic as in the whole network and event sums are integers, so
spikes and voltages are the same bits; the dipole is summed per part, then
the parts are added: in another order, within 1e-12 of its peak in float64
(tested), ~6e-5 in float32 (the size of float32's own error,
``benchmarks/bench_split.py``).
"""
from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import CancelledError
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .._jit import jit
from .compile import cast_floats, chunked_tables, synapse_slots
from .grid import Events, GridDelivery, NetArrays
from .integrate import initial_carry, make_step
from .kernel import init_type_state, record_traces

# Fewer steps in a block than this and the exchanges would cost what the second
# core gains: each block is a call of each part (~0.1 ms to dispatch its ~190
# arrays) and a wait for the others.  Somato, one trial, 9 interleaved rounds (AMD
# EPYC family 26), the whole network's time over the parts', each part waiting for
# its block to finish: blocks of 40 steps meeting after each (lag 1) 1.256x
# float64, 1.194x float32; blocks of 20 with a lag of 2 1.287x and 1.272x; blocks
# of 13 with a lag of 3 1.250x float64 (7 rounds).
MIN_BLOCK = 20
# A part starts block b once the others have done block b - LAG (blocks of the
# shortest delay / LAG).  With each part's next block queued while one runs
# (``run_split``), blocks of the whole delay (lag 1) ran 1.073x (1.019-1.098) and
# 1.022x float64, 1.019x float32 against blocks of 20 with a lag of 2 (somato, 7-9
# interleaved rounds each); lag 3 0.955x, lag 4 0.904x.
LAG = 1
# Smaller networks gain too little or lose (``benchmarks/bench_split.py``, 170 ms,
# float64, blocks of 20 steps, lag 2): the ERP network's 10x10 mesh (270 cells)
# 1.26x, 8x8 (176) 1.15x, 6x8 (128) 0.95x, 6x6 (96) 0.97x, 4x6 (66) 0.37x; with
# the next blocks queued 1.32x, 1.22x, 1.09x, 1.08x, 0.41x.
MIN_CELLS = 150


@dataclasses.dataclass(frozen=True)
class Part:
    """One part of a network's cells: its ``NetArrays`` (device), the
    network's flat index of each of its cells (-1: an idle copy) and, per
    synapse of the network, its index in the part (-1: not in it)."""

    net: NetArrays
    cells: np.ndarray
    synapse: np.ndarray


def connections(net: NetArrays):
    """The connections of ``net``'s tables, one row each: source cell, target
    slot, fixed-point weight and delay (steps)."""
    group, start = np.asarray(net.chunk_group), np.asarray(net.chunk_start)[:-1]
    count = np.asarray(net.chunk_count)[:-1]
    chunk = np.repeat(np.arange(len(group)), count)
    j = np.repeat(start - np.cumsum(count) + count, count) + np.arange(count.sum())
    n_cells = net.group_live.shape[1]
    steps = group[chunk] // n_cells * net.block + np.asarray(net.conn_rem)[j]
    return group[chunk] % n_cells, np.asarray(net.conn_dst)[j], np.asarray(net.conn_w_fixed)[j], steps


class Exchange(NamedTuple):
    """How the parts advance: blocks of ``block`` steps, a part starting block
    b once the others have done block b - ``lag``; ``block`` x ``lag`` is at
    most the shortest delay (steps)."""

    block: int
    lag: int


def exchange_plan(net: NetArrays, n_steps, cores, min_cells=MIN_CELLS):
    """The ``Exchange`` if one trial of ``net`` should run in two parts on
    ``cores`` CPU cores, else None: it needs 2 cores, at least ``min_cells``
    cells and 2 of each type (an even count in the types with a dipole),
    nothing recorded but spikes and dipoles, and blocks of ``MIN_BLOCK``
    steps: the shortest delay (at most the delay block of ``net``'s tables,
    its pending rows) divided by ``LAG``, at most ``n_steps``."""
    types = net.types
    if cores < 2 or sum(ta.n_cells for ta in types) < min_cells or min(ta.n_cells for ta in types) < 2:
        return None
    if any(ta.n_cells % 2 and np.any(np.asarray(ta.dipole_w)) for ta in types):
        return None  # an idle copy of one of its cells would add to the dipole
    if any(ta.rec_node.size or ta.ca_node.size or ta.isec_site.size or ta.lfp_r.shape[0] for ta in types):
        return None
    reach = min(int(connections(net)[3].min(initial=net.block)), net.block)
    block = min(reach // LAG, n_steps)
    return Exchange(block, LAG) if block >= MIN_BLOCK else None


def split_network(net: NetArrays):
    """The two ``Part``s of ``net``: the first ⌈n/2⌉ cells of each type and
    the rest, each with the connections into its cells.  Their arrays have
    the same shapes, so one compiled program advances both: the second part
    has an idle copy of a cell where a type's count is odd (no input, no
    clamp, its spikes dropped; ``exchange_plan`` lets only types without a
    dipole have one), and its tables are padded with inert entries (chunks of
    no connection in a group that never fires, target slots past the
    synapses)."""
    src, slot, w_fixed, steps = connections(net)
    target_syn, target_scale = np.asarray(net.target_syn), np.asarray(net.target_scale)
    (cell_off, n_cells), (syn_off, n_syn) = net.cell_offsets, net.syn_offsets
    drafts = []
    for first in (True, False):
        types, cells, synapse, n_part_syn = [], [], np.full(n_syn, -1), 0
        for ta, c0, s0 in zip(net.types, cell_off, syn_off):
            half = -(-ta.n_cells // 2)
            sel = np.arange(half) if first else np.arange(half, ta.n_cells)
            idle = half - len(sel)

            def cell_axis(a):  # (..., n_cells): the part's cells, then zeros for the idle copy
                a = np.asarray(a)[..., sel]
                return np.concatenate([a, np.zeros(a.shape[:-1] + (idle,), a.dtype)], axis=-1)
            types.append(dataclasses.replace(ta, n_cells=half, clamp_amp=cell_axis(ta.clamp_amp),
                                             lfp_r=cell_axis(ta.lfp_r)))
            cells.append(np.concatenate([c0 + sel, np.full(idle, -1)]))
            site = np.arange(ta.n_sites)[:, None]
            synapse[s0 + site * ta.n_cells + sel] = n_part_syn + site * half + np.arange(len(sel))
            n_part_syn += ta.n_sites * half
        mine = synapse[target_syn[slot]] >= 0
        targets, first_of, new_slot = np.unique(synapse[target_syn[slot[mine]]], return_index=True,
                                                return_inverse=True)
        # one more source column than cells: nobody fires in it, the padding chunks' group
        tables = chunked_tables(src[mine], new_slot, w_fixed[mine], steps[mine], n_cells + 1, net.block,
                                net.chunk_width, net.capacity, n_blocks=net.n_blocks)
        tables.update(target_syn=targets.astype(np.int32), target_scale=target_scale[slot[mine][first_of]])
        tables.update(synapse_slots(tables, n_part_syn))
        drafts.append((types, np.concatenate(cells), synapse, tables, n_part_syn))
    size = {key: max(len(d[3][key]) for d in drafts)
            for key in ("chunk_group", "chunk_start", "conn_dst", "target_syn")}
    size["target_syn"] = max(size["target_syn"], 1)
    parts = []
    for types, cells, synapse, tables, n_part_syn in drafts:
        def pad(key, fill, like):
            tables[key] = np.append(tables[key], np.full(size[like] - len(tables[key]), fill,
                                                         tables[key].dtype))
        pad("chunk_group", n_cells, "chunk_group")  # group (q = 0, the idle column)
        for key in ("chunk_start", "chunk_count"):
            pad(key, 0, "chunk_start")
        for key in ("conn_dst", "conn_rem", "conn_w_fixed"):
            pad(key, 0, "conn_dst")
        n_pad = size["target_syn"] - len(tables["target_syn"])
        tables["target_syn"] = np.append(tables["target_syn"], n_part_syn + np.arange(n_pad)).astype(np.int32)
        pad("target_scale", 1.0, "target_syn")
        part = NetArrays(types=tuple(types), **tables, threshold=net.threshold, compaction=net.compaction,
                         increments=net.increments, dipole_layers=net.dipole_layers)
        parts.append(Part(cast_floats(part, net.types[0].inv_r.dtype), cells, synapse))
    return tuple(parts)


def part_events(events: Events, part: Part):
    """A trial's drive events (host ``Events``, no trial axis) at the synapses
    of ``part``, in its indices; same sizes as ``events``."""
    ptr, dst, w = (np.asarray(a) for a in (events.ptr, events.dst, events.w))
    n = int(ptr[-1])
    mapped = part.synapse[dst[:n]]
    mine = mapped >= 0
    step = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    new_ptr = np.zeros_like(ptr)
    np.cumsum(np.bincount(step[mine], minlength=len(ptr) - 1), out=new_ptr[1:])
    new_dst, new_w = np.full_like(dst, -1), np.zeros_like(w)
    new_dst[:mine.sum()], new_w[:mine.sum()] = mapped[mine], w[:n][mine]
    return Events(ptr=new_ptr, dst=new_dst, w=new_w, max_per_step=events.max_per_step)


@jit
def _initial_carry(net):
    return initial_carry(net.types, GridDelivery(net, None), net.threshold)


@jit(static_argnums=(7, 8), donate_argnums=(2,))
def _advance(net, events, carry, n0, spikes, starts, columns, block, dt):
    """One part's ``block`` steps from step ``n0``, after the exchange of each
    part's ``spikes`` (block, cells) of the block from ``starts`` (at its
    ``columns``)."""
    delivery = GridDelivery(net, events, skip_idle=True, exchanged=True)
    dcarry, overflow = carry["delivery"], carry["overflow"]
    for sp, start, col in zip(spikes, starts, columns):
        dcarry, more = delivery.exchange(dcarry, start, sp, col)
        overflow = overflow | more
    carry = dict(carry, delivery=dcarry, overflow=overflow)
    step = make_step(net.types, delivery, net.threshold, net.dipole_layers, dt)
    carry, (sp, dip, _) = lax.scan(step, carry, n0 + jnp.arange(block))
    return carry, sp, dip


def run_split(parts, events: Events, n_steps, dt, plan: Exchange, stop=None):
    """One trial (host ``Events``, no trial axis) with its ``parts`` advanced
    by threads of their own in blocks, as ``plan`` says (``exchange_plan``).
    A part counts a block as done once it has called it and its block before
    has finished: the other part's call of a later block takes that block's
    spikes as the runtime computes them, so each part has its next call
    queued while one runs (somato, one trial: 1.06-1.09x in float64, 1.02x
    in float32, against waiting for each block; interleaved, AMD EPYC
    family 26).  Returns its spikes (n_steps,
    n_cells) bool, raw dipoles (n_steps, 2) fA·m and whether a part ran out
    of delivery room.  ``stop`` (a ``threading.Event``), once set, stops the
    parts at their next block and raises ``CancelledError`` (Ctrl-C in the
    thread that waits for this one's result)."""
    block, lag = plan
    n_blocks = -(-n_steps // block)
    n_cells = parts[0].net.group_live.shape[1] - 1
    columns = tuple(jax.device_put(np.where(p.cells >= 0, p.cells, n_cells + 1)) for p in parts)
    evs = [jax.device_put(part_events(events, p)) for p in parts]
    none = [jnp.zeros((block, len(p.cells)), bool) for p in parts]  # the blocks before step 0
    spikes, dips = [[] for _ in parts], [[] for _ in parts]
    last = [None] * len(parts)
    done, turn = [0] * len(parts), threading.Condition()
    compiled, halt = threading.Event(), threading.Event()
    stop = stop or halt
    errors = []

    def advance(k):
        try:
            if k:  # the first part compiles the program, the others then find it compiled
                compiled.wait()
            carry = _initial_carry(parts[k].net)
            for b in range(n_blocks):
                with turn:
                    turn.wait_for(lambda: halt.is_set() or stop.is_set() or all(
                        done[j] > b - lag for j in range(len(parts)) if j != k))
                if halt.is_set() or stop.is_set():
                    return
                seen = [b - 1 if j == k else b - lag for j in range(len(parts))]
                before = tuple(spikes[j][i] if i >= 0 else none[j] for j, i in enumerate(seen))
                carry, sp, dip = _advance(parts[k].net, evs[k], carry, b * block, before,
                                          tuple(i * block for i in seen), columns, block, float(dt))
                compiled.set()
                spikes[k].append(sp)
                dips[k].append(dip)
                if b:  # one block in flight: the runtime waits for the other part's spikes itself
                    jax.block_until_ready(spikes[k][b - 1])
                with turn:
                    done[k] += 1
                    turn.notify_all()
            last[k] = carry["overflow"]
        except BaseException as err:  # noqa: B036 - handed to the caller's thread
            errors.append(err)
            halt.set()
        finally:  # a part that waits sees this one's end
            compiled.set()
            with turn:
                turn.notify_all()

    threads = [threading.Thread(target=advance, args=(k,), name=f"hnnjax-part{k}", daemon=True)
               for k in range(len(parts))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:  # on Ctrl-C the parts stop at their next block
        halt.set()
        compiled.set()
        with turn:
            turn.notify_all()
    if errors:
        raise errors[0]
    if any(len(d) < n_blocks for d in dips):
        raise CancelledError("the trial's parts were stopped")
    out = np.zeros((n_steps, n_cells), bool)
    for p, sp in zip(parts, spikes):
        real = p.cells >= 0
        out[:, p.cells[real]] = np.concatenate([np.asarray(s) for s in sp])[:n_steps, real]
    dip = sum(np.concatenate([np.asarray(d) for d in ds])[:n_steps] for ds in dips)
    return out, dip, bool(np.any([np.asarray(o) for o in last]))


def run_trial(net: NetArrays, events: Events, n_steps, dt, plan: Exchange, stop=None):
    """``simulate.run_batch`` for one trial (``events`` with a trial axis of
    1) run in two parts as ``plan`` says (``exchange_plan``):
    (packed spikes, raw dipoles, traces) with a trial axis, and ``net`` with
    the delivery room that sufficed (doubled and rerun while a part ran out).
    ``stop``: as in ``run_split``."""
    one = jax.tree_util.tree_map(lambda a: np.asarray(a)[0], events)
    while True:
        spikes, dip, overflow = run_split(split_network(net), one, n_steps, dt, plan, stop)
        if not overflow:
            break
        net = dataclasses.replace(net, capacity=2 * net.capacity)

    def no_traces(ta):  # nothing is recorded where parts run: run_batch's empty traces
        shapes = jax.eval_shape(lambda: record_traces(ta, init_type_state(ta)))
        return jax.tree_util.tree_map(lambda a: np.zeros((1, n_steps + 1) + a.shape, a.dtype), shapes)

    traces = tuple(no_traces(ta) for ta in net.types)
    return (np.packbits(spikes, axis=-1)[None], dip[None], traces), net
