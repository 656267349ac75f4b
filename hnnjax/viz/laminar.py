"""Laminar displays of electrode-array recordings: offset LFP traces and the
current source density against depth and time (hnn-core's
``plot_laminar_lfp`` / ``plot_laminar_csd``)."""
from __future__ import annotations

import numpy as np

from .._checks import check_option


def _decimated(trace, times, decim):
    from scipy.signal import decimate

    for q in [decim] if isinstance(decim, int) else list(decim):
        trace, times = decimate(trace, q), times[::q]
    return trace, times


def plot_laminar_lfp(times, data, contact_labels, tmin=None, tmax=None, ax=None, decim=None,
                     color="cividis", voltage_offset=50, voltage_scalebar=200, show=True):
    """One trace per contact of ``data`` ``(n_contacts, n_times)`` µV against
    ``times`` (ms), contact k shifted up by k·``voltage_offset`` µV and
    labelled with ``contact_labels`` (e.g. depths in µm); a vertical bar
    shows ``voltage_scalebar`` µV.  ``color``: a colormap name, a colour, or
    one colour per contact.  ``decim``: an int or list of ints applied with
    :func:`scipy.signal.decimate`."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import Colormap

    times, data = np.asarray(times, float), np.asarray(data, float)
    if data.ndim != 2:
        raise ValueError(f"data must be 2-D (n_contacts, n_times); got shape {data.shape}")
    if len(times) != data.shape[1]:
        raise ValueError(f"times has {len(times)} samples but data has {data.shape[1]}")
    if len(contact_labels) != data.shape[0]:
        raise ValueError(f"{len(contact_labels)} contact_labels for {data.shape[0]} contacts")
    n = data.shape[0]
    if isinstance(color, str) and color in plt.colormaps():
        color = plt.get_cmap(color, n)
    colors = ([color(k) for k in range(n)] if isinstance(color, Colormap)
              else list(color) if isinstance(color, np.ndarray) and np.ndim(color) == 2
              else [color] * n)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 1 + 0.5 * n), constrained_layout=True)
    offsets = np.arange(n) * (voltage_offset or 0.0)
    for k, trace in enumerate(data):
        t = times
        if decim is not None:
            trace, t = _decimated(trace, times, decim)
        ax.plot(t, trace + offsets[k], color=colors[k], lw=1)
    ax.set_xlim(times[0] if tmin is None else tmin, times[-1] if tmax is None else tmax)
    if voltage_offset:
        ax.set_yticks(offsets)
        ax.set_yticklabels([f"{c:g}" if isinstance(c, (int, float, np.number)) else str(c)
                            for c in contact_labels])
        ax.set_ylabel(f"Contact (traces {voltage_offset:g} µV apart)")
    else:
        ax.set_ylabel("Extracellular potential (µV)")
    if voltage_scalebar:
        x0 = ax.get_xlim()[0] + 0.02 * np.ptp(ax.get_xlim())
        y0 = offsets[-1] + (voltage_offset or 0.0)
        ax.plot([x0, x0], [y0, y0 + voltage_scalebar], color="k", lw=2)
        ax.text(x0, y0 + voltage_scalebar / 2, f"  {voltage_scalebar:g} µV", va="center")
    ax.set_xlabel("Time (ms)")
    if show:
        plt.show()
    return ax.get_figure()


def plot_laminar_csd(times, data, contact_labels, ax=None, colorbar=True, vmin=None, vmax=None,
                     interpolation="spline", sink="b", show=True):
    """Current source density ``data`` ``(n_contacts, n_times)`` as colour
    against time (ms) and contact (``contact_labels``, e.g. depths in µm),
    sinks blue (``sink='b'``) or red (``'r'``) on a scale symmetric about 0
    unless ``vmin``/``vmax`` are given; ``interpolation='spline'`` draws a
    bicubic spline of it on a 10x finer contact grid, None the data as is."""
    import matplotlib.pyplot as plt

    check_option("sink", sink, ("b", "blue", "r", "red"))
    check_option("interpolation", interpolation, ("spline", None))
    times, data = np.asarray(times, float), np.asarray(data, float)
    labels = np.asarray(contact_labels)
    if data.ndim != 2 or data.shape != (len(labels), len(times)):
        raise ValueError(f"data must be ({len(labels)} contacts, {len(times)} times); "
                         f"got shape {data.shape}")
    rows = np.arange(len(labels), dtype=float)
    if interpolation == "spline":
        from scipy.interpolate import RectBivariateSpline

        fine = np.linspace(0, len(labels) - 1, 10 * (len(labels) - 1) + 1)
        data = RectBivariateSpline(rows, times, data, kx=min(3, len(labels) - 1))(fine, times)
        rows = fine
    lim = np.abs(data).max() or 1.0
    vmin = -lim if vmin is None else vmin
    vmax = lim if vmax is None else vmax
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    mesh = ax.pcolormesh(times, rows, data, shading="auto", vmin=vmin, vmax=vmax,
                         cmap="RdBu_r" if sink in ("b", "blue") else "RdBu")
    ax.set_yticks(np.arange(len(labels)))
    ax.set_yticklabels([f"{c:g}" if np.issubdtype(labels.dtype, np.number) else str(c)
                        for c in labels])
    ax.set_xlabel("Time (ms)")
    ax.set_ylabel("Contact")
    if colorbar:
        ax.get_figure().colorbar(mesh, ax=ax, label="CSD (µV/µm², sinks < 0)")
    if show:
        plt.show()
    return ax.get_figure()
