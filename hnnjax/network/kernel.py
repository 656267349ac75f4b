"""The pure, jit-compiled integrator: one NEURON fixed step for all cells.

Order of operations per step n (t_n -> t_n + dt), spec §7.2:

1. threshold check on V_soma(t_n); spikes enter a ring buffer;
2. event delivery: network spikes after their delay (in steps) and the
   trial's precomputed drive events due at step n add ``w·factor`` to the
   Exp2Syn states A and B;
3. currents from V^n, gates^n, g_syn^n (eca from cai^n), clamp at t_n + dt/2;
4. backward-Euler tree solve for V^{n+1} (Hines elimination, static order);
5. gates advanced with V^{n+1} (``cnexp``), cad then kca, Exp2Syn decay;
6. L2/L5 dipole and requested traces from V^{n+1}.

States of one cell type are ``(n_nodes, n_cells)`` arrays.  Everything here
is a function of pytrees; batching over trials is a ``vmap`` of ``run``.
"""
from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import lax

from ..cells.channels import nernst_eca


class TypeArrays(eqx.Module):
    """Device-side constants of one cell type (built by ``compile.py``).

    Nodes are stored segments first (``n_seg`` rows carrying membrane
    mechanisms), then the zero-area section-end nodes; ``order`` lists the
    nodes parents-first for the tree solve."""

    parent: jnp.ndarray  # (n_nodes,) int, root's parent is itself
    order: jnp.ndarray  # (n_nodes,) int, parents before children
    inv_r: jnp.ndarray  # (n_nodes, 1) µS to the parent (0 for the root)
    sum_inv_r: jnp.ndarray  # (n_nodes, 1) µS, Σ over all neighbours
    cap: jnp.ndarray  # (n_seg, 1) nF
    area_f: jnp.ndarray  # (n_seg, 1) 1e-2·area: mA/cm² -> nA
    v_init: jnp.ndarray  # (n_nodes, 1) mV
    channels: tuple  # parameters shaped (n_seg, 1)
    syn_onehot: jnp.ndarray  # (n_seg, n_sites)
    syn_node: jnp.ndarray  # (n_sites,) int
    syn_e: jnp.ndarray  # (n_sites, 1) mV
    syn_tau1: jnp.ndarray  # (n_sites, 1) ms
    syn_tau2: jnp.ndarray  # (n_sites, 1) ms
    dipole_w: jnp.ndarray  # (n_nodes,) fA·m/mV (zero for non-pyramidal)
    clamp_amp: jnp.ndarray  # (n_clamps, n_seg, n_cells) nA
    clamp_on: jnp.ndarray  # (n_clamps, 2) ms: [t0, t_end)
    rec_node: jnp.ndarray  # (n_rec,) nodes whose voltage is recorded
    rec_cell: jnp.ndarray  # (n_rec,) and their cells
    ca_node: jnp.ndarray  # (n_ca,) nodes whose cai is recorded
    ca_cell: jnp.ndarray  # (n_ca,)
    n_cells: int = eqx.field(static=True)
    soma_node: int = eqx.field(static=True)
    has_calcium: bool = eqx.field(static=True)

    @property
    def n_nodes(self):
        return self.parent.shape[0]

    @property
    def n_seg(self):
        return self.cap.shape[0]

    @property
    def n_sites(self):
        return self.syn_node.shape[0]


class NetArrays(eqx.Module):
    """The whole network: cell types, connections, recording choices."""

    types: tuple  # TypeArrays, in gid order of the cell types
    # Connections, grouped by (delay block q, source cell): group q·n_cells + c
    # holds the connections of cell c with delay in [q·block, (q+1)·block)
    # steps, stored in chunks of at most ``chunk_width`` consecutive connections.
    chunk_group: jnp.ndarray  # (n_chunks,) int, the group of each chunk
    chunk_start: jnp.ndarray  # (n_chunks + 1,) int, first connection (last: inert padding)
    chunk_count: jnp.ndarray  # (n_chunks + 1,) int, connections in the chunk
    conn_dst: jnp.ndarray  # (K,) int, target slot
    conn_rem: jnp.ndarray  # (K,) int, delay mod block (steps)
    conn_w: jnp.ndarray  # (K,) µS times the target's Exp2Syn factor
    target_syn: jnp.ndarray  # (n_targets,) flat synapse index of each target slot
    threshold: float = eqx.field(static=True)  # mV
    block: int = eqx.field(static=True)  # steps per delay block (rows of the pending buffer)
    n_blocks: int = eqx.field(static=True)
    chunk_width: int = eqx.field(static=True)
    capacity: int = eqx.field(static=True)  # chunks scheduled per step at most
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


class Events(eqx.Module):
    """One trial's drive events, bucketed by delivery step (CSR layout)."""

    ptr: jnp.ndarray  # (n_steps + 1,) int: events of step n are ptr[n]:ptr[n+1]
    dst: jnp.ndarray  # (E,) flat synapse index
    w: jnp.ndarray  # (E,) µS times the target's Exp2Syn factor
    max_per_step: int = eqx.field(static=True)


def _calcium_slots(ta: TypeArrays):
    """Positions of the L5 calcium mechanisms in ``ta.channels``: the Ca
    current (ca), the shell concentration (cad) and the Ca-activated K (kca)."""
    kinds = [type(ch).__name__ for ch in ta.channels]
    ca, cad, kca = kinds.index("CaHVA"), kinds.index("Cad"), kinds.index("Kca")
    if not cad < kca:
        raise ValueError("cad must come before kca in a cell type's channels (kca reads the new cai)")
    return ca, cad, kca


def _ion(ta: TypeArrays, gates):
    if not ta.has_calcium:
        return {}
    cai = gates[_calcium_slots(ta)[1]][0]
    return {"cai": cai, "eca": nernst_eca(cai)}


def init_type_state(ta: TypeArrays):
    v = jnp.broadcast_to(ta.v_init, (ta.n_nodes, ta.n_cells))
    v_seg = v[:ta.n_seg]
    ion = {"cai": jnp.full_like(v_seg, 1e-4)} if ta.has_calcium else {}
    gates = tuple(ch.init(v_seg, ion) for ch in ta.channels)
    z = jnp.zeros((ta.n_sites, ta.n_cells), v.dtype)
    return {"v": v, "gates": gates, "A": z, "B": z}


def _tree_solve(ta: TypeArrays, diag, rhs):
    """Solve the symmetric tree system (Hines); off-diagonal to the parent is -inv_r."""
    return _hines_solve(ta.order, ta.parent, -ta.inv_r, diag, rhs)


def _hines_eliminate_substitute(order, parent, off, diag, rhs):
    n = order.shape[0]

    def eliminate(k, carry):
        d, b = carry
        i = order[n - 1 - k]
        p = parent[i]
        f = off[i] / d[i]
        return d.at[p].add(-f * off[i]), b.at[p].add(-f * b[i])

    d, b = lax.fori_loop(0, n - 1, eliminate, (diag, rhs))

    def substitute(k, x):
        i = order[k]
        return x.at[i].set((b[i] - off[i] * x[parent[i]]) / d[i])

    root = order[0]
    x0 = jnp.zeros_like(b).at[root].set(b[root] / d[root])
    return lax.fori_loop(1, n, substitute, x0)


@jax.custom_vjp
def _hines_solve(order, parent, off, diag, rhs):
    """x = M⁻¹ rhs, M = diag(diag) + off on the (child, parent) pairs, symmetric."""
    return _hines_eliminate_substitute(order, parent, off, diag, rhs)


def _hines_solve_fwd(order, parent, off, diag, rhs):
    x = _hines_eliminate_substitute(order, parent, off, diag, rhs)
    return x, (order, parent, off, diag, x)


def _hines_solve_bwd(res, x_bar):
    """Reverse mode by one more tree solve (M is symmetric) instead of
    differentiating the loops: λ = M⁻¹ x̄; rhs̄ = λ, diaḡ = -λx,
    off̄ᵢ = -(λᵢ x_parent + λ_parent xᵢ)."""
    order, parent, off, diag, x = res
    lam = _hines_eliminate_substitute(order, parent, off, diag, x_bar)
    child = (parent != jnp.arange(parent.shape[0]))[:, None]
    off_bar = jnp.where(child, -(lam * x[parent] + lam[parent] * x), 0.0)
    shared = tuple(a for a in range(off.ndim) if off.shape[a] == 1 < off_bar.shape[a])
    return None, None, jnp.sum(off_bar, axis=shared, keepdims=True), -lam * x, lam


_hines_solve.defvjp(_hines_solve_fwd, _hines_solve_bwd)


def type_step(ta: TypeArrays, st, inc_a, inc_b, t_mid, dt):
    """Steps 3-5 for one cell type after events added ``inc_a``/``inc_b`` (µS)
    to the Exp2Syn states; returns the new state."""
    v, gates = st["v"], st["gates"]
    v_seg = v[:ta.n_seg]
    A = st["A"] + inc_a
    B = st["B"] + inc_b
    ion = _ion(ta, gates)
    i_dens = jnp.zeros_like(v_seg)
    g_dens = jnp.zeros_like(v_seg)
    for ch, s in zip(ta.channels, gates):
        i, g = ch.current(v_seg, s, ion)
        i_dens = i_dens + i
        g_dens = g_dens + g
    if ta.has_calcium:
        ca, cad, kca = _calcium_slots(ta)
        ion["ica"] = ta.channels[ca].ica(v_seg, gates[ca], ion)
    g_syn = B - A
    i_syn = g_syn * (v[ta.syn_node] - ta.syn_e)
    on = (ta.clamp_on[:, 0] <= t_mid) & (t_mid < ta.clamp_on[:, 1])
    i_clamp = jnp.tensordot(on.astype(v.dtype), ta.clamp_amp, axes=1)
    i_seg = ta.area_f * i_dens + ta.syn_onehot @ i_syn - i_clamp
    g_seg = ta.area_f * g_dens + ta.syn_onehot @ g_syn
    pad = jnp.zeros((ta.n_nodes - ta.n_seg, v.shape[1]), v.dtype)
    flow = ta.inv_r * (v[ta.parent] - v)  # nA into each node from its parent
    axial = flow - jax.ops.segment_sum(flow, ta.parent, num_segments=ta.n_nodes)
    rhs = axial - jnp.concatenate([i_seg, pad])
    diag = ta.sum_inv_r + jnp.concatenate([ta.cap / dt + g_seg, pad])
    v_new = v + _tree_solve(ta, diag, rhs)

    v_new_seg = v_new[:ta.n_seg]
    new_gates = []
    for k, (ch, s) in enumerate(zip(ta.channels, gates)):
        if ta.has_calcium and k == kca:  # kca reads the freshly updated cai (cad comes first)
            ion["cai"] = new_gates[cad][0]
        new_gates.append(ch.advance(v_new_seg, s, dt, ion))
    A = A * jnp.exp(-dt / ta.syn_tau1)
    B = B * jnp.exp(-dt / ta.syn_tau2)
    return {"v": v_new, "gates": tuple(new_gates), "A": A, "B": B}


def layer_dipoles(net, states):
    """Raw L2 and L5 dipoles (fA·m) of the current voltages."""
    return jnp.stack([(net.types[k].dipole_w @ states[k]["v"]).sum() if k >= 0
                      else jnp.zeros((), states[0]["v"].dtype) for k in net.dipole_layers])


def _record(ta: TypeArrays, st):
    out = {"v": st["v"][ta.rec_node, ta.rec_cell]}
    if ta.has_calcium:
        out["ca"] = st["gates"][_calcium_slots(ta)[1]][0][ta.ca_node, ta.ca_cell]
    return out


def run(net: NetArrays, events: Events, n_steps: int, dt: float):
    """Integrate one trial.  Returns per-step spikes (n_steps, n_cells) bool
    at t_0..t_{n-1}, the raw L2/L5 dipoles (n_steps, 2) fA·m at t_1..t_n,
    and recorded traces per type at t_0..t_n."""
    (cell_off, n_cells), (syn_off, n_syn) = net.cell_offsets, net.syn_offsets
    dtype = net.types[0].v_init.dtype
    states0 = tuple(init_type_state(ta) for ta in net.types)
    soma_v0 = jnp.concatenate([s["v"][ta.soma_node] for ta, s in zip(net.types, states0)])
    n_tgt = net.target_syn.shape[0]
    ring_len = net.n_blocks * net.block
    n_rows = net.block + 1  # pending rows: one more than the schedule horizon
    tgt_idx = jnp.arange(n_tgt)
    carry0 = {
        "types": states0,
        "armed": soma_v0 <= net.threshold,
        "ring": jnp.zeros((ring_len, n_cells), bool),
        "pending": jnp.zeros((n_rows, n_tgt), dtype),
        "due": jnp.zeros(n_tgt, dtype),
        "overflow": jnp.zeros((), bool),
    }
    k_idx = jnp.arange(events.max_per_step)
    w_idx = jnp.arange(net.chunk_width)
    q_rows = jnp.arange(net.n_blocks) * net.block
    n_chunks = net.chunk_group.shape[0]

    def schedule(pending, due_prev, ring, n):
        """Network events in two stages: a spike of cell c at step m is seen
        again at m + q·block for every delay block q (a bool ring of spikes);
        then the chunks of group (q, c) add their connections into the pending
        row of their delivery step (row = step mod (block + 1)), all in one
        scatter of at most ``capacity`` chunks.  Work is proportional to spikes, not to
        connections; more chunks than that in one step set the overflow flag."""
        active = ring[(n - q_rows) % ring_len].reshape(-1)[net.chunk_group]
        c = jnp.nonzero(active, size=net.capacity, fill_value=n_chunks)[0]
        valid = w_idx[None, :] < net.chunk_count[c][:, None]
        j = jnp.where(valid, net.chunk_start[c][:, None] + w_idx[None, :], 0)
        row = (n + net.conn_rem[j]) % n_rows
        # the row read at the previous step is cleared in the same scatter
        # (x + -x == 0 exactly; nothing is scheduled into it at this step)
        rows = jnp.concatenate([row.reshape(-1), jnp.full(n_tgt, (n - 1) % n_rows)])
        cols = jnp.concatenate([net.conn_dst[j].reshape(-1), tgt_idx])
        vals = jnp.concatenate([jnp.where(valid, net.conn_w[j], 0.0).reshape(-1), -due_prev])
        return pending.at[rows, cols].add(vals), active.sum() > net.capacity

    def step(carry, n):
        states = carry["types"]
        # 1. threshold detection at t_n
        soma_v = jnp.concatenate([s["v"][ta.soma_node] for ta, s in zip(net.types, states)])
        above = soma_v > net.threshold
        spikes = above & carry["armed"]
        # 2. event delivery: network spikes due now, then the trial's drive events
        ring = carry["ring"].at[n % ring_len].set(spikes)
        pending, overflow = schedule(carry["pending"], carry["due"], ring, n)
        due = pending[n % n_rows]
        inc = jnp.zeros(n_syn, dtype).at[net.target_syn].add(due)
        j = events.ptr[n] + k_idx
        live = j < events.ptr[n + 1]
        j = jnp.where(live, j, 0)
        inc = inc.at[events.dst[j]].add(jnp.where(live, events.w[j], 0.0))
        # 3-5. currents, solve, state update per type
        t_mid = n * dt + 0.5 * dt
        new_states = []
        for ta, st, off in zip(net.types, states, syn_off):
            syn_inc = inc[off:off + ta.n_sites * ta.n_cells].reshape(ta.n_sites, ta.n_cells)
            new_states.append(type_step(ta, st, syn_inc, syn_inc, t_mid, dt))
        # 6. dipole and recordings from V^{n+1}
        dip = layer_dipoles(net, new_states)
        rec = tuple(_record(ta, st) for ta, st in zip(net.types, new_states))
        new_carry = {"types": tuple(new_states), "armed": ~above, "ring": ring, "pending": pending, "due": due,
                     "overflow": carry["overflow"] | overflow}
        return new_carry, (spikes, dip, rec)

    rec0 = tuple(_record(ta, st) for ta, st in zip(net.types, states0))
    last, (spikes, dip, rec) = lax.scan(step, carry0, jnp.arange(n_steps))
    rec = jax.tree_util.tree_map(lambda a0, a: jnp.concatenate([a0[None], a]), rec0, rec)
    return spikes, dip, rec, last["overflow"]
