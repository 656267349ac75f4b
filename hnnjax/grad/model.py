"""A differentiable twin of the simulator: events at continuous times.

The NEURON-faithful integrator moves every event to a grid step, which makes
the dipole piecewise constant in drive timing.  Here an event due at time T
(drive: ``t = loc + scale·z + delay``, see below; network: the threshold
crossing interpolated between steps, + delay) is added at the first grid
time t_n >= T with the Exp2Syn value it would have reached by then,
``w·f·exp(-(t_n - T)/tau)`` for A (tau1) and B (tau2).  Since g = B - A
starts at 0, the trajectory is continuous in T and the dipole is
differentiable in drive timing, weights and delays; only spikes that appear
or vanish make jumps.  Cells use the same step as the faithful mode.

Every drive type takes part, each drive cell's spike times written as
``loc + scale·z`` with z fixed per trial (common random numbers):

- evoked (and 'gaussian'): loc = mu, scale = sigma, z standard normal;
- bursty: loc = tstart, scale = 1, z = hnn-core's times - tstart (the burst
  pattern moves with its onset);
- poisson, spike_train: loc = 0, scale = 1, z = hnn-core's times (fixed).

Drive connections with zero weight are left out: a drive switched off with
zero weights (as HNN's parameter files do) has no events and costs nothing;
its weights are not differentiable (``switched_off``).

Reverse mode runs through a two-level checkpointed scan (chunks of ~√T steps),
so memory is O(√T · state); forward mode (``forward_mode``) keeps none.
Since reverse mode saves the carry at every step of a chunk, spikes in flight
are kept small: each cell's last ``spike_slots`` spike times, not a
(max delay / dt) × cells ring (twice the cells' state).  Local connections
with delays above ``max_delay`` ms (tiny weights: w ∝ 1/delay) are dropped;
the distance to the faithful mode is measured in the tests.
"""
from __future__ import annotations

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ..cells.tables import RateTable
from ..network.compile import Layout, _type_arrays, cast_floats, chunk_table, connection_table
from ..network.integrate import checkpoint_chunk, integrate, integrate_quiet_first
from ..network.row_sums import RowSums
from .delivery import ContinuousDelivery


class GradNet(eqx.Module):
    """Arrays of the differentiable model (one network, all trials)."""

    types: tuple
    # Local connections sharing source, delay and receptor time constants form
    # a group: arrival tests and decay factors are computed once per group.
    # Connections are stored by group, in chunks of at most ``chunk_width``;
    # a step adds the chunks of the groups that fire (at most ``capacity``).
    c_dst: jnp.ndarray  # (K + 1,) flat synapse index (last: inert padding)
    c_w: jnp.ndarray  # (K + 1,) µS times Exp2Syn factor
    chunk_group: jnp.ndarray  # (n_chunks + 1,) group of each chunk (last: padding)
    chunk_start: jnp.ndarray  # (n_chunks + 1,) first connection
    chunk_count: jnp.ndarray  # (n_chunks + 1,) connections in the chunk
    g_delay: jnp.ndarray  # (G,) ms; groups sorted by source cell, then delay
    cell_g0: jnp.ndarray  # (n_cells + 1,) first group of each cell (last: G)
    g_chunk0: jnp.ndarray  # (G + 1,) first chunk of each group (last: n_chunks)
    cell_max_delay: jnp.ndarray  # (n_cells,) ms, longest delay of a cell's connections
    g_tau: jnp.ndarray  # (G, 2) target tau1, tau2 (ms)
    d_cell: jnp.ndarray  # (Kd,) drive cell index of each drive connection
    d_dst: jnp.ndarray  # (Kd,)
    d_g: jnp.ndarray  # (Kd,) exp(-d²/λ²): weight = A·g, delay = A_delay/g
    d_f: jnp.ndarray  # (Kd,) Exp2Syn factor
    d_tau: jnp.ndarray  # (Kd, 2)
    d_widx: jnp.ndarray  # (Kd,) parameter index of the weight
    d_didx: jnp.ndarray  # (Kd,) parameter index of the delay
    # drive cells' spike times loc + scale·z: indices into theta extended by
    # the constants (0, 1) (see ``drive_events``)
    cell_loc: jnp.ndarray  # (n_drive_cells,) mu, tstart or the constant 0
    cell_scale: jnp.ndarray  # (n_drive_cells,) sigma or the constant 1
    cell_nspk: jnp.ndarray  # (n_drive_cells,) evoked: numspikes; others: no limit
    cell_gauss: jnp.ndarray  # (n_drive_cells,) bool: z standard normal (evoked)
    threshold: float = eqx.field(static=True)
    spike_slots: int = eqx.field(static=True)  # spike times kept per cell
    max_spikes: int = eqx.field(static=True)  # numspikes of the evoked drive cells
    events_per_step: int = eqx.field(static=True)
    dipole_layers: tuple = eqx.field(static=True)
    chunk_width: int = eqx.field(static=True)
    capacity: int = eqx.field(static=True)  # chunks of local connections per step
    bisections: int = eqx.field(static=True)  # halvings that find a place among a cell's groups
    forward_mode: bool = eqx.field(static=True, default=False)  # see ``forward_mode``

    @property
    def n_chunks(self):
        """Chunks of local connections; also the index of the inert padding chunk."""
        return self.chunk_group.shape[0] - 1


TIMING = {"evoked": ("mu", "sigma"), "gaussian": ("mu", "sigma"), "bursty": ("tstart",),
          "poisson": (), "spike_train": ()}  # differentiable timing of each drive type
NO_LIMIT = 2 ** 30  # spikes per drive cell of a type whose trains vary in length


def drive_parameters(net):
    """Names and values of every differentiable drive parameter, in a fixed
    order: the drive's timing (``<drive>.mu``, ``<drive>.sigma`` of evoked
    drives, ``<drive>.tstart`` of bursty ones), ``<drive>.weights_ampa.<cell
    type>``, ``<drive>.weights_nmda.<cell type>`` (µS),
    ``<drive>.synaptic_delays.<cell type>`` (ms)."""
    names, values = [], []
    for name, drive in net.external_drives.items():
        for key in TIMING[drive["type"]]:
            names.append(f"{name}.{key}")
            values.append(float(drive["dynamics"][key]))
        for rec in ("ampa", "nmda"):
            for ct, w in (drive[f"weights_{rec}"] or {}).items():
                names.append(f"{name}.weights_{rec}.{ct}")
                values.append(float(w))
        delays = drive["synaptic_delays"]
        for ct in drive["target_types"]:
            names.append(f"{name}.synaptic_delays.{ct}")
            values.append(float(delays[ct] if isinstance(delays, dict) else delays))
    return names, np.array(values)


def _drive_connections(net):
    """Drive connections with a weight: the only ones the model delivers."""
    return [c for c in net.connectivity
            if c["src_type"] in net.external_drives and c["nc_dict"]["A_weight"] != 0]


def _active_drives(net):
    """Drives with at least one weighted connection, in ``external_drives`` order."""
    used = {c["src_type"] for c in _drive_connections(net)}
    return [name for name in net.external_drives if name in used]


def switched_off(net):
    """Parameters that do not act in the model: zero weights (their
    connections are left out), and the delays and timing of drives, or of
    a drive's target types, without a weighted connection."""
    on = {(c["src_type"], c["target_type"]) for c in _drive_connections(net)}
    off = set()
    for name in drive_parameters(net)[0]:
        drive, key, *ct = name.split(".")
        if key.startswith("weights_"):
            acts = bool(net.external_drives[drive][key].get(ct[0]))
        elif key == "synaptic_delays":
            acts = (drive, ct[0]) in on
        else:
            acts = any(d == drive for d, _ in on)
        if not acts:
            off.add(name)
    return off


def build(net, tstop, dt=0.025, dtype=np.float64, max_delay=25.0, capacity=256, chunk_width=16,
          spike_slots=4, solver=None):
    """Compile ``net`` for the differentiable model.  Returns (GradNet,
    parameter names, initial values, number of steps).  ``capacity`` chunks
    of ``chunk_width`` local connections can be delivered per step, and a
    cell's last ``spike_slots`` spikes can be in flight (``run`` reports an
    overflow of either; ``grow`` doubles the room).  ``solver``: the
    tree-solve strategy (default: the platform's)."""
    n_steps = int(round(tstop / dt))
    layout = Layout(net)
    types = tuple(_type_arrays(net, t, False, False, tstop, solver)[0] for t in layout.types)
    names, values = drive_parameters(net)
    index = {n: i for i, n in enumerate(names)}
    site_tau = _site_taus(net, layout)
    local = [c for c in net.connectivity if c["src_type"] not in net.external_drives]
    cat = lambda x, t: np.concatenate(x).astype(t) if x else np.zeros(0, t)
    tabs = [connection_table(net, layout, c) for c in local]
    src, dst, w, delay = (cat([tab[i] for tab in tabs], t) for i, t in enumerate((int, int, float, float)))
    keep = (delay <= max_delay) & (delay < tstop) & (w != 0)
    src_idx = layout.cell_indices(net, src[keep])
    tau = site_tau[dst[keep].astype(int)].reshape(-1, 2)
    groups, c_grp = np.unique(np.column_stack([src_idx, delay[keep], tau]), axis=0,
                              return_inverse=True)
    n_cells = sum(layout.n_cells[t] for t in layout.types)
    cell_max_delay = np.zeros(n_cells)
    np.maximum.at(cell_max_delay, groups[:, 0].astype(int), groups[:, 1])
    active = _active_drives(net)
    cell_base = dict(zip(active, np.cumsum([0] + [len(net.gid_ranges[n]) for n in active])))
    d_cell, d_dst, d_g, d_f, d_widx, d_didx = [], [], [], [], [], []
    for conn in _drive_connections(net):
        name, ct, rec = conn["src_type"], conn["target_type"], conn["receptor"]
        s, d, _, _, g = connection_table(net, layout, conn)
        d_cell.append(s - net.gid_ranges[name][0] + cell_base[name])
        d_dst.append(d)
        d_g.append(g)
        d_f.append(np.full(len(s), net.cell_types[ct].receptor(rec).factor))
        d_widx.append(np.full(len(s), index[f"{name}.weights_{rec}.{ct}"]))
        d_didx.append(np.full(len(s), index[f"{name}.synaptic_delays.{ct}"]))
    d_dst = cat(d_dst, int)
    zero, one = len(names), len(names) + 1  # the constants appended to theta
    loc, scale, nspk, gauss, together = [], [], [], [], []
    for name in active:
        drv, n = net.external_drives[name], len(net.gid_ranges[name])
        timing = [index[f"{name}.{k}"] for k in TIMING[drv["type"]]]
        loc += [timing[0] if timing else zero] * n
        scale += [timing[1] if len(timing) > 1 else one] * n
        is_gauss = drv["type"] in ("evoked", "gaussian")
        nspk += [int(drv["dynamics"]["numspikes"]) if is_gauss else NO_LIMIT] * n
        gauss += [is_gauss] * n
        together += [is_gauss or (drv["type"] == "bursty" and drv["dynamics"]["burst_std"] == 0)] * n
    nspk, gauss = np.array(nspk, int), np.array(gauss, bool)
    max_spikes = int(nspk[gauss].max(initial=1))
    events_per_step = _events_per_step(cat(d_cell, int), cat(d_g, float), cat(d_didx, int),
                                       np.append(values, [0.0, 1.0]), np.array(loc, int),
                                       np.array(together, bool), dt)
    layers = tuple(layout.types.index(t) for t in ("L2_pyramidal", "L5_pyramidal"))
    order, chunk_group, chunk_start, chunk_count = chunk_table(c_grp.ravel(), len(groups),
                                                               chunk_width)
    pad = lambda a, v: np.append(a, v).astype(type(v))  # one inert chunk / connection
    cell_g0 = np.searchsorted(groups[:, 0], np.arange(n_cells + 1))  # np.unique sorted the groups
    arrays = GradNet(
        types=types, c_dst=pad(dst[keep][order], 0), c_w=pad(w[keep][order], 0.0),
        chunk_group=pad(chunk_group, 0), chunk_start=pad(chunk_start, 0),
        chunk_count=pad(chunk_count, 0),
        g_delay=groups[:, 1], cell_g0=cell_g0,
        g_chunk0=np.searchsorted(chunk_group, np.arange(len(groups) + 1)),
        cell_max_delay=cell_max_delay,
        g_tau=groups[:, 2:].reshape(-1, 2),
        d_cell=cat(d_cell, int), d_dst=d_dst, d_g=cat(d_g, float), d_f=cat(d_f, float),
        d_tau=site_tau[d_dst] if len(d_dst) else np.zeros((0, 2)),
        d_widx=cat(d_widx, int), d_didx=cat(d_didx, int),
        cell_loc=np.array(loc, int), cell_scale=np.array(scale, int), cell_nspk=nspk,
        cell_gauss=gauss, threshold=net.threshold,
        spike_slots=spike_slots, max_spikes=max_spikes,
        events_per_step=events_per_step, dipole_layers=layers, chunk_width=chunk_width,
        capacity=capacity, bisections=int(np.diff(cell_g0).max(initial=0)).bit_length())
    return cast_floats(arrays, dtype), names, values, n_steps


def grow(gn: GradNet):
    """The same model with twice the room (after an overflow): drive events
    and local-connection chunks per step, spikes in flight per cell."""
    return dataclasses.replace(gn, events_per_step=2 * gn.events_per_step,
                               capacity=2 * gn.capacity, spike_slots=2 * gn.spike_slots)


def forward_mode(gn: GradNet):
    """The same model for forward mode (``jax.jvp``, ``jax.jacfwd``): the
    tree solve's, row sums' and rate tables' derivative rules for tangents, and ``run``
    without checkpoints (forward mode keeps no trajectory: memory O(state ×
    tangents)).  Such a model has no reverse mode."""
    ruled = lambda x: isinstance(x, (RowSums, RateTable))
    switch = lambda x: dataclasses.replace(x, forward_mode=True) if ruled(x) else x
    types = tuple(dataclasses.replace(jax.tree_util.tree_map(switch, ta, is_leaf=ruled),
                                      forward_mode=True) for ta in gn.types)
    return dataclasses.replace(gn, types=types, forward_mode=True)


def _bucket(n):
    return 1 << max(4, int(math.ceil(math.log2(max(n, 1)))))


def _events_per_step(d_cell, d_g, d_didx, theta, cell_loc, together, dt):
    """Room for drive events per step: twice the most events that share a
    step when the cells of the drives that fire ``together`` (evoked: at mu;
    bursty without jitter: at tstart) do so, or one cell of another drive
    (Poisson, spike train, jittered bursts) fires; overflow is reported."""
    if len(d_cell) == 0:
        return 16
    sel = together[d_cell]
    step = np.ceil((theta[cell_loc][d_cell] + theta[d_didx] / d_g) / dt).astype(int).clip(0)
    most = np.bincount(step[sel]).max(initial=0)
    if not sel.all():
        one_cell = np.unique(np.column_stack([d_cell, step])[~sel], axis=0, return_counts=True)[1]
        most = max(most, one_cell.max())
    return _bucket(2 * int(most))


def _site_taus(net, layout):
    """(n_syn, 2) tau1, tau2 (ms) of every flat synapse index."""
    out = np.zeros((layout.n_syn_total, 2))
    for t in layout.types:
        ct, n = net.cell_types[t], layout.n_cells[t]
        for site, (_, rec) in enumerate(ct.synapses):
            s = layout.syn_off[t] + site * n
            out[s:s + n] = (ct.receptor(rec).tau1, ct.receptor(rec).tau2)
    return out


PAD = -1e9  # z of a spike slot a cell does not use: its time falls before 0 ms


def draw_z(gn: GradNet, key, dtype=jnp.float64):
    """Standard-normal draws of one trial, (n_drive_cells, max_spikes), for a
    model whose drives are all evoked (other drives' times come from
    hnn-core's sampler: ``z_from_times``)."""
    if not np.all(np.asarray(gn.cell_gauss)):
        raise ValueError("draw_z draws evoked drives only; this model has poisson, bursty "
                         "or spike-train drives: use z_from_times (fit.trial_draws)")
    return jax.random.normal(key, (gn.cell_gauss.shape[0], gn.max_spikes), dtype)


def z_from_times(net, gn: GradNet, trial_times):
    """The z that reproduce given drive spike times (e.g. hnn-core's, from
    ``instantiate_drives``): (t - loc)/scale per drive cell and spike, at the
    current loc (mu, tstart or 0) and scale (sigma or 1); as many spike
    slots as the longest train needs (at least ``max_spikes``)."""
    theta = np.append(drive_parameters(net)[1], [0.0, 1.0])
    loc = theta[np.asarray(gn.cell_loc)]
    scale = theta[np.asarray(gn.cell_scale)]
    gids = [g for name in _active_drives(net) for g in net.gid_ranges[name]]
    trains = [np.asarray(trial_times.get(g, []), float) for g in gids]
    width = max([gn.max_spikes] + [len(t) for t in trains])
    z = np.full((len(gids), width), PAD)  # spikes hnn-core dropped (t <= 0) stay out
    for row, t in enumerate(trains):
        z[row, :len(t)] = (t - loc[row]) / scale[row] if scale[row] > 0 else 0.0
    return z


def drive_events(gn: GradNet, theta, z, dt, tstop):
    """One trial's drive events: arrival time T (ms), target, weight·factor and
    the delivery step ceil(T/dt), all differentiable but the step."""
    th = jnp.concatenate([theta, jnp.array([0.0, 1.0], theta.dtype)])  # the constants
    t = th[gn.cell_loc][:, None] + th[gn.cell_scale][:, None] * z  # (cells, spikes) ms
    slots = jnp.arange(z.shape[1])[None, :]
    live = (slots < gn.cell_nspk[:, None]) & (t > 0) & (t <= tstop)
    T = t[gn.d_cell] + (theta[gn.d_didx] / gn.d_g)[:, None]  # (Kd, spikes)
    w = (theta[gn.d_widx] * gn.d_g * gn.d_f)[:, None] * live[gn.d_cell]
    step = jnp.ceil(lax.stop_gradient(T) / dt).astype(jnp.int32)
    n_steps = int(round(tstop / dt))
    step = jnp.where(w != 0, step, n_steps + 1)
    shape = T.shape
    order = jnp.argsort(step.ravel())
    flat = lambda a: jnp.broadcast_to(a, shape).ravel()[order]
    dst = flat(gn.d_dst[:, None])
    tau = jnp.broadcast_to(gn.d_tau[:, None, :], shape + (2,)).reshape(-1, 2)[order]
    return step.ravel()[order], flat(T), dst, flat(w), tau


def run(gn: GradNet, theta, z, n_steps, dt, chunk=None, skip_idle=False, batch_axis=None,
        quiet_first=False):
    """Integrate one trial with drive draws ``z`` (``draw_z``, ``z_from_times``), reverse
    mode through a two-level checkpointed scan (``chunk`` steps, default
    ~√n_steps; none for a ``forward_mode`` model).  Returns the raw L2/L5
    dipoles (n_steps, 2), fA·m, at t_1..t_n, the spike count per cell, and
    whether a step had more events than room for them (then rerun with
    ``grow(gn)``).  ``skip_idle``,
    ``batch_axis``: see ``delivery.ContinuousDelivery``.  ``quiet_first``
    (one trial of a ``forward_mode`` model, not under ``vmap``): the steps
    before the first drive event run without tangents
    (``integrate.integrate_quiet_first``)."""
    ev_step, ev_T, ev_dst, ev_w, ev_tau = drive_events(gn, theta, z, dt, n_steps * dt)
    ptr = jnp.searchsorted(ev_step, jnp.arange(n_steps + 1), side="left")
    delivery = ContinuousDelivery(gn, ptr, ev_T, ev_dst, ev_w, ev_tau, dt, skip_idle, batch_axis)
    if quiet_first:
        first = jnp.min(ev_step, initial=n_steps)  # events past the window: none acts
        dip, count, busy = integrate_quiet_first(gn.types, delivery, gn.threshold, gn.dipole_layers,
                                                 n_steps, dt, first)
    else:
        checkpoint = None if gn.forward_mode else chunk or checkpoint_chunk(n_steps)
        spikes, dip, _, busy = integrate(gn.types, delivery, gn.threshold, gn.dipole_layers,
                                         n_steps, dt, checkpoint=checkpoint)
        count = spikes.sum(axis=0, dtype=jnp.int32)
    overflow = (jnp.max(ptr[1:] - ptr[:-1]) > gn.events_per_step) | busy
    return dip, count, overflow
