"""Views of the network's connections (weights in µS), as hnn-core 0.6.1's
``plot_connectivity_matrix``, ``plot_cell_connectivity`` and
``plot_drive_strength``.

Weights follow the distance rule of :func:`~hnnjax.network.connectivity.
connection_weights` (``A_weight·exp(-d²/λ²)``, before ``gain``).
"""
import numpy as np

from .._checks import check_bool, check_int, check_option
from ..network.connectivity import connection_weights
from .dipole import _show


def _check_net_conn(net, conn_idx):
    from ..network.network import Network

    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network; got {type(net).__name__}")
    check_int("conn_idx", conn_idx, ge=0, le=len(net.connectivity) - 1)
    return net.connectivity[conn_idx]


def _weight_colorbar(fig, im, ax):
    from matplotlib.ticker import ScalarFormatter

    fmt = ScalarFormatter()
    fmt.set_powerlimits((-2, 2))
    cbar = fig.colorbar(im, ax=ax, format=fmt)
    cbar.ax.set_ylabel("Weight (µS)", rotation=-90, va="bottom")


def _title(conn):
    return f"{conn['src_type']} -> {conn['target_type']} ({conn['loc']}, {conn['receptor']})"


def plot_connectivity_matrix(net, conn_idx, ax=None, show_weight=True, colorbar=True,
                             colormap="Greys", show=True):
    """Source x target matrix of one connection's weights.

    Parameters
    ----------
    net : Network
    conn_idx : int
        Index into ``net.connectivity`` (see :func:`hnnjax.pick_connection`).
    ax : matplotlib Axes | None
        Where to draw; a new figure if None.
    show_weight : bool
        Shade by weight (µS); if False, every connected pair is 1.
    colorbar : bool
    colormap : str
        A matplotlib colormap name.
    show : bool
        Show the figure (skipped on non-interactive backends such as Agg).

    Returns
    -------
    fig : matplotlib Figure
    """
    import matplotlib.pyplot as plt

    conn = _check_net_conn(net, conn_idx)
    check_bool("show_weight", show_weight)
    check_bool("colorbar", colorbar)
    src_range, tgt_range = net.gid_ranges[conn["src_type"]], net.gid_ranges[conn["target_type"]]
    src, tgt, weight = connection_weights(net, conn)
    matrix = np.zeros((len(src_range), len(tgt_range)))
    matrix[src, tgt] = weight if show_weight else 1.0
    if ax is None:
        _, ax = plt.subplots(1, 1, constrained_layout=True)
    im = ax.imshow(matrix, cmap=colormap, interpolation="none", aspect="auto")
    if colorbar:
        _weight_colorbar(ax.get_figure(), im, ax)
    ax.set_xlabel(f"{conn['target_type']} target gids ({tgt_range[0]}-{tgt_range[-1]})")
    ax.set_ylabel(f"{conn['src_type']} source gids ({src_range[0]}-{src_range[-1]})")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(_title(conn))
    _show(show)
    return ax.get_figure()


def plot_cell_connectivity(net, conn_idx, src_gid=None, axes=None, colorbar=True,
                           colormap="viridis", show=True):
    """Weights from one source cell to its targets, on the grid (x, y µm).

    The targets of ``src_gid`` are coloured by weight (µS), unconnected
    cells of the target type are black crosses and the source a red square.
    For a cell-to-cell connection a left panel shows the source type's
    cells (the ones with targets in full red); clicking one of those shows
    its targets on the right.

    Parameters
    ----------
    net : Network
    conn_idx : int
        Index into ``net.connectivity``.
    src_gid : int | None
        A source gid of the connection; None takes the first.
    axes : list of matplotlib Axes | None
        Two Axes (sources, targets) for a cell-to-cell connection, one
        (targets) for a drive; new ones if None.
    colorbar : bool
    colormap : str
    show : bool

    Returns
    -------
    fig : matplotlib Figure
    """
    import matplotlib.pyplot as plt

    conn = _check_net_conn(net, conn_idx)
    check_bool("colorbar", colorbar)
    valid = list(conn["gid_pairs"])
    if not valid:
        raise ValueError(f"connection {conn_idx} has no source with targets")
    src_gid = valid[0] if src_gid is None else check_int("src_gid", src_gid)
    if src_gid not in valid:
        raise ValueError(f"src_gid {src_gid} has no targets in connection {conn_idx}; "
                         f"use one of {valid}")
    from_cells = conn["src_type"] in net.cell_types
    n_axes = 2 if from_cells else 1
    if axes is None:
        fig, axes = plt.subplots(1, n_axes, sharex=True, sharey=True, squeeze=False,
                                 constrained_layout=True)
        axes = list(axes[0])
    axes = list(np.ravel(axes)) if isinstance(axes, (list, tuple, np.ndarray)) else [axes]
    if len(axes) != n_axes:
        raise ValueError(f"axes must hold {n_axes} Axes for a connection from "
                         f"{conn['src_type']}; got {len(axes)}")
    ax = axes[-1]
    fig = ax.get_figure()
    src_pos = np.asarray(net.pos_dict[conn["src_type"]], dtype=float)
    tgt_pos = np.asarray(net.pos_dict[conn["target_type"]], dtype=float)
    src_idx, tgt_idx, weight = connection_weights(net, conn)
    first = net.gid_ranges[conn["src_type"]][0]

    def draw_targets(gid):
        sel = src_idx == gid - first
        ax.clear()
        im = ax.scatter(tgt_pos[tgt_idx[sel], 0], tgt_pos[tgt_idx[sel], 1], c=weight[sel],
                        s=50, cmap=colormap)
        ax.scatter(tgt_pos[:, 0], tgt_pos[:, 1], color="k", marker="x", zorder=-1, s=20)
        ax.scatter(*src_pos[gid - first, :2], marker="s", color="red", s=150)
        ax.set_xlabel("x (µm)")
        ax.set_ylabel("y (µm)")
        return im

    im = draw_targets(src_gid)
    if from_cells:
        has_targets = np.isin(np.arange(len(src_pos)) + first, valid)
        axes[0].scatter(src_pos[:, 0], src_pos[:, 1], marker="s", color="red", s=50, alpha=0.2)
        axes[0].scatter(src_pos[has_targets, 0], src_pos[has_targets, 1], marker="s",
                        color="red", s=50)
        axes[0].set_xlabel("x (µm)")
        axes[0].set_ylabel("y (µm)")

        def on_click(event):
            if event.inaxes is not axes[0]:
                return
            gid = first + int(np.argmin(np.hypot(src_pos[:, 0] - event.xdata,
                                                  src_pos[:, 1] - event.ydata)))
            if gid in conn["gid_pairs"]:
                draw_targets(gid)
                fig.canvas.draw_idle()

        fig.canvas.mpl_connect("button_press_event", on_click)
    fig.suptitle(_title(conn))
    if colorbar:
        _weight_colorbar(fig, im, ax)
    _show(show)
    return fig


def plot_drive_strength(net, show_weight=True, ax=None, colorbar=True, color_scale="linear",
                        normalize=True, show=True):
    """Drives x cell types matrix of the total synaptic weight (µS) each
    drive delivers to each type, summed over its pairs and receptors.

    Parameters
    ----------
    net : Network
    show_weight : bool
        Sum weights (µS); if False, count connected pairs.
    ax : matplotlib Axes | None
        Where to draw; a new figure if None.
    colorbar : bool
    color_scale : 'linear' | 'log'
        'log' shows log(1 + value).
    normalize : bool
        Rescale the values to 0-1 (min to max).
    show : bool

    Returns
    -------
    fig : matplotlib Figure
    """
    import matplotlib.pyplot as plt
    from ..network.network import Network

    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network; got {type(net).__name__}")
    check_bool("show_weight", show_weight)
    check_bool("colorbar", colorbar)
    check_bool("normalize", normalize)
    check_option("color_scale", color_scale, ("linear", "log"))
    drives, cell_types = list(net.external_drives), list(net.cell_types)
    if not drives:
        raise ValueError("net has no drives: add one with net.add_*_drive")
    strength = np.zeros((len(drives), len(cell_types)))
    for conn in net.connectivity:
        if conn["src_type"] in net.external_drives:
            weight = connection_weights(net, conn)[2]
            strength[drives.index(conn["src_type"]), cell_types.index(conn["target_type"])] += (
                weight.sum() if show_weight else weight.size)
    if normalize and strength.max() > strength.min():
        strength = (strength - strength.min()) / (strength.max() - strength.min())
    if color_scale == "log":
        strength = np.log1p(strength)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 1.5 + 0.6 * len(drives)), constrained_layout=True)
    im = ax.imshow(strength, cmap="viridis", aspect="auto", interpolation="nearest")
    unit = ("relative strength (0-1)" if normalize
            else "µS" if show_weight else "connected pairs")
    unit += ", log(1 + x)" if color_scale == "log" else ""
    if colorbar:
        ax.get_figure().colorbar(im, ax=ax).ax.set_ylabel(unit, rotation=-90, va="bottom")
    ax.set_xticks(np.arange(len(cell_types)), cell_types, rotation=45, ha="right",
                  rotation_mode="anchor")
    ax.set_yticks(np.arange(len(drives)), drives)
    ax.set_xlabel("Cell Types")
    ax.set_ylabel("Drive Names")
    ax.set_title("External Drive Strengths" + ("" if colorbar else f" ({unit})"))
    for i in range(len(drives)):
        for j in range(len(cell_types)):
            value = strength[i, j]
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", weight="bold",
                    color="black" if value > 0.7 * strength.max() else "white")
    _show(show)
    return ax.get_figure()
