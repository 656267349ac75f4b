"""Plot dipole time courses (ms, nAm) like hnn-core's ``plot_dipole``."""
import colorsys

import numpy as np

from .._checks import check_number

_TITLES = {'agg': 'Aggregate (L2/3 + L5)', 'L2': 'L2/3', 'L5': 'L5'}


def _lighten(color, amount=0.5):
    """Blend ``color`` towards white (``amount`` 0: white, 1: unchanged)."""
    from matplotlib.colors import to_rgb

    hue, light, sat = colorsys.rgb_to_hls(*to_rgb(color))
    return colorsys.hls_to_rgb(hue, 1 - amount * (1 - light), sat)


def _decimate(decim, data, times):
    """Apply integer decimation factor(s) with anti-aliasing (scipy)."""
    from scipy.signal import decimate

    for factor in decim if isinstance(decim, (list, tuple)) else [decim]:
        if isinstance(factor, bool) \
                or not isinstance(factor, (int, np.integer)) or factor < 1:
            raise ValueError("decim must be a positive int or a list of "
                             f"positive ints; got {factor!r}")
        if factor > 1:
            data, times = decimate(data, factor), times[::factor]
    return data, times


def _show(show):
    """Show figures, except on the non-interactive Agg backend (tests)."""
    import matplotlib
    import matplotlib.pyplot as plt

    if show and matplotlib.get_backend().lower() != 'agg':
        plt.show()


def plot_dipole(dpl, tmin=None, tmax=None, ax=None, layer='agg', decim=None,
                color=None, label=None, average=False, show=True):
    """Plot dipole time courses (nAm) against time (ms).

    Parameters
    ----------
    dpl : Dipole | list of Dipole
        Dipoles to draw, all with the same ``scale_applied``.
    tmin, tmax : float | None
        Time limits of the x axis in ms (default: the data's span).
    ax : matplotlib Axes | list of Axes | None
        Where to draw, one Axes per layer; a new figure if None.
    layer : str | list of str
        'agg', 'L2' or 'L5' (or a list of them, one panel each).
    decim : int | list of int | None
        Decimation factor(s) applied with :func:`scipy.signal.decimate`.
    color : color | None
        Line colour; None uses matplotlib's cycle (black for the average).
    label : str | None
        Legend entry: of the average if ``average``, else of the first trace.
    average : bool
        If True, draw the dipoles lightly and their average on top.
    show : bool
        Show the figure (skipped on non-interactive backends such as Agg).

    Returns
    -------
    fig : matplotlib Figure
    """
    import matplotlib.pyplot as plt

    from ..dipole import Dipole, average_dipoles

    if isinstance(dpl, Dipole):
        dpls = [dpl]
    else:
        dpls = list(dpl) if isinstance(dpl, (list, tuple)) else []
    if not dpls or not all(isinstance(d, Dipole) for d in dpls):
        raise ValueError("dpl must be a Dipole or a non-empty list of Dipole")
    scale = dpls[0].scale_applied
    if any(d.scale_applied != scale for d in dpls):
        raise ValueError("all dipoles in dpl must have the same scale_applied")
    layers = list(layer) if isinstance(layer, (list, tuple)) else [layer]
    for name in layers:
        missing = [i for i, d in enumerate(dpls) if name not in d.data]
        if missing:
            raise ValueError(f"layer {name!r} is not in dpl[{missing[0]}] "
                             f"(which has {list(dpls[missing[0]].data)})")
    for name, value in (('tmin', tmin), ('tmax', tmax)):
        if value is not None:
            check_number(name, value, unit=' ms')
    if tmin is not None and tmax is not None and not tmin < tmax:
        raise ValueError(f"tmin ({tmin} ms) must be < tmax ({tmax} ms)")
    if ax is None:
        _, ax = plt.subplots(len(layers), 1, sharex=True, squeeze=False,
                             constrained_layout=True)
    axes = list(np.ravel(ax)) if isinstance(ax, (list, tuple, np.ndarray)) \
        else [ax]
    if len(axes) != len(layers):
        raise ValueError(f"ax has {len(axes)} Axes but layer names "
                         f"{len(layers)} layers; give one Axes per layer")

    mean = average_dipoles(dpls) if average else None
    for name, this_ax in zip(layers, axes):
        for idx, trial in enumerate(dpls):
            data, times = _decimate(decim, trial.data[name], trial.times) \
                if decim is not None else (trial.data[name], trial.times)
            if average:
                this_ax.plot(times, data, color=_lighten(color or 'k'),
                             alpha=0.5, lw=1.0)
            else:
                this_ax.plot(times, data, color=color, lw=1.0,
                             label=label if idx == 0 else None)
        if average:
            data, times = _decimate(decim, mean.data[name], mean.times) \
                if decim is not None else (mean.data[name], mean.times)
            this_ax.plot(times, data, color=color or 'k', lw=1.5,
                         label=label or 'average')
        t_all = np.concatenate([d.times for d in dpls])
        this_ax.set_xlim(t_all.min() if tmin is None else tmin,
                         t_all.max() if tmax is None else tmax)
        this_ax.set_xlabel('Time (ms)')
        this_ax.set_ylabel('Dipole (nAm)' if scale == 1
                           else f'Dipole (nAm $\\times$ {scale:g})')
        this_ax.set_title(_TITLES[name])
        if label is not None or average:
            this_ax.legend()
    _show(show)
    return axes[0].get_figure()
