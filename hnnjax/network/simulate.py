"""``simulate_dipole``: all trials of a network in one compiled call."""
from __future__ import annotations

import dataclasses
import warnings

import equinox as eqx
import jax
import numpy as np

from ..dipole import Dipole
from ..drives.events import drive_event_times
from ..progress import bar, compile_notices
from .cell_response import CellResponse
from .compile import compile_network, stack_events, trial_events
from .kernel import run

_DTYPES = {"float64": np.float64, "float32": np.float32}
CPU_BATCH = 8  # trials per compiled call on a single CPU device (larger is no faster on 2 cores)


@eqx.filter_jit
def _run_trials(arrays, events, n_steps, dt):
    return jax.vmap(run, in_axes=(None, 0, None, None))(arrays, events, n_steps, dt)


def _padded_count(n, n_devices):
    """Trials actually run: a power of two up to 8, then a multiple of 8, and a
    multiple of the device count, so a new n_trials rarely needs a new compile."""
    b = 1 << int(np.ceil(np.log2(n))) if n <= 8 else int(np.ceil(n / 8) * 8)
    return int(np.ceil(b / n_devices) * n_devices)


def run_batch(arrays, per_trial_events, n_steps, dt, dtype):
    """Run a batch of trials in one compiled call, the trial axis sharded over
    all visible devices (a 1-D 'trials' mesh); padding trials are dropped."""
    devices = jax.devices()
    n = len(per_trial_events)
    padded = per_trial_events + [per_trial_events[0]] * (_padded_count(n, len(devices)) - n)
    events = stack_events(padded, n_steps, dtype)
    if len(devices) > 1:
        mesh = jax.sharding.Mesh(np.array(devices), ("trials",))
        shard = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("trials"))
        events = jax.device_put(events, shard)
    while True:
        *out, overflow = jax.device_get(_run_trials(arrays, events, n_steps, float(dt)))
        if not np.any(overflow):
            return jax.tree_util.tree_map(lambda a: a[:n], tuple(out))
        # more connection chunks were due in one step than the scatter holds:
        # rerun with twice the room (same sums in the same order)
        arrays = dataclasses.replace(arrays, capacity=2 * arrays.capacity)


def default_batch_size(n_trials):
    """Trials per compiled call: all of them when there are several devices
    or an accelerator (fill the devices), ``CPU_BATCH`` on one CPU device."""
    devices = jax.devices()
    return CPU_BATCH if len(devices) == 1 and devices[0].platform == "cpu" else n_trials


def _check_args(net, tstop, dt, n_trials, record_vsec, record_isec, record_ca, dtype):
    for name, val in (("tstop", tstop), ("dt", dt)):
        if not isinstance(val, (int, float)) or not np.isfinite(val) or val <= 0:
            raise ValueError(f"{name} must be a finite number > 0 (ms), got {val!r}")
    if dt > tstop:
        raise ValueError(f"dt ({dt} ms) must not exceed tstop ({tstop} ms)")
    if not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise ValueError(f"n_trials must be an integer >= 1, got {n_trials!r}")
    for name, val in (("record_vsec", record_vsec), ("record_ca", record_ca), ("record_isec", record_isec)):
        if val not in (False, "soma", "all"):
            raise ValueError(f"{name} must be False, 'soma' or 'all', got {val!r}")
    if record_isec:
        raise ValueError("record_isec is not supported by hnnjax yet; use record_isec=False")
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    for name, drive in net.external_drives.items():
        start = drive["dynamics"].get("tstart", drive["dynamics"].get("mu"))
        if drive["type"] in ("poisson", "bursty") and start is not None and start > tstop:
            raise ValueError(f"drive {name!r} starts at {start} ms, after tstop={tstop} ms")
    for ct, bias in net.external_biases["tonic"].items():
        if bias["t0"] > tstop:
            raise ValueError(f"tonic bias of {ct} starts at t0={bias['t0']} ms, after tstop={tstop} ms")


def instantiate_drives(net, tstop, n_trials):
    """Drive spike times for every trial, as hnn-core generates them; stored
    in ``drive['events'][trial][drive_cell]`` and returned as, per trial, a
    dict drive gid -> times (ms)."""
    target_of = _cell_specific_targets(net)
    per_trial = [dict() for _ in range(n_trials)]
    for name, drive in net.external_drives.items():
        drive["events"] = []
        gids = net.gid_ranges[name]
        for trial in range(n_trials):
            trains = drive_event_times(drive, trial, net._n_gids, tstop, target_of.get(name))
            drive["events"].append(trains)
            for gid, times in zip(gids, trains):
                per_trial[trial][gid] = np.asarray(times, dtype=float)
    return per_trial


def _cell_specific_targets(net):
    """drive name -> target cell type of each drive cell (cell-specific drives)."""
    out = {}
    for name, drive in net.external_drives.items():
        if not drive["cell_specific"]:
            continue
        types = [None] * drive["n_drive_cells"]
        first = net.gid_ranges[name][0]
        for conn in net.connectivity:
            if conn["src_type"] == name:
                for s in conn["gid_pairs"]:
                    types[s - first] = conn["target_type"]
        out[name] = types
    return out


def baseline_renormalize(times, l2_raw, l5_raw, n_pyr):
    """hnn-core's empirical resting-offset correction (fA·m), spec §8.3."""
    l2 = l2_raw - n_pyr * 0.0443
    l5_offset = np.where(times <= 37.0, -49.0502,
                         np.where(times < 750.0, 3.4770508e-3 * times - 51.231085,
                                  1.01e-4 * times - 48.412078))
    l5 = l5_raw - n_pyr * l5_offset
    return l2, l5


def simulate_dipole(net, tstop, dt=0.025, n_trials=None, record_vsec=False, record_isec=False,
                    record_ca=False, postproc=False, *, dtype="float64", batch_size=None,
                    progress=True):
    """Simulate ``n_trials`` trials of ``net`` in compiled, vmapped calls
    (sharded over devices when there are several).

    Parameters are hnn-core's: ``tstop`` and ``dt`` in ms; ``n_trials``
    defaults to ``params['N_trials']``; ``record_vsec``/``record_ca`` in
    False/'soma'/'all'.  ``dtype`` is 'float64' (NEURON-faithful) or
    'float32' (faster).  ``batch_size`` trials run per call: by default all
    of them on GPUs or several devices, 8 on one CPU device (see
    ``default_batch_size``); smaller bounds memory.  ``progress`` shows a bar
    over the trials and says when compiling takes long, both only once they
    have lasted 2 s (``hnnjax.progress``); False silences them.
    Returns a list of ``Dipole`` (nAm, baseline renormalised); spikes and
    traces go to ``net.cell_response``.
    """
    if n_trials is None:
        n_trials = int(net._params.get("N_trials", 1))
    _check_args(net, tstop, dt, n_trials, record_vsec, record_isec, record_ca, dtype)
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        raise ValueError(f"batch_size must be None or an integer >= 1, got {batch_size!r}")
    if postproc:
        warnings.warn("postproc is deprecated: smooth and scale the Dipole explicitly",
                      DeprecationWarning)
    if not net.connectivity:
        warnings.warn("No connections in the network", UserWarning)
    for drive in net.external_drives.values():
        if "tstop" in drive["dynamics"] and drive["dynamics"]["tstop"] is None:
            drive["dynamics"]["tstop"] = tstop
    np_dtype = _DTYPES[dtype]
    arrays, drive_tab, layout, rec_index, n_steps = compile_network(
        net, tstop, dt, np_dtype, record_vsec, record_ca)
    spikes_by_trial = instantiate_drives(net, tstop, n_trials)
    per_trial = [trial_events(drive_tab, sp, dt, n_steps) for sp in spikes_by_trial]
    size = batch_size or default_batch_size(n_trials)
    outs = []
    with compile_notices(progress), bar(total=n_trials, desc="trials", unit="trial",
                                        enabled=progress) as trials_done:
        for i in range(0, n_trials, size):
            outs.append(run_batch(arrays, per_trial[i:i + size], n_steps, dt, np_dtype))
            trials_done.update(min(size, n_trials - i))
    spikes, dip, rec = jax.tree_util.tree_map(lambda *a: np.concatenate(a), *outs)
    if not np.all(np.isfinite(dip)):
        raise FloatingPointError("the simulation produced NaN/inf (numerical instability); "
                                 "reduce dt or check weights and drives")

    times = np.arange(n_steps + 1) * dt
    n_pyr = net.mesh_shape[0] * net.mesh_shape[1]
    net.cell_response = CellResponse(times, net.gid_ranges)
    dpls = []
    for trial in range(n_trials):
        raw = np.zeros((n_steps + 1, 2))
        raw[1:] = dip[trial]
        l2, l5 = baseline_renormalize(times, raw[:, 0], raw[:, 1], n_pyr)
        data = np.stack([l2 + l5, l2, l5], axis=1) * 1e-6
        dpls.append(Dipole(times, data))
        _store_trial(net, layout, rec_index, spikes[trial], rec, trial, times, spikes_by_trial[trial], tstop)
    if postproc:
        for d in dpls:
            d.smooth(net._params["dipole_smooth_win"]).scale(net._params["dipole_scalefctr"])
    return dpls


def _store_trial(net, layout, rec_index, spikes, rec, trial, times, drive_spikes, tstop):
    steps, cells = np.nonzero(spikes)
    gids, sp_times = [], []
    for name in layout.types:
        off, n = layout.cell_off[name], layout.n_cells[name]
        sel = (cells >= off) & (cells < off + n)
        gids.append(cells[sel] - off + net.gid_ranges[name][0])
        sp_times.append(times[steps[sel]])
    for gid, t in drive_spikes.items():
        t = t[(t > 0) & (t <= tstop)]
        gids.append(np.full(len(t), gid))
        sp_times.append(t)
    vsec, ca = {}, {}
    for k, name in enumerate(layout.types):
        first = net.gid_ranges[name][0]
        vs, cs = rec_index[name]
        for col, (_, cell, sec) in enumerate(vs):
            vsec.setdefault(first + cell, {})[sec] = rec[k]["v"][trial, :, col]
        for col, (_, cell, sec) in enumerate(cs):
            ca.setdefault(first + cell, {})[sec] = rec[k]["ca"][trial, :, col]
    net.cell_response.add_trial(np.concatenate(sp_times), np.concatenate(gids), vsec, ca)
