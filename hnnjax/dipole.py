"""Current-dipole time courses (nAm) with hnn-core 0.6.1's ``Dipole`` API.

A :class:`Dipole` holds the aggregate dipole ('agg') and, for simulations, the
L2/3 and L5 contributions ('L2', 'L5'), sampled on a uniform grid in ms.  The
text format written by :meth:`Dipole.write` is hnn-core's, so files move
freely between the two packages.
"""
import os
import warnings
from copy import deepcopy

import numpy as np

from ._checks import check_array, check_int, check_nonzero, check_number

LAYERS = ('agg', 'L2', 'L5')
SHIPPED_MEG = os.path.join(os.path.dirname(__file__), 'data', 'meg')  # target waveforms
_LAYER_SETS = ({'agg'}, set(LAYERS))


def _float_array(name, values):
    """``values`` as a new float array; TypeError naming ``name`` if not numeric."""
    try:
        return np.array(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers (nAm); got "
                        f"{type(values).__name__}") from None


def _as_data_dict(data, n_times):
    """Normalise ``data`` (array or dict, nAm) to a dict of float arrays."""
    if isinstance(data, dict):
        if set(data) not in _LAYER_SETS:
            raise ValueError(
                "data dict keys must be {'agg'} or {'agg', 'L2', 'L5'}; "
                f"got {sorted(data)}")
        # hnn-core's layer order, so written files have agg, L2, L5 columns
        data = {key: _float_array(f"data[{key!r}]", data[key])
                for key in LAYERS if key in data}
    else:
        arr = _float_array('data', data)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] not in (1, 3):
            raise ValueError(
                "data must have shape (n_times,), (n_times, 1) or "
                f"(n_times, 3) (agg, L2, L5); got {arr.shape}")
        data = {key: arr[:, i] for i, key in enumerate(LAYERS[:arr.shape[1]])}
    for key, values in data.items():
        if values.shape != (n_times,):
            raise ValueError(
                f"data['{key}'] must have shape ({n_times},) to match times; "
                f"got {values.shape}")
    return data


class Dipole:
    """Current-dipole time courses (nAm) on a uniform time grid (ms).

    Parameters
    ----------
    times : array, shape (n_times,)
        Sample times in ms, strictly increasing; ``sfreq`` (Hz) is taken from
        the first step, as in hnn-core.
    data : array, shape (n_times,) or (n_times, 3) | dict
        Dipole moment in nAm. One column is the aggregate ('agg'); three are
        'agg', 'L2' and 'L5'. A dict must have those keys.
    nave : int
        Number of trials averaged into this dipole (>= 1).
    info : dict | None
        Free-form provenance (e.g. where a target waveform came from).

    Attributes
    ----------
    times, data, nave, info : as above (``data`` is a dict of arrays, nAm).
    sfreq : float
        Sampling frequency in Hz, ``1000 / (times[1] - times[0])``.
    scale_applied : float
        Product of all factors passed to :meth:`scale`.
    """

    def __init__(self, times, data, nave=1, *, info=None):
        times = check_array('times (ms)', times, min_size=2).copy()
        if not np.all(np.diff(times) > 0):
            raise ValueError("times (ms) must be strictly increasing")
        nave = check_int('nave', nave, ge=1)
        self.times = times
        self.data = _as_data_dict(data, times.size)
        self.nave = int(nave)
        self.sfreq = 1000.0 / (times[1] - times[0])
        self.scale_applied = 1
        self.info = {} if info is None else dict(info)

    def __repr__(self):
        return (f"<Dipole | {len(self.times)} samples, "
                f"{self.times[0]:g}-{self.times[-1]:g} ms, "
                f"layers {list(self.data)}, nave={self.nave}>")

    def copy(self):
        """Return an independent (deep) copy."""
        return deepcopy(self)

    def scale(self, factor):
        """Multiply all layers by ``factor`` in place; returns self.

        ``scale_applied`` accumulates the factors (shown in plot labels).
        """
        check_nonzero('factor', factor)
        for key in self.data:
            self.data[key] *= factor
        self.scale_applied *= factor
        return self

    def smooth(self, window_len):
        """Convolve every layer with a unit-sum Hamming window, in place.

        Parameters
        ----------
        window_len : float
            Window length in ms; it spans ``round(1e-3 * window_len * sfreq)``
            samples, which must be between 1 and ``len(times)``.

        Returns
        -------
        self : Dipole
        """
        from .utils import smooth_waveform

        for key in self.data:
            self.data[key] = smooth_waveform(self.data[key], window_len, self.sfreq)
        return self

    def savgol_filter(self, h_freq):
        """Savitzky-Golay smoothing (5th-order polynomial) in place.

        Parameters
        ----------
        h_freq : float
            Approximate high cutoff in Hz, ``0 < h_freq < sfreq / 2``; it sets
            the window to the odd number of samples nearest ``sfreq / h_freq``
            (rounded down to even, plus one), as in hnn-core.

        Returns
        -------
        self : Dipole
        """
        from scipy.signal import savgol_filter

        polyorder = 5
        check_number('h_freq', h_freq, gt=0, lt=self.sfreq / 2, unit=' Hz')
        n_win = (int(np.round(self.sfreq / h_freq)) // 2) * 2 + 1
        if not polyorder < n_win <= len(self.times):
            raise ValueError(
                f"h_freq={h_freq} Hz gives a {n_win}-sample window; it must "
                f"be between {polyorder + 1} and {len(self.times)} samples")
        for key in self.data:
            self.data[key] = savgol_filter(
                self.data[key], window_length=n_win, polyorder=polyorder)
        return self

    def write(self, fname, overwrite=True):
        """Write one of hnn-core's formats, by ``fname``'s extension.

        ``.txt``: tab-separated columns, time (ms, ``%3.3f``), then agg[, L2,
        L5] (nAm, ``%5.4f``); ``nave``, ``scale_applied`` and ``info`` are not
        stored.  ``.hdf5``: hnn-core's HDF5 file (``h5io``), every sample at
        full precision with ``nave``, ``sfreq`` and ``scale_applied``.
        """
        fname = _dipole_file(fname)
        if not overwrite and os.path.exists(fname):
            raise FileExistsError(
                f"{fname} exists; pass overwrite=True to replace it")
        if fname.endswith('.hdf5'):
            from h5io import write_hdf5

            write_hdf5(fname, dict(object_type='Dipole', times=self.times, sfreq=self.sfreq,
                                   nave=self.nave, data=self.data,
                                   scale_applied=self.scale_applied), overwrite=True)
            return
        if self.nave > 1:
            warnings.warn(f"Writing a Dipole that averages {self.nave} trials;"
                          " nave is not stored in the file")
        columns = np.column_stack([self.times, *self.data.values()])
        fmt = ['%3.3f'] + ['%5.4f'] * len(self.data)
        np.savetxt(fname, columns, fmt=fmt, delimiter='\t')

    def plot(self, tmin=None, tmax=None, layer='agg', decim=None, ax=None,
             color=None, label=None, show=True):
        """Plot one layer (or a list of layers); see :func:`plot_dipole`."""
        from .viz.dipole import plot_dipole

        return plot_dipole(self, tmin=tmin, tmax=tmax, ax=ax, layer=layer,
                           decim=decim, color=color, label=label, show=show)

    def plot_psd(self, fmin=0, fmax=None, tmin=None, tmax=None, layer='agg',
                 color=None, label=None, ax=None, show=True):
        """Plot the power spectral density (nAm²/Hz); see
        :func:`hnnjax.viz.plot_psd`."""
        from .viz.spectral import plot_psd

        return plot_psd(self, fmin=fmin, fmax=fmax, tmin=tmin, tmax=tmax,
                        layer=layer, color=color, label=label, ax=ax, show=show)

    def plot_tfr_morlet(self, freqs, n_cycles=7.0, tmin=None, tmax=None,
                        layer='agg', decim=None, padding='zeros', ax=None,
                        colormap='inferno', colorbar=True,
                        colorbar_inside=False, show=True):
        """Plot the Morlet time-frequency power (nAm²); see
        :func:`hnnjax.viz.plot_tfr_morlet`."""
        from .viz.spectral import plot_tfr_morlet

        return plot_tfr_morlet(
            self, freqs, n_cycles=n_cycles, tmin=tmin, tmax=tmax, layer=layer,
            decim=decim, padding=padding, ax=ax, colormap=colormap,
            colorbar=colorbar, colorbar_inside=colorbar_inside, show=show)


def _load_columns(fname, n_cols, columns):
    """A whitespace-separated text file of ``n_cols`` (a tuple of allowed
    counts) numeric ``columns`` per line as a 2-D float array: finite, with
    strictly increasing times (ms) in the first column.  '#' starts a
    comment.  Errors name the file, the line and the expected format."""
    fname = os.fspath(fname)
    if not os.path.isfile(fname):
        raise FileNotFoundError(f"file not found: {fname}")
    expected = f"{' or '.join(map(str, n_cols))} numbers per line ({columns})"
    rows, linenos = [], []
    try:
        with open(fname) as fp:
            for lineno, line in enumerate(fp, start=1):
                fields = line.split('#')[0].split()
                if not fields:
                    continue
                try:
                    row = [float(x) for x in fields]
                except ValueError:
                    row = []
                if len(row) not in n_cols or (rows and len(row) != len(rows[0])):
                    raise ValueError(f"{fname}, line {lineno}: expected {expected}; "
                                     f"got {line.strip()[:80]!r}")
                if not np.all(np.isfinite(row)):
                    raise ValueError(f"{fname}, line {lineno}: NaN or inf in "
                                     f"{line.strip()[:80]!r}")
                rows.append(row)
                linenos.append(lineno)
    except UnicodeDecodeError:
        raise ValueError(f"{fname} is not a text file; expected {expected}") from None
    if len(rows) < 2:
        raise ValueError(f"{fname}: expected at least 2 lines of {expected}; "
                         f"found {len(rows)}")
    table = np.array(rows)
    back = np.flatnonzero(np.diff(table[:, 0]) <= 0)
    if back.size:
        raise ValueError(f"{fname}, line {linenos[back[0] + 1]}: times (ms) must be "
                         f"strictly increasing; {table[back[0] + 1, 0]:g} follows "
                         f"{table[back[0], 0]:g}")
    return table


def _check_uniform(fname, times, hint=''):
    """Times (ms) on a uniform grid, up to the 0.001 ms of a written file."""
    step = np.diff(times)
    off = np.flatnonzero(np.abs(step - step[0]) > 1.1e-3 + 1e-3 * step[0])
    if off.size:
        raise ValueError(f"{os.fspath(fname)}: time steps must be uniform; the first is "
                         f"{step[0]:g} ms but {times[off[0]]:g}-{times[off[0] + 1]:g} ms "
                         f"is {step[off[0]]:g} ms{hint}")


def _dipole_file(fname):
    """``fname`` as a str ending with '.txt' or '.hdf5' (hnn-core's formats)."""
    if not isinstance(fname, (str, os.PathLike)):
        raise TypeError(f"fname must be a str or path; got {fname!r}")
    fname = os.fspath(fname)
    if os.path.splitext(fname)[1] not in ('.txt', '.hdf5'):
        raise ValueError(f"fname must end with '.txt' or '.hdf5'; got {fname!r}")
    return fname


def read_dipole(fname):
    """Read a dipole file written by :meth:`Dipole.write` or hnn-core.

    ``.txt``: two columns are time (ms) and agg (nAm); four add L2 and L5.
    Values must be finite and times uniformly spaced; a bad line raises
    ``ValueError`` naming the file and the line.  ``.hdf5``: hnn-core's
    HDF5 file of a Dipole (``nave``, ``sfreq`` and ``scale_applied`` too).
    """
    fname = _dipole_file(fname)
    if fname.endswith('.hdf5'):
        return _read_hdf5(fname)
    table = _load_columns(fname, (2, 4), 'time ms, agg nAm[, L2, L5]')
    _check_uniform(fname, table[:, 0])
    return Dipole(table[:, 0], table[:, 1:])


def _read_hdf5(fname):
    """The Dipole of an HDF5 file written by ``Dipole.write`` here or in hnn-core."""
    from h5io import read_hdf5

    content = read_hdf5(fname)
    if not isinstance(content, dict) or content.get('object_type') != 'Dipole':
        kind = content.get('object_type') if isinstance(content, dict) else type(content).__name__
        raise ValueError(f"{fname} holds no Dipole (its object_type is {kind!r})")
    dpl = Dipole(content['times'], content['data'], nave=int(content['nave']))
    dpl.sfreq = float(content['sfreq'])
    dpl.scale_applied = content['scale_applied']
    return dpl


def average_dipoles(dpls):
    """Average single-trial dipoles layer by layer; ``nave = len(dpls)``.

    All inputs must be :class:`Dipole` instances with ``nave == 1``, the same
    ``scale_applied``, the same layers and the same times (ms).
    """
    if not isinstance(dpls, (list, tuple)) or not dpls:
        raise ValueError("dpls must be a non-empty list of Dipole instances; "
                         f"got {type(dpls).__name__}")
    for idx, dpl in enumerate(dpls):
        if not isinstance(dpl, Dipole):
            raise ValueError(f"dpls[{idx}] must be a Dipole; got {type(dpl)}")
    first = dpls[0]
    for idx, dpl in enumerate(dpls):
        if dpl.nave != 1:
            raise ValueError(
                f"dpls[{idx}] is already an average of {dpl.nave} trials; "
                "only single trials (nave == 1) can be averaged")
        if dpl.scale_applied != first.scale_applied:
            raise ValueError(
                f"dpls[{idx}] has scale_applied={dpl.scale_applied}, "
                f"dpls[0] has {first.scale_applied}; all must be scaled "
                "equally")
        if list(dpl.data) != list(first.data):
            raise ValueError(f"dpls[{idx}] has layers {list(dpl.data)}, "
                             f"dpls[0] has {list(first.data)}")
        if dpl.times.shape != first.times.shape or \
                not np.allclose(dpl.times, first.times):
            raise ValueError(f"dpls[{idx}] has different times (ms) from "
                             "dpls[0]")
    data = {key: np.mean([dpl.data[key] for dpl in dpls], axis=0)
            for key in first.data}
    avg = Dipole(first.times, data, nave=len(dpls))
    avg.scale_applied = first.scale_applied
    return avg


def waveform_path(fname):
    """``fname`` as a path; a bare file name not found in the working
    directory is looked up among the shipped waveforms (``hnnjax/data/meg``,
    e.g. ``'yes_trial_S1_ERP_all_avg.txt'``)."""
    if not isinstance(fname, (str, os.PathLike)):
        raise TypeError(f"fname must be a str or path; got {fname!r}")
    path = os.fspath(fname)
    if os.path.exists(path) or os.path.basename(path) != path:
        return path
    shipped = os.path.join(SHIPPED_MEG, path)
    if not os.path.isfile(shipped):
        raise FileNotFoundError(f"file not found: {path} (neither here nor among the shipped "
                                f"waveforms {sorted(os.listdir(SHIPPED_MEG))})")
    return shipped


def read_waveform(fname, *, times=None):
    """Load a target waveform: time (ms) and dipole (nAm) columns, as HNN's
    data files hold them (a file of :meth:`Dipole.write`: ``read_dipole``).

    Parameters
    ----------
    fname : str | Path
        Text file; a bare name is also looked up among the shipped waveforms
        (``waveform_path``), e.g. ``'S1_SupraT.txt'``.
    times : array | None
        If given, a time grid (ms) to resample onto by linear interpolation;
        it must lie within the file's time span.  Without it the file's
        times must be uniformly spaced.

    Returns
    -------
    dpl : Dipole
        Data in ``dpl.data['agg']`` (nAm); ``dpl.info['source']`` records the
        file (and ``'resampled'`` the grid, if any).
    """
    fname = waveform_path(fname)
    table = _load_columns(fname, (2,), 'time ms, dipole nAm')
    t_file, values = table[:, 0], table[:, 1]
    info = {'source': os.path.abspath(os.fspath(fname)), 'units': 'nAm'}
    if times is None:
        _check_uniform(fname, t_file, '; pass times= to resample it onto a grid')
        return Dipole(t_file, values, info=info)
    times = check_array('times (ms)', times, min_size=2)
    if not np.all(np.diff(times) > 0):
        raise ValueError("times (ms) must be strictly increasing")
    tol = 1e-9 * max(1.0, np.abs(t_file).max())
    if times.min() < t_file[0] - tol or times.max() > t_file[-1] + tol:
        raise ValueError(
            f"times must lie within the waveform's span [{t_file[0]:g}, "
            f"{t_file[-1]:g}] ms; got [{times.min():g}, {times.max():g}] ms")
    info['resampled'] = {'tmin_ms': float(times[0]),
                         'tmax_ms': float(times[-1]), 'n_times': times.size}
    return Dipole(times, np.interp(times, t_file, values), info=info)


def __getattr__(name):
    """``simulate_dipole`` is importable from here, as in hnn-core (on first
    use: the simulator itself imports ``Dipole``)."""
    if name == "simulate_dipole":
        from .network.simulate import simulate_dipole
        return simulate_dipole
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
