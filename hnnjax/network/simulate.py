"""``simulate_dipole``: all trials of a network in one compiled call."""
from __future__ import annotations

import dataclasses
import math
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed

import jax
import numpy as np

from .. import _host
from .._checks import (check_bool, check_int, check_memory, check_nonzero, check_number,
                       check_option, check_time_grid)
from .._jit import jit
from ..cells.cell_types import CELL_TYPES
from ..dipole import Dipole
from ..drives.events import drive_trains
from ..progress import bar, compile_notices
from . import split
from .cell_response import CellResponse
from .compile import compile_network, drive_events, spike_table
from .grid import initial_carries, run
from .integrate import skips_idle_steps
from .network import Network

_DTYPES = {"float64": np.float64, "float32": np.float32}
# On one CPU device: trials per compiled call, and one call in flight per core.  A call
# keeps about one core busy; two calls of 4 trials at once run 1.15x (float64) and 1.40x
# (float32) the trials per second of one call of 8 on 2 cores, and two calls of 2 1.03-1.10x
# those of two calls of 4 (benchmarks/bench_batch_plan.py, interleaved; a smaller batch has
# more steps with no network event due in any of its trials, which it skips).
CPU_BATCH = 2


@jit(static_argnums=(2, 3))
def _run_trials(arrays, trials, n_steps, dt):
    """The trials in one call: (packed spikes, raw dipoles, traces,
    overflow) per trial (``grid.run``).  ``trials``: their ``Events``, or
    (``Events``, channel values) where each trial also has membrane-channel
    parameters of its own (``NetArrays.with_channel_values``' argument, a
    leading trial axis)."""
    events, values = trials if isinstance(trials, tuple) else (trials, None)

    def one(trial_events, carry0, trial_values):
        cells = arrays if trial_values is None else arrays.with_channel_values(trial_values)
        return run(cells, trial_events, n_steps, dt, skip_idle=skips_idle_steps(),
                   batch_axis="trials", carry0=carry0, pack_spikes=True)
    carry0 = initial_carries(arrays, events.ptr.shape[0], values)
    return jax.vmap(one, axis_name="trials")(events, carry0, values)


def _trial_count(trials):
    """Trials in ``trials`` (``Events`` or (``Events``, channel values))."""
    return (trials[0] if isinstance(trials, tuple) else trials).ptr.shape[0]


def _padded_count(n, n_devices):
    """Trials actually run: a power of two up to 8, then a multiple of 8, and a
    multiple of the device count, so a new n_trials rarely needs a new compile."""
    b = 1 << int(np.ceil(np.log2(n))) if n <= 8 else int(np.ceil(n / 8) * 8)
    return int(np.ceil(b / n_devices) * n_devices)


def _take(trials, idx):
    """The trials ``idx`` of batched ``Events`` (or (``Events``, channel values)), host arrays."""
    return jax.tree_util.tree_map(lambda a: np.asarray(a)[idx], trials)


def _run_padded(arrays, trials, n_steps, dt):
    """One compiled call on ``trials`` (``_run_trials``), padded (with copies
    of trial 0) to a count that reuses compiled code and shards evenly over
    the visible devices (a 1-D 'trials' mesh); padding trials are dropped."""
    devices = jax.devices()
    n = _trial_count(trials)
    idx = np.concatenate([np.arange(n), np.zeros(_padded_count(n, len(devices)) - n, int)])
    batch = _take(trials, idx)
    if len(devices) > 1:
        mesh = jax.sharding.Mesh(np.array(devices), ("trials",))
        batch = jax.device_put(batch, jax.sharding.NamedSharding(
            mesh, jax.sharding.PartitionSpec("trials")))
    out = jax.device_get(_run_trials(arrays, batch, n_steps, float(dt)))
    return jax.tree_util.tree_map(lambda a: a[:n], out)


def run_batch(arrays, trials, n_steps, dt):
    """Run ``trials`` (``_run_trials``' argument, a leading trial axis) in
    one compiled call.  Trials whose network events overflowed the room
    for connection chunks in some step are rerun alone, with twice the room,
    until none does (the sums are the same, in the same order).  Returns
    (spikes packed 8 cells to a byte, dipoles, traces) and the arrays with
    the room that sufficed."""
    *out, overflow = jax.tree_util.tree_map(np.array, _run_padded(arrays, trials, n_steps, dt))
    while np.any(overflow):
        idx = np.flatnonzero(overflow)
        arrays = dataclasses.replace(arrays, capacity=2 * arrays.capacity)
        *redo, overflow = _run_padded(arrays, _take(trials, idx), n_steps, dt)
        for full, part in zip(jax.tree_util.tree_leaves(out), jax.tree_util.tree_leaves(redo)):
            full[idx] = part
    return tuple(out), arrays


def default_batch_size(n_trials):
    """Trials per compiled call: all of them on GPUs or several devices; on
    one CPU device ``CPU_BATCH``, fewer where that would leave a core idle."""
    if not _host.one_cpu_device():
        return n_trials
    return max(1, min(CPU_BATCH, math.ceil(n_trials / _host.usable_cores())))


def _check_args(net, tstop, dt, n_trials, record_vsec, record_isec, record_ca, dtype, batch_size):
    """All of ``simulate_dipole``'s argument checks, before anything compiles;
    returns (tstop, dt, n_trials) as Python numbers."""
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network; got {type(net).__name__}")
    tstop, dt, n_steps = check_time_grid(tstop, dt, partial_step=True)
    n_trials = check_int("n_trials", n_trials, ge=1)
    for name, val in (("record_vsec", record_vsec), ("record_ca", record_ca), ("record_isec", record_isec)):
        check_option(name, val, (False, "soma", "all"))
    check_option("dtype", dtype, tuple(_DTYPES))
    if batch_size is not None:
        check_int("batch_size", batch_size, ge=1)
    _check_drive_timing(net, tstop)
    n_cells = {ct: len(net.gid_ranges[ct]) for ct in CELL_TYPES}
    n_traces = sum(n * (len(net.cell_types[ct].section_names) if rec == "all" else 1)
                   for ct, n in n_cells.items()
                   for rec in (record_vsec, record_ca if ct == "L5_pyramidal" else False) if rec)
    n_traces += sum(n * sum(1 for sec, _ in net.cell_types[ct].synapses
                            if record_isec == "all" or sec == "soma")
                    for ct, n in n_cells.items() if record_isec)
    n_traces += sum(a.n_contacts for a in net.rec_arrays.values())
    itemsize = np.dtype(_DTYPES[dtype]).itemsize
    # per trial and step: the spike raster (bits), 2 dipoles, traces, event pointer
    per_step = -(-sum(n_cells.values()) // 8) + (2 + n_traces) * itemsize + 4
    check_memory(n_trials * (n_steps + 1) * per_step,
                 f"a run of {n_trials} trial(s) x {n_steps + 1} steps "
                 f"(tstop={tstop:g} ms, dt={dt:g} ms)",
                 "shorten tstop, coarsen dt, record less or run fewer trials")
    return tstop, dt, n_trials


def _check_drive_timing(net, tstop):
    """Drives and biases must start within the run and have finite
    dynamics (ValueError); a drive with synapses whose spikes all fall
    outside (0, tstop] ms gets a warning."""
    for name, drive in net.external_drives.items():
        dyn = drive["dynamics"]
        for key, value in dyn.items():  # set by hand after add_*_drive, or by a fit
            values = list(value.values()) if isinstance(value, dict) else value
            if value is not None and not np.all(np.isfinite(np.asarray(values, float))):
                raise ValueError(f"drive {name!r}: dynamics[{key!r}] = {value!r} is not finite")
        if drive["type"] in ("poisson", "bursty") and dyn["tstart"] > tstop:
            raise ValueError(f"drive {name!r} starts at tstart={dyn['tstart']:g} ms, after "
                             f"tstop={tstop:g} ms")
        if drive["type"] in ("evoked", "gaussian"):
            spread = 4 * dyn["sigma"]
            silent = dyn["mu"] + spread <= 0 or dyn["mu"] - spread > tstop
            why = f"mu={dyn['mu']:g} ms ± 4 sigma={spread:g} ms lies outside it"
        elif drive["type"] == "spike_train":
            silent = not any(0 < t <= tstop for t in dyn["times"])
            why = f"all {len(dyn['times'])} spike times lie outside it"
        elif drive["type"] == "poisson":
            silent = dyn["tstop"] is not None and dyn["tstop"] <= dyn["tstart"]
            why = f"its window tstart={dyn['tstart']:g} ms to tstop={dyn['tstop']} ms is empty"
        else:
            silent = False
        weighted = any(drive[f"weights_{r}"].get(ct) for r in ("ampa", "nmda") for ct in CELL_TYPES)
        if silent and weighted:  # HNN's files switch drives off with zero weights and late times
            warnings.warn(f"drive {name!r} cannot fire within the run (0-{tstop:g} ms): {why}",
                          UserWarning, stacklevel=4)
    for ct, bias in net.external_biases["tonic"].items():
        if bias["t0"] > tstop:
            raise ValueError(f"tonic bias of {ct} starts at t0={bias['t0']:g} ms, after "
                             f"tstop={tstop:g} ms")


def instantiate_drives(net, tstop, n_trials, first_trial=0):
    """Drive spike times of hnn-core's trials ``first_trial`` to ``first_trial
    + n_trials - 1``, as hnn-core generates them; stored in
    ``drive['events'][k][drive_cell]`` (k from 0) and returned as, per trial,
    a dict drive gid -> times (ms)."""
    target_of = _cell_specific_targets(net)
    per_trial = [dict() for _ in range(n_trials)]
    for name, drive in net.external_drives.items():
        drive["events"] = drive_trains(drive, range(first_trial, first_trial + n_trials), net._n_gids,
                                       tstop, target_of.get(name))
        gids = net.gid_ranges[name]
        for trial, trains in zip(per_trial, drive["events"]):
            trial.update(zip(gids, trains))  # float arrays (ms)
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
                    record_ca=False, postproc=False, verbose=True, *, dtype="float64",
                    batch_size=None, progress=True, first_trial=0):
    """Simulate ``n_trials`` trials of ``net`` in compiled, vmapped calls
    (sharded over devices when there are several; on one CPU device, one
    call per core at once, and a lone trial in two parts of its cells, one
    per core, ``network/split.py``: the same spikes, its dipole summed in
    another order, within 1e-12 of its peak of the same trial run whole).

    Parameters are hnn-core's: ``tstop`` and ``dt`` in ms; ``n_trials``
    defaults to ``params['N_trials']``; ``record_vsec``/``record_isec``/``record_ca`` in
    False/'soma'/'all'.  ``dtype`` is 'float64' (NEURON-faithful) or
    'float32' (faster).  ``batch_size`` trials run per call: by default all
    of them on GPUs or several devices; on one CPU device up to 2, one call
    per core at once (``default_batch_size``, ``_host.calls_at_once``); smaller
    bounds memory.  ``progress`` shows a bar over the trials and says when
    compiling takes long, both only once they have lasted 2 s
    (``hnnjax.progress``); False silences them.  ``verbose`` prints what
    runs and how long it took.  ``first_trial``: the list's
    trial k draws its drives as hnn-core's trial ``first_trial + k`` does
    (default 0, as hnn-core), so trials beyond a first run come in later runs.
    Returns a list of ``Dipole`` (nAm, baseline renormalised); spikes and
    traces go to ``net.cell_response``.
    """
    if n_trials is None and isinstance(net, Network):
        n_trials = check_int("params['N_trials'] (used as n_trials=None)",
                             net._params.get("N_trials", 1), ge=1, integral_float=True)
    tstop, dt, n_trials = _check_args(net, tstop, dt, n_trials, record_vsec, record_isec,
                                      record_ca, dtype, batch_size)
    check_bool("postproc", postproc)
    check_bool("progress", progress)
    first_trial = check_int("first_trial", first_trial, ge=0)
    if check_bool("verbose", verbose):
        print(f"hnnjax: simulating {n_trials} trial(s) of {tstop:g} ms (dt={dt:g} ms, {dtype})")
        start = time.perf_counter()
    if postproc:
        warnings.warn("postproc is deprecated: smooth and scale the Dipole explicitly",
                      DeprecationWarning)
        # checked now, not after the run: smooth() needs 0 < window <= tstop, scale() a factor != 0
        check_number("params['dipole_smooth_win'] (postproc=True)",
                     net._params["dipole_smooth_win"], gt=0, le=tstop, unit=" ms")
        check_nonzero("params['dipole_scalefctr'] (postproc=True)", net._params["dipole_scalefctr"])
    if not net.connectivity:
        warnings.warn("No connections in the network", UserWarning)
    np_dtype = _DTYPES[dtype]
    arrays, drive_tab, layout, rec_index, n_steps = compile_network(
        net, tstop, dt, np_dtype, record_vsec, record_ca, capacity=net._delivery_capacity,
        record_isec=record_isec)
    spikes_by_trial, events = prepare_events(net, drive_tab, tstop, dt, n_steps, n_trials, np_dtype,
                                            first_trial)
    out, arrays = run_events(arrays, events, n_steps, dt, batch_size, progress)
    net._delivery_capacity = arrays.capacity  # the room this network needed, for the next run
    dpls = store_results(net, layout, rec_index, out, spikes_by_trial, tstop, dt, n_steps, postproc)
    if verbose:
        print(f"hnnjax: done in {time.perf_counter() - start:.1f} s")
    return dpls


def prepare_events(net, drive_tab, tstop, dt, n_steps, n_trials, np_dtype, first_trial=0):
    """Drive spike times of every trial (hnn-core's draws of its trials from
    ``first_trial`` on; a Poisson or bursty drive without tstop stops at
    ``tstop`` ms) and their ``Events`` (leading trial axis).  Returns
    (spikes_by_trial, events)."""
    for drive in net.external_drives.values():
        if "tstop" in drive["dynamics"] and drive["dynamics"]["tstop"] is None:
            drive["dynamics"]["tstop"] = tstop
    spikes_by_trial = instantiate_drives(net, tstop, n_trials, first_trial)
    return spikes_by_trial, drive_events(drive_tab, spikes_by_trial, dt, n_steps, np_dtype)


def split_plan(arrays, n_trials, n_steps):
    """How a lone trial's two parts of cells, each advanced on a core of its
    own, exchange their spikes (``split.Exchange``), or None to run it whole:
    one trial on one CPU device, where one call would leave a core idle, and
    a network that ``split.exchange_plan`` can split."""
    if n_trials != 1 or not _host.one_cpu_device():
        return None
    return split.exchange_plan(arrays, n_steps, _host.usable_cores())


def run_events(arrays, events, n_steps, dt, batch_size=None, progress=False, at_once=None):
    """All trials of ``events`` (or (``Events``, channel values): each trial
    with membrane-channel parameters of its own, ``_run_trials``) in
    compiled calls of ``batch_size`` trials (default:
    ``default_batch_size``), ``at_once`` calls at the same time (default:
    ``_host.calls_at_once``), with a progress bar; a lone trial on a CPU
    runs in two parts of its cells (``split_plan``; not one with channel
    values of its own).  A call starts with the most delivery room an
    earlier call needed.  Returns the outputs (packed spikes, raw dipoles,
    traces) with a leading trial axis and the arrays with the delivery room
    that sufficed."""
    n_trials = _trial_count(events)
    size = batch_size or default_batch_size(n_trials)
    plan = None if isinstance(events, tuple) else split_plan(arrays, n_trials, n_steps)
    room = {"arrays": arrays}
    lock, stop = threading.Lock(), threading.Event()

    def call(first):
        with lock:
            start = room["arrays"]
        trials = _take(events, np.arange(first, min(first + size, n_trials)))
        if plan:
            out, grown = split.run_trial(start, trials, n_steps, dt, plan, stop)
        else:
            out, grown = run_batch(start, trials, n_steps, dt)
        with lock:
            if grown.capacity > room["arrays"].capacity:
                room["arrays"] = grown
        return out

    pool = ThreadPoolExecutor(at_once or _host.calls_at_once(), thread_name_prefix="hnnjax-trials")
    with compile_notices(progress), bar(total=n_trials, desc="trials", unit="trial",
                                        enabled=progress) as trials_done:
        try:
            futures = [pool.submit(call, first) for first in range(0, n_trials, size)]
            for f in as_completed(futures):
                trials_done.update(len(f.result()[1]))  # a call's error is raised here
        finally:  # on an error or Ctrl-C, calls not yet started are dropped (a split trial stops)
            stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
    outs = [f.result() for f in futures]  # in trial order
    if len(outs) == 1:  # one call (a GPU's): its outputs are not copied
        return outs[0], room["arrays"]
    return jax.tree_util.tree_map(lambda *a: np.concatenate(a), *outs), room["arrays"]


def store_results(net, layout, rec_index, out, spikes_by_trial, tstop, dt, n_steps, postproc=False):
    """The trials' outputs as hnn-core returns them: a list of ``Dipole``
    (nAm, baseline renormalised; ``postproc``: smoothed and scaled by the
    params' ``dipole_smooth_win`` and ``dipole_scalefctr``) and
    ``net.cell_response`` (spikes, traces)."""
    spikes, dip, rec = out
    if not np.all(np.isfinite(dip)):
        raise FloatingPointError("the simulation produced NaN/inf (numerical instability); "
                                 "reduce dt or check weights and drives")
    times = np.arange(n_steps + 1) * dt
    _store_electrodes(net, rec, times)
    n_pyr = net.mesh_shape[0] * net.mesh_shape[1]
    net.cell_response = CellResponse(list(net.cell_types), times=times, gid_ranges=net.gid_ranges)
    raw = np.zeros((len(spikes_by_trial), n_steps + 1, 2))
    raw[:, 1:] = dip
    l2, l5 = baseline_renormalize(times, raw[..., 0], raw[..., 1], n_pyr)  # every trial at once
    data = np.stack([l2 + l5, l2, l5], axis=-1) * 1e-6
    dpls = []
    for trial in range(len(spikes_by_trial)):
        dpls.append(Dipole(times, data[trial]))
        _store_trial(net, layout, rec_index, spikes[trial], rec, trial, times, spikes_by_trial[trial], tstop)
        if postproc:
            dpls[-1].smooth(net._params["dipole_smooth_win"]).scale(net._params["dipole_scalefctr"])
    return dpls


def _store_electrodes(net, rec, times):
    """Each electrode array's potentials (µV): the cell types' shares summed
    (the initial state's, 0, at t = 0, as hnn-core records them)."""
    if not net.rec_arrays:
        return
    lfp = sum(np.asarray(r["lfp"], float) for r in rec).transpose(0, 2, 1)  # (trials, contacts, times)
    first = 0
    for array in net.rec_arrays.values():
        array._record(times, lfp[:, first:first + array.n_contacts])
        first += array.n_contacts


def spike_steps_and_cells(packed):
    """Each spike's step and cell in a trial's packed raster (steps x
    ⌈n_cells/8⌉ bytes, ``np.packbits`` order, the last byte's spare bits 0),
    in ``np.nonzero``'s order of the unpacked raster; only the nonzero bytes
    are unpacked (a 1,000-trial somato run's rasters are 230 MB packed,
    nearly all zeros)."""
    flat = np.ascontiguousarray(packed).reshape(-1)
    n8 = flat.size // 8 * 8  # scanned 8 bytes at a time: np.flatnonzero costs per element
    words = np.flatnonzero(flat[:n8].view(np.uint64))
    near = np.concatenate([(words[:, None] * 8 + np.arange(8)).reshape(-1), np.arange(n8, flat.size)])
    nz = near[flat[near] != 0]
    rows, bits = np.nonzero(np.unpackbits(flat[nz][:, None], axis=1))
    steps, byte = np.divmod(nz[rows], packed.shape[1])
    return steps, byte * 8 + bits


def _store_trial(net, layout, rec_index, spikes, rec, trial, times, drive_spikes, tstop):
    steps, cells = spike_steps_and_cells(spikes)
    gids, sp_times = [], []
    for name in layout.types:
        off, n = layout.cell_off[name], layout.n_cells[name]
        sel = (cells >= off) & (cells < off + n)
        gids.append(cells[sel] - off + net.gid_ranges[name][0])
        sp_times.append(times[steps[sel]])
    _, g, t = spike_table([drive_spikes])  # all drive cells at once (1,045 in HNN's ERP file)
    keep = (t > 0) & (t <= min(tstop, times[-1] + 1e-9))  # a run may end before tstop
    gids.append(g[keep])
    sp_times.append(t[keep])
    vsec, ca, isec = {}, {}, {}
    for k, name in enumerate(layout.types):
        first = net.gid_ranges[name][0]
        vs, cs, js = rec_index[name]
        for col, (_, cell, sec) in enumerate(vs):
            vsec.setdefault(first + cell, {})[sec] = rec[k]["v"][trial, :, col]
        for col, (_, cell, sec) in enumerate(cs):
            ca.setdefault(first + cell, {})[sec] = rec[k]["ca"][trial, :, col]
        for col, (_, cell, sec, key) in enumerate(js):
            isec.setdefault(first + cell, {}).setdefault(sec, {})[key] = rec[k]["isec"][trial, :, col]
    net.cell_response.add_trial(np.concatenate(sp_times), np.concatenate(gids), vsec, ca, isec=isec)
