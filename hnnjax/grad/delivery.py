"""Event delivery at continuous times (the differentiable model's
``integrate.Delivery``).

An event due at time T is added at the first grid time t_n >= T with the
Exp2Syn value it has reached by then, ``w·exp(-(t_n - T)/tau)`` for A
(tau1) and B (tau2), so the trajectory is continuous in T.  Spike times are
threshold crossings interpolated between steps; each cell keeps its last
``spike_slots`` spike times in flight (small carry: reverse mode saves it at
every step of a checkpointed chunk).  A cell's connection groups are sorted by
delay, so the groups a spike reaches in a step are one run of them, found by
bisection: the due chunks come out in the order a test of every group's
arrival gives (the same sums), without that test or a ``nonzero`` over all
chunks at every step.
"""
from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from ..network.integrate import unless_idle


class ContinuousDelivery(eqx.Module):
    """Local connections of ``gn`` (a ``model.GradNet``) and one trial's
    drive events (arrival ``T`` ms, delivery ``step``, target, weight·factor,
    tau1/tau2), sorted by step with ``ptr`` its CSR index.  ``skip_idle``,
    ``batch_axis``: as in ``network.grid.GridDelivery``, for the local
    connections' chunks (the same values and gradients)."""

    gn: eqx.Module
    ptr: jnp.ndarray  # (n_steps + 1,)
    T: jnp.ndarray
    dst: jnp.ndarray
    w: jnp.ndarray
    tau: jnp.ndarray  # (E, 2) ms
    dt: float = eqx.field(static=True)
    skip_idle: bool = eqx.field(static=True, default=False)
    batch_axis: str | tuple | None = eqx.field(static=True, default=None)

    def init(self, soma_v0):
        n_cells, dtype = soma_v0.shape[0], soma_v0.dtype
        return {"prev": soma_v0,
                "t_spike": jnp.full((n_cells, self.gn.spike_slots), -jnp.inf, dtype),
                "count": jnp.zeros(n_cells, jnp.int32)}

    def __call__(self, carry, n, spk, soma):
        gn, dt = self.gn, self.dt
        dtype = soma.dtype
        t_n = n * dt
        n_syn = sum(ta.n_sites * ta.n_cells for ta in gn.types)
        frac = (soma - gn.threshold) / jnp.where(spk, soma - carry["prev"], 1.0)
        delta = jnp.where(spk, dt * frac, 0.0)  # ms before t_n that V crossed threshold
        # a spike replaces the cell's oldest slot; that spike must have arrived everywhere
        slots = jnp.arange(gn.spike_slots)
        slot = (slots[None, :] == (carry["count"] % gn.spike_slots)[:, None]) & spk[:, None]
        lost = slot & (carry["t_spike"] + gn.cell_max_delay[:, None] > t_n - dt)
        t_spike = jnp.where(slot, (t_n - delta)[:, None], carry["t_spike"])
        # network events arriving in (t_n - dt, t_n]: at most one spike per group
        # (a cell's spikes are more than dt apart: it cannot spike at two consecutive steps)
        c0, count = self._arriving(t_spike, t_n)
        # local events: only the chunks of groups that fire now
        zero = jnp.zeros(n_syn, dtype)
        inc_a, inc_b, full = unless_idle(self.skip_idle, count.sum() > 0, self.batch_axis,
                                         lambda: self._local(t_spike, t_n, c0, count, n_syn, dtype),
                                         lambda: (zero, zero, jnp.zeros((), bool)))
        busy = full | lost.any()
        # drive events due at step n
        k_ev = jnp.arange(gn.events_per_step)
        e = jnp.minimum(self.ptr[n] + k_ev, self.T.shape[0] - 1)
        live = (self.ptr[n] + k_ev) < self.ptr[n + 1]
        age = jnp.where(live, t_n - self.T[e], 0.0)
        w = jnp.where(live, self.w[e], 0.0)
        inc_a = inc_a.at[self.dst[e]].add(w * jnp.exp(-age / self.tau[e, 0]))
        inc_b = inc_b.at[self.dst[e]].add(w * jnp.exp(-age / self.tau[e, 1]))
        new = {"prev": soma, "t_spike": t_spike, "count": carry["count"] + spk}
        return new, inc_a, inc_b, busy

    def _arriving(self, t_spike, t_n):
        """Per cell and slot, the chunks whose spike arrives in (t_n - dt, t_n]:
        one run of the cell's chunks, from ``c0``, ``count`` long."""
        first = self._arrived(t_spike, t_n - self.dt)
        c0 = self.gn.g_chunk0[first]
        return c0, self.gn.g_chunk0[self._arrived(t_spike, t_n)] - c0

    def _arrived(self, t_spike, t):
        """Per cell and slot, the end of the run of the cell's groups (sorted by
        delay) whose spike has arrived by ``t`` ms (``t_spike + delay <= t``):
        a bisection, as the arrival time grows with the delay."""
        gn = self.gn
        lo = jnp.broadcast_to(gn.cell_g0[:-1, None], t_spike.shape)
        hi = jnp.broadcast_to(gn.cell_g0[1:, None], t_spike.shape)
        last = gn.g_delay.shape[0] - 1
        for _ in range(gn.bisections):
            mid = (lo + hi) // 2
            late = t_spike + gn.g_delay[jnp.minimum(mid, last)] > t
            open_ = lo < hi
            lo, hi = jnp.where(open_ & ~late, mid + 1, lo), jnp.where(open_ & late, mid, hi)
        return lo

    def _first_chunks(self, c0, count):
        """The first ``capacity`` of the runs' chunks in chunk order (the order
        of the connections' sums; places past them: the padding chunk), the
        flat (cell, slot) of each place's run, and how many chunks are due."""
        gn = self.gn
        n_slots = c0.shape[1]
        # a cell's runs in chunk order (its slots' runs do not overlap), cells in chunk order
        order = jnp.argsort(c0, axis=1)
        c0 = jnp.take_along_axis(c0, order, axis=1).reshape(-1)
        count = jnp.take_along_axis(count, order, axis=1).reshape(-1)
        src = jnp.arange(c0.shape[0]) // n_slots * n_slots + order.reshape(-1)
        end = jnp.cumsum(count)
        place = jnp.arange(gn.capacity)
        run = jnp.minimum(jnp.searchsorted(end, place, side="right", method="scan_unrolled"),
                          end.shape[0] - 1)  # unrolled: no loop inside the step
        c = jnp.where(place < end[-1], c0[run] + place - (end[run] - count[run]), gn.n_chunks)
        return c, src[run], end[-1]

    def _local(self, t_spike, t_n, c0, count, n_syn, dtype):
        """Increments of A and B from the first ``capacity`` chunks due now;
        also whether more were due."""
        gn = self.gn
        c, src, total = self._first_chunks(c0, count)
        padding = c == gn.n_chunks
        g = gn.chunk_group[c]
        k = jnp.arange(gn.chunk_width)
        # beyond a chunk's count, and the padding chunk (count 0) that fills
        # unused places, read the inert last connection (weight 0)
        valid = k[None, :] < gn.chunk_count[c][:, None]
        jc = jnp.where(valid, gn.chunk_start[c][:, None] + k[None, :], gn.c_dst.shape[0] - 1)
        age = jnp.where(padding, 0.0, t_n - (t_spike.reshape(-1)[src] + gn.g_delay[g]))
        fa = jnp.exp(-age / gn.g_tau[g, 0])[:, None]
        fb = jnp.exp(-age / gn.g_tau[g, 1])[:, None]
        w_loc = gn.c_w[jc]
        inc_a = jnp.zeros(n_syn, dtype).at[gn.c_dst[jc]].add(w_loc * fa)
        inc_b = jnp.zeros(n_syn, dtype).at[gn.c_dst[jc]].add(w_loc * fb)
        return inc_a, inc_b, total > gn.capacity
