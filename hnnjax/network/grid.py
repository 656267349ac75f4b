"""The NEURON-faithful model: every event acts at a grid step.

An event due at time T acts at the first step n with T <= t_n + dt/2
(NEURON's rule, spec §7.2).  Network spikes are seen again after their
delay through a ring of past spikes and a pending buffer of per-step
increments; the trial's drive events are known before the run and arrive
pre-bucketed by step (``Events``).  ``run`` integrates one trial with this
delivery; batching over trials is a ``vmap`` of it.
"""
from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp

from . import compaction
from .integrate import initial_carry, integrate, unless_idle


class NetArrays(eqx.Module):
    """The whole network: cell types, connections, recording choices."""

    types: tuple  # TypeArrays, in gid order of the cell types
    # Connections, grouped by (delay block q, source cell): group q·n_cells + c
    # holds the connections of cell c with delay in [q·block, (q+1)·block)
    # steps, stored in chunks of at most ``chunk_width`` consecutive connections.
    chunk_group: jnp.ndarray  # (n_chunks,) int, the group of each chunk
    group_live: jnp.ndarray  # (n_blocks, n_cells) bool: whether group (q, c) has a chunk
    chunk_start: jnp.ndarray  # (n_chunks + 1,) int, first connection (last: inert padding)
    chunk_count: jnp.ndarray  # (n_chunks + 1,) int, connections in the chunk
    conn_dst: jnp.ndarray  # (K,) int, target slot
    conn_rem: jnp.ndarray  # (K,) int, delay mod block (steps)
    conn_w_fixed: jnp.ndarray  # (K,) int64: µS times the target's Exp2Syn factor, times 2**S_t
    target_syn: jnp.ndarray  # (n_targets,) flat synapse index of each target slot
    syn_target: jnp.ndarray  # (n_syn,) target slot of each synapse (n_targets: none)
    syn_scale: jnp.ndarray  # (n_syn,) its slot's target_scale (1 where none)
    target_scale: jnp.ndarray  # (n_targets,) 2**-S_t (compile.fixed_point_weights)
    threshold: float = eqx.field(static=True)  # mV
    block: int = eqx.field(static=True)  # steps per delay block (rows of the pending buffer)
    n_blocks: int = eqx.field(static=True)
    chunk_width: int = eqx.field(static=True)
    capacity: int = eqx.field(static=True)  # chunks scheduled per step at most
    compaction: str = eqx.field(static=True)  # how due chunks are listed (compaction.first_due)
    increments: str = eqx.field(static=True)  # "scatter" or "gather" (increments_for_solver)
    dipole_layers: tuple = eqx.field(static=True)  # type index feeding L2, L5 (or -1)

    @property
    def syn_offsets(self):
        off, out = 0, []
        for ta in self.types:
            out.append(off)
            off += ta.n_sites * ta.n_cells
        return out, off

    @property
    def cell_offsets(self):
        off, out = 0, []
        for ta in self.types:
            out.append(off)
            off += ta.n_cells
        return out, off

    def with_channel_values(self, values):
        """The network with some membrane-channel parameters replaced:
        ``values`` maps positions among the leaves of all cell types'
        channels (``jax.tree_util.tree_leaves``, in type order) to arrays
        of their shapes (a conductance set by parameter set, say)."""
        leaves, treedef = jax.tree_util.tree_flatten(tuple(ta.channels for ta in self.types))
        channels = jax.tree_util.tree_unflatten(treedef, [values.get(i, x) for i, x in enumerate(leaves)])
        return dataclasses.replace(self, types=tuple(
            dataclasses.replace(ta, channels=ch) for ta, ch in zip(self.types, channels)))


class Events(eqx.Module):
    """One trial's drive events, one per (step, synapse), bucketed by delivery
    step (CSR layout); see ``compile.drive_events``."""

    ptr: jnp.ndarray  # (n_steps + 1,) int: events of step n are ptr[n]:ptr[n+1]
    dst: jnp.ndarray  # (E,) flat synapse index (padding: -1, never read)
    w: jnp.ndarray  # (E,) µS times the target's Exp2Syn factor, summed
    max_per_step: int = eqx.field(static=True)


def increments_for_solver(solver):
    """How the due row of pending sums reaches the synapses: ``"gather"``d
    by each synapse from its target slot (a zero where it has none) with the
    Pallas solve (a GPU program: one fusion instead of a zero fill, a
    transposed copy of the row and a scatter; -2 kernels and est. -31 MB a
    step at 1,000 float32 somato trials, ``count_gpu_kernels.py``), else
    ``"scatter"``ed into zeros (on a CPU a gather of the 6,610 synapses
    costs more than a scatter of the 1,940 slots: the forward ran 7-8 %
    slower at 2 and 4 trials).  The same bits either way: each synapse gets
    its slot's sum, or zero."""
    return "gather" if solver in ("pallas", "pallas_interpret") else "scatter"


class GridDelivery(eqx.Module):
    """Event delivery at grid steps (the ``integrate.Delivery`` of the
    faithful model): network events, then the trial's drive events.

    ``skip_idle``: at most steps no network event is due (97 % of a somato
    trial's, 82 % of a batch of 8's); there a conditional skips the chunk
    scatter, which changes no bit and runs the CPU forward 1.12-1.41x faster
    (``benchmarks/bench_skip_idle.py``).  Under ``vmap`` a conditional on a per-trial
    predicate runs both branches, so ``batch_axis`` names the trial axis and
    the scatter runs when some trial of the batch has an event due.  Off by
    default: XLA's GPU conditional reads its predicate back on the host, a
    synchronisation per step (not measured: no GPU was lent).

    ``exchanged``: the delivery of a part of the network's cells
    (``split.py``), whose connections all have delays of at least the
    exchange block.  The step does not see the spikes: every cell's come in
    once per block (``exchange``), and the first delay block's connections
    (q = 0) are scheduled then, for the spikes of the block before.
    """

    net: NetArrays
    events: Events
    skip_idle: bool = eqx.field(static=True, default=False)
    batch_axis: str | None = eqx.field(static=True, default=None)
    exchanged: bool = eqx.field(static=True, default=False)

    def init(self, soma_v0):
        net, n_tgt = self.net, self.net.target_syn.shape[0]
        rows = net.block + 1  # one more row than the horizon
        n_src = net.group_live.shape[1]  # source cells: the network's, also in a part of it
        return {"ring": jnp.zeros((net.n_blocks * net.block, n_src), bool),
                "pending": jnp.zeros((rows, n_tgt), net.conn_w_fixed.dtype)}

    def _schedule(self, pending, ring, n):
        """Network events in two stages: a spike of cell c at step m is seen
        again at m + q·block for every delay block q (a bool ring of spikes);
        then the chunks of group (q, c) add their connections into the
        pending row of their delivery step (row = step mod (block + 1)), all
        in one scatter of at most ``capacity`` chunks.  Work is proportional
        to spikes, not to connections; more chunks than that in one step set
        the overflow flag.  The row read at the previous step is cleared
        first (nothing is scheduled into it at this step), and the slots of
        the scatter that no chunk fills point past the buffer and drop.  The
        pending sums are fixed-point integers (``compile.fixed_point_weights``):
        exact in any order, so a GPU adds them atomically and the same seed
        gives the same bits everywhere."""
        net = self.net
        n_tgt, ring_len, n_rows = net.target_syn.shape[0], ring.shape[0], net.block + 1
        fired = ring[(n - jnp.arange(net.n_blocks) * net.block) % ring_len]  # (q, c): c fired q blocks ago
        if self.exchanged:  # q = 0 was scheduled at the exchange
            fired = fired.at[0].set(False)
        pending = pending.at[(n - 1) % n_rows].set(jnp.zeros(n_tgt, pending.dtype))
        return unless_idle(self.skip_idle, (fired & net.group_live).any(), self.batch_axis,
                           lambda: self._add_chunks(pending, fired, n),
                           lambda: (pending, jnp.zeros((), bool)))

    def _add_chunks(self, pending, fired, n):
        """Scatter the connections of the first ``capacity`` chunks of the
        groups that fired into their pending rows; also whether more were due."""
        net = self.net
        n_rows = net.block + 1
        w_idx = jnp.arange(net.chunk_width)
        c, n_due = compaction.first_due(net.compaction, net.chunk_group, fired, net.capacity)
        valid = w_idx[None, :] < net.chunk_count[c][:, None]
        j = jnp.where(valid, net.chunk_start[c][:, None] + w_idx[None, :], 0)
        row = jnp.where(valid, (n + net.conn_rem[j]) % n_rows, n_rows)
        pending = pending.at[row.reshape(-1), net.conn_dst[j].reshape(-1)].add(
            net.conn_w_fixed[j].reshape(-1), mode="drop")
        return pending, n_due > net.capacity

    def exchange(self, carry, start, spikes, columns):
        """``exchanged``: the ``spikes`` (block, n) of the cells at
        ``columns`` (past the ring's: dropped) in the steps from ``start``
        into the ring, and their connections of the first delay block (q = 0)
        scheduled, as the step would have done at each spike; returns the
        carry and whether some step had more chunks due than ``capacity``."""
        net, block = self.net, spikes.shape[0]
        rows = (start + jnp.arange(block)) % carry["ring"].shape[0]
        ring = carry["ring"].at[rows[:, None], columns[None, :]].set(spikes, mode="drop")
        live = jnp.zeros((block, net.group_live.shape[1]), bool).at[:, columns].set(spikes, mode="drop")
        live = live & net.group_live[0]

        def one(i, acc):
            pending, overflow = acc
            fired = jnp.zeros_like(net.group_live).at[0].set(live[i])
            pending, more = unless_idle(self.skip_idle, live[i].any(), None,
                                        lambda: self._add_chunks(pending, fired, start + i),
                                        lambda: (pending, jnp.zeros((), bool)))
            return pending, overflow | more

        pending, overflow = jax.lax.fori_loop(0, block, one, (carry["pending"], jnp.zeros((), bool)))
        return {"ring": ring, "pending": pending}, overflow

    def __call__(self, carry, n, spikes, soma_v):
        net, ev = self.net, self.events
        ring = carry["ring"] if self.exchanged else carry["ring"].at[n % carry["ring"].shape[0]].set(spikes)
        pending, overflow = self._schedule(carry["pending"], ring, n)
        # the exact sum, rounded once: (int -> float) then a power of two
        row = pending[n % (net.block + 1)]
        _, n_syn = net.syn_offsets
        if net.increments == "gather":  # the integers gathered (no slot: 0), then converted (one fusion)
            inc = row.at[net.syn_target].get(mode="fill", fill_value=0).astype(soma_v.dtype) * net.syn_scale
        else:
            due = row.astype(soma_v.dtype) * net.target_scale
            # np.unique'd; slots past the synapses (padding, ``split.py``) drop
            inc = jnp.zeros(n_syn, due.dtype).at[net.target_syn].add(due, unique_indices=True, mode="drop")
        # drive events: one per synapse and step (pre-summed); places past the
        # step's events point beyond the synapses, each a different index, and drop
        k = jnp.arange(ev.max_per_step)
        j = ev.ptr[n] + k
        live = j < ev.ptr[n + 1]
        j = jnp.minimum(j, ev.dst.shape[0] - 1)
        dst = jnp.where(live, ev.dst[j], n_syn + k)
        inc = inc.at[dst].add(ev.w[j], mode="drop", unique_indices=True)
        return {"ring": ring, "pending": pending}, inc, inc, overflow


def initial_carries(net: NetArrays, n_trials: int, channel_values=None):
    """The integrator's carry at t_0 (``integrate.initial_carry``), the same for
    every trial, broadcast over a leading axis of ``n_trials``; with
    ``channel_values`` (``with_channel_values``' argument with a leading
    trial axis), each trial's from its own channels.  A ``vmap`` of ``run``
    given it traces its time scan batched in one pass: from an unbatched
    carry the scan's batching rule retraces the step until the carry's
    batching settles (three passes, ~0.4 s of a somato compile)."""
    def carry(values):
        cells = net if values is None else net.with_channel_values(values)
        return initial_carry(cells.types, GridDelivery(cells, None), cells.threshold)
    if channel_values is not None:  # vmap batches every leaf, those the values do not reach too
        return jax.vmap(carry)(channel_values)
    return jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (n_trials,) + x.shape), carry(None))


def run(net: NetArrays, events: Events, n_steps: int, dt: float, skip_idle=False, batch_axis=None,
        carry0=None, pack_spikes=False):
    """Integrate one trial, NEURON-faithful, from ``carry0`` (default: the
    initial state); returns spikes, raw dipoles, traces and the overflow flag
    (see ``integrate.integrate``); ``skip_idle`` and ``batch_axis`` as in
    ``GridDelivery``.  ``pack_spikes``: the spikes (n_steps, ⌈n_cells/8⌉)
    uint8, each step's row as ``np.packbits`` packs it: 8x less to transfer
    and read; packed after the scan (packing each step's row inside it
    measured ~6 % slower on a CPU, float64, 2 trials)."""
    spikes, *rest = integrate(net.types, GridDelivery(net, events, skip_idle, batch_axis),
                              net.threshold, net.dipole_layers, n_steps, dt, record=True,
                              carry0=carry0)
    return (jnp.packbits(spikes, axis=-1) if pack_spikes else spikes, *rest)
