"""Network (host) -> arrays for the integrator.

Connections become a static table of (source cell, target synapse, weight,
delay in steps); those whose delay exceeds the run can never deliver and are
dropped exactly.  Drive spikes are known before the run, so each trial's drive
events are precomputed as (delivery step, target synapse, weight), bucketed by
step.  Event timing follows NEURON: an event due at time T acts at the first
step n with T <= t_n + dt/2 (spec §7.2).
"""
from __future__ import annotations

import jax
import numpy as np

from .._checks import neuron_steps
from ..extracellular import segment_geometry, transfer_resistance
from . import compaction
from .grid import Events, NetArrays, increments_for_solver
from .assembled_solve import Assembly
from .kernel import TypeArrays, assembles_in_solve, carries_currents
from .row_sums import RowSums
from .tree_solve import strategy


def delivery_step(t_arrival, dt):
    """First step n with t_arrival <= n·dt + dt/2 (NEURON's half-step rule)."""
    return np.maximum(np.ceil(np.asarray(t_arrival) / dt - 0.5), 0).astype(np.int64)


def _record_sites(ct, n_cells, what):
    """(tree node, cell, section) triples recorded for ``what`` in False/'soma'/'all'."""
    if not what:
        return []
    secs = ["soma"] if what == "soma" else ct.section_names
    return [(ct.tree.mid_node[s], c, s) for c in range(n_cells) for s in secs]


def _storage_order(tree):
    """Tree nodes in storage order (segments first) and each node's new index."""
    perm = np.concatenate([np.flatnonzero(tree.segment_mask), np.flatnonzero(~tree.segment_mask)])
    new_index = np.empty_like(perm)
    new_index[perm] = np.arange(len(perm))
    return perm, new_index


def _isec_sites(ct, n_cells, what):
    """(site, cell, section, hnn-core's key '<section>_<receptor>') of the
    synaptic currents recorded for ``what`` in False/'soma'/'all'."""
    if not what:
        return []
    secs = ["soma"] if what == "soma" else ct.section_names
    return [(k, c, s, f"{s}_{r}") for c in range(n_cells) for s in secs
            for k, (sec, r) in enumerate(ct.synapses) if sec == s]


def _lfp_resistances(net, name):
    """(n_contacts, n_seg, n_cells) µV/nA from each segment of each cell of
    type ``name`` to every contact of the network's electrode arrays, in
    ``net.rec_arrays`` order."""
    ct = net.cell_types[name]
    n_seg, n_cells = int(ct.tree.segment_mask.sum()), len(net.gid_ranges[name])
    arrays = list(net.rec_arrays.values())
    if not arrays or not n_cells:
        return np.zeros((sum(a.n_contacts for a in arrays), n_seg, n_cells))
    geometry = segment_geometry(ct, net.pos_dict[name])
    return np.stack([transfer_resistance(geometry, pos, a.conductivity, a.method, a.min_distance)
                     for a in arrays for pos in a.positions])


def _type_arrays(net, name, record_vsec, record_ca, tstop, solver=None, record_isec=False,
                 carry_currents=False):
    """One cell type's ``TypeArrays`` and its recorded sites; ``carry_currents``:
    the step may carry its channel currents where ``kernel.carries_currents``
    and assemble its matrix in the solve kernel where
    ``kernel.assembles_in_solve`` (the simulation's, not the gradient
    model's)."""
    ct = net.cell_types[name]
    tree = ct.tree
    n_cells = len(net.gid_ranges[name])
    perm, new = _storage_order(tree)
    seg = tree.segment_mask
    parent = new[np.where(tree.parent < 0, 0, tree.parent)][perm]
    inv_r = np.where(tree.parent < 0, 0.0, 1.0 / np.where(tree.r_parent > 0, tree.r_parent, 1.0))[perm]
    sum_inv_r = inv_r.copy()
    np.add.at(sum_inv_r, parent, inv_r)
    syn_node = new[[tree.mid_node[s] for s, _ in ct.synapses]]
    sites, nodes = np.arange(len(syn_node)), np.arange(len(parent))
    is_child = parent != nodes
    idx = lambda a: np.array(a, dtype=np.int32)
    bias = net.external_biases["tonic"].get(name)
    if bias is None:
        amp, on = np.zeros((0, int(seg.sum()), n_cells)), np.zeros((0, 2))
    else:
        amp = np.zeros((1, int(seg.sum()), n_cells))
        amp[0, new[tree.mid_node[bias["section"]]], :] = bias["amplitude"]
        t_end = tstop if bias["tstop"] is None else bias["tstop"]
        on = np.array([[bias["t0"], t_end]])
    vs = _record_sites(ct, n_cells, record_vsec)
    cs = _record_sites(ct, n_cells, record_ca) if ct.has_calcium else []
    js = _isec_sites(ct, n_cells, record_isec)
    lfp_r = _lfp_resistances(net, name)
    carry = carry_currents and carries_currents(strategy(solver), len(parent))
    cap, area_f = (1e-5 * tree.cm * tree.area)[seg], (1e-2 * tree.area)[seg]
    syn_e = np.array([ct.receptor(r).e for _, r in ct.synapses])
    syn_v = RowSums.of_pairs(sites, syn_node, len(sites), len(nodes))
    seg_syn = RowSums.of_pairs(syn_node, sites, int(seg.sum()), len(sites))
    child_sum = RowSums.of_pairs(parent[is_child], nodes[is_child], len(nodes), len(nodes))
    assembly = (Assembly.of(syn_v, seg_syn, child_sum, inv_r, sum_inv_r, area_f, cap, syn_e)
                if assembles_in_solve(carry, len(syn_node), bool(lfp_r.shape[0] or js)) else None)
    arrays = TypeArrays(
        lfp_r=lfp_r,
        isec_site=idx([j[0] for j in js]), isec_cell=idx([j[1] for j in js]),
        inv_r=inv_r[:, None], sum_inv_r=sum_inv_r[:, None], cap=cap[:, None], area_f=area_f[:, None],
        v_init=ct.v_init[perm][:, None], channels=ct.membrane_channels(),
        syn_v=syn_v, seg_syn=seg_syn, parent_v=RowSums.of_pairs(nodes, parent, len(nodes), len(nodes)),
        child_sum=child_sum,
        syn_e=syn_e[:, None],
        syn_tau1=np.array([[ct.receptor(r).tau1] for _, r in ct.synapses]),
        syn_tau2=np.array([[ct.receptor(r).tau2] for _, r in ct.synapses]),
        dipole_w=(tree.dipole_weight if name.endswith("pyramidal") else np.zeros(tree.n_nodes))[perm],
        clamp_amp=amp, clamp_on=on,
        rec_node=idx(new[[v[0] for v in vs]]), rec_cell=idx([v[1] for v in vs]),
        ca_node=idx(new[[c[0] for c in cs]]), ca_cell=idx([c[1] for c in cs]),
        tree_order=tuple(int(i) for i in new), tree_parent=tuple(int(i) for i in parent),
        solver=strategy(solver), n_cells=n_cells, soma_node=int(new[ct.soma_node]),
        has_calcium=ct.has_calcium,
        carry_currents=carry, assembly=assembly,
    )
    return arrays, vs, cs, js


class Layout:
    """Index bookkeeping shared by the compiler and the result decoder."""

    def __init__(self, net):
        self.types = list(net.cell_types)
        self.n_cells = {t: len(net.gid_ranges[t]) for t in self.types}
        self.cell_off, self.syn_off, c, s = {}, {}, 0, 0
        for t in self.types:
            self.cell_off[t], self.syn_off[t] = c, s
            c += self.n_cells[t]
            s += len(net.cell_types[t].synapses) * self.n_cells[t]
        self.n_cells_total, self.n_syn_total = c, s

    def cell_indices(self, net, gids):
        """Flat cell index of each gid in ``gids`` (gids of cells, not drives),
        looked up at once: a somato network has 140,000 connection sources."""
        flat = np.full(max((r.stop for r in net.gid_ranges.values()), default=0), -1, np.int64)
        for t in self.types:
            flat[net.gid_ranges[t].start:net.gid_ranges[t].stop] = self.cell_off[t] + np.arange(self.n_cells[t])
        gids = np.asarray(gids, dtype=np.int64)
        idx = np.full(gids.shape, -1, np.int64)
        known = (gids >= 0) & (gids < len(flat))
        idx[known] = flat[gids[known]]
        if (idx < 0).any():
            raise ValueError(f"gids {sorted(set(gids[idx < 0].tolist()))[:5]} are not cells")
        return idx

    def synapse_index(self, net, cell_type, section, receptor, cells):
        site = net.cell_types[cell_type].synapse_index(section, receptor)
        return self.syn_off[cell_type] + site * self.n_cells[cell_type] + np.asarray(cells)


def connection_table(net, layout, conn):
    """All NetCons of one connectivity entry: source gid, flat target synapse,
    weight (µS, times the target's Exp2Syn factor), delay (ms), and the
    distance factor g = exp(-d²/λ²) (weight = A_weight·g, delay = A_delay/g)."""
    pairs = [(s, t) for s, ts in conn["gid_pairs"].items() for t in ts]
    if not pairs:
        return (np.zeros(0, int),) * 2 + (np.zeros(0),) * 3
    src, tgt = np.array(pairs).T
    src_pos = np.array(net.pos_dict[conn["src_type"]])[src - net.gid_ranges[conn["src_type"]][0]]
    tt = conn["target_type"]
    cells = tgt - net.gid_ranges[tt][0]
    tgt_pos = np.array(net.pos_dict[tt])[cells]
    nc = conn["nc_dict"]
    d = np.sqrt((tgt_pos[:, 0] - src_pos[:, 0]) ** 2 + (tgt_pos[:, 1] - src_pos[:, 1]) ** 2)
    lam = nc["lamtha"] * net._inplane_distance
    g = np.exp(-(d**2) / lam**2)
    weight = nc["A_weight"] * nc["gain"] * g
    delay = nc["A_delay"] / g
    secs = net.cell_types[tt].sections_for(conn["loc"])
    factor = net.cell_types[tt].receptor(conn["receptor"]).factor
    dst = [layout.synapse_index(net, tt, s, conn["receptor"], cells) for s in secs]
    k = len(secs)
    return (np.tile(src, k), np.concatenate(dst), np.tile(weight * factor, k), np.tile(delay, k),
            np.tile(g, k))


def compile_network(net, tstop, dt, dtype, record_vsec=False, record_ca=False, capacity=None,
                    solver=None, record_isec=False):
    """Build the device arrays of the network (shared by all trials), the
    drive connection table (for events) and the recording index.
    ``capacity``: connection chunks delivered per step (default 128; see
    ``grid.GridDelivery``); ``solver``: the tree-solve strategy
    (``tree_solve.STRATEGIES``; default: the platform's)."""
    n_steps = neuron_steps(tstop, dt)
    layout = Layout(net)
    types, rec_index = [], {}
    for name in layout.types:
        ta, vs, cs, js = _type_arrays(net, name, record_vsec, record_ca, tstop, solver, record_isec,
                                      carry_currents=True)
        types.append(ta)
        rec_index[name] = (vs, cs, js)
    cell_src, drive_src = [], []
    for conn in net.connectivity:
        tab = connection_table(net, layout, conn)
        (drive_src if conn["src_type"] in net.external_drives else cell_src).append(tab)
    cat = lambda tabs, i, dt_=None: np.concatenate([t[i] for t in tabs]) if tabs else np.zeros(0, dt_)
    src_gid, dst, w, delay = (cat(cell_src, i, d) for i, d in enumerate((int, int, float, float)))
    steps = delivery_step(delay, dt)
    keep = (steps < n_steps) & (w != 0)
    src_idx = layout.cell_indices(net, src_gid[keep])
    tables = _delivery_tables(src_idx, dst[keep], w[keep], steps[keep], layout.n_cells_total,
                              dtype, capacity=capacity or 128)
    n_syn = sum(ta.n_sites * ta.n_cells for ta in types)
    layers = tuple(layout.types.index(t) if t in layout.types else -1
                   for t in ("L2_pyramidal", "L5_pyramidal"))
    arrays = NetArrays(types=tuple(types), **tables, **synapse_slots(tables, n_syn),
                       threshold=net.threshold, dipole_layers=layers,
                       compaction=compaction.for_solver(strategy(solver)),
                       increments=increments_for_solver(strategy(solver)))
    drive_tab = tuple(cat(drive_src, i, d) for i, d in enumerate((int, int, float, float)))
    arrays = cast_floats(arrays, dtype)
    if arrays.conn_w_fixed.dtype != np.int64:  # JAX made them int32: sums could overflow
        raise RuntimeError("hnnjax needs JAX's 64-bit types (jax_enable_x64, switched on when hnnjax "
                           "is imported); it has been switched off since")
    return arrays, drive_tab, layout, rec_index, n_steps


def chunk_table(group, n_groups, width):
    """Connections sorted by ``group`` (stable) and each group cut into chunks
    of at most ``width`` consecutive connections.  Returns the sort order and,
    per chunk, its group, first position (in sorted order) and size."""
    order = np.argsort(group, kind="stable")
    counts = np.bincount(group, minlength=n_groups)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pieces = -(-counts // width)
    chunk_group = np.repeat(np.arange(n_groups), pieces)
    piece = np.arange(len(chunk_group)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    return (order, chunk_group, start[chunk_group] + piece * width,
            np.minimum(counts[chunk_group] - piece * width, width))


def fixed_point_weights(w, slot, n_targets):
    """Connection weights as integers for exact event sums.  Target slot t
    gets the scale 2**S_t, S_t = 61 - ceil(log2(Σ|w| into t)), so any sum of
    its connections' ``round(w·2**S_t)`` fits an int64, whatever the order or
    the number of events (a connection delivers at most once per step).
    Integer sums are exact and associative: the same bits on every platform
    and in any order, and a GPU adds them with atomics where XLA would sort a
    floating-point scatter to keep it deterministic.  Each weight is rounded
    to within 2**-61 of its target's total weight (exact where it is more
    than ~1/256 of it).  Returns (int64 weights, float64 scales 2**-S_t)."""
    bound = np.bincount(slot, np.abs(w), minlength=n_targets)
    shift = 61 - np.ceil(np.log2(np.where(bound > 0, bound, 1.0))).astype(np.int64)
    fixed = np.rint(np.ldexp(w, shift[slot])).astype(np.int64)
    return fixed, np.ldexp(1.0, -shift)


def synapse_slots(tables, n_syn):
    """Each of the ``n_syn`` synapses' target slot (``n_targets``: none) and
    its slot's scale (1 where none): ``NetArrays.syn_target``/``syn_scale``."""
    n_targets = len(tables["target_syn"])
    syn_target = np.full(n_syn, n_targets, np.int32)
    syn_target[np.asarray(tables["target_syn"])] = np.arange(n_targets)
    return dict(syn_target=syn_target, syn_scale=np.append(tables["target_scale"], 1.0)[syn_target])


def _delivery_tables(src, dst, w, steps, n_cells, dtype, block=128, width=32, capacity=128):
    """Connections (source cell, flat target synapse, weight, delay in
    steps) as ``grid.NetArrays``' tables: target slots with fixed-point
    weights, then ``chunked_tables``.  Weights are taken at ``dtype``
    precision before their fixed-point form."""
    targets, slot = np.unique(dst, return_inverse=True)
    w_fixed, scale = fixed_point_weights(np.asarray(w, dtype).astype(np.float64), slot, len(targets))
    return dict(chunked_tables(src, slot, w_fixed, steps, n_cells, block, width, capacity),
                target_syn=(targets if len(targets) else np.zeros(1)).astype(np.int32),
                target_scale=scale if len(targets) else np.ones(1))


def chunked_tables(src, slot, w_fixed, steps, n_cells, block, width, capacity, n_blocks=None):
    """Connections (source cell, target slot, fixed-point weight, delay in
    steps) sorted into groups (delay block q, source cell c), see
    ``grid.NetArrays``, and each group cut into chunks of at most ``width``
    connections; the pending buffer then needs only ``block`` rows.
    ``n_blocks``: delay blocks (default: as many as the longest delay needs)."""
    q, rem = steps // block, steps % block
    n_blocks = n_blocks or (int(q.max()) + 1 if len(q) else 1)
    order, chunk_group, chunk_start, chunk_count = chunk_table(q * n_cells + src,
                                                               n_blocks * n_cells, width)
    pad = lambda a, v: np.append(a, v)  # one inert entry: the fill value of gathers
    return dict(chunk_group=chunk_group.astype(np.int32),
                group_live=np.bincount(chunk_group, minlength=n_blocks * n_cells).reshape(
                    n_blocks, n_cells) > 0,
                chunk_start=pad(chunk_start, 0).astype(np.int32),
                chunk_count=pad(chunk_count, 0).astype(np.int32),
                conn_dst=pad(slot[order], 0).astype(np.int32),
                conn_rem=pad(rem[order], 0).astype(np.int32),
                conn_w_fixed=pad(np.asarray(w_fixed, np.int64)[order], 0),
                block=block, n_blocks=n_blocks, chunk_width=width, capacity=capacity)


def cast_floats(tree, dtype):
    """Cast every floating leaf of a pytree to ``dtype`` (ints are kept), as
    device arrays.  Cast in NumPy, then put: ``jnp`` casts would compile one
    small program per leaf shape (0.6 s of a first run)."""
    def cast(x):
        x = np.asarray(x)
        return jax.device_put(x.astype(dtype) if np.issubdtype(x.dtype, np.floating) else x)
    return jax.tree_util.tree_map(cast, tree)


def _bucket(n, minimum=16):
    """Round sizes up to a power of two so new event counts reuse compiled code."""
    return max(minimum, 1 << int(np.ceil(np.log2(max(n, 1)))))


def spike_table(spikes_by_trial):
    """Drive spikes of all trials as flat arrays (trial, drive gid, time ms),
    in each trial's dict order and each train's order."""
    counts = [np.fromiter(map(len, sp.values()), int, len(sp)) for sp in spikes_by_trial]
    trial = np.repeat(np.arange(len(spikes_by_trial)), [c.sum() for c in counts])
    gid = np.concatenate([np.repeat(np.fromiter(sp.keys(), int, len(sp)), c)
                          for sp, c in zip(spikes_by_trial, counts)] + [np.zeros(0, int)])
    times = np.concatenate([np.concatenate(list(sp.values()) or [np.zeros(0)]) for sp in spikes_by_trial]
                           + [np.zeros(0)])
    return trial, gid, times.astype(float)


def drive_events(drive_tab, spikes_by_trial, dt, n_steps, dtype):
    """The drive events of all trials, pre-summed per (trial, step, synapse)
    and bucketed by step: an ``Events`` pytree with a leading trial axis.

    Each spike of drive gid g reaches every connection of g (``drive_tab``:
    source gid, flat synapse, weight, delay) at the delivery step of
    ``t + delay``; events of one (step, synapse) are summed in connection
    order, then spike order (sequentially, float64), so each step adds each
    synapse's drive input once: a collision-free scatter.  Vectorized NumPy."""
    src, dst, w, delay = drive_tab
    n_trials = len(spikes_by_trial)
    trial, gid, times = spike_table(spikes_by_trial)
    live = w != 0  # connections of zero weight never deliver
    by_src = np.flatnonzero(live)[np.argsort(src[live], kind="stable")]
    first = np.searchsorted(src[by_src], gid, side="left")
    n_conn = np.searchsorted(src[by_src], gid, side="right") - first
    spike = np.repeat(np.arange(len(gid)), n_conn)  # one row per (spike, connection)
    conn = by_src[np.repeat(first - np.cumsum(n_conn) + n_conn, n_conn) + np.arange(len(spike))]
    step = delivery_step(times[spike] + delay[conn], dt)
    keep = step < n_steps
    if not keep.all():
        spike, conn, step = spike[keep], conn[keep], step[keep]
    # group rows by (trial, step, synapse), connection within, spike order
    # within that (rows come spike-major, so a stable sort keeps it)
    n_dst = int(dst.max(initial=0)) + 1
    slot = (trial[spike] * (n_steps + 1) + step) * n_dst + dst[conn]
    if n_trials * (n_steps + 1) * n_dst * len(w) < 2**63:  # one sort on a combined key
        order = np.argsort(slot * len(w) + conn, kind="stable")
    else:
        order = np.argsort(conn, kind="stable")
        order = order[np.argsort(slot[order], kind="stable")]
    slot, ws = slot[order], w[conn[order]]
    new = np.ones(len(slot), bool)
    new[1:] = slot[1:] != slot[:-1]
    if not new.all():
        ws = np.bincount(np.cumsum(new) - 1, weights=ws)  # sequential sums
        slot = slot[new]
    key = slot // n_dst  # trial·(n_steps + 1) + step, ascending
    # per trial: events of step n are ptr[n]:ptr[n + 1]
    counts = np.bincount(key, minlength=n_trials * (n_steps + 1)).reshape(n_trials, n_steps + 1)
    ptr = np.zeros((n_trials, n_steps + 1), np.int32)
    np.cumsum(counts[:, :-1], axis=1, dtype=np.int32, out=ptr[:, 1:])
    per_trial = counts.sum(axis=1)
    starts = np.cumsum(per_trial) - per_trial
    n_max = _bucket(int(per_trial.max(initial=0)))
    k_max = _bucket(int(counts.max(initial=0)), minimum=4)
    flat = np.arange(len(key)) + np.repeat(np.arange(n_trials) * n_max - starts, per_trial)
    dst_pad = np.full((n_trials, n_max), -1, np.int32)  # -1: no synapse (dropped)
    w_pad = np.zeros((n_trials, n_max), dtype)
    dst_pad.reshape(-1)[flat] = slot % n_dst
    w_pad.reshape(-1)[flat] = ws
    # host arrays: trials are picked and padded on the host, converted once per call
    return Events(ptr=ptr, dst=dst_pad, w=w_pad, max_per_step=k_max)
