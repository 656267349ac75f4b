"""Extracellular potentials at electrode contacts (hnn-core's
``hnn_core.extracellular``).

Each segment's transmembrane current (nA, capacitive + ionic + synaptic,
not the electrode currents of tonic biases: NEURON's ``i_membrane_``) is a
source in an infinite homogeneous conductor of conductivity σ (S/m).  The
potential at a contact is ``Σ R·I`` with the transfer resistance
``R = 1e3·φ / (4πσ)`` µV/nA, φ in 1/µm: the point-source approximation
(``'psa'``, φ = 1/max(d, min_distance) from the segment centre) or the
line-source one (``'lsa'``, each segment a line from the previous to the
next segment centre, half a segment at a section's ends).
"""
from __future__ import annotations

from copy import deepcopy

import numpy as np

from ._checks import check_number, check_option

METHODS = ("psa", "lsa")


def segment_geometry(cell_type, positions):
    """Segment centres and line-source ends of every cell of a type, in the
    simulator's segment order: ``(centre, start, end)``, each
    ``(n_seg, n_cells, 3)`` µm.  Sections start where they attach to their
    parent and run ``L`` µm along their direction from the soma at the
    cell's position (as NEURON's ``define_shape`` places hnn-core's cells)."""
    tree = cell_type.tree
    ends = cell_type.end_points()
    nodes = np.flatnonzero(tree.segment_mask)
    pos = np.asarray(positions, float)[None, :, :]  # (1, n_cells, 3)
    centre, half, unit = [], [], []
    for k, x in zip(tree.section_index[nodes], tree.x[nodes]):
        sec = tree.sections[k]
        a, b = ends[sec.name]
        n = sec.nseg
        i = int(round(x * n - 0.5))
        centre.append(a + x * (b - a))
        half.append(sec.L / (2 * n) if i in (0, n - 1) else sec.L / n)
        unit.append((b - a) / np.linalg.norm(b - a))
    centre, half, unit = np.array(centre), np.array(half)[:, None], np.array(unit)
    c = centre[:, None, :] + pos
    d = (half * unit)[:, None, :]
    return c, c - d, c + d


def transfer_resistance(geometry, electrode_pos, conductivity, method, min_distance):
    """µV per nA from each segment's transmembrane current to one electrode:
    ``(n_seg, n_cells)``."""
    centre, start, end = geometry
    e = np.asarray(electrode_pos, float)
    if method == "psa":
        phi = 1.0 / np.maximum(np.linalg.norm(e - centre, axis=-1), min_distance)
    else:
        a = end - start
        norm_a = np.linalg.norm(a, axis=-1)
        b = e - end
        h = np.sum(b * a, axis=-1) / norm_a  # along the line, from its end
        l = h + norm_a  # along the line, from its start
        r2 = np.maximum(np.sum(b * b, axis=-1) - h**2, min_distance**2)  # radial, squared
        behind, over = (l < 0) & (h < 0), (l > 0) & (h < 0)
        num = np.where(behind, np.sqrt(h**2 + r2) - h,
                       np.where(over, (np.sqrt(h**2 + r2) - h) * (l + np.sqrt(l**2 + r2)),
                                np.sqrt(l**2 + r2) + l))
        den = np.where(behind, np.sqrt(l**2 + r2) - l,
                       np.where(over, r2, np.sqrt(h**2 + r2) + h))
        phi = np.log(num / den) / norm_a
    return 1000.0 * phi / (4.0 * np.pi * conductivity)


def calculate_csd2d(lfp_data, delta=1):
    """Current source density, ``(n_contacts, n_times)``: minus the second
    spatial difference of ``lfp_data`` (contacts along the first axis,
    ``delta`` µm apart), the two border rows extrapolated linearly."""
    lfp = np.asarray(lfp_data, float)
    if lfp.ndim != 2 or lfp.shape[0] < 3:
        raise ValueError(f"lfp_data must be (n_contacts >= 3, n_times); got shape {lfp.shape}")
    csd = -np.diff(lfp, n=2, axis=0) / delta**2
    return np.concatenate([2 * csd[:1] - csd[1:2], csd, 2 * csd[-1:] - csd[-2:-1]])


def laminar_z(positions):
    """Depths (µm) of contacts that lie equally spaced on a line with a z
    component (a laminar probe), and their spacing along z."""
    pos = np.asarray(positions, float)
    if len(pos) < 2:
        raise ValueError(f"a laminar profile needs at least 2 contacts; got {len(pos)}")
    step = np.diff(pos, axis=0)
    dz = abs(step[0, 2])
    lengths = np.linalg.norm(step, axis=1)
    if not (dz > 0 and np.allclose(lengths, lengths[0])
            and np.allclose(np.cross(step[:-1], step[1:]), 0)):
        raise ValueError("electrode positions must be equally spaced on one line along z "
                         "(a laminar probe) for a laminar profile")
    return pos[:, 2], dz


class ExtracellularArray:
    """Extracellular potentials (µV) at electrode contacts, per trial.

    Made by :meth:`hnnjax.Network.add_electrode_array`; ``simulate_dipole``
    fills ``times`` (ms) and ``voltages`` ``(n_trials, n_contacts,
    n_times)``.  ``array[k]`` (an int, slice or list of trials) is a new
    array with those trials."""

    def __init__(self, positions, *, conductivity=0.3, method="psa", min_distance=0.5,
                 times=None, voltages=None):
        if not isinstance(positions, (tuple, list)):
            raise TypeError(f"positions must be an (x, y, z) tuple or a list of them (µm); "
                            f"got {type(positions).__name__}")
        if np.shape(positions) == (3,):
            positions = [positions]
        for pos in positions:
            if not isinstance(pos, (tuple, list)) or len(pos) != 3:
                raise ValueError(f"positions must be (x, y, z) triplets (µm); got {pos!r}")
            for k, c in enumerate(pos):
                check_number(f"positions coordinate {k}", c, unit=" µm")
        self.positions = [tuple(float(c) for c in pos) for pos in positions]
        self.n_contacts = len(self.positions)
        self.conductivity = check_number("conductivity", conductivity, gt=0, unit=" S/m")
        self.method = check_option("method", method, METHODS)
        self.min_distance = check_number("min_distance", min_distance, gt=0, unit=" µm")
        self._times = np.array([] if times is None else times, float)
        data = np.array([] if voltages is None else voltages, float)
        if data.size:
            if data.ndim != 3 or data.shape[1] != self.n_contacts or data.shape[2] != len(self._times):
                raise ValueError(f"voltages must be (n_trials, {self.n_contacts} contacts, "
                                 f"{len(self._times)} times); got shape {data.shape}")
        self._data = data

    def __getitem__(self, trials):
        if isinstance(trials, (int, np.integer)) and not isinstance(trials, bool):
            trials = [int(trials)]
        elif not isinstance(trials, (slice, list, tuple)):
            raise TypeError(f"trial index must be int, slice or list-like; got {trials!r}")
        try:
            data = self._data[trials] if isinstance(trials, slice) else self._data[list(trials)]
        except IndexError:
            raise IndexError(f"the data contain {len(self)} trials; indices out of range: "
                             f"{trials}") from None
        return ExtracellularArray(self.positions, conductivity=self.conductivity, method=self.method,
                                  min_distance=self.min_distance, times=self.times, voltages=data)

    def __repr__(self):
        msg = f"{self.n_contacts} electrodes, conductivity={self.conductivity}, method={self.method}"
        msg += (f" | {len(self)} trials, {len(self.times)} times" if len(self)
                else " (no data recorded yet)")
        return f"<ExtracellularArray | {msg}>"

    def __len__(self):
        return len(self._data)

    def __eq__(self, other):
        if not isinstance(other, ExtracellularArray):
            return NotImplemented
        return (self.positions == other.positions and self.method == other.method
                and self.min_distance == other.min_distance
                and self.conductivity == other.conductivity
                and np.array_equal(self.times, other.times)
                and np.array_equal(self.voltages, other.voltages))

    def copy(self):
        """An independent copy."""
        return deepcopy(self)

    @property
    def times(self):
        """Sample times (ms)."""
        return np.array(self._times)

    @property
    def voltages(self):
        """``(n_trials, n_contacts, n_times)`` µV."""
        return np.array(self._data)

    @property
    def sfreq(self):
        """Sampling rate (Hz), None before a simulation."""
        if len(self._times) == 0:
            return None
        if len(self._times) == 1:
            raise RuntimeError("the sampling rate is not defined for one sample")
        return 1000.0 / float(np.median(np.diff(self._times)))

    def _record(self, times, voltages):
        self._times, self._data = np.asarray(times, float), np.asarray(voltages, float)

    def smooth(self, window_len):
        """Convolve every trace with a unit-sum Hamming window of
        ``window_len`` ms, in place (as ``Dipole.smooth``); returns self."""
        from .utils import smooth_waveform

        if not len(self):
            raise RuntimeError("no data recorded yet: run simulate_dipole first")
        self._data = np.apply_along_axis(smooth_waveform, -1, self._data, window_len, self.sfreq)
        return self

    def plot_lfp(self, *, trial_no=None, contact_no=None, tmin=None, tmax=None, ax=None, decim=None,
                 color="cividis", voltage_offset=50, voltage_scalebar=200, show=True):
        """Traces of each contact (µV), offset by ``voltage_offset`` µV, one
        figure per trial (see :func:`hnnjax.viz.plot_laminar_lfp`)."""
        from .viz.laminar import plot_laminar_lfp

        data = self.voltages if trial_no is None else self.voltages[trial_no]
        data = data.reshape((-1,) + self.voltages.shape[1:])
        if contact_no is not None:
            data = data[:, contact_no].reshape(len(data), -1, data.shape[-1])
        labels = np.asarray(self.positions)[:, 2]  # contact depth (µm)
        if contact_no is not None:
            labels = np.atleast_1d(labels[contact_no])
        fig = None
        for trial in data:
            fig = plot_laminar_lfp(self.times, trial, labels, tmin=tmin, tmax=tmax, ax=ax, decim=decim,
                                   color=color, voltage_offset=voltage_offset,
                                   voltage_scalebar=voltage_scalebar, show=False)
            fig.axes[0].set_ylabel("Contact depth (µm)" + (f"; traces {voltage_offset:g} µV apart"
                                                           if voltage_offset else ""))
        if show:
            import matplotlib.pyplot as plt
            plt.show()
        return fig

    def plot_csd(self, vmin=None, vmax=None, interpolation="spline", sink="b", colorbar=True,
                 ax=None, show=True):
        """Current source density of the first trial against depth and time
        (see :func:`hnnjax.viz.plot_laminar_csd`)."""
        from .viz.laminar import plot_laminar_csd

        if not len(self):
            raise RuntimeError("no data recorded yet: run simulate_dipole first")
        depths, dz = laminar_z(self.positions)
        fig = plot_laminar_csd(self.times, calculate_csd2d(self.voltages[0], dz),
                               contact_labels=depths, ax=ax, colorbar=colorbar, vmin=vmin,
                               vmax=vmax, interpolation=interpolation, sink=sink, show=False)
        fig.axes[0].set_ylabel("Contact depth (µm)")
        if show:
            import matplotlib.pyplot as plt
            plt.show()
        return fig

    def to_dict(self):
        """hnn-core's dict form (positions, conductivity, method, min_distance,
        times, voltages)."""
        return {"positions": self.positions, "conductivity": self.conductivity,
                "method": self.method, "min_distance": self.min_distance,
                "times": self.times, "voltages": self.voltages}
