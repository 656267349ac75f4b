"""Spikes and recorded traces of a simulation, per trial (hnn-core layout)."""
from __future__ import annotations

import os
import re
from glob import glob
from pathlib import Path

import numpy as np

from .._checks import check_number, check_option


class CellResponse:
    """Per-trial spikes and traces.

    ``spike_times[trial]`` (ms), ``spike_gids[trial]`` and
    ``spike_types[trial]`` are parallel lists covering cells and drive cells;
    ``vsec[trial][gid][section]`` (mV) and ``ca[trial][gid][section]`` (mM)
    hold traces at section midpoints sampled at ``times`` (ms).
    """

    def __init__(self, times, gid_ranges):
        self.times = np.asarray(times)
        self.gid_ranges = dict(gid_ranges)
        self.spike_times, self.spike_gids, self.spike_types = [], [], []
        self.vsec, self.ca = [], []

    def __repr__(self):
        return f"<CellResponse | {len(self.spike_times)} trials>"

    def _type_of(self, gid):
        for name, r in self.gid_ranges.items():
            if gid in r:
                return name
        return None

    def add_trial(self, times, gids, vsec=None, ca=None, types=None):
        """Append one trial's spikes, sorted by time then gid; ``types``
        (one per spike) default to the owners of the gids in ``gid_ranges``."""
        order = np.lexsort((gids, times))
        t, g = np.asarray(times)[order], np.asarray(gids)[order]
        self.spike_times.append(t.tolist())
        self.spike_gids.append([int(x) for x in g])
        self.spike_types.append([self._type_of(int(x)) for x in g] if types is None
                                else [str(types[i]) for i in order])
        self.vsec.append(vsec or {})
        self.ca.append(ca or {})

    def mean_rates(self, tstart, tstop, gid_ranges=None, mean_type="all"):
        """Mean firing rate (Hz) per cell type over trials, in [tstart, tstop) ms."""
        tstart = check_number("tstart", tstart, ge=0, unit=" ms")
        tstop = check_number("tstop", tstop, gt=tstart, unit=" ms")
        check_option("mean_type", mean_type, ("all", "trial", "cell"))
        ranges = self.gid_ranges if gid_ranges is None else gid_ranges
        if not (isinstance(ranges, dict) and all(isinstance(r, range) for r in ranges.values())):
            raise TypeError(f"gid_ranges must be None or a dict of name -> range of gids; "
                            f"got {gid_ranges!r}")
        dur_s = (tstop - tstart) / 1000.0
        out = {}
        for name, r in ranges.items():
            per_trial = []
            for t, g in zip(self.spike_times, self.spike_gids):
                t, g = np.asarray(t), np.asarray(g)
                sel = (t >= tstart) & (t < tstop)
                per_trial.append(np.array([np.sum(sel & (g == gid)) for gid in r]) / dur_s)
            per_trial = np.array(per_trial)
            out[name] = {"all": per_trial.mean(), "trial": per_trial.mean(axis=1).tolist(),
                         "cell": per_trial.mean(axis=0).tolist()}[mean_type]
        return out

    def plot_spikes_hist(self, trial_idx=None, ax=None, spike_types=None, color=None,
                         invert_spike_types=None, show=True, **kwargs_hist):
        """Histogram of spike counts over time (ms); see
        :func:`hnnjax.viz.plot_spikes_hist`.  ``invert_spike_types`` is
        accepted for hnn-core compatibility and must be None."""
        from ..viz.spikes import plot_spikes_hist

        if invert_spike_types is not None:
            raise ValueError("invert_spike_types is not supported by hnnjax; pass None")
        return plot_spikes_hist(self, trial_idx=trial_idx, ax=ax, spike_types=spike_types,
                                color=color, show=show, **kwargs_hist)

    def plot_spikes_raster(self, trial_idx=None, ax=None, show=True, cell_types=None,
                           colors=None, show_legend=True, marker_size=1.0, dpl=None,
                           overlay_dipoles=False):
        """Raster of spikes per cell; see :func:`hnnjax.viz.plot_spikes_raster`.
        ``dpl``/``overlay_dipoles`` are accepted for hnn-core compatibility;
        overlaying dipoles is not supported."""
        from ..viz.spikes import plot_spikes_raster

        if overlay_dipoles or dpl is not None:
            raise ValueError("overlay_dipoles (with dpl) is not supported by hnnjax; "
                             "plot the dipole on its own axes with plot_dipole")
        return plot_spikes_raster(self, trial_idx=trial_idx, ax=ax, show=show,
                                  cell_types=cell_types, colors=colors,
                                  show_legend=show_legend, marker_size=marker_size)

    def write(self, fname):
        """Write one tab-separated spike file per trial (hnn-core's format).

        ``fname`` holds the trial index as '%d' or '{0}' (e.g. 'spk_%d.txt');
        without one, '_<trial>' is inserted before the suffix.  Each row is
        the spike time (ms, 3 decimals), gid and spike type.
        """
        if not isinstance(fname, (str, os.PathLike)):
            raise TypeError(f"fname must be a str or path; got {fname!r}")
        for trial, (times, gids, types) in enumerate(
                zip(self.spike_times, self.spike_gids, self.spike_types)):
            with open(_trial_fname(str(fname), trial), "w") as f:
                f.writelines(f"{t:.3f}\t{int(g)}\t{k}\n" for t, g, k in zip(times, gids, types))


def _trial_fname(fname, trial):
    """``fname`` with the trial index filled in ('%d', '{0}' or appended)."""
    if re.search(r"%\d*d", fname):
        return fname % trial
    if "{" in fname:
        return fname.format(trial)
    path = Path(fname)
    return str(path.with_name(f"{path.stem}_{trial}{path.suffix}"))


def _natural_key(path):
    """Sort key that orders 'spk_2.txt' before 'spk_10.txt'."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def _read_rows(file):
    """(times ms, gids, types or None) of a spike file, one spike per line
    as 'time gid[ type]'; errors name the file, the line and that format."""
    expected = "'time (ms) gid [type]' on every line, with the same number of columns"
    times, gids, types, n_cols = [], [], [], None
    with open(file) as f:
        for lineno, line in enumerate(f, start=1):
            fields = line.split()
            if not fields:
                continue
            n_cols = n_cols or len(fields)
            try:
                t, gid = float(fields[0]), int(fields[1])
            except (ValueError, IndexError):
                t = gid = None
            if len(fields) != n_cols or n_cols not in (2, 3) or gid is None \
                    or not np.isfinite(t) or gid < 0:
                raise ValueError(f"{file}, line {lineno}: expected {expected}; "
                                 f"got {line.strip()[:80]!r}")
            times.append(t)
            gids.append(gid)
            types.append(fields[2] if n_cols == 3 else None)
    return np.array(times), np.array(gids, dtype=int), (types if n_cols == 3 else None)


def read_spikes(fname, gid_ranges=None):
    """Read spike files written by :meth:`CellResponse.write` (or hnn-core).

    Parameters
    ----------
    fname : str | Path
        Glob pattern of the per-trial files (e.g. 'spk_*.txt'), read in
        natural order of their names as trials 0, 1, ...
    gid_ranges : dict | None
        Cell type or drive name -> range of gids.  Needed for files with no
        third (spike type) column; when given, types are taken from it.

    Returns
    -------
    cell_response : CellResponse
        Spikes only: ``times`` is empty and there are no traces.
    """
    if not isinstance(fname, (str, os.PathLike)):
        raise TypeError(f"fname must be a str or path (a glob pattern); got {fname!r}")
    if gid_ranges is not None and not (isinstance(gid_ranges, dict) and all(
            isinstance(r, range) for r in gid_ranges.values())):
        raise TypeError(f"gid_ranges must be a dict of name -> range of gids or None; "
                        f"got {gid_ranges!r}")
    files = sorted(glob(str(fname)), key=_natural_key)
    if not files:
        raise ValueError(f"fname {str(fname)!r} matches no spike files")
    cell_response = CellResponse(np.array([]), gid_ranges or {})
    for file in files:
        times, gids, types = _read_rows(file)
        if types is None and gid_ranges is None and len(times):
            raise ValueError(f"{file} has no spike type column: pass gid_ranges")
        cell_response.add_trial(times, gids, types=None if gid_ranges else types)
    return cell_response
