"""hnn-core's median-nerve (S1) workflow: target waveform vs HNN simulation.

The target is the rh G_postcentral label time course of MNE's somato
dataset when a local copy exists, else the shipped S1 waveform, or on
request a label time course recovered from a synthetic MEG recording. The
simulation is :func:`hnnjax.network_models.somato_model` (N20 network, four
evoked drives), smoothed (20 ms) and scaled (x12) per trial, then averaged.
"""
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import mne
import numpy as np

from ..dipole import Dipole, read_waveform
from ..io.params import params_path
from ..network_models import (add_somato_drives_to_jones_model,
                              jones_2009_model, somato_model)
from ..source import (SomatoDataNotFoundError, label_dipole,
                      make_synthetic_meg, somato_target)
from ..source.somato import ENV_VAR, SHIPPED_S1
from ..viz.spikes import CELL_TYPES
from .simulate import (check_dtype, check_figure_path, check_mesh_shape,
                       check_positive, check_scale, check_smoothing,
                       check_times, plot_spike_panel, postprocess,
                       simulate_trials, write_average)

TARGETS = ('auto', 'somato', 'synthetic', 'waveform')
DRIVE_TYPES = ('evprox', 'evdist')
AMPLITUDE_RATIO = 10.0  # target/simulation peaks beyond it: separate y axes


def somato_network(mesh_shape=None):
    """:func:`somato_model`; a ``mesh_shape`` other than None builds the same
    network on a smaller grid (quick looks, tests)."""
    if mesh_shape is None:
        return somato_model()
    net = jones_2009_model(params_path('N20'),
                           mesh_shape=check_mesh_shape(mesh_shape))
    return add_somato_drives_to_jones_model(net)


def shipped_waveform_target(reason):
    """The shipped S1 waveform (nAm) as a target, with ``reason`` recorded."""
    dpl = read_waveform(str(SHIPPED_S1))
    dpl.info.update(target='waveform', reason=reason,
                    name=f'S1 waveform ({Path(str(SHIPPED_S1)).name})')
    return dpl


def _agg(dpl):
    """(times in ms, aggregate dipole in nAm) of a Dipole."""
    return dpl.times, dpl.data['agg']


def synthetic_target(*, n_trials=60, seed=0):
    """Label time course (nAm) of a synthetic MEG recording, offline.

    The shipped S1 waveform is injected as the total dipole of rh
    G_postcentral of a fake subject (:func:`hnnjax.source.make_synthetic_meg`,
    ``n_trials`` stimuli, noise ``seed``) and recovered with
    :func:`hnnjax.source.label_dipole`, the calls used on MNE's somato data.
    As there, the 'pca_flip' time course is much smaller than the total
    dipole (about 1/300 here): the scale hnn-core's x12 is chosen for.
    """
    with tempfile.TemporaryDirectory() as tmp_dir:
        sim = make_synthetic_meg(tmp_dir, read_waveform(str(SHIPPED_S1)),
                                 n_trials=n_trials, seed=seed)
        dpl = label_dipole(sim.raw_fname, sim.fwd_fname, sim.subjects_dir,
                           sim.subject, sim.label, hemi=sim.hemi,
                           parc=sim.parc)
    dpl.info.update(
        target='synthetic', name='synthetic MEG: MNE label time course',
        reason=(f'requested: a synthetic MEG recording ({n_trials} stimuli, '
                f'offline) of the shipped S1 waveform in {sim.hemi} '
                f'{sim.label}, through the MNE pipeline (label_dipole)'))
    return dpl


def somato_target_or_fallback(target='auto', data_path=None):
    """The target Dipole (nAm) for the somato workflow.

    Parameters
    ----------
    target : 'auto' | 'somato' | 'synthetic' | 'waveform'
        'auto': MNE's somato data if on disk, else the shipped S1 waveform;
        'somato': the data, or SomatoDataNotFoundError; 'synthetic': see
        :func:`synthetic_target`; 'waveform': the shipped S1 waveform.
    data_path : str | Path | None
        Local somato copy (``MNE-somato-data`` or its parent), for 'auto'
        and 'somato' only; None uses ``$MNE_DATASETS_SOMATO_PATH``.

    Returns
    -------
    dpl : Dipole
        ``info['target']`` says which target was used, ``info['reason']``
        why, ``info['name']`` is its legend entry.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}; got {target!r}")
    if data_path is not None and target not in ('auto', 'somato'):
        raise ValueError(f"data_path is only used with target 'auto' or "
                         f"'somato'; got target={target!r}")
    if target == 'waveform':
        return shipped_waveform_target("requested (target 'waveform')")
    if target == 'synthetic':
        return synthetic_target()
    try:
        dpl = somato_target(data_path)
    except SomatoDataNotFoundError:
        if target == 'somato':
            raise
        where = data_path or mne.get_config(ENV_VAR) or '~/mne_data'
        return shipped_waveform_target(
            f"MNE's somato dataset is not in {where}: point --data-path "
            f"(or {ENV_VAR}) at the folder holding MNE-somato-data/ to use it")
    dpl.info.update(
        target='somato', name=f"MNE label time course ({dpl.info['label']})",
        reason=f"MNE somato dataset found in {dpl.info['data_path']}")
    return dpl


def _common_grid(target, dpl):
    """Target samples within ``dpl``'s time span and ``dpl`` interpolated
    (linearly) on them: (times in ms, target nAm, dpl nAm)."""
    times, values = _agg(target)
    common = (times >= dpl.times[0]) & (times <= dpl.times[-1])
    if not common.any():
        raise ValueError(
            f"target ({times[0]:g}-{times[-1]:g} ms) and dpl "
            f"({dpl.times[0]:g}-{dpl.times[-1]:g} ms) do not overlap in time")
    return times[common], values[common], np.interp(times[common], *_agg(dpl))


def target_rmse(target, dpl):
    """RMSE (nAm) between ``target`` and ``dpl`` on the target's samples that
    lie within ``dpl``'s time span. Returns (rmse in nAm, number of samples).
    """
    _, target_nam, dpl_nam = _common_grid(target, dpl)
    return float(np.sqrt(np.mean((target_nam - dpl_nam) ** 2))), \
        target_nam.size


def amplitude_ratio(target, dpl):
    """Peak |target| / peak |dpl| (nAm) over their common time span."""
    _, target_nam, dpl_nam = _common_grid(target, dpl)
    peak = np.abs(dpl_nam).max()
    return float(np.abs(target_nam).max() / peak) if peak > 0 else np.inf


def _peak_gap(ratio):
    """'target peak 1,106x' or 'simulation peak 25x' (the larger of the
    two) from a ratio of peaks, target / simulation."""
    if ratio >= 1:
        return f"target peak {ratio:,.0f}x"
    return f"simulation peak {1 / ratio:,.0f}x"


def _plot_comparison(ax, target, average):
    """Panel (b): target and simulation (nAm), on separate y axes with
    aligned zeros if their peaks differ more than ``AMPLITUDE_RATIO``-fold."""
    sim_label = (f'HNN simulation (mean of {average.nave}, '
                 f'x{average.scale_applied:g})')
    ax.axhline(0, color='k', ls=':', lw=0.8)
    lines = ax.plot(*_agg(target), 'r--', lw=1.5,
                    label=target.info.get('name', 'target'))
    ratio = amplitude_ratio(target, average)
    split = not 1 / AMPLITUDE_RATIO <= ratio <= AMPLITUDE_RATIO
    sim_ax = ax.twinx() if split else ax
    lines += sim_ax.plot(*_agg(average), 'k', lw=1.5, label=sim_label)
    if split:
        for this_ax, dpl, who, color in ((ax, target, 'Target', 'r'),
                                         (sim_ax, average, 'Simulation', 'k')):
            limit = 1.1 * np.abs(dpl.data['agg']).max() or 1.0
            this_ax.set_ylim(-limit, limit)
            this_ax.set_ylabel(f'{who} dipole (nAm)', color=color)
            this_ax.tick_params(axis='y', colors=color)
        ax.set_title('(b) Target vs simulation, separate y scales '
                     f'({_peak_gap(ratio)})')
    else:
        ax.set_ylabel('Current dipole (nAm)')
        ax.set_title('(b) Target vs simulation')
    ax.legend(lines, [line.get_label() for line in lines], loc='best',
              fontsize='small')


def plot_somato_figure(cell_response, average, target):
    """hnn-core's somato figure, three panels sharing time (ms).

    (a) drive spikes (evprox*, evdist*), (b) the target and the average
    simulated dipole (nAm; on separate y axes if their amplitudes differ
    more than tenfold), (c) output spikes by cell type. Returns the Figure.
    """
    import matplotlib.pyplot as plt

    if not isinstance(average, Dipole) or not isinstance(target, Dipole):
        raise ValueError("average and target must be Dipole instances")
    fig, axes = plt.subplots(3, 1, sharex=True, figsize=(7, 8),
                             constrained_layout=True)
    plot_spike_panel(axes[0], cell_response, DRIVE_TYPES,
                     '(a) Drive spikes (evoked inputs)')
    _plot_comparison(axes[1], target, average)
    plot_spike_panel(axes[2], cell_response, CELL_TYPES,
                     '(c) Output spikes by cell type')
    for ax in axes[:2]:
        ax.set_xlabel('')
    axes[2].set_xlabel('Time (ms)')
    axes[2].set_xlim(average.times[0], average.times[-1])
    return fig


@dataclass
class SomatoResult:
    """What :func:`run_somato` produced (data, scores, paths, timings)."""

    target: Dipole
    dpls: list
    average: Dipole
    cell_response: object
    rmse_nam: float
    sim_time_s: float
    total_time_s: float
    figure_file: Path
    dipole_file: Path


def run_somato(n_trials=25, out='somato.png', target='auto', data_path=None,
               dtype='float64', *, tstop_ms=170.0, dt_ms=0.025,
               smooth_ms=20.0, scale=12.0, mesh_shape=None, verbose=True):
    """Run the somato workflow end to end and write its figure.

    Target (see :func:`somato_target_or_fallback`), ``n_trials`` trials of
    :func:`somato_network` in one ``simulate_dipole`` call, each smoothed
    (``smooth_ms``) and scaled (``scale``), their average, the figure of
    :func:`plot_somato_figure` at ``out`` and the average dipole beside it
    (``<out stem>_dpl.txt``). ``verbose`` prints which target was used and
    why, run times and the RMSE. Returns a :class:`SomatoResult`.
    """
    import matplotlib.pyplot as plt

    start = time.perf_counter()
    check_positive('n_trials', n_trials, integer=True)
    check_times(tstop_ms, dt_ms)
    check_smoothing(smooth_ms, tstop_ms)
    check_scale(scale)
    check_dtype(dtype)
    figure_file = check_figure_path(out)
    dipole_file = figure_file.with_name(f'{figure_file.stem}_dpl.txt')
    figure_file.parent.mkdir(parents=True, exist_ok=True)
    target_dpl = somato_target_or_fallback(target, data_path)
    log = print if verbose else (lambda *args: None)
    log(f"target: {target_dpl.info['name']}\n"
        f"  why: {target_dpl.info['reason']}")

    net = somato_network(mesh_shape)
    n_cells = sum(len(net.gid_ranges[ct]) for ct in CELL_TYPES)
    log(f"simulating {n_trials} trial{'s' * (n_trials > 1)} of "
        f"{tstop_ms:g} ms: {n_cells} cells, drives "
        f"{', '.join(net.external_drives)} ({dtype})")
    dpls, sim_s = simulate_trials(net, tstop_ms, dt_ms, n_trials, dtype,
                                  progress=verbose)
    average = postprocess(dpls, smooth_ms, scale)
    rmse, n_common = target_rmse(target_dpl, average)

    fig = plot_somato_figure(net.cell_response, average, target_dpl)
    fig.savefig(figure_file, dpi=120)
    plt.close(fig)
    write_average(average, dipole_file)
    result = SomatoResult(target_dpl, dpls, average, net.cell_response, rmse,
                          sim_s, time.perf_counter() - start, figure_file,
                          dipole_file)
    log(f"simulation: {sim_s:.1f} s ({sim_s / n_trials:.1f} s per trial); "
        f"dipoles smoothed over {smooth_ms:g} ms, scaled x{scale:g}")
    log(f"RMSE target vs simulation: {rmse:.3g} nAm over {n_common} target "
        f"samples within {average.times[0]:g}-{average.times[-1]:g} ms")
    ratio = amplitude_ratio(target_dpl, average)
    if not 1 / AMPLITUDE_RATIO <= ratio <= AMPLITUDE_RATIO:
        log(f"  note: {_peak_gap(ratio)} the other's, so the RMSE mostly "
            "measures that gap and the figure draws them on separate y "
            f"axes; x{scale:g} suits MNE label time courses, a total-dipole "
            "waveform needs a larger scale")
    log(f"wrote {figure_file} and {dipole_file}")
    log(f"total run time: {result.total_time_s:.1f} s")
    return result
