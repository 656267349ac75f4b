"""Simulate a params file: trials, dipole text files and a summary figure.

The pieces (network from a params file, timed simulation, smoothing and
scaling, spike counts, figure panels) are reused by :mod:`.somato`.
"""
import inspect
import os
import time
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path

import numpy as np

from .._checks import check_int, check_nonzero, check_number, check_time_grid
from ..dipole import Dipole, average_dipoles
from ..io.params import params_path, read_params
from ..network.simulate import simulate_dipole
from ..network_models import add_erp_drives_to_jones_model, neymotin_2020_model
from ..viz.dipole import plot_dipole
from ..viz.spikes import CELL_TYPES, plot_spikes_hist
from .names import DTYPES, SHIPPED_PARAMS
from .outputs import default_out_dir, staged_outputs, write_dipole_text

OUTPUT_PATTERNS = ('dpl_*.txt', 'simulation.png')  # what a run writes
BIN_MS = 5.0  # width of the spike-histogram bins
# fixed per series, so that colours do not shift when a series is silent
SPIKE_COLORS = {'L2_basket': 'tab:red', 'L2_pyramidal': 'tab:green',
                'L5_basket': 'tab:blue', 'L5_pyramidal': 'tab:olive',
                'evprox': 'tab:red', 'evdist': 'tab:green'}


def check_positive(name, value, integer=False):
    """Raise unless ``value`` is a finite number > 0 (an int if
    ``integer``); ``name`` is the parameter named in the message."""
    if integer:
        check_int(name, value, ge=1)
    else:
        check_number(name, value, gt=0)


def check_times(tstop_ms, dt_ms):
    """Raise unless 0 < ``dt_ms`` <= ``tstop_ms`` (both in ms) with a whole
    number of steps."""
    check_time_grid(tstop_ms, dt_ms, names=('tstop_ms', 'dt_ms'))


def check_smoothing(smooth_ms, tstop_ms):
    """Raise ValueError unless 0 < ``smooth_ms`` <= ``tstop_ms``."""
    check_positive('smooth_ms', smooth_ms)
    if smooth_ms > tstop_ms:
        raise ValueError(f"smooth_ms ({smooth_ms:g} ms) must not exceed "
                         f"tstop_ms ({tstop_ms:g} ms)")


def check_dtype(dtype):
    """Raise ValueError unless ``dtype`` is 'float64' or 'float32'."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}; got {dtype!r}")


def check_scale(scale):
    """Raise unless ``scale`` is a finite, non-zero number."""
    check_nonzero('scale', scale)


def check_mesh_shape(mesh_shape):
    """Raise ValueError unless ``mesh_shape`` is two integers >= 1."""
    if len(tuple(mesh_shape)) != 2 or not all(
            isinstance(n, Integral) and not isinstance(n, bool) and n >= 1
            for n in mesh_shape):
        raise ValueError("mesh_shape must be two integers >= 1 (cells along "
                         f"x and y); got {mesh_shape!r}")
    return tuple(int(n) for n in mesh_shape)


def resolve_params(params):
    """Read ``params``: 'default' / 'N20' (shipped), a .json / .param path
    or a dict. Raises FileNotFoundError for a path that does not exist."""
    if isinstance(params, dict):
        return read_params(params)
    if not isinstance(params, (str, os.PathLike)):
        raise TypeError(f"params must be a shipped name ({', '.join(SHIPPED_PARAMS)}), a "
                        f".json / .param path or a dict; got {params!r}")
    if str(params) in SHIPPED_PARAMS:
        return read_params(params_path(str(params)))
    path = Path(params)
    if not path.is_file():
        raise FileNotFoundError(
            f"params file not found: {path} (give a .json or .param file, or "
            f"one of the shipped names {', '.join(SHIPPED_PARAMS)})")
    return read_params(path)


def build_network(params, *, erp_drives=False, params_drives=True,
                  mesh_shape=(10, 10)):
    """``neymotin_2020_model`` (hnn-core's ``jones_2009_model``) from
    ``params`` (see :func:`resolve_params`).

    ``params_drives`` adds the drives the params describe; ``erp_drives``
    adds the canonical ERP drives (evdist1, evprox1, evprox2).
    """
    net = neymotin_2020_model(resolve_params(params),
                              add_drives_from_params=params_drives,
                              mesh_shape=check_mesh_shape(mesh_shape))
    if erp_drives:
        clash = sorted({'evdist1', 'evprox1', 'evprox2'}
                       & set(net.external_drives))
        if clash:
            raise ValueError(
                f"erp_drives: the params file already defines {clash}; "
                "drop the ERP drives or the params' drives")
        add_erp_drives_to_jones_model(net)
    return net


def simulate_trials(net, tstop_ms, dt_ms=0.025, n_trials=1,
                    dtype='float64', progress=False):
    """``simulate_dipole`` timed; ``progress`` (a bar over the trials, a
    line while compiling) is passed on where supported.

    Returns (list of Dipole in nAm, wall time in s).
    """
    kwargs = {'dtype': dtype}
    if 'progress' in inspect.signature(simulate_dipole).parameters:
        kwargs['progress'] = progress
    start = time.perf_counter()
    dpls = simulate_dipole(net, tstop=tstop_ms, dt=dt_ms, n_trials=n_trials,
                           **kwargs)
    return dpls, time.perf_counter() - start


def postprocess(dpls, smooth_ms=None, scale=None):
    """Smooth (Hamming window, ms) then scale each trial, in place; None or
    0 skips a step. Returns the average Dipole."""
    for dpl in dpls:
        if smooth_ms:
            dpl.smooth(smooth_ms)
        if scale is not None:
            dpl.scale(scale)
    return average_dipoles(dpls)


def processing_note(smooth_ms, scale, scale_why=''):
    """'smoothed over 20 ms (Hamming window), scaled x12 (why)'."""
    smoothed = (f'smoothed over {smooth_ms:g} ms (Hamming window)'
                if smooth_ms else 'not smoothed')
    return f"{smoothed}, scaled x{scale:.6g}{f' ({scale_why})' * bool(scale_why)}"


def spikes_per_cell_type(cell_response):
    """Spike counts of each model cell type, summed over trials."""
    types = np.concatenate([np.asarray(t, dtype=str)
                            for t in cell_response.spike_types] or [[]])
    return {ct: int(np.sum(types == ct)) for ct in CELL_TYPES}


def plot_spike_panel(ax, cell_response, spike_types, title):
    """Spike histogram of ``spike_types`` (keys of ``SPIKE_COLORS``, used as
    prefixes; absent ones skipped), summed over trials, in ``BIN_MS`` bins,
    drawn as outlines so that overlapping series stay visible, with the
    legend in one row above the bars."""
    present = {str(t) for trial in cell_response.spike_types for t in trial}
    groups = [s for s in spike_types if any(t.startswith(s) for t in present)]
    plot_spikes_hist(cell_response, ax=ax, spike_types=groups,
                     color={group: SPIKE_COLORS[group] for group in groups},
                     bin_width=BIN_MS, show=False, histtype='step', lw=1.5)
    n_trials = len(cell_response.spike_times)
    trials = f'sum of {n_trials} trials' if n_trials > 1 else '1 trial'
    ax.set_ylabel(f'Spikes per {BIN_MS:g} ms\n({trials})')
    ax.set_title(title)
    if not groups:
        ax.text(0.5, 0.5, 'no spikes', transform=ax.transAxes,
                ha='center', va='center', color='0.4')
    else:  # one legend row above the tallest bar
        ax.set_ylim(0, 1.3 * ax.get_ylim()[1])
        ax.legend(loc='upper center', ncol=len(groups), fontsize='small')


def plot_simulation_figure(dpls, cell_response):
    """Two panels: the trials and their average dipole (nAm), and the
    histogram of output spikes by cell type. Returns the Figure."""
    import matplotlib.pyplot as plt

    if isinstance(dpls, Dipole) or not len(dpls):
        raise ValueError("dpls must be a non-empty list of Dipole")
    fig, axes = plt.subplots(2, 1, sharex=True, figsize=(7, 6),
                             constrained_layout=True)
    plot_dipole(dpls, ax=axes[0], average=True, show=False,
                label=f'mean of {len(dpls)} trial{"s" * (len(dpls) > 1)}')
    axes[0].axhline(0, color='k', ls=':', lw=0.8)
    axes[0].set_title('Aggregate current dipole (L2/3 + L5)' + ('; trials in grey' if len(dpls) > 1 else ''))
    axes[0].set_xlabel('')
    plot_spike_panel(axes[1], cell_response, CELL_TYPES,
                     'Output spikes by cell type')
    axes[1].set_xlim(dpls[0].times[0], dpls[0].times[-1])
    return fig


@dataclass
class SimulationResult:
    """What :func:`run_simulation` produced (paths, data, timings)."""

    dpls: list
    average: Dipole
    cell_response: object
    spike_counts: dict
    sim_time_s: float
    trial_files: list
    average_file: Path
    figure_file: Path


def run_simulation(params, *, tstop_ms=170.0, dt_ms=0.025, n_trials=1,
                   erp_drives=False, params_drives=True, out_dir=None,
                   dtype='float64', smooth_ms=None, scale=None,
                   mesh_shape=(10, 10), verbose=True):
    """Simulate ``params`` and write into ``out_dir`` (default
    ``hnnjax_out/simulate``): ``dpl_<k>_raw.txt``, trial k as simulated
    (k from 0); ``dpl_average.txt``, the mean of the trials each smoothed
    and scaled; ``simulation.png``. Files an earlier run left there are
    replaced once the run has finished (:mod:`.outputs`).

    ``smooth_ms`` / ``scale`` default to the params' ``dipole_smooth_win``
    and ``dipole_scalefctr``; 0 (smooth) or 1 (scale) turn them off.
    ``verbose`` shows progress and prints a summary. Returns a
    :class:`SimulationResult` (its paths are those in ``out_dir``).
    """
    import matplotlib.pyplot as plt

    check_times(tstop_ms, dt_ms)
    check_positive('n_trials', n_trials, integer=True)
    check_dtype(dtype)
    if out_dir is not None and not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"out_dir must be None, a str or a path; got {out_dir!r}")
    params = resolve_params(params)
    smooth_ms = params['dipole_smooth_win'] if smooth_ms is None else smooth_ms
    scale = params['dipole_scalefctr'] if scale is None else scale
    if smooth_ms:
        check_smoothing(smooth_ms, tstop_ms)
    check_scale(scale)
    net = build_network(params, erp_drives=erp_drives,
                        params_drives=params_drives, mesh_shape=mesh_shape)
    out_dir = Path(default_out_dir('simulate') if out_dir is None
                   else out_dir)
    trial_names = [f'dpl_{k}_raw.txt' for k in range(n_trials)]
    with staged_outputs(out_dir, OUTPUT_PATTERNS) as stage:
        dpls, sim_s = simulate_trials(net, tstop_ms, dt_ms, n_trials, dtype,
                                      progress=verbose)
        for k, (dpl, name) in enumerate(zip(dpls, trial_names)):
            write_dipole_text(dpl, stage / name,
                              f'trial {k} of {n_trials}, as simulated: not '
                              'smoothed, not scaled', f'{tstop_ms:g} ms, dt '
                              f'{dt_ms:g} ms, {dtype}')
        average = postprocess(dpls, smooth_ms, scale)
        write_dipole_text(average, stage / 'dpl_average.txt',
                          f'mean of {n_trials} trial'
                          f"{'s' * (n_trials > 1)}, each "
                          f'{processing_note(smooth_ms, scale)}',
                          f'{tstop_ms:g} ms, dt {dt_ms:g} ms, {dtype}')
        fig = plot_simulation_figure(dpls, net.cell_response)
        fig.savefig(stage / 'simulation.png', dpi=120)
        plt.close(fig)
    result = SimulationResult(
        dpls, average, net.cell_response,
        spikes_per_cell_type(net.cell_response), sim_s,
        [out_dir / name for name in trial_names],
        out_dir / 'dpl_average.txt', out_dir / 'simulation.png')
    if verbose:
        n_cells = {ct: len(net.gid_ranges[ct]) for ct in CELL_TYPES}
        _print_summary(result, n_cells, net.external_drives, tstop_ms, dt_ms,
                       dtype, smooth_ms, scale)
    return result


def _print_summary(result, n_cells, drives, tstop_ms, dt_ms, dtype,
                   smooth_ms, scale):
    n_trials = len(result.dpls)
    print(f"{sum(n_cells.values())} cells; drives: "
          f"{', '.join(drives) or 'none'}")
    print(f"simulated {n_trials} trial{'s' * (n_trials > 1)} of "
          f"{tstop_ms:g} ms (dt {dt_ms:g} ms, {dtype}) in "
          f"{result.sim_time_s:.1f} s")
    print(f"trial dipoles {processing_note(smooth_ms, scale)}, then "
          "averaged")
    print("spikes per cell type (all trials, mean rate per cell):")
    for ct, count in result.spike_counts.items():
        rate_hz = count / (n_cells[ct] * n_trials * tstop_ms * 1e-3)
        print(f"  {ct:<13} {count:6d}  ({rate_hz:.2f} Hz)")
    print(f"files in {result.figure_file.parent.resolve()}/: "
          f"dpl_<k>_raw.txt (k = 0..{n_trials - 1}), "
          f"{result.average_file.name}, {result.figure_file.name}")
