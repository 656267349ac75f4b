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


def _colormap(name):
    """``name``, checked to be one of matplotlib's colormaps."""
    import matplotlib

    if name not in matplotlib.colormaps:
        raise ValueError(f"voltage_colormap must be a matplotlib colormap; got {name!r}")
    return name


class NetworkPlotter:
    """The network's morphology in 3-D (µm; z is the apical axis), sections
    coloured by membrane potential between ``vmin`` and ``vmax`` mV at
    ``time_idx`` of trial ``trial_idx``.  Setting any of these, ``elev``,
    ``azim``, the axis limits, ``bg_color``, ``voltage_colormap`` or
    ``colorbar`` redraws; ``fig`` holds the figure."""

    def __init__(self, net, ax=None, vmin=-100, vmax=50, bg_color="black", colorbar=True,
                 voltage_colormap="viridis", elev=10, azim=-500, xlim=(-200, 3100),
                 ylim=(-200, 3100), zlim=(-300, 2200), trial_idx=0, time_idx=0):
        from .network import _axes_3d

        self.net = net
        self._vmin = check_number("vmin", vmin, unit=" mV")
        self._vmax = check_number("vmax", vmax, gt=self._vmin, unit=" mV")
        if not isinstance(bg_color, str):
            raise TypeError(f"bg_color must be a colour name; got {bg_color!r}")
        self._voltage_colormap = _colormap(voltage_colormap)
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
        self._bg_color = bg_color
        self.ax.set_facecolor(bg_color)
        self._lines = self._draw()
        self.ax.set_xlabel("x (µm)")
        self.ax.set_ylabel("y (µm)")
        self.ax.set_zlabel("z (µm)")
        self._update_axes()
        self._cbar = None
        self.colorbar = colorbar
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
        self._time_idx = idx
        self._recolor()
        self.ax.set_title(f"t = {self.times[idx]:.2f} ms", color="0.5")

    def _recolor(self):
        """Each section's colour: its voltage at ``time_idx`` on the colormap
        between ``vmin`` and ``vmax`` (grey while nothing is recorded)."""
        if self._vsec is None:
            return
        v = self._vsec[:, self._time_idx]
        for line, color in zip(self._lines, self._cmap((v - self._vmin) / (self._vmax - self._vmin))):
            line.set_color(color)

    def _recoloring(name, check, doc):
        """A property whose setter checks the value (``check(self, value)``)
        and recolours the sections and the colour bar."""
        def put(self, value):
            setattr(self, f"_{name}", check(self, value))
            self._recolor()
            self._rescale()
        return property(lambda self: getattr(self, f"_{name}"), put, doc=doc)

    vmin = _recoloring("vmin", lambda self, v: check_number("vmin", v, lt=self._vmax, unit=" mV"),
                       "The voltage (mV) at the colormap's low end.")
    vmax = _recoloring("vmax", lambda self, v: check_number("vmax", v, gt=self._vmin, unit=" mV"),
                       "The voltage (mV) at the colormap's high end.")
    voltage_colormap = _recoloring("voltage_colormap", lambda self, v: _colormap(v),
                                   "The matplotlib colormap's name.")
    del _recoloring

    @property
    def _cmap(self):
        import matplotlib

        return matplotlib.colormaps[self._voltage_colormap]

    @property
    def bg_color(self):
        """The axes' background colour."""
        return self._bg_color

    @bg_color.setter
    def bg_color(self, color):
        if not isinstance(color, str):
            raise TypeError(f"bg_color must be a colour name; got {color!r}")
        self.ax.set_facecolor(color)
        self._bg_color = color

    @property
    def colorbar(self):
        """Whether the figure shows the voltage colour scale (mV)."""
        return self._cbar is not None

    @colorbar.setter
    def colorbar(self, show):
        from matplotlib.pyplot import cm

        show = check_bool("colorbar", show)
        if show and self._cbar is None:
            self._full_position = self.ax.get_position(original=True)  # the bar takes room from it
            self._cbar = self.fig.colorbar(cm.ScalarMappable(cmap=self._cmap), ax=self.ax,
                                           use_gridspec=False, label="Membrane potential (mV)")
            self._rescale()
        elif not show and self._cbar is not None:
            self._cbar.remove()
            self.ax.set_position(self._full_position)
            self._cbar = None

    def _rescale(self):
        """The colour bar shows today's ``vmin``-``vmax`` and colormap."""
        from matplotlib.colors import Normalize

        if self._cbar is not None:
            self._cbar.mappable.set_cmap(self._cmap)
            self._cbar.mappable.set_norm(Normalize(self._vmin, self._vmax))

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
