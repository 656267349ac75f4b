"""NetworkPlotter: hnn-core 0.6.1's examples/howto/plot_hnn_animation.py calls
(3x3 mesh, 10 ms instead of 170, a 3-frame movie)."""
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from hnnjax import neymotin_2020_model, simulate_dipole  # noqa: E402
from hnnjax.network_models import add_erp_drives_to_jones_model  # noqa: E402
from hnnjax.viz import NetworkPlotter  # noqa: E402


def test_animation_example(tmp_path):
    net = neymotin_2020_model(mesh_shape=(3, 3))
    net.set_cell_positions(inplane_distance=300)
    net_plot = NetworkPlotter(net)
    net_plot.azim = 45
    net_plot.elev = 40
    with pytest.raises(RuntimeError, match="record_vsec='all'"):
        net_plot.time_idx = 5
    add_erp_drives_to_jones_model(net)
    simulate_dipole(net, tstop=10, record_vsec='all', progress=False, verbose=False)
    net_plot = NetworkPlotter(net)
    net_plot.xlim = (400, 1600)
    net_plot.ylim = (400, 1600)
    net_plot.zlim = (-500, 1600)
    net_plot.azim = 225
    assert net_plot.ax.get_xlim() == (400, 1600) and net_plot.ax.azim == 225
    n_sections = sum(len(net.gid_ranges[ct]) * len(net.cell_types[ct].tree.sections)
                     for ct in net.cell_types)
    assert len(net_plot.ax.lines) == n_sections
    net_plot.time_idx = 200
    gid = net.gid_ranges['L5_pyramidal'][0]
    k = [i for i, (ct, g, sec) in enumerate(net_plot._sections) if g == gid and sec == 'soma'][0]
    v = net.cell_response.vsec[0][gid]['soma'][200]
    want = matplotlib.colormaps['viridis']((v + 100) / 150)
    np.testing.assert_allclose(matplotlib.colors.to_rgba(net_plot.ax.lines[k].get_color()), want)
    net_plot.export_movie(tmp_path / 'animation_demo.gif', dpi=20, fps=30, interval=100, decim=150)
    assert (tmp_path / 'animation_demo.gif').stat().st_size > 0
    with pytest.raises(ValueError, match="time_idx"):
        net_plot.time_idx = 10_000
    with pytest.raises(TypeError, match="xlim"):
        net_plot.xlim = [0, 1]
    # hnn-core's other settable properties redraw, none is ignored
    net_plot.vmin, net_plot.vmax = -80.0, 20.0
    net_plot.voltage_colormap = 'plasma'
    want = matplotlib.colormaps['plasma']((v + 80) / 100)
    np.testing.assert_allclose(matplotlib.colors.to_rgba(net_plot.ax.lines[k].get_color()), want)
    bar = net_plot.fig.axes[-1]
    assert bar.get_ylabel() == 'Membrane potential (mV)' and bar.get_ylim() == (-80.0, 20.0)
    net_plot.bg_color = 'white'
    assert net_plot.ax.get_facecolor() == matplotlib.colors.to_rgba('white')
    n_axes, room = len(net_plot.fig.axes), net_plot.ax.get_position(original=True).bounds
    net_plot.colorbar = False
    assert not net_plot.colorbar and len(net_plot.fig.axes) == n_axes - 1
    assert net_plot.ax.get_position(original=True).width > room[2]  # the bar's room given back
    net_plot.colorbar = True
    assert net_plot.colorbar and len(net_plot.fig.axes) == n_axes
    assert net_plot.ax.get_position(original=True).bounds == room  # and taken again, no more
    assert (net_plot.vmin, net_plot.vmax, net_plot.voltage_colormap, net_plot.bg_color) == (
        -80.0, 20.0, 'plasma', 'white')
    with pytest.raises(ValueError, match="vmax must be a finite number > -80 mV"):
        net_plot.vmax = -90.0
    with pytest.raises(ValueError, match="voltage_colormap must be a matplotlib colormap"):
        net_plot.voltage_colormap = 'nope'
    with pytest.raises(TypeError, match="colorbar must be True or False"):
        net_plot.colorbar = 1
