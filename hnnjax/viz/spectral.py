"""Spectra of dipole time courses: power spectral density and Morlet
time-frequency power, as hnn-core 0.6.1's ``plot_psd`` and ``plot_tfr_morlet``.

The PSD is SciPy's Hamming-windowed periodogram (no averaging over time:
simulations are short); the time-frequency power is MNE's
``tfr_array_morlet``.  Several dipoles (trials) give the mean of their powers.
"""
import numpy as np

from .._checks import check_number, check_option
from .dipole import _decimate, _show

_PADDINGS = ('zeros', 'mirror')


def _dipole_list(dpl, layer):
    """``dpl`` as a non-empty list of Dipole with the same scale_applied and
    sfreq (Hz), each holding ``layer``."""
    from ..dipole import Dipole

    dpls = [dpl] if isinstance(dpl, Dipole) else (
        list(dpl) if isinstance(dpl, (list, tuple)) else [])
    if not dpls or not all(isinstance(d, Dipole) for d in dpls):
        raise ValueError("dpl must be a Dipole or a non-empty list of Dipole")
    check_option('layer', layer, ('agg', 'L2', 'L5'))
    for idx, d in enumerate(dpls):
        if d.scale_applied != dpls[0].scale_applied:
            raise ValueError(f"dpl[{idx}] has scale_applied={d.scale_applied}, dpl[0] has "
                             f"{dpls[0].scale_applied}; all dipoles must be scaled equally")
        if d.sfreq != dpls[0].sfreq:
            raise ValueError(f"dpl[{idx}] is sampled at {d.sfreq:g} Hz, dpl[0] at "
                             f"{dpls[0].sfreq:g} Hz; all dipoles must be sampled equally")
        if layer not in d.data:
            raise ValueError(f"layer {layer!r} is not in dpl[{idx}] (which has {list(d.data)})")
    return dpls


def _time_window(dpl, layer, tmin, tmax):
    """(data nAm, times ms) of ``layer`` with tmin <= t < tmax (hnn-core's
    half-open window; None is the data's own edge)."""
    for name, value in (('tmin', tmin), ('tmax', tmax)):
        if value is not None:
            check_number(name, value, unit=' ms')
    lo = dpl.times[0] if tmin is None else max(tmin, dpl.times[0])
    hi = dpl.times[-1] if tmax is None else min(tmax, dpl.times[-1])
    mask = (dpl.times >= lo) & (dpl.times < hi)
    if mask.sum() < 2:
        raise ValueError(f"tmin={tmin} ms and tmax={tmax} ms leave {mask.sum()} sample(s) of "
                         f"the dipole ({dpl.times[0]:g}-{dpl.times[-1]:g} ms); need at least 2")
    return dpl.data[layer][mask], dpl.times[mask]


def _power_label(scale):
    return 'nAm' if scale == 1 else f'[nAm$\\times$ {scale:.0f}]'


def psd(dpl, *, tmin=None, tmax=None, layer='agg'):
    """(freqs Hz, power nAm²/Hz): the mean over ``dpl`` of each trial's
    Hamming-windowed periodogram of ``layer`` in [tmin, tmax) ms."""
    from scipy.signal import periodogram

    dpls = _dipole_list(dpl, layer)
    powers = []
    for trial in dpls:
        data, _ = _time_window(trial, layer, tmin, tmax)
        freqs, power = periodogram(data, trial.sfreq, window='hamming', nfft=len(data))
        powers.append(power)
    if len({p.size for p in powers}) > 1:
        raise ValueError("the dipoles in dpl have different lengths within tmin-tmax; "
                         "their spectra cannot be averaged")
    return freqs, np.mean(powers, axis=0)


def tfr_morlet(dpl, freqs, *, n_cycles=7.0, tmin=None, tmax=None, layer='agg', decim=None,
               padding='zeros'):
    """(times ms, power nAm², shape (n_freqs, n_times)): the mean over
    ``dpl`` of each trial's Morlet power (MNE ``tfr_array_morlet``).

    ``padding`` 'zeros' or 'mirror' extends the trace by its length minus one
    sample on both sides before the transform (then cut back), so the
    wavelets see no edge inside the window; None pads nothing.  The
    wavelets are not made zero-mean (``zero_mean=False``, the default of the
    MNE version hnn-core 0.6.1 vendors; MNE's own default is now True).
    """
    from mne.time_frequency import tfr_array_morlet

    dpls = _dipole_list(dpl, layer)
    freqs = np.asarray(freqs, dtype=float)
    if freqs.ndim != 1 or freqs.size == 0 or not np.all(freqs > 0):
        raise ValueError(f"freqs must be a 1-D array of frequencies > 0 Hz; got {freqs!r}")
    if padding is not None:
        check_option('padding', padding, _PADDINGS)
    powers = []
    for trial in dpls:
        data, times = _time_window(trial, layer, tmin, tmax)
        sfreq = trial.sfreq
        if decim is not None:
            data, times = _decimate(decim, data, times)
            sfreq = trial.sfreq / np.prod(decim)
        n = len(data)
        if padding == 'zeros':
            data = np.concatenate([np.zeros(n - 1), data, np.zeros(n - 1)])
        elif padding == 'mirror':
            data = np.concatenate([data[-1:0:-1], data, data[-2::-1]])
        power = tfr_array_morlet(data[None, None, :], sfreq=sfreq, freqs=freqs,
                                 n_cycles=n_cycles, zero_mean=False, output='power')[0, 0]
        powers.append(power[:, n - 1:2 * n - 1] if padding is not None else power)
    return times, np.mean(powers, axis=0)


def plot_psd(dpl, *, fmin=0, fmax=None, tmin=None, tmax=None, layer='agg', color=None,
             label=None, ax=None, show=True):
    """Plot the power spectral density (nAm²/Hz) of dipole time courses.

    Parameters
    ----------
    dpl : Dipole | list of Dipole
        Several dipoles (trials) plot the mean of their periodograms, close
        to Welch's method over trials.
    fmin, fmax : float | None
        x-axis limits in Hz (applied when ``fmax`` is given; default: up to
        Nyquist).
    tmin, tmax : float | None
        Data window in ms, ``tmin <= t < tmax`` (default: all of it).
    layer : 'agg' | 'L2' | 'L5'
    color, label : line colour and legend entry.
    ax : matplotlib Axes | None
        Where to draw; a new figure if None.
    show : bool
        Show the figure (skipped on non-interactive backends such as Agg).

    Returns
    -------
    fig : matplotlib Figure
    """
    import matplotlib.pyplot as plt

    freqs, power = psd(dpl, tmin=tmin, tmax=tmax, layer=layer)
    scale = _dipole_list(dpl, layer)[0].scale_applied
    if ax is None:
        _, ax = plt.subplots(1, 1, constrained_layout=True)
    ax.plot(freqs, power, color=color, label=label)
    if label:
        ax.legend()
    if fmax is not None:
        ax.set_xlim(check_number('fmin', fmin, ge=0, unit=' Hz'),
                    check_number('fmax', fmax, gt=fmin, unit=' Hz'))
    ax.ticklabel_format(axis='both', scilimits=(-2, 3))
    ax.set_xlabel('Frequency (Hz)')
    ax.set_ylabel(f'Power spectral density\n({_power_label(scale)}$^2 \\ Hz^{{-1}}$)',
                  multialignment='center')
    _show(show)
    return ax.get_figure()


def plot_tfr_morlet(dpl, freqs, *, n_cycles=7.0, tmin=None, tmax=None, layer='agg',
                    decim=None, padding='zeros', ax=None, colormap='inferno', colorbar=True,
                    colorbar_inside=False, show=True):
    """Plot the Morlet time-frequency power (nAm²) of dipole time courses.

    Parameters
    ----------
    dpl : Dipole | list of Dipole
        Several dipoles (trials): the power of each, then their mean.
    freqs : array
        Frequencies in Hz (> 0).
    n_cycles : float | array
        Wavelet cycles, one number or one per frequency.
    tmin, tmax : float | None
        Window in ms, ``tmin <= t < tmax`` (default: all of it).
    layer : 'agg' | 'L2' | 'L5'
    decim : int | list of int | None
        Decimation factor(s) (:func:`scipy.signal.decimate`) before the transform.
    padding : 'zeros' | 'mirror' | None
        How the trace is extended beyond the window (see :func:`tfr_morlet`).
    ax : matplotlib Axes | None
        Where to draw; a new figure if None.
    colormap : str
        A matplotlib colormap name.
    colorbar, colorbar_inside : bool
        Add a colorbar; put it inside the top right of the heatmap.
    show : bool
        Show the figure (skipped on non-interactive backends such as Agg).

    Returns
    -------
    fig : matplotlib Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import ScalarFormatter

    times, power = tfr_morlet(dpl, freqs, n_cycles=n_cycles, tmin=tmin, tmax=tmax,
                              layer=layer, decim=decim, padding=padding)
    scale = _dipole_list(dpl, layer)[0].scale_applied
    if ax is None:
        _, ax = plt.subplots(1, 1, constrained_layout=True)
    freqs = np.asarray(freqs, dtype=float)
    im = ax.pcolormesh(times, freqs, power, cmap=colormap, shading='auto')
    if freqs[0] > freqs[-1]:
        ax.invert_yaxis()
    ax.set_xlabel('Time (ms)')
    ax.set_ylabel('Frequency (Hz)')
    if colorbar:
        fig = ax.get_figure()
        fmt = ScalarFormatter()
        fmt.set_powerlimits((-2, 2))
        label = f'Power ({_power_label(scale)}$^2$)'
        if colorbar_inside:
            pos = ax.get_position()
            cax = fig.add_axes([pos.x0 + 0.9 * pos.width, pos.y0 + 0.8 * pos.height,
                                0.04 * pos.width, 0.15 * pos.height])
            cbar = fig.colorbar(im, cax=cax, format=fmt)
            cbar.ax.set_ylabel(label, rotation=-90, va='bottom', fontsize=6, color='w')
            cbar.ax.tick_params(direction='in', labelsize=6, labelcolor='w', colors='w')
            cbar.ax.yaxis.offsetText.set_fontsize(6)
        else:
            cbar = fig.colorbar(im, ax=ax, format=fmt, shrink=0.8, pad=0)
            cbar.ax.set_ylabel(label, rotation=-90, va='bottom')
        cbar.ax.yaxis.set_ticks_position('left')
    _show(show)
    return ax.get_figure()
