"""hnn-core 0.6.1's example workflows under hnnjax, with only the import changed.

The evoked example (``examples/workflows/plot_simulate_evoked.py``) is
simulated once per module (170 ms, 2 trials); the simulation half of the
somatosensory example (``plot_simulate_somato.py``) is marked slow.  Figures are drawn on the Agg backend and written to ``tmp_path``.
"""
import os.path as op
from collections import Counter

import matplotlib

matplotlib.use('Agg')

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from mpl_toolkits.mplot3d import Axes3D  # noqa: E402

import hnnjax  # noqa: E402
from hnnjax import (JoblibBackend, MPIBackend, CellResponse,  # noqa: E402
                    average_dipoles, neymotin_2020_model, read_spikes,
                    simulate_dipole)
from hnnjax.cells.cell_types import SQRT1_2, cell_types  # noqa: E402
from hnnjax.io.params import params_path, read_params  # noqa: E402
from hnnjax.viz import plot_dipole  # noqa: E402

CELL_TYPES = ('L2_basket', 'L2_pyramidal', 'L5_basket', 'L5_pyramidal')
N_CELLS = {'L2_basket': 35, 'L2_pyramidal': 100, 'L5_basket': 35,
           'L5_pyramidal': 100}

# The evoked example's drive parameters, verbatim.
weights_ampa_d1 = {'L2_basket': 0.006562, 'L2_pyramidal': .000007,
                   'L5_pyramidal': 0.142300}
weights_nmda_d1 = {'L2_basket': 0.019482, 'L2_pyramidal': 0.004317,
                   'L5_pyramidal': 0.080074}
synaptic_delays_d1 = {'L2_basket': 0.1, 'L2_pyramidal': 0.1,
                      'L5_pyramidal': 0.1}
weights_ampa_p1 = {'L2_basket': 0.08831, 'L2_pyramidal': 0.01525,
                   'L5_basket': 0.19934, 'L5_pyramidal': 0.00865}
synaptic_delays_prox = {'L2_basket': 0.1, 'L2_pyramidal': 0.1,
                        'L5_basket': 1., 'L5_pyramidal': 1.}
weights_ampa_p2 = {'L2_basket': 0.000003, 'L2_pyramidal': 1.438840,
                   'L5_basket': 0.008958, 'L5_pyramidal': 0.684013}
window_len, scaling_factor = 30, 3000


def add_evoked_example_drives(net, **sync):
    """The example's three add_evoked_drive calls (``sync``: its
    n_drive_cells/cell_specific variant)."""
    net.add_evoked_drive(
        'evdist1', mu=63.53, sigma=3.85, numspikes=1, weights_ampa=weights_ampa_d1,
        weights_nmda=weights_nmda_d1, location='distal',
        synaptic_delays=synaptic_delays_d1, event_seed=274, **sync)
    net.add_evoked_drive(
        'evprox1', mu=26.61, sigma=2.47, numspikes=1, weights_ampa=weights_ampa_p1,
        weights_nmda=None, location='proximal',
        synaptic_delays=synaptic_delays_prox, event_seed=544, **sync)
    net.add_evoked_drive(
        'evprox2', mu=137.12, sigma=8.33, numspikes=1,
        weights_ampa=weights_ampa_p2, location='proximal',
        synaptic_delays=synaptic_delays_prox, event_seed=814, **sync)


@pytest.fixture(scope='module')
def evoked():
    """The example's network, two simulated trials, smoothed and scaled."""
    net = neymotin_2020_model()
    add_evoked_example_drives(net)
    with JoblibBackend(n_jobs=2):
        dpls = simulate_dipole(net, tstop=170., n_trials=2)
    for dpl in dpls:
        dpl.smooth(window_len).scale(scaling_factor)
    return net, dpls


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close('all')


def _legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _save(fig, path):
    fig.savefig(path)
    assert op.getsize(path) > 0


# ------------------------------------------------------------ evoked example
def test_evoked_example_dipoles(evoked):
    _, dpls = evoked
    assert len(dpls) == 2
    for dpl in dpls:
        assert dpl.times[-1] == pytest.approx(170.0)
        assert list(dpl.data) == ['agg', 'L2', 'L5']
        assert dpl.scale_applied == scaling_factor
        assert np.ptp(dpl.data['agg']) > 0


def test_evoked_example_spikes_per_cell_type(evoked):
    net, _ = evoked
    for types in net.cell_response.spike_types:
        counts = Counter(types)
        assert all(counts[ct] > 0 for ct in CELL_TYPES), counts
        # one event per drive cell; one drive cell per target cell
        assert counts['evprox1'] == counts['evprox2'] == sum(N_CELLS.values())
        assert counts['evdist1'] == sum(N_CELLS.values()) - N_CELLS['L5_basket']


def test_evoked_example_dipole_and_histogram(evoked, tmp_path):
    net, dpls = evoked
    fig, axes = plt.subplots(2, 1, sharex=True, figsize=(6, 6),
                             constrained_layout=True)
    plot_dipole(dpls, ax=axes[0], layer='agg', show=False)
    net.cell_response.plot_spikes_hist(ax=axes[1],
                                       spike_types=['evprox', 'evdist'])
    _save(fig, tmp_path / 'evoked_agg_hist.png')

    assert axes[0].get_title() == 'Aggregate (L2/3 + L5)'
    assert axes[0].get_ylabel() == 'Dipole (nAm $\\times$ 3000)'
    assert len(axes[0].get_lines()) == 2
    assert axes[1].get_xlabel() == 'Time (ms)'
    assert axes[1].get_ylabel() == 'Counts'
    assert _legend_texts(axes[1]) == ['evprox', 'evdist']
    types = np.concatenate(net.cell_response.spike_types)
    for container, prefix in zip(axes[1].containers, ('evprox', 'evdist')):
        n_spikes = sum(t.startswith(prefix) for t in types)
        assert sum(bar.get_height() for bar in container) == n_spikes


def test_evoked_example_layers(evoked, tmp_path):
    _, dpls = evoked
    fig = plot_dipole(dpls, average=False, layer=['L2', 'L5', 'agg'], show=False)
    _save(fig, tmp_path / 'evoked_layers.png')
    assert [ax.get_title() for ax in fig.axes] == [
        'L2/3', 'L5', 'Aggregate (L2/3 + L5)']
    assert all(len(ax.get_lines()) == 2 for ax in fig.axes)
    for ax, layer in zip(fig.axes, ('L2', 'L5', 'agg')):
        np.testing.assert_allclose(ax.get_lines()[1].get_ydata(),
                                   dpls[1].data[layer])


def test_evoked_example_trial_plot_and_default_histogram(evoked, tmp_path):
    net, dpls = evoked
    trial_idx = 0
    fig = dpls[trial_idx].copy().smooth(window_len).scale(scaling_factor).plot()
    _save(fig, tmp_path / 'evoked_trial.png')
    assert fig.axes[0].get_ylabel() == 'Dipole (nAm $\\times$ 9e+06)'
    assert dpls[trial_idx].scale_applied == scaling_factor  # copy left intact
    fig = net.cell_response.plot_spikes_hist()
    _save(fig, tmp_path / 'evoked_hist_default.png')
    assert _legend_texts(fig.axes[0]) == ['evdist1', 'evprox1', 'evprox2']


def test_evoked_example_raster(evoked, tmp_path):
    net, _ = evoked
    fig = net.cell_response.plot_spikes_raster(show=False)
    _save(fig, tmp_path / 'evoked_raster.png')
    ax = fig.axes[0]
    assert _legend_texts(ax) == [f'{ct} Spikes' for ct in CELL_TYPES]
    assert ax.get_xlabel() == 'Time (ms)' and ax.get_ylabel() == 'Cell ID'


def test_evoked_example_sync_drives():
    net_sync = neymotin_2020_model()
    add_evoked_example_drives(net_sync, n_drive_cells=1, cell_specific=False)
    assert net_sync.external_drives['evdist1']['dynamics'] == {
        'mu': 63.53, 'sigma': 3.85, 'numspikes': 1}
    assert [len(net_sync.gid_ranges[d]) for d in net_sync.external_drives] == [1, 1, 1]


def test_evoked_example_network_plots(tmp_path):
    net = neymotin_2020_model()
    fig = net.plot_cells()
    _save(fig, tmp_path / 'cells.png')
    ax = fig.axes[0]
    assert isinstance(ax, Axes3D)
    assert _legend_texts(ax) == list(CELL_TYPES)
    assert [len(c.get_offsets()) for c in ax.collections] == [
        N_CELLS[ct] for ct in CELL_TYPES]

    ax = net.cell_types['L5_pyramidal']['cell_object'].plot_morphology()
    _save(ax.get_figure(), tmp_path / 'morphology_L5.png')
    assert ax.get_title() == 'L5_pyramidal'
    assert len(ax.get_lines()) == 9


# --------------------------------------------------- somatosensory example
@pytest.mark.slow
def test_somato_example_simulation(tmp_path):
    hnn_core_root = op.dirname(hnnjax.__file__)
    params_fname = op.join(hnn_core_root, 'param', 'N20.json')
    net = neymotin_2020_model(params_fname)

    weights_ampa_p = {'L2_basket': 0.0036, 'L2_pyramidal': 0.0039,
                      'L5_basket': 0.0019, 'L5_pyramidal': 0.0020}
    weights_nmda_p = {'L2_basket': 0.0029, 'L2_pyramidal': 0.0005,
                      'L5_basket': 0.0030, 'L5_pyramidal': 0.0019}
    synaptic_delays_p = {'L2_basket': 0.1, 'L2_pyramidal': 0.1,
                         'L5_basket': 1.0, 'L5_pyramidal': 1.0}
    net.add_evoked_drive(
        'evprox1', mu=21., sigma=4., numspikes=1, location='proximal',
        n_drive_cells=1, cell_specific=False, weights_ampa=weights_ampa_p,
        weights_nmda=weights_nmda_p, synaptic_delays=synaptic_delays_p,
        event_seed=276)
    weights_ampa_p = {'L2_basket': 0.003, 'L2_pyramidal': 0.0039,
                      'L5_basket': 0.004, 'L5_pyramidal': 0.0020}
    weights_nmda_p = {'L2_basket': 0.001, 'L2_pyramidal': 0.0005,
                      'L5_basket': 0.002, 'L5_pyramidal': 0.0020}
    net.add_evoked_drive(
        'evprox2', mu=134., sigma=4.5, numspikes=1, location='proximal',
        n_drive_cells=1, cell_specific=False, weights_ampa=weights_ampa_p,
        weights_nmda=weights_nmda_p, synaptic_delays=synaptic_delays_p,
        event_seed=276)
    weights_ampa_d = {'L2_basket': 0.0043, 'L2_pyramidal': 0.0032,
                      'L5_pyramidal': 0.0009}
    weights_nmda_d = {'L2_basket': 0.0029, 'L2_pyramidal': 0.0051,
                      'L5_pyramidal': 0.0010}
    synaptic_delays_d = {'L2_basket': 0.1, 'L2_pyramidal': 0.1,
                         'L5_pyramidal': 0.1}
    net.add_evoked_drive(
        'evdist1', mu=32., sigma=2.5, numspikes=1, location='distal',
        n_drive_cells=1, cell_specific=False, weights_ampa=weights_ampa_d,
        weights_nmda=weights_nmda_d, synaptic_delays=synaptic_delays_d,
        event_seed=277)
    weights_ampa_d = {'L2_basket': 0.0041, 'L2_pyramidal': 0.0019,
                      'L5_pyramidal': 0.0018}
    weights_nmda_d = {'L2_basket': 0.0032, 'L2_pyramidal': 0.0018,
                      'L5_pyramidal': 0.0017}
    net.add_evoked_drive(
        'evdist2', mu=84., sigma=4.5, numspikes=1, location='distal',
        n_drive_cells=1, cell_specific=False, weights_ampa=weights_ampa_d,
        weights_nmda=weights_nmda_d, synaptic_delays=synaptic_delays_d,
        event_seed=275)

    n_trials = 2
    with JoblibBackend(n_jobs=2):
        dpls = simulate_dipole(net, tstop=170., n_trials=n_trials)
    dpl_smooth_win = 20
    dpl_scalefctr = 12
    for dpl in dpls:
        dpl.smooth(dpl_smooth_win)
        dpl.scale(dpl_scalefctr)

    # stand-in for the MNE label time course of the example's first half
    stc_times, dipole_tc = np.linspace(0.0, 0.17, 171), np.zeros(171)
    fig, axes = plt.subplots(3, 1, sharex=True, figsize=(6, 6),
                             constrained_layout=True)
    net.cell_response.plot_spikes_hist(ax=axes[0],
                                       spike_types=['evprox', 'evdist'],
                                       show=False)
    axes[1].axhline(0, c='k', ls=':', label='_nolegend_')
    axes[1].plot(1e3 * stc_times, dipole_tc, 'r--')
    average_dipoles(dpls).plot(ax=axes[1], show=False)
    axes[1].legend(['MNE label average', 'HNN simulation'])
    axes[1].set_ylabel('Current Dipole (nAm)')
    net.cell_response.plot_spikes_raster(ax=axes[2])
    _save(fig, tmp_path / 'somato.png')

    assert len(dpls) == n_trials
    assert _legend_texts(axes[0]) == ['evprox', 'evdist']
    assert _legend_texts(axes[1]) == ['MNE label average', 'HNN simulation']
    assert axes[2].get_title() == 'Raster Plot'
    spiking = {t for types in net.cell_response.spike_types for t in types}
    assert set(CELL_TYPES) <= spiking


def test_hnn_core_param_layout():
    """hnn-core scripts find N20.json under <package>/param/."""
    params_fname = op.join(op.dirname(hnnjax.__file__), 'param', 'N20.json')
    assert read_params(params_fname) == read_params(params_path('N20'))


# ------------------------------------------------------- parallel backends
def test_backends_are_inert_context_managers():
    with JoblibBackend(n_jobs=2) as backend:
        assert backend.n_jobs == 2
    with MPIBackend(n_procs=4, mpi_cmd='mpirun') as backend:
        assert backend.n_procs == 4
        assert backend.terminate() is None  # hnn-core's call: no MPI process to stop
    assert JoblibBackend(n_jobs=None).n_jobs is None
    assert MPIBackend().n_procs is None


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(n_jobs=0), ValueError, 'n_jobs'), (dict(n_jobs=1.5), TypeError, 'n_jobs'),
    (dict(n_jobs=True), TypeError, 'n_jobs')])
def test_joblib_backend_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        JoblibBackend(**kwargs)


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(n_procs=0), ValueError, 'n_procs'), (dict(n_procs='4'), TypeError, 'n_procs'),
    (dict(mpi_cmd=''), ValueError, 'mpi_cmd'),
    (dict(use_hwthreading_if_found=1), TypeError, 'use_hwthreading_if_found'),
    (dict(sensible_default_cores=None), TypeError, 'sensible_default_cores'),
    (dict(override_hwthreading_option='yes'), TypeError, 'override_hwthreading_option'),
    (dict(override_oversubscribe_option=0), TypeError, 'override_oversubscribe_option')])
def test_mpi_backend_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        MPIBackend(**kwargs)


# --------------------------------------------------------- cell morphology
@pytest.mark.parametrize('name, ends', [
    ('L2_pyramidal', {'apical_tuft': (0, 0, 625.6), 'apical_oblique': (-340, 0, 81.6),
                      'basal_2': (-180.312, 0, -265.312), 'basal_3': (180.312, 0, -265.312)}),
    ('L5_pyramidal', {'apical_tuft': (0, 0, 1926), 'apical_oblique': (-255, 0, 141),
                      'basal_1': (0, 0, -85), 'basal_3': (180.312, 0, -265.312)}),
    ('L5_basket', {'soma': (0, 0, 39)}),
])
def test_section_end_points_follow_spec(name, ends):
    pts = cell_types()[name].end_points()
    assert np.all(pts['soma'][0] == 0)
    for sec, end in ends.items():
        np.testing.assert_allclose(pts[sec][1], end, atol=1e-3)


def test_section_directions_match_cos_theta():
    for ct in cell_types().values():
        for sec in ct.tree.sections:
            direction = np.asarray(ct.directions[sec.name])
            assert np.linalg.norm(direction) == pytest.approx(1.0)
            assert direction[2] == pytest.approx(sec.cos_theta)
    assert cell_types()['L5_pyramidal'].directions['basal_2'] == (-SQRT1_2, 0.0, -SQRT1_2)


def test_cell_object_key():
    ct = cell_types()['L2_basket']
    cell = ct['cell_object']  # hnn-core's Cell vocabulary over the cell type
    assert cell.synapses is ct.receptors and cell.tree is ct.tree
    assert ct['cell_metadata']['electro_type'] == 'inhibitory'
    with pytest.raises(KeyError, match="'cell_object' and 'cell_metadata'"):
        ct['cell_data']


def test_plot_morphology_draws_sections_to_scale(tmp_path):
    ct = cell_types()['L2_pyramidal']
    colors = {name: 'r' for name in ct.section_names}
    ax = ct.plot_morphology(color=colors, pos=(10.0, 0.0, 5.0), show=False)
    _save(ax.get_figure(), tmp_path / 'morphology_L2.png')
    assert len(ax.get_lines()) == len(ct.section_names)
    soma = ax.get_lines()[0]
    x, y, z = soma.get_data_3d()
    np.testing.assert_allclose(np.stack([x, y, z], axis=1),
                               ct.end_points()['soma'] + [10.0, 0.0, 5.0])
    widths = [line.get_linewidth() for line in ax.get_lines()]
    np.testing.assert_allclose(np.array(widths) / widths[0],
                               [s.diam / 23.4 for s in ct.tree.sections])
    assert all(line.get_color() == 'r' for line in ax.get_lines())


@pytest.mark.parametrize('kwargs, match', [
    (dict(color={'soma': 'r'}), 'color dict has no entry'),
    (dict(color=3), 'color must be'),
    (dict(pos=(0, 0)), 'pos must be'),
    (dict(zlim=(100, -100)), 'zlim must be'),
])
def test_plot_morphology_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cell_types()['L2_pyramidal'].plot_morphology(show=False, **kwargs)


def test_network_plots_need_3d_axes():
    net = neymotin_2020_model()
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match='ax must be a 3-D'):
        net.plot_cells(ax=ax, show=False)
    with pytest.raises(ValueError, match='ax must be a 3-D'):
        net.cell_types['L5_pyramidal'].plot_morphology(ax=ax, show=False)


# ---------------------------------------------------- cell response methods
@pytest.fixture
def cell_response():
    gid_ranges = {'L2_basket': range(0, 2), 'L5_pyramidal': range(2, 4),
                  'evprox1': range(4, 5)}
    cr = CellResponse(['L2_basket', 'L5_pyramidal'], times=np.arange(0, 50.025, 0.025),
                      gid_ranges=gid_ranges)
    cr.add_trial([12.3456, 3.0, 20.0], [2, 4, 0])
    cr.add_trial([], [])
    cr.add_trial([7.25, 7.25], [3, 1])
    return cr


@pytest.mark.parametrize('fname, written', [
    ('spk_%d.txt', ['spk_0.txt', 'spk_1.txt', 'spk_2.txt']),
    ('spk_{0}.txt', ['spk_0.txt', 'spk_1.txt', 'spk_2.txt']),
    ('spk.txt', ['spk_0.txt', 'spk_1.txt', 'spk_2.txt']),
])
def test_write_read_spikes_round_trip(cell_response, tmp_path, fname, written):
    cell_response.write(tmp_path / fname)
    assert sorted(p.name for p in tmp_path.iterdir()) == written
    assert (tmp_path / 'spk_0.txt').read_text() == (
        '3.000\t4\tevprox1\n12.346\t2\tL5_pyramidal\n20.000\t0\tL2_basket\n')
    cr = read_spikes(tmp_path / 'spk_*.txt')
    assert cr.spike_times == [[3.0, 12.346, 20.0], [], [7.25, 7.25]]
    assert cr.spike_gids == [[4, 2, 0], [], [1, 3]]
    assert cr.spike_types == [['evprox1', 'L5_pyramidal', 'L2_basket'], [],
                              ['L2_basket', 'L5_pyramidal']]


def test_read_spikes_types_from_gid_ranges(tmp_path):
    for trial in range(11):
        (tmp_path / f'spk_{trial}.txt').write_text(f'{trial}.5\t{trial % 2}\n')
    cr = read_spikes(tmp_path / 'spk_*.txt', gid_ranges={'L2_basket': range(0, 1),
                                                       'L2_pyramidal': range(1, 2)})
    assert [t[0] for t in cr.spike_times] == [trial + 0.5 for trial in range(11)]
    assert cr.spike_types[:2] == [['L2_basket'], ['L2_pyramidal']]
    with pytest.raises(ValueError, match='pass gid_ranges'):
        read_spikes(tmp_path / 'spk_*.txt')
    with pytest.raises(ValueError, match='matches no spike files'):
        read_spikes(tmp_path / 'nothing_*.txt')


def test_cell_response_plot_methods(cell_response, tmp_path):
    fig = cell_response.plot_spikes_hist(spike_types='ev', bin_width=5.0, show=False)
    _save(fig, tmp_path / 'hist.png')
    assert _legend_texts(fig.axes[0]) == ['ev']
    fig = cell_response.plot_spikes_raster(trial_idx=[0, 2], show=False,
                                           cell_types=['L2_basket', 'L5_pyramidal'])
    _save(fig, tmp_path / 'raster.png')
    assert _legend_texts(fig.axes[0]) == ['L2_basket Spikes', 'L5_pyramidal Spikes']
    # hnn-core's mirrored series: drawn hanging from the top, on the same scale, one legend
    cell_response.add_trial([5.0, 6.0, 30.0], [0, 4, 4])  # a basket cell, evprox1 twice
    fig = cell_response.plot_spikes_hist(spike_types=['evprox', 'L2_basket'],
                                         invert_spike_types='L2_basket', show=False)
    _save(fig, tmp_path / 'hist_inverted.png')
    up, down = fig.axes
    assert [p.get_height() for p in down.patches if p.get_height()] == [1.0] * 3  # 5, 7.25, 20 ms
    assert sum(p.get_height() for p in up.patches) == 3  # evprox1 at 3, 6 and 30 ms
    assert up.get_ylim() == (0.0, down.get_ylim()[0]) and down.get_ylim()[1] == 0.0
    assert _legend_texts(down) == ['evprox', 'L2_basket'] and up.get_legend() is None
    with pytest.raises(ValueError, match=r"invert_spike_types: \['evdist'\] are not plotted"):
        cell_response.plot_spikes_hist(spike_types='evprox', invert_spike_types='evdist',
                                       show=False)
    with pytest.raises(TypeError, match='invert_spike_types must be a str or a list of str'):
        cell_response.plot_spikes_hist(invert_spike_types=3, show=False)
    with pytest.raises(ValueError, match='overlay_dipoles=True needs dpl'):
        cell_response.plot_spikes_raster(overlay_dipoles=True, show=False)
    with pytest.raises(TypeError, match='dpl must be a Dipole or a non-empty list'):
        cell_response.plot_spikes_raster(overlay_dipoles=True, dpl=[np.zeros(3)], show=False)
    # hnn-core's overlay of the trials' average L2 and L5 dipoles, on an axis of its own unit
    times = np.arange(0, 50.025, 0.025)
    trials = [hnnjax.Dipole(times, np.stack([k * np.sin(times / 5.0)] * 3, axis=1)).scale(3.0)
              for k in (1.0, 2.0)]
    fig = cell_response.plot_spikes_raster(show=False, dpl=trials, overlay_dipoles=True)
    _save(fig, tmp_path / 'raster_dipoles.png')
    raster, twin = fig.axes
    assert _legend_texts(raster) == ['L2_basket Spikes', 'L2_pyramidal Spikes', 'L5_basket Spikes',
                                     'L5_pyramidal Spikes', 'L2 Dipole', 'L5 Dipole']
    assert twin.get_ylabel() == 'Dipole (nAm \u00d7 3)' and raster.get_ylabel() == 'Cell ID'
    l2, l5 = twin.get_lines()
    np.testing.assert_allclose(l2.get_ydata(), 1.5 * 3.0 * np.sin(times / 5.0))  # the average
    assert (l2.get_linestyle(), l5.get_linestyle()) == ('--', '-')
