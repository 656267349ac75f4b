"""The somato workflow's figure: drive spikes, the target with the seed and
fitted simulations on one dipole axis (nAm), output spikes."""
import textwrap

from ..dipole import Dipole
from ..viz.spikes import CELL_TYPES
from .simulate import plot_spike_panel

DRIVE_TYPES = ('evprox', 'evdist')
TARGET_STYLE = dict(color='tab:red', ls='--', lw=2.0)
CURVE_STYLES = {'seed': dict(color='0.55', lw=1.5),
                'fitted': dict(color='k', lw=1.5)}
LEGEND_ROOM = 0.45  # of the curves' range, added above them for the legend


def plot_somato_figure(target, curves, cell_response, fit_window_ms=None,
                       note=''):
    """Three panels sharing time (ms), as hnn-core's somato figure.

    (a) drive spikes and (c) output spikes by cell type of
    ``cell_response`` (the fitted network's run); (b) the ``target`` and
    ``curves`` ({'seed' | 'fitted': (Dipole, legend label)}, already scaled)
    on one axis in nAm, the fit window (0-``fit_window_ms``) shaded;
    ``note`` (which target and scale, why) heads the figure. Returns the
    Figure.
    """
    import matplotlib.pyplot as plt

    dpls = [target] + [dpl for dpl, _ in curves.values()]
    if not all(isinstance(dpl, Dipole) for dpl in dpls):
        raise ValueError("target and the curves must be Dipole instances")
    fig, axes = plt.subplots(3, 1, sharex=True, figsize=(8, 9),
                             constrained_layout=True,
                             gridspec_kw=dict(height_ratios=[1, 2, 1]))
    plot_spike_panel(axes[0], cell_response, DRIVE_TYPES,
                     '(a) Drive spikes, fitted network')
    ax = axes[1]
    ax.axhline(0, color='0.8', lw=0.8, zorder=0)
    if fit_window_ms is not None:
        ax.axvspan(0, fit_window_ms, color='tab:blue', alpha=0.07, lw=0,
                   label=f'fit window (0-{fit_window_ms:g} ms)')
    ax.plot(target.times, target.data['agg'],
            label=target.info.get('name', 'target'), **TARGET_STYLE)
    for kind, (dpl, label) in curves.items():
        ax.plot(dpl.times, dpl.data['agg'], label=label, **CURVE_STYLES[kind])
    ax.set_ylabel('Current dipole (nAm)')
    ax.set_title('(b) Target vs simulations (RMSE of the faithful '
                 're-simulations over the fit window)')
    # the fit window's shading covers the whole axis, so 'best' finds no free
    # corner: the legend goes above the curves, in room made for it
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + LEGEND_ROOM * (high - low))
    ax.legend(loc='upper left', fontsize='small')
    if note:
        fig.suptitle('\n'.join(textwrap.fill(line, 110)
                               for line in note.splitlines()),
                     x=0.01, ha='left', fontsize='small', color='0.25')
    plot_spike_panel(axes[2], cell_response, CELL_TYPES,
                     '(c) Output spikes by cell type, fitted network')
    for top in axes[:2]:
        top.set_xlabel('')
    times = curves[next(iter(curves))][0].times
    axes[2].set_xlabel('Time (ms)')
    axes[2].set_xlim(times[0], times[-1])
    return fig
