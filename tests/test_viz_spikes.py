"""Spike histogram and raster plots (smoke tests writing PNGs)."""
import matplotlib

matplotlib.use('Agg')

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from hnnjax.viz.spikes import plot_spikes_hist, plot_spikes_raster  # noqa: E402

GID_RANGES = {'L2_basket': range(0, 35), 'L2_pyramidal': range(35, 135),
              'L5_basket': range(135, 170), 'L5_pyramidal': range(170, 270),
              'evdist1': range(270, 271), 'evprox1': range(271, 272),
              'evprox2': range(272, 273)}


class FakeCellResponse:
    """Minimal stand-in: per-trial spike lists, times and gid_ranges."""

    def __init__(self, n_trials=2, seed=0):
        rng = np.random.default_rng(seed)
        self.times = np.arange(0, 170.025, 0.025)
        self.gid_ranges = GID_RANGES
        self.spike_times, self.spike_gids, self.spike_types = [], [], []
        for _ in range(n_trials):
            gids = np.concatenate([rng.integers(0, 270, 300), [270] * 2,
                                   [271] * 3, [272] * 4])
            times = np.concatenate([rng.uniform(1, 169, 300),
                                    [60.0, 65.0], [20.0, 25.0, 30.0],
                                    [130.0, 135.0, 140.0, 145.0]])
            types = [next(n for n, r in GID_RANGES.items() if g in r)
                     for g in gids]
            self.spike_times.append(times.tolist())
            self.spike_gids.append(gids.tolist())
            self.spike_types.append(types)


def _legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _bar_total(ax):
    return sum(p.get_height() for p in ax.patches)


def test_hist_default_groups_drives(tmp_path):
    cr = FakeCellResponse()
    fig = plot_spikes_hist(cr, show=False)
    ax = fig.axes[0]
    assert _legend_texts(ax) == ['evdist1', 'evprox1', 'evprox2']
    assert ax.get_xlabel() == 'Time (ms)' and ax.get_ylabel() == 'Counts'
    assert ax.get_xlim() == (0.0, 170.0)
    assert _bar_total(ax) == 2 * (2 + 3 + 4)  # summed over both trials
    fig.savefig(tmp_path / 'hist_default.png')
    assert (tmp_path / 'hist_default.png').stat().st_size > 0
    plt.close(fig)


def test_hist_groups_colors_bins_trials(tmp_path):
    cr = FakeCellResponse()
    fig, ax = plt.subplots()
    plot_spikes_hist(cr, trial_idx=1, ax=ax, show=False, bin_width=5.0,
                     spike_types={'Evoked': ['ev'], 'L5': ['L5_']},
                     color={'Evoked': 'k', 'L5': 'tab:orange'})
    assert _legend_texts(ax) == ['Evoked', 'L5']
    n_l5 = sum(t.startswith('L5_') for t in cr.spike_types[1])
    assert _bar_total(ax) == 9 + n_l5
    assert len(ax.patches) == 2 * 34  # 5 ms bins over 0..170 ms
    fig.savefig(tmp_path / 'hist_groups.png')
    plt.close(fig)

    fig = plot_spikes_hist(cr, spike_types='evprox', show=False, color='b')
    assert _legend_texts(fig.axes[0]) == ['evprox']
    assert _bar_total(fig.axes[0]) == 2 * (3 + 4)
    plt.close(fig)
    fig = plot_spikes_hist(cr, spike_types=['L2_basket', 'L2_pyramidal'],
                           trial_idx=[0], color=['r', 'g'], show=False)
    assert _legend_texts(fig.axes[0]) == ['L2_basket', 'L2_pyramidal']
    plt.close(fig)


def test_hist_only_cells_uses_cell_types():
    cr = FakeCellResponse(n_trials=1)
    keep = [i for i, t in enumerate(cr.spike_types[0]) if t.startswith('L')]
    for attr in ('spike_times', 'spike_gids', 'spike_types'):
        values = getattr(cr, attr)[0]
        getattr(cr, attr)[0] = [values[i] for i in keep]
    fig = plot_spikes_hist(cr, show=False)
    assert _legend_texts(fig.axes[0]) == ['L2_basket', 'L2_pyramidal',
                                          'L5_basket', 'L5_pyramidal']
    plt.close(fig)


@pytest.mark.parametrize('kwargs, match', [
    ({'spike_types': 'poisson'}, r"no spike type starts with 'poisson'"),
    ({'spike_types': ['ev', 'evprox']}, r"'evprox1' is matched more than once"),
    ({'spike_types': {'a': 'ev'}}, r"spike_types\['a'\] must be a list"),
    ({'spike_types': 3}, r'spike_types must be a str'),
    ({'color': {'evdist1': 'r'}}, r"color dict has no entry for \['evprox1'"),
    ({'color': 3}, r'color must be None'),
    ({'bin_width': 0}, r'bin_width must be a finite number > 0 ms'),
    ({'trial_idx': 2}, r'trial_idx must be an int or list of ints in 0..1'),
    ({'trial_idx': True}, r'trial_idx must be an int or list of ints in 0..1'),
])
def test_hist_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_spikes_hist(FakeCellResponse(), show=False, **kwargs)
    plt.close('all')


def test_raster(tmp_path):
    cr = FakeCellResponse()
    fig = plot_spikes_raster(cr, show=False)
    ax = fig.axes[0]
    assert _legend_texts(ax) == ['L2_basket Spikes', 'L2_pyramidal Spikes',
                                 'L5_basket Spikes', 'L5_pyramidal Spikes']
    assert ax.get_xlabel() == 'Time (ms)' and ax.get_ylabel() == 'Cell ID'
    assert ax.get_title() == 'Raster Plot'
    assert ax.get_ylim() == (-270.0, 1.0)
    # one event row per spiking cell, drawn at y = -gid
    rows = [c for c in ax.collections]
    n_cells = len({g for trial in cr.spike_gids for g in trial if g < 270})
    assert len(rows) == n_cells
    fig.savefig(tmp_path / 'raster.png')
    assert (tmp_path / 'raster.png').stat().st_size > 0
    plt.close(fig)

    fig, ax = plt.subplots()
    plot_spikes_raster(cr, trial_idx=0, ax=ax, show=False,
                       cell_types=['L5_pyramidal'], colors=['k'],
                       marker_size=3.0)
    assert _legend_texts(ax) == ['L5_pyramidal Spikes']
    assert ax.get_ylim() == (-270.0, -169.0)
    plt.close(fig)
    fig = plot_spikes_raster(cr, show=False, show_legend=False,
                             colors={'L2_basket': 'k'})
    assert fig.axes[0].get_legend() is None
    plt.close(fig)


@pytest.mark.parametrize('kwargs, match', [
    ({'cell_types': ['L4_stellate']}, r'cell_types must be a non-empty list'),
    ({'colors': ['r']}, r'colors must have one entry per cell type \(4\)'),
    ({'colors': {'evprox1': 'r'}}, r"colors: unknown cell type\(s\) \['evprox1'\]"),
    ({'colors': 'r'}, r'colors must be None, a list or a dict'),
    ({'marker_size': 0}, r'marker_size must be a finite number > 0'),
    ({'trial_idx': [0, 5]}, r'trial_idx must be an int or list of ints'),
])
def test_raster_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_spikes_raster(FakeCellResponse(), show=False, **kwargs)
    plt.close('all')


def test_png_for_inspection(tmp_path):
    """Both plots side by side, written for a visual check of labels."""
    cr = FakeCellResponse()
    fig, axes = plt.subplots(2, 1, figsize=(6, 6), constrained_layout=True)
    plot_spikes_hist(cr, ax=axes[0], show=False)
    plot_spikes_raster(cr, ax=axes[1], show=False)
    fig.savefig(tmp_path / 'spikes.png', dpi=100)
    assert (tmp_path / 'spikes.png').stat().st_size > 10_000
    plt.close(fig)
