"""Spike histogram and raster plots of a simulated cell response.

Behaviour follows hnn-core 0.6.1's ``plot_spikes_hist`` /
``plot_spikes_raster``: spikes are grouped by spike type (drive names such
as 'evprox1', cell types such as 'L5_pyramidal'), counts are summed over
the selected trials, and time is in ms.

``cell_response`` needs ``spike_times``, ``spike_gids``, ``spike_types``
(lists over trials of per-spike sequences) and ``times`` (ms); the raster
also uses ``gid_ranges`` (cell type -> range of gids) when present.
"""
import numbers
from itertools import cycle

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from .._checks import check_number
from ..cells.cell_types import CELL_TYPES

_HIST_COLORS = ('r', 'g', 'b', 'y', 'm', 'c')


def _show(show):
    if show and plt.get_backend().lower() != 'agg':
        plt.show()


def _trial_list(cell_response, trial_idx):
    """Selected trial indices, checked against the number of trials."""
    n = len(cell_response.spike_times)
    if trial_idx is None:
        return list(range(n))
    idx = ([trial_idx] if isinstance(trial_idx, numbers.Integral)
           else list(trial_idx))
    bad = [i for i in idx if isinstance(i, (bool, np.bool_))
           or not isinstance(i, numbers.Integral) or not 0 <= i < n]
    if bad:
        raise ValueError(f'trial_idx must be an int or list of ints in '
                         f'0..{n - 1}; got {trial_idx!r}')
    return idx


def _gather(per_trial, idx, dtype):
    """Concatenate the per-trial sequences of the selected trials."""
    parts = [np.asarray(per_trial[i], dtype=dtype) for i in idx]
    return np.concatenate(parts) if parts else np.array([], dtype=dtype)


def _t_end(cell_response, spike_times):
    if len(cell_response.times) > 0:
        return float(cell_response.times[-1])
    if len(spike_times) > 0:
        return float(spike_times.max())
    raise ValueError('cell_response has neither times nor spikes to plot')


def _spike_labels(present, spike_types):
    """Map each present spike type to its legend label (prefix matching)."""
    if spike_types is None:
        inputs = [t for t in present if t not in CELL_TYPES]
        spike_types = inputs or list(present)
    if isinstance(spike_types, str):
        spike_types = {spike_types: [spike_types]}
    elif isinstance(spike_types, (list, tuple)):
        spike_types = {s: [s] for s in spike_types}
    if not isinstance(spike_types, dict):
        raise ValueError('spike_types must be a str, a list of str, a dict '
                         f'label -> list of str, or None; got {spike_types!r}')
    labels = {}
    for label, prefixes in spike_types.items():
        if not isinstance(prefixes, (list, tuple)):
            raise ValueError(f'spike_types[{label!r}] must be a list of str; '
                             f'got {prefixes!r}')
        for prefix in prefixes:
            found = [t for t in present if t.startswith(prefix)]
            if not found:
                raise ValueError(f'spike_types: no spike type starts with '
                                 f'{prefix!r}; present: {list(present)}')
            for t in found:
                if t in labels:
                    raise ValueError(f'spike_types: {t!r} is matched more '
                                     'than once; groups must not overlap')
                labels[t] = label
    return labels


def _label_colors(labels, color):
    """Colour per label: default cycle, one colour, a list cycled, or a dict."""
    if isinstance(color, dict):
        missing = [lab for lab in labels if lab not in color]
        if missing:
            raise ValueError(f'color dict has no entry for {missing}')
        return {lab: color[lab] for lab in labels}
    if color is None:
        colors = cycle(_HIST_COLORS)
    elif isinstance(color, str):
        colors = cycle([color])
    elif isinstance(color, (list, tuple)) and color:
        colors = cycle(color)
    else:
        raise ValueError('color must be None, a str, a non-empty list of str '
                         f'or a dict label -> str; got {color!r}')
    return {lab: next(colors) for lab in labels}


def plot_spikes_hist(cell_response, trial_idx=None, ax=None, spike_types=None,
                     color=None, bin_width=None, show=True, invert_spike_types=None,
                     **kwargs_hist):
    """Histogram of spike counts over time, one series per spike type/group.

    spike_types: None (all drive types, or all cell types if there are no
    drive spikes), a prefix str ('ev' groups evdist*/evprox*), a list of
    prefixes (one series each) or a dict label -> list of prefixes.
    color: None, a str, a list of str (cycled) or a dict label -> str.
    bin_width: bin width in ms; None uses hnn-core's 50 bin edges from 0 to
    the end of the simulation. invert_spike_types: a label or list of labels
    of those series drawn hanging from the top, on a mirrored axis of the
    same counts (hnn-core's way to set, e.g., distal against proximal
    drives). Returns the figure.
    """
    idx = _trial_list(cell_response, trial_idx)
    times = _gather(cell_response.spike_times, idx, float)
    types = _gather(cell_response.spike_types, idx, str)
    labels = _spike_labels([str(t) for t in np.unique(types)], spike_types)
    label_order = list(dict.fromkeys(labels.values()))
    colors = _label_colors(label_order, color)
    t_end = _t_end(cell_response, times)
    if bin_width is None:
        bins = np.linspace(0, t_end, 50)
    else:
        width = check_number('bin_width', bin_width, gt=0, unit=' ms')
        bins = np.arange(0, t_end + width, width)

    inverted = _inverted_labels(invert_spike_types, label_order)

    if ax is None:
        _, ax = plt.subplots(1, 1, constrained_layout=True)
    mirror = ax.twinx() if inverted else None
    for label in label_order:
        members = [t for t, lab in labels.items() if lab == label]
        (mirror if label in inverted else ax).hist(
            times[np.isin(types, members)], bins, label=label, color=colors[label], **kwargs_hist)
    ax.set_xlim(0, t_end)
    ax.set_xlabel('Time (ms)')
    ax.set_ylabel('Counts')
    legend_ax = ax
    if mirror is not None:  # the same scale both ways, the mirrored one hanging from the top
        top = max(ax.get_ylim()[1], mirror.get_ylim()[1])
        ax.set_ylim(0, top)
        mirror.set_ylim(top, 0)
        mirror.set_ylabel('Counts (inverted)')
        legend_ax = mirror
    handles = [h for a in (ax, mirror) if a is not None for h in a.get_legend_handles_labels()[0]]
    if handles:
        legend_ax.legend(handles=handles, loc='upper left' if mirror is not None else 'best')
    _show(show)
    return ax.get_figure()


def _inverted_labels(invert_spike_types, label_order):
    """The labels of ``invert_spike_types`` (a str or list of them), each
    one of the plotted series ``label_order``."""
    if invert_spike_types is None:
        return []
    inverted = [invert_spike_types] if isinstance(invert_spike_types, str) else invert_spike_types
    if not isinstance(inverted, (list, tuple)) or not all(isinstance(t, str) for t in inverted):
        raise TypeError(f"invert_spike_types must be a str or a list of str; "
                        f"got {invert_spike_types!r}")
    unknown = [t for t in inverted if t not in label_order]
    if unknown:
        raise ValueError(f"invert_spike_types: {unknown} are not plotted series; "
                         f"the series are {label_order}")
    return list(inverted)


def plot_spikes_raster(cell_response, trial_idx=None, ax=None, show=True,
                       cell_types=None, colors=None, show_legend=True,
                       marker_size=1.0, dpl=None, overlay_dipoles=False):
    """Raster of spikes per cell (one row per gid, L2 at the top).

    cell_types: cell types to draw (default: the four model types).
    colors: None (matplotlib's cycle), a list (one per cell type) or a dict
    cell type -> colour. marker_size: tick length in rows (> 0).
    overlay_dipoles: also draw the L2 (dashed) and L5 (solid) dipoles of
    ``dpl`` (a Dipole, or a list of trials: their average), as hnn-core
    does, but on a second y axis in nAm rather than squeezed into the rows.
    Returns the figure.
    """
    if overlay_dipoles:
        dpl = _overlay_dipole(dpl)
    idx = _trial_list(cell_response, trial_idx)
    times = _gather(cell_response.spike_times, idx, float)
    gids = _gather(cell_response.spike_gids, idx, int)
    types = _gather(cell_response.spike_types, idx, str)
    cell_types = list(CELL_TYPES if cell_types is None else cell_types)
    unknown = [ct for ct in cell_types if ct not in CELL_TYPES]
    if unknown or not cell_types:
        raise ValueError(f'cell_types must be a non-empty list drawn from '
                         f'{CELL_TYPES}; got {cell_types!r}')
    palette = plt.rcParams['axes.prop_cycle'].by_key()['color']
    cell_colors = dict(zip(cell_types, cycle(palette)))
    if isinstance(colors, (list, tuple)):
        if len(colors) != len(cell_types):
            raise ValueError(f'colors must have one entry per cell type '
                             f'({len(cell_types)}); got {len(colors)}')
        cell_colors = dict(zip(cell_types, colors))
    elif isinstance(colors, dict):
        unknown = [ct for ct in colors if ct not in cell_types]
        if unknown:
            raise ValueError(f'colors: unknown cell type(s) {unknown}; '
                             f'accepted: {cell_types}')
        cell_colors.update(colors)
    elif colors is not None:
        raise ValueError('colors must be None, a list or a dict cell type -> '
                         f'colour; got {colors!r}')
    check_number('marker_size', marker_size, gt=0)

    if ax is None:
        _, ax = plt.subplots(1, 1, constrained_layout=True)
    handles = []
    for ct in cell_types:
        ct_gids = np.unique(gids[types == ct])
        label = f'{ct} Spikes'
        if len(ct_gids):
            ax.eventplot([times[gids == g] for g in ct_gids],
                         lineoffsets=-ct_gids, linelengths=marker_size,
                         color=cell_colors[ct])
        handles.append(Line2D([], [], color=cell_colors[ct], label=label))
    if overlay_dipoles:
        handles += _draw_dipoles(ax, dpl)
    if show_legend:
        ax.legend(handles=handles, loc='lower left', framealpha=0.25)

    gid_ranges = getattr(cell_response, 'gid_ranges', None) or {}
    drawn = [g for ct in cell_types for g in gid_ranges.get(ct, ())]
    if drawn:
        ax.set_ylim(-max(drawn) - 1, -min(drawn) + 1)
    ax.set_xlim(0, _t_end(cell_response, times))
    ax.set_xlabel('Time (ms)')
    ax.set_ylabel('Cell ID')
    ax.tick_params(axis='y', length=0, labelleft=False)
    ax.set_title('Raster Plot')
    _show(show)
    return ax.get_figure()


def _overlay_dipole(dpl):
    """The dipole to overlay: ``dpl`` or the average of its trials."""
    from ..dipole import Dipole, average_dipoles

    if dpl is None:
        raise ValueError("overlay_dipoles=True needs dpl: a Dipole or a list of them")
    trials = [dpl] if isinstance(dpl, Dipole) else dpl
    if not isinstance(trials, (list, tuple)) or not trials or not all(
            isinstance(d, Dipole) for d in trials):
        raise TypeError(f"dpl must be a Dipole or a non-empty list of Dipoles; got {dpl!r}")
    return trials[0] if len(trials) == 1 else average_dipoles(list(trials))


def _draw_dipoles(ax, dpl):
    """The L2 and L5 dipoles (nAm, times any scale applied) on a second y
    axis of ``ax``; their legend handles."""
    twin = ax.twinx()
    lines = [twin.plot(dpl.times, dpl.data[layer], color='grey', linewidth=1, linestyle=style,
                       label=f'{layer} Dipole')[0]
             for layer, style in (('L2', '--'), ('L5', '-'))]
    scale = '' if dpl.scale_applied == 1 else f' \u00d7 {dpl.scale_applied:g}'
    twin.set_ylabel(f'Dipole (nAm{scale})')
    ax.set_zorder(twin.get_zorder() + 1)  # spikes and legend above the dipoles
    ax.patch.set_visible(False)
    return lines
