"""3-D views of the network: cell positions and cell morphology (µm).

Follows hnn-core 0.6.1's ``plot_cells`` and ``plot_cell_morphology``: the
apical axis is +z and the oblique dendrite points to −x.
"""
import numbers

import numpy as np

from .dipole import _show

_CELL_STYLE = {  # cell type -> (colour, marker), as in hnn-core
    'L2_basket': ('m', 'x'),
    'L2_pyramidal': ('c', '^'),
    'L5_basket': ('r', 'x'),
    'L5_pyramidal': ('b', '^'),
}


def _axes_3d(ax, name='ax'):
    """A new 3-D Axes if ``ax`` is None, else check that ``ax`` is 3-D."""
    import matplotlib.pyplot as plt
    from mpl_toolkits.mplot3d import Axes3D

    if ax is None:
        return plt.figure().add_subplot(projection='3d')
    if not isinstance(ax, Axes3D):
        raise ValueError(f"{name} must be a 3-D matplotlib Axes "
                         f"(projection='3d'); got {type(ax).__name__}")
    return ax


def plot_cells(net, ax=None, show=True):
    """Scatter the cell positions of ``net`` (``pos_dict``) in 3-D, by type,
    and the contacts of its electrode arrays.

    Parameters
    ----------
    net : Network
    ax : mpl_toolkits.mplot3d.Axes3D | None
        Where to draw; a new figure if None.
    show : bool
        Show the figure (skipped on non-interactive backends such as Agg).

    Returns
    -------
    fig : matplotlib Figure
    """
    ax = _axes_3d(ax)
    for cell_type in net.cell_types:
        xyz = np.asarray(net.pos_dict[cell_type], dtype=float).reshape(-1, 3)
        color, marker = _CELL_STYLE.get(cell_type, ('k', 'o'))
        ax.scatter(xyz[:, 0], xyz[:, 1], xyz[:, 2], c=color, s=50,
                   marker=marker, label=cell_type)
    for name, array in getattr(net, 'rec_arrays', {}).items():
        xyz = np.asarray(array.positions, dtype=float)
        ax.scatter(xyz[:, 0], xyz[:, 1], xyz[:, 2], c='k', s=25, marker='|', label=name)
    ax.set_xlabel('x')
    ax.set_ylabel('y')
    ax.set_zlabel('z (µm)')
    ax.legend(bbox_to_anchor=(-0.15, 1.025), loc='upper left')
    _show(show)
    return ax.get_figure()


def _section_colors(color, names):
    """Colour per section from None (blue), one colour or a dict."""
    if color is None or isinstance(color, str):
        return dict.fromkeys(names, color or 'b')
    if isinstance(color, dict):
        missing = [n for n in names if n not in color]
        if missing:
            raise ValueError(f"color dict has no entry for sections {missing}")
        return color
    raise ValueError("color must be None, a str or a dict section -> colour; "
                     f"got {color!r}")


def _check_pos(pos):
    if not (isinstance(pos, (tuple, list)) and len(pos) == 3
            and all(isinstance(p, numbers.Real) for p in pos)):
        raise ValueError(f"pos must be a tuple of 3 numbers (µm); got {pos!r}")
    return np.asarray(pos, dtype=float)


def _limits(given, coords, name, margin=20.0):
    """Axis limits (µm): ``given``, or the span of ``coords`` plus a margin."""
    if given is None:
        return coords.min() - margin, coords.max() + margin
    if not (isinstance(given, (tuple, list)) and len(given) == 2
            and given[0] < given[1]):
        raise ValueError(f"{name} must be (min, max) in µm with min < max; "
                         f"got {given!r}")
    return tuple(given)


def _points_per_um(ax, point):
    """Typographic points per µm along x at ``point`` in the current view,
    to draw section diameters to scale."""
    from mpl_toolkits.mplot3d import proj3d

    ends = [proj3d.proj_transform(*p, ax.get_proj())[:2]
            for p in (point, point + [100.0, 0.0, 0.0])]
    (x0, y0), (x1, y1) = ax.transData.transform(ends)
    return np.hypot(x1 - x0, y1 - y0) / 100.0 * 72.0 / ax.get_figure().dpi


def plot_cell_morphology(cell, ax=None, color=None, pos=(0.0, 0.0, 0.0),
                         xlim=None, ylim=None, zlim=None, show=True):
    """Draw each section of ``cell`` as a line from its start to its end.

    Parameters
    ----------
    cell : CellType
    ax : mpl_toolkits.mplot3d.Axes3D | None
        Where to draw; a new figure if None.
    color : str | dict | None
        One colour, or section name -> colour for every section (default
        blue).
    pos : tuple of 3 float
        Position of soma(0) in µm.
    xlim, ylim, zlim : tuple of 2 float | None
        Axis limits in µm relative to ``pos``; None fits the cell.
    show : bool
        Show the figure (skipped on non-interactive backends such as Agg).

    Returns
    -------
    ax : mpl_toolkits.mplot3d.Axes3D
    """
    ax = _axes_3d(ax)
    colors = _section_colors(color, cell.section_names)
    origin = _check_pos(pos)
    end_pts = cell.end_points()
    pts = np.concatenate(list(end_pts.values()))
    lims = [_limits(given, pts[:, i], name) for i, (given, name) in
            enumerate(zip((xlim, ylim, zlim), ('xlim', 'ylim', 'zlim')))]
    for set_lim, offset, (lo, hi) in zip(
            (ax.set_xlim, ax.set_ylim, ax.set_zlim), origin, lims):
        set_lim(offset + lo, offset + hi)
    ax.set_box_aspect([hi - lo for lo, hi in lims])
    ax.view_init(elev=0, azim=-90)
    scale = _points_per_um(ax, origin)
    for sec in cell.tree.sections:
        xyz = end_pts[sec.name] + origin
        ax.plot(xyz[:, 0], xyz[:, 1], xyz[:, 2], '-', color=colors[sec.name],
                linewidth=sec.diam * scale, solid_capstyle='butt')
    ax.set_title(cell.name)
    ax.axis('off')
    _show(show)
    return ax
