"""Spikes and recorded traces of a simulation, per trial (hnn-core layout)."""
from __future__ import annotations

import os
import re
from glob import glob
from pathlib import Path

import numpy as np

from .._checks import check_number, check_option
from ..cells.cell_types import CELL_TYPES


def _trials(name, value):
    """``value`` (None: no trials) as a list over trials of lists."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, list) for t in value):
        hint = (" (hnnjax's old CellResponse(times, gid_ranges) is now "
                "CellResponse(cell_type_names, times=..., gid_ranges=...))"
                if isinstance(value, dict) else "")
        raise TypeError(f"{name} must be a list (trials) of lists (spikes); "
                        f"got {type(value).__name__}{hint}")
    return value


def _check_gid_ranges(gid_ranges):
    """``gid_ranges`` (name -> range or list of gids) as a dict of ranges or
    lists, its gid sets pairwise disjoint."""
    if not isinstance(gid_ranges, dict) or not all(
            isinstance(k, str) and isinstance(r, (range, list, tuple)) for k, r in gid_ranges.items()):
        raise TypeError(f"gid_ranges must be a dict of name -> range (or list) of gids; "
                        f"got {gid_ranges!r}")
    seen = {}
    for name, gids in gid_ranges.items():
        for gid in gids:
            if gid in seen:
                raise ValueError(f"gid_ranges must not overlap: gid {gid} is in both "
                                 f"{seen[gid]!r} and {name!r}")
            seen[gid] = name
    return dict(gid_ranges)


class CellResponse:
    """Per-trial spikes and traces, built and read as in hnn-core 0.6.1.

    Parameters
    ----------
    cell_type_names : list of str
        The network's cell types (not drives): the types ``mean_rates`` reports.
    spike_times, spike_gids, spike_types : list of list | None
        Per trial, parallel lists of spike times (ms), gids and spike types
        (a cell type or drive name, e.g. 'evprox1').
    times : array | None
        Sample times (ms) of the traces.
    gid_ranges : dict | None
        hnnjax: name -> range of gids of the network, to type spikes added
        with :meth:`add_trial` and as the default of :meth:`mean_rates`.

    Attributes
    ----------
    spike_times, spike_gids, spike_types, times : as above.
    vsec, isec, ca : list of dict
        Per trial, gid -> section -> trace: voltage (mV) and calcium (mM) at
        section midpoints; for ``isec``, gid -> section -> '<section>_<receptor>'
        -> synaptic current (nA); sampled at ``times``.
    """

    def __init__(self, cell_type_names, spike_times=None, spike_gids=None, spike_types=None,
                 times=None, *, gid_ranges=None):
        if not isinstance(cell_type_names, (list, tuple)) or not all(
                isinstance(n, str) for n in cell_type_names):
            raise TypeError(f"cell_type_names must be a list of cell type names; "
                            f"got {cell_type_names!r}")
        trials = [_trials(n, v) for n, v in (("spike_times", spike_times),
                                             ("spike_gids", spike_gids),
                                             ("spike_types", spike_types))]
        if len({len(t) for t in trials}) > 1:
            raise ValueError("spike_times, spike_gids and spike_types must have the same "
                             f"number of trials; got {[len(t) for t in trials]}")
        for trial, lists in enumerate(zip(*trials)):
            if len({len(x) for x in lists}) > 1:
                raise ValueError(f"trial {trial}: spike_times, spike_gids and spike_types "
                                 f"must have one entry per spike; got {[len(x) for x in lists]}")
        if times is not None and not isinstance(times, (list, tuple, np.ndarray)):
            raise TypeError(f"times must be an array of sample times (ms) or None; "
                            f"got {type(times).__name__}")
        self._cell_type_names = list(cell_type_names)
        self.spike_times, self.spike_gids, self.spike_types = ([list(x) for x in t] for t in trials)
        self.times = np.asarray([] if times is None else times, dtype=float)
        self.gid_ranges = {} if gid_ranges is None else _check_gid_ranges(gid_ranges)
        self.vsec, self.isec, self.ca = [], [], []  # filled per trial by add_trial

    def __repr__(self):
        return f"<CellResponse | {len(self.spike_times)} simulation trials>"

    def __eq__(self, other):
        """Equal spikes (times to 0.001 ms), gids, types and traces."""
        if not isinstance(other, CellResponse):
            return NotImplemented

        def rounded(cr):
            return [[round(float(t), 3) for t in trial] for trial in cr.spike_times]

        def same_traces(a, b):
            return len(a) == len(b) and all(
                x.keys() == y.keys() and all(
                    x[g].keys() == y[g].keys() and all(np.array_equal(x[g][k], y[g][k])
                                                       for k in x[g]) for g in x)
                for x, y in zip(a, b))

        return (rounded(self) == rounded(other) and self.spike_gids == other.spike_gids
                and self.spike_types == other.spike_types
                and all(same_traces(getattr(self, k), getattr(other, k))
                        for k in ("vsec", "isec", "ca")))

    @property
    def cell_types(self):
        """Sorted names of the spike types present (cell types and drives)."""
        return sorted({k for trial in self.spike_types for k in trial})

    @property
    def spike_times_by_type(self):
        """Spike type -> per trial, the spike times (ms) of that type."""
        return {name: [[t for t, k in zip(times, types) if k == name]
                       for times, types in zip(self.spike_times, self.spike_types)]
                for name in self.cell_types}

    def update_types(self, gid_ranges):
        """Re-type every spike by the name whose gids hold its gid (''
        where none does, as hnn-core); ``gid_ranges`` must not overlap and
        becomes this response's ``gid_ranges``."""
        self.gid_ranges = _check_gid_ranges(gid_ranges)
        self.spike_types = [[t or "" for t in self._types_of(gids)] for gids in self.spike_gids]

    def _types_of(self, gids):
        """The name whose gids hold each gid (None where none does)."""
        g = np.asarray(gids, dtype=np.int64)
        out = np.full(g.shape, None, object)
        for name, r in self.gid_ranges.items():
            if isinstance(r, range) and r.step == 1:
                out[(g >= r.start) & (g < r.stop)] = name
            else:
                out[np.isin(g, np.asarray(list(r), dtype=np.int64))] = name
        return out.tolist()

    def add_trial(self, times, gids, vsec=None, ca=None, types=None, isec=None):
        """Append one trial's spikes, sorted by time then gid; ``types``
        (one per spike) default to the owners of the gids in ``gid_ranges``."""
        order = np.lexsort((gids, times))
        t, g = np.asarray(times)[order], np.asarray(gids)[order]
        self.spike_times.append(t.tolist())
        self.spike_gids.append(g.astype(np.int64).tolist())
        self.spike_types.append(self._types_of(g) if types is None else [str(types[i]) for i in order])
        self.vsec.append(vsec or {})
        self.isec.append(isec or {})
        self.ca.append(ca or {})

    def to_dict(self):
        """The response as a dict of plain containers (hnn-core's layout:
        trace dicts keyed by the gid as a str), for JSON files."""
        def str_keys(traces):
            return [{str(gid): secs for gid, secs in trial.items()} for trial in traces]

        return {"cell_type_names": list(self._cell_type_names),
                "spike_times": self.spike_times, "spike_gids": self.spike_gids,
                "spike_types": self.spike_types, "vsec": str_keys(self.vsec),
                "isec": str_keys(self.isec), "ca": str_keys(self.ca), "times": self.times}

    def mean_rates(self, tstart, tstop, gid_ranges=None, mean_type="all"):
        """Mean firing rate (Hz) of each cell type, from the spikes in
        [tstart, tstop] ms.

        ``gid_ranges`` defaults to this response's.  ``mean_type``: 'all'
        (one number per type: over trials and cells), 'trial' (per trial,
        over cells) or 'cell' (per trial, a list over the type's cells).
        """
        tstart = check_number("tstart", tstart, ge=0, unit=" ms")
        tstop = check_number("tstop", tstop, gt=tstart, unit=" ms")
        check_option("mean_type", mean_type, ("all", "trial", "cell"))
        ranges = self.gid_ranges if gid_ranges is None else gid_ranges
        if not isinstance(ranges, dict):
            raise TypeError(f"gid_ranges must be None or a dict of name -> range of gids; "
                            f"got {gid_ranges!r}")
        ranges = _check_gid_ranges(ranges)
        missing = [ct for ct in self._cell_type_names if ct not in ranges]
        if missing:
            raise ValueError(f"gid_ranges has no gids for cell type(s) {missing}")
        dur_s = (tstop - tstart) / 1000.0
        out = {}
        for name in self._cell_type_names:
            gids = np.asarray(ranges[name])
            rates = np.zeros((len(self.spike_times), len(gids)))
            for trial, (t, g) in enumerate(zip(self.spike_times, self.spike_gids)):
                t, g = np.asarray(t, dtype=float), np.asarray(g, dtype=int)
                in_window = g[(t >= tstart) & (t <= tstop)]
                rates[trial] = (in_window[:, None] == gids[None, :]).sum(axis=0) / dur_s
            out[name] = {"all": float(rates.mean()) if rates.size else 0.0,
                         "trial": rates.mean(axis=1).tolist(),
                         "cell": rates.tolist()}[mean_type]
        return out

    def plot_spikes_hist(self, trial_idx=None, ax=None, spike_types=None, color=None,
                         invert_spike_types=None, show=True, **kwargs_hist):
        """Histogram of spike counts over time (ms); see
        :func:`hnnjax.viz.plot_spikes_hist`."""
        from ..viz.spikes import plot_spikes_hist

        return plot_spikes_hist(self, trial_idx=trial_idx, ax=ax, spike_types=spike_types,
                                color=color, show=show, invert_spike_types=invert_spike_types,
                                **kwargs_hist)

    def plot_spikes_raster(self, trial_idx=None, ax=None, show=True, cell_types=None,
                           colors=None, show_legend=True, marker_size=1.0, dpl=None,
                           overlay_dipoles=False):
        """Raster of spikes per cell; see :func:`hnnjax.viz.plot_spikes_raster`
        (``overlay_dipoles`` draws ``dpl``'s L2 and L5 dipoles on a second
        axis in nAm)."""
        from ..viz.spikes import plot_spikes_raster

        return plot_spikes_raster(self, trial_idx=trial_idx, ax=ax, show=show,
                                  cell_types=cell_types, colors=colors,
                                  show_legend=show_legend, marker_size=marker_size, dpl=dpl,
                                  overlay_dipoles=overlay_dipoles)

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
        Spikes only: ``times`` is empty and there are no traces; its cell
        types are the network's cell types that spiked (as in hnn-core).
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
    cell_response = CellResponse([], gid_ranges=gid_ranges)
    for file in files:
        times, gids, types = _read_rows(file)
        if types is None and gid_ranges is None and len(times):
            raise ValueError(f"{file} has no spike type column: pass gid_ranges")
        cell_response.add_trial(times, gids, types=None if gid_ranges else types)
    present = set(cell_response.cell_types)
    cell_response._cell_type_names = [ct for ct in CELL_TYPES if ct in present]
    return cell_response
