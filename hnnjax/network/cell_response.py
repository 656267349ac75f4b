"""Spikes and recorded traces of a simulation, per trial (hnn-core layout)."""
from __future__ import annotations

import numpy as np


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

    def add_trial(self, times, gids, vsec=None, ca=None):
        order = np.lexsort((gids, times))
        t, g = np.asarray(times)[order], np.asarray(gids)[order]
        self.spike_times.append(t.tolist())
        self.spike_gids.append([int(x) for x in g])
        self.spike_types.append([self._type_of(int(x)) for x in g])
        self.vsec.append(vsec or {})
        self.ca.append(ca or {})

    def mean_rates(self, tstart, tstop, gid_ranges=None, mean_type="all"):
        """Mean firing rate (Hz) per cell type over trials, in [tstart, tstop) ms."""
        if mean_type not in ("all", "trial", "cell"):
            raise ValueError(f"mean_type must be 'all', 'trial' or 'cell', got {mean_type!r}")
        ranges = gid_ranges or self.gid_ranges
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
