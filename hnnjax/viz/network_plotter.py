"""hnn-core's ``NetworkPlotter``: every section of every cell drawn in 3-D at
its place in the column, coloured by its midpoint voltage at one time
step of a simulation recorded with ``record_vsec='all'``; ``export_movie``
animates it."""
from __future__ import annotations

import numpy as np

from .._checks import check_bool, check_int, check_number


def _check_limits(name, value):
    if not isinstance(value, tuple) or len(value) != 2:
        raise TypeError(f"{name} must be a (low, high) tuple in µm; got {value!r}")
    lo, hi = (check_number(f"{name}[{k}]", v, unit=" µm") for k, v in enumerate(value))
    if not lo < hi:
        raise ValueError(f"{name} must have low < high; got {value!r}")
    return (lo, hi)


class NetworkPlotter:
    """The network's morphology in 3-D (µm; z is the apical axis), sections
    coloured by membrane potential between ``vmin`` and ``vmax`` mV at
    ``time_idx`` of trial ``trial_idx``.  Setting ``time_idx``, ``elev``,
    ``azim`` or the limits redraws; ``fig`` holds the figure."""

    def __init__(self, net, ax=None, vmin=-100, vmax=50, bg_color="black", colorbar=True,
                 voltage_colormap="viridis", elev=10, azim=-500, xlim=(-200, 3100),
                 ylim=(-200, 3100), zlim=(-300, 2200), trial_idx=0, time_idx=0):
        import matplotlib.pyplot as plt

        from .network import _axes_3d

        self.net = net
        self._vmin = check_number("vmin", vmin, unit=" mV")
        self._vmax = check_number("vmax", vmax, gt=self._vmin, unit=" mV")
        if not isinstance(bg_color, str):
            raise TypeError(f"bg_color must be a colour name; got {bg_color!r}")
        if voltage_colormap not in plt.colormaps():
            raise ValueError(f"voltage_colormap must be a matplotlib colormap; got {voltage_colormap!r}")
        self._cmap = plt.get_cmap(voltage_colormap)
        self._xlim, self._ylim, self._zlim = (_check_limits(n, v) for n, v in
                                              (("xlim", xlim), ("ylim", ylim), ("zlim", zlim)))
        self._elev, self._azim = check_number("elev", elev), check_number("azim", azim)
        self._trial_idx = check_int("trial_idx", trial_idx, ge=0)
        self._sections = [(name, gid, sec.name) for name in net.cell_types
                          for gid in net.gid_ranges[name]
                          for sec in net.cell_types[name].tree.sections]
        self.times, self._vsec = self._recorded()
        self.ax = _axes_3d(ax)
        self.fig = self.ax.get_figure()
        self.ax.set_facecolor(bg_color)
        self._lines = self._draw()
        self.ax.set_xlabel("x (µm)")
        self.ax.set_ylabel("y (µm)")
        self.ax.set_zlabel("z (µm)")
        self._update_axes()
        if check_bool("colorbar", colorbar):
            from matplotlib.colors import Normalize

            mappable = plt.cm.ScalarMappable(norm=Normalize(self._vmin, self._vmax), cmap=self._cmap)
            self.fig.colorbar(mappable, ax=self.ax, label="Membrane potential (mV)")
        self._time_idx = 0
        if self._vsec is not None:
            self.time_idx = time_idx

    def _recorded(self):
        """Times (ms) and (n_sections, n_times) voltages (mV) of the trial, or
        None when the network was not simulated with ``record_vsec='all'``."""
        cr = self.net.cell_response
        if cr is None or not len(cr.vsec) or self._trial_idx >= len(cr.vsec):
            return None, None
        vsec = cr.vsec[self._trial_idx]
        try:
            v = np.stack([vsec[gid][sec] for _, gid, sec in self._sections])
        except KeyError:
            return np.asarray(cr.times), None
        return np.asarray(cr.times), v

    def _draw(self):
        lines = []
        for name in self.net.cell_types:
            ends = self.net.cell_types[name].end_points()
            for k, gid in enumerate(self.net.gid_ranges[name]):
                pos = np.asarray(self.net.pos_dict[name][k], float)
                for sec in self.net.cell_types[name].tree.sections:
                    xyz = ends[sec.name] + pos
                    lines.append(self.ax.plot(xyz[:, 0], xyz[:, 1], xyz[:, 2], lw=1,
                                              color="0.7")[0])
        return lines

    def _update_axes(self):
        self.ax.set_xlim(self._xlim)
        self.ax.set_ylim(self._ylim)
        self.ax.set_zlim(self._zlim)
        self.ax.view_init(self._elev, self._azim)

    def _need_voltages(self):
        if self._vsec is None:
            raise RuntimeError("simulate the network with simulate_dipole(..., record_vsec='all') "
                               "before plotting voltages")

    @property
    def time_idx(self):
        return self._time_idx

    @time_idx.setter
    def time_idx(self, idx):
        self._need_voltages()
        idx = check_int("time_idx", idx, ge=0, le=self._vsec.shape[1] - 1)
        colors = self._cmap((self._vsec[:, idx] - self._vmin) / (self._vmax - self._vmin))
        for line, color in zip(self._lines, colors):
            line.set_color(color)
        self._time_idx = idx
        self.ax.set_title(f"t = {self.times[idx]:.2f} ms", color="0.5")

    @property
    def trial_idx(self):
        return self._trial_idx

    @trial_idx.setter
    def trial_idx(self, idx):
        self._trial_idx = check_int("trial_idx", idx, ge=0)
        self.times, self._vsec = self._recorded()
        self.time_idx = self._time_idx

    def _redrawing(name, check):
        """A property whose setter checks the value and redraws the axes."""
        def put(self, value):
            setattr(self, f"_{name}", check(name, value))
            self._update_axes()
        return property(lambda self: getattr(self, f"_{name}"), put)

    xlim = _redrawing("xlim", _check_limits)
    ylim = _redrawing("ylim", _check_limits)
    zlim = _redrawing("zlim", _check_limits)
    elev = _redrawing("elev", check_number)
    azim = _redrawing("azim", check_number)
    del _redrawing

    def export_movie(self, fname, fps=30, dpi=300, decim=10, interval=30, frame_start=0,
                     frame_stop=None, writer="pillow"):
        """Animate every ``decim``-th time step from ``frame_start`` to
        ``frame_stop`` (default: the end) into ``fname`` with matplotlib's
        ``writer`` at ``fps`` frames per second."""
        from matplotlib import animation

        self._need_voltages()
        check_int("fps", fps, ge=1)
        check_int("decim", decim, ge=1)
        last = self._vsec.shape[1] - 1
        stop = last if frame_stop is None else check_int("frame_stop", frame_stop, ge=1, le=last)
        start = check_int("frame_start", frame_start, ge=0, le=stop - 1)
        frames = np.arange(start, stop, decim)

        def show(idx):
            self.time_idx = int(idx)
            return self._lines

        movie = animation.FuncAnimation(self.fig, show, frames, interval=interval)
        movie.save(fname, writer=animation.writers[writer](fps=fps), dpi=dpi)
        return movie
