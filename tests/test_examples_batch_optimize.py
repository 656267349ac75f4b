"""hnn-core 0.6.1's sweep and optimization examples (``examples/howto/``
``plot_batch_simulate.py``, ``optimize_evoked.py``, ``optimize_rhythmic.py``)
as the same calls under hnnjax, shortened for CI: a 3x3 mesh, 30 ms, the
drives moved into that window, a few optimizer calls."""
import matplotlib

matplotlib.use('Agg')

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from hnnjax import neymotin_2020_model, read_dipole, simulate_dipole  # noqa: E402
from hnnjax.batch_simulate import BatchSimulate  # noqa: E402
from hnnjax.dipole import waveform_path  # noqa: E402
from hnnjax.optimization import Optimizer  # noqa: E402
from hnnjax.viz import plot_dipole, plot_psd  # noqa: E402

TSTOP = 30.
MESH = (3, 3)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close('all')


def test_batch_simulate_example(tmp_path):
    def set_params(param_values, net=None):
        weights_ampa = {'L2_basket': param_values['weight_basket'],
                        'L2_pyramidal': param_values['weight_pyr'],
                        'L5_basket': param_values['weight_basket'],
                        'L5_pyramidal': param_values['weight_pyr']}
        synaptic_delays = {'L2_basket': 0.1, 'L2_pyramidal': 0.1,
                           'L5_basket': 1., 'L5_pyramidal': 1.}
        net.add_evoked_drive('evprox', mu=15, sigma=5, numspikes=1, location='proximal',
                             weights_ampa=weights_ampa, synaptic_delays=synaptic_delays)

    param_grid = {'weight_basket': np.logspace(-4, -1, 3), 'weight_pyr': np.logspace(-4, -1, 3)}

    def summary_func(results):
        summary_stats = []
        for result in results:
            dpl_data = result['dpl'][0].copy().smooth(window_len=10).data['agg']
            summary_stats.append({'min_peak': np.min(dpl_data), 'max_peak': np.max(dpl_data)})
        return summary_stats

    net = neymotin_2020_model(mesh_shape=MESH)
    batch_simulation = BatchSimulate(net=net, set_params=set_params, summary_func=summary_func,
                                     tstop=TSTOP, save_folder=tmp_path)
    simulation_results = batch_simulation.run(param_grid, n_jobs=10, combinations=False,
                                              backend='multiprocessing')
    waveforms, weights = [], []
    for data_list in simulation_results['simulated_data']:
        for data in data_list:
            waveforms.append(data['dpl'][0].copy().smooth(window_len=10).data['agg'])
            weights.append(data['param_values']['weight_basket'])
    assert len(waveforms) == 3 and weights == list(param_grid['weight_basket'])
    peaks = [s['max_peak'] - s['min_peak'] for s in simulation_results['summary_statistics'][0]]
    assert peaks[-1] > peaks[0] > 0  # a stronger drive moves the dipole more
    for waveform in waveforms:
        plt.plot(waveform)


def test_optimize_evoked_example():
    dipole_experimental = read_dipole(waveform_path('yes_trial_S1_ERP_all_avg.txt'))
    synaptic_delays_p = {'L2_basket': 0.1, 'L2_pyramidal': 0.1,
                         'L5_basket': 1., 'L5_pyramidal': 1.}

    def set_params(net, params):
        weights_ampa_p1 = {'L2_basket': 0.08831, 'L2_pyramidal': 0.01525,
                           'L5_basket': 0.19934, 'L5_pyramidal': params['evprox1_ampa_L5_pyramidal']}
        net.add_evoked_drive('evprox1', mu=params['evprox1_mu'], sigma=params['evprox1_sigma'],
                             numspikes=1, location='proximal', weights_ampa=weights_ampa_p1,
                             synaptic_delays=synaptic_delays_p)

    constraints = {'evprox1_ampa_L5_pyramidal': (0.001, 0.1), 'evprox1_mu': (10., 25.),
                   'evprox1_sigma': (1., 5.)}
    initial_params = {'evprox1_ampa_L5_pyramidal': 0.00865, 'evprox1_mu': 20.,
                      'evprox1_sigma': 2.47}
    net = neymotin_2020_model(mesh_shape=MESH)
    optim = Optimizer(net, tstop=TSTOP, constraints=constraints, set_params=set_params,
                      initial_params=initial_params, max_iter=3)
    optim.fit(target=dipole_experimental, n_trials=2, scale_factor=3000, smooth_window_len=10)
    assert len(optim.obj_) == 3 and optim.obj_[-1] <= optim.obj_[0]
    dipoles_optimized = simulate_dipole(optim.net_, tstop=TSTOP, n_trials=2)
    for dipole in dipoles_optimized:
        dipole.smooth(10).scale(3000)
    fig, ax = plt.subplots()
    dipole_experimental.plot(ax=ax, layer='agg', show=False)
    plot_dipole(dipoles_optimized, ax=ax, layer='agg', show=False, average=True)
    optim.plot_convergence(show=False)


def test_optimize_rhythmic_example():
    def set_params(net, params):
        for name, location, delays in (('alpha_prox', 'proximal', {'L2_pyramidal': 0.1,
                                                                   'L5_pyramidal': 1.}),
                                       ('alpha_dist', 'distal', {'L2_pyramidal': 5.,
                                                                 'L5_pyramidal': 5.})):
            net.add_bursty_drive(name, tstart=params[f'{name}_tstart'],
                                 burst_rate=params[f'{name}_burst_rate'],
                                 burst_std=params[f'{name}_burst_std'], numspikes=2,
                                 spike_isi=10, n_drive_cells=10, location=location,
                                 weights_ampa={'L2_pyramidal': params[f'{name}_weight'],
                                               'L5_pyramidal': 4.4e-5},
                                 synaptic_delays=delays)

    constraints = {}
    for name in ('alpha_prox', 'alpha_dist'):
        constraints.update({f'{name}_weight': (4.4e-5, 6.4e-5), f'{name}_tstart': (5, 15),
                            f'{name}_burst_rate': (1, 30), f'{name}_burst_std': (10, 30)})
    net = neymotin_2020_model(mesh_shape=MESH)
    optim = Optimizer(net, tstop=TSTOP, constraints=constraints, set_params=set_params,
                      obj_fun='maximize_psd', max_iter=3)
    optim.fit(f_bands=[(9, 11), (19, 21)], relative_bandpower=[1, 2], scale_factor=3000,
              smooth_window_len=10)
    assert len(optim.opt_params_) == 8 and all(-1 <= v <= 0 for v in optim.obj_)
    opt_dpl = simulate_dipole(optim.net_, tstop=TSTOP, n_trials=1)[0]
    opt_dpl.scale(3000).smooth(10)
    plot_psd(opt_dpl, fmin=1, fmax=100, show=False)
