"""Optimizer (hnn-core's API): each solver recovers a drive on a tiny network;
CMA-ES against hnn-core's (opt_cma.npz)."""
from pathlib import Path

import matplotlib

matplotlib.use('Agg')

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import hnnjax as hnn  # noqa: E402
from hnnjax.batch_simulate import BatchSimulate  # noqa: E402
from hnnjax.optimization import Optimizer  # noqa: E402
from hnnjax.optimization.bayesopt import bayes_opt  # noqa: E402
from hnnjax.optimization.objective_functions import (_rmse_evoked,  # noqa: E402
                                                     dipole_rmse, relative_bandpower)

TSTOP = 20.
CONSTRAINTS = {'mu': (5., 13.), 'w': (0.01, 0.3)}


def set_params(net, params):
    """hnn-core's Optimizer order: the network, then name -> value (the
    fixture's ``opt_set_params``)."""
    w = params['w']
    net.add_evoked_drive('evprox', mu=params['mu'], sigma=1., numspikes=1,
                         location='proximal', event_seed=1,
                         weights_ampa={'L2_pyramidal': w, 'L5_pyramidal': w})


@pytest.fixture(scope='module')
def problem():
    net = hnn.neymotin_2020_model(mesh_shape=(3, 3))
    truth = net.copy()
    set_params(truth, {'mu': 8., 'w': 0.1})
    target = hnn.simulate_dipole(truth, tstop=TSTOP, n_trials=1, verbose=False,
                                 progress=False)[0]
    return net, target


@pytest.mark.parametrize('solver', ['cobyla', 'bayesian'])
def test_search_solvers_approach_the_truth(problem, solver):
    net, target = problem
    opt = Optimizer(net, tstop=TSTOP, constraints=CONSTRAINTS, set_params=set_params,
                    solver=solver, max_iter=10)
    assert 'fit=False' in repr(opt)
    opt.fit(target=target, verbose=False)
    assert len(opt.obj_) == 10 and np.all(np.diff(opt.obj_) <= 0)
    start = dipole_rmse(_simulate(net, opt.initial_params), target, tstop=TSTOP)
    assert opt.obj_[0] == pytest.approx(start)
    assert opt.obj_[-1] < 0.6 * start
    # net_ holds the optimized drive and reproduces the best objective value
    assert opt.net_.external_drives['evprox']['dynamics']['mu'] == opt.opt_params_[0]
    best = hnn.simulate_dipole(opt.net_, tstop=TSTOP, n_trials=1, verbose=False,
                               progress=False)[0]
    assert dipole_rmse(best, target, tstop=TSTOP) == pytest.approx(opt.obj_[-1])
    assert opt.plot_convergence(show=False) is not None


def _simulate(net, params):
    net = net.copy()
    set_params(net, params)
    return hnn.simulate_dipole(net, tstop=TSTOP, n_trials=1, verbose=False, progress=False)[0]


def test_maximize_psd_and_user_objective(problem):
    net, _ = problem
    calls = []

    def obj_fun(initial_net, initial_params, set_params, predicted_params, update_params,
                obj_values, tstop, obj_fun_kwargs, best=None):
        calls.append(update_params(initial_params, predicted_params))
        obj_values.append(sum((calls[-1][k] - v) ** 2 for k, v in {'mu': 6., 'w': 0.2}.items()))
        return obj_values[-1]

    opt = Optimizer(net, TSTOP, CONSTRAINTS, set_params, solver='cobyla', obj_fun=obj_fun,
                    max_iter=30, initial_params={'mu': 10., 'w': 0.05})
    opt.fit()
    assert calls[0] == {'mu': 10., 'w': 0.05}
    np.testing.assert_allclose(opt.opt_params_, [6., 0.2], atol=0.02)
    psd = Optimizer(net, TSTOP, CONSTRAINTS, set_params, solver='cobyla',
                    obj_fun='maximize_psd', max_iter=4)
    psd.fit(f_bands=[(50., 200.)], relative_bandpower=1., verbose=False)
    dpl = _simulate(net, psd.initial_params)
    assert psd.obj_[0] == pytest.approx(relative_bandpower(dpl, [(50., 200.)], 1.))
    assert -1 <= psd.obj_[-1] <= psd.obj_[0] < 0
    cma = Optimizer(net, TSTOP, CONSTRAINTS, set_params, solver='cma', obj_fun='maximize_psd',
                    max_iter=1)
    cma.fit(f_bands=[(50., 200.)], relative_bandpower=1., popsize=3, verbose=False)
    best = _simulate(net, dict(zip(CONSTRAINTS, cma.opt_params_)))
    assert cma.obj_[0] == pytest.approx(relative_bandpower(best, [(50., 200.)], 1.), rel=1e-9)


def test_cma_matches_hnn_core():
    """Seeded as in hnn-core, the solver asks for hnn-core's parameter sets,
    generation after generation, and gets hnn-core's RMSEs for them."""
    ref = np.load(Path(__file__).parent / 'fixtures' / 'opt_cma.npz')
    target = hnn.Dipole(ref['target_times'], np.stack([ref['target_agg']] * 3, axis=1))
    sets, values = [], []

    def recorded(**kwargs):  # a user objective: sees each generation at once
        sets.append(np.array(kwargs['predicted_params']))
        values.append(_rmse_evoked(**kwargs))
        return values[-1]

    opt = Optimizer(hnn.neymotin_2020_model(mesh_shape=(3, 3)), TSTOP, CONSTRAINTS, set_params,
                    solver='cma', obj_fun=recorded, max_iter=3)
    opt.fit(target=target, popsize=4, tolfun=1e-9, verbose=False)  # seed 123, sigma0 0.25
    np.testing.assert_array_equal(np.stack(sets), ref['sets'])
    np.testing.assert_allclose(np.stack(values), ref['values'], rtol=1e-6)
    np.testing.assert_allclose(opt.obj_, ref['obj'], rtol=1e-6)
    np.testing.assert_array_equal(opt.opt_params_, ref['opt_params'])


def test_cma_runs_each_generation_as_one_batch(problem, monkeypatch):
    net, target = problem
    runs = []
    simulate_group = BatchSimulate._simulate_group
    monkeypatch.setattr(BatchSimulate, '_simulate_group',
                        lambda self, nets: runs.append(len(nets)) or simulate_group(self, nets))
    opt = Optimizer(net, TSTOP, CONSTRAINTS, set_params, solver='cma', max_iter=2)
    opt.fit(target=target, popsize=5, seed=7, tolfun=0., n_trials=2, verbose=False)
    assert runs == [5, 5]  # two generations, five sets each, one compiled group each
    assert len(opt.obj_) == 2 and opt.obj_[1] <= opt.obj_[0]
    assert opt.net_.external_drives['evprox']['dynamics']['mu'] == opt.opt_params_[0]
    assert all(low <= x <= high for x, (low, high) in zip(opt.opt_params_, CONSTRAINTS.values()))
    dpls = hnn.simulate_dipole(opt.net_, tstop=TSTOP, n_trials=2, verbose=False, progress=False)
    best = dipole_rmse(hnn.average_dipoles(dpls), target, tstop=TSTOP)
    assert best == pytest.approx(opt.obj_[-1], rel=1e-9)
    ax = opt.plot_convergence(show=False).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ('Generation', 'Best RMSE (nAm)')


def test_obj_has_max_iter_values_when_the_solver_stops_early(problem):
    """As in hnn-core, ``obj_`` has ``max_iter`` values: where COBYLA stops
    early, its best is carried on, and the figure draws that part apart."""
    net, _ = problem

    def obj_fun(predicted_params, obj_values, **kwargs):
        obj_values.append((predicted_params[0] - 6.) ** 2)
        return obj_values[-1]

    opt = Optimizer(net, TSTOP, CONSTRAINTS, set_params, solver='cobyla', obj_fun=obj_fun,
                    max_iter=100)
    opt.fit()
    n = opt.n_iter_
    assert 5 < n < 100 and len(opt.obj_) == 100
    assert opt.obj_[n:] == [opt.obj_[n - 1]] * (100 - n) and opt.obj_[n - 1] < 1e-6
    ax = opt.plot_convergence(show=False).axes[0]
    assert ax.get_legend().get_texts()[0].get_text() == f'stopped after {n} calls (best carried)'
    ran, carried = ax.get_lines()
    assert len(ran.get_xdata()) == n and carried.get_linestyle() == '--'
    assert list(carried.get_xdata()) == list(range(n, 101))


def test_cma_user_objective_and_nan(problem):
    net, _ = problem
    generations = []

    def obj_fun(initial_net, initial_params, set_params, predicted_params, update_params,
                obj_values, tstop, obj_fun_kwargs, best=None):
        sets = np.asarray(predicted_params)
        generations.append(sets.shape)
        obj = list(((sets - [6., 0.2]) / [8., 0.29]) ** 2 @ [1., 1.])
        if len(generations) == 2:
            obj[0] = float('nan')  # e.g. the correlation of a flat dipole
        obj_values.append(obj)
        return obj

    opt = Optimizer(net, TSTOP, CONSTRAINTS, set_params, solver='cma', obj_fun=obj_fun,
                    max_iter=40)
    np.random.seed(11)
    state = np.random.get_state()
    with pytest.warns(UserWarning, match='generation 2: the objective is nan at .*ranks that set last'):
        opt.fit(popsize=6, tolfun=1e-12, verbose=False)
    assert generations[0] == (6, 2) and len(generations) == opt.n_iter_ == len(opt.obj_) == 40
    assert np.isfinite(opt.obj_).all()
    np.testing.assert_allclose(opt.opt_params_, [6., 0.2], atol=0.02)
    # cma seeds NumPy's global generator; the user's stream goes on as before the fit
    assert np.random.random() == (np.random.set_state(state) or np.random.random())
    scalar = Optimizer(net, TSTOP, CONSTRAINTS, set_params, solver='cma', max_iter=2,
                       obj_fun=lambda **kwargs: 1.0)
    with pytest.raises(ValueError, match='must return one value per set'):
        scalar.fit(verbose=False)
    failing = Optimizer(net, TSTOP, CONSTRAINTS, set_params, solver='cma', max_iter=2,
                        obj_fun=lambda predicted_params, **kwargs: [np.nan] * len(predicted_params))
    with pytest.warns(UserWarning), pytest.raises(FloatingPointError, match='not finite at any'):
        failing.fit(popsize=3, verbose=False)


def test_gradient_solver_uses_fit_drives(problem):
    net, target = problem
    opt = Optimizer(net, TSTOP, {'evprox.mu': (5., 13.)}, lambda n, p: set_params(
        n, {'mu': p['evprox.mu'], 'w': 0.1}), solver='gradient', max_iter=3)
    opt.fit(target=target, verbose=False)
    assert len(opt.obj_) == 3 and opt.obj_[-1] <= opt.obj_[0]
    assert opt.net_.external_drives['evprox']['dynamics']['mu'] == pytest.approx(
        opt.opt_params_[0])
    assert 5. <= opt.opt_params_[0] <= 13.


def test_bayes_opt_minimizes_a_quadratic():
    x, f = bayes_opt(lambda x: (x[0] - 0.3) ** 2 + (x[1] + 0.5) ** 2, [0.9, 0.9],
                     [(-1., 1.), (-1., 1.)], n_calls=25)
    assert f < 0.01 and abs(x[0] - 0.3) < 0.1


def test_rmse_resamples_the_longer_dipole():
    t_fine, t_coarse = np.arange(0, 20.001, 0.025), np.arange(0, 20.001, 0.5)
    fine = hnn.Dipole(t_fine, np.sin(t_fine)[:, None].repeat(3, 1))
    coarse = hnn.Dipole(t_coarse, np.sin(t_coarse)[:, None].repeat(3, 1) + 1.)
    assert dipole_rmse(fine, coarse, tstop=20.) == pytest.approx(1., abs=0.02)
    assert dipole_rmse(coarse, coarse, tstop=20.) == 0.


def test_bad_arguments(problem):
    net, target = problem
    with pytest.raises(ValueError, match='solver'):
        Optimizer(net, TSTOP, CONSTRAINTS, set_params, solver='adam')
    cma = Optimizer(net, TSTOP, CONSTRAINTS, set_params, solver='cma')
    for kwargs, match in [({'sigma0': [0.1]}, r'sigma0 .* 2 positive values'),
                          ({'sigma0': -0.1}, 'sigma0 must be a finite number > 0'),
                          ({'popsize': 1}, 'popsize must be an integer >= 2'),
                          ({'seed': 0}, 'seed must be an integer >= 1'),
                          ({'tolfun': float('nan')}, 'tolfun')]:
        with pytest.raises(ValueError, match=match):
            cma.fit(target=target, **kwargs)
    with pytest.raises(ValueError, match='obj_fun'):
        Optimizer(net, TSTOP, CONSTRAINTS, set_params, obj_fun='rmse')
    with pytest.raises(ValueError, match='constraints'):
        Optimizer(net, TSTOP, {'mu': (5., 1.)}, set_params)
    with pytest.raises(ValueError, match='initial_params'):
        Optimizer(net, TSTOP, CONSTRAINTS, set_params, initial_params={'mu': 6.})
    with pytest.raises(ValueError, match=r"initial_params\['w'\]"):
        Optimizer(net, TSTOP, CONSTRAINTS, set_params, initial_params={'mu': 6., 'w': 1.})
    with pytest.raises(ValueError, match='target'):
        Optimizer(net, TSTOP, CONSTRAINTS, set_params).fit()
    with pytest.raises(ValueError, match='f_bands'):
        Optimizer(net, TSTOP, CONSTRAINTS, set_params, obj_fun='maximize_psd').fit()


def test_generate_opt_history_table():
    from hnnjax.optimization import generate_opt_history_table

    runs = [dict(initial_params={'mu': 10., 'w': 0.05}, opt_params=[8.1, 0.12],
                 obj_values=[5., 3.2, 1.1], solver='cobyla', obj_fun='dipole_rmse', max_iter=3,
                 target_data='S1_ERP', n_trials=2),
            dict(initial_params={'rate': 10.}, opt_params=[12.5], obj_values=[-0.2, -0.4],
                 solver='cma', obj_fun='maximize_psd', max_iter=2, psd_f_bands=[(15, 25)],
                 psd_relative_bandpower=[1.])]
    text = generate_opt_history_table(runs, '2026-12-07 16:45')
    lines = text.splitlines()
    assert 'Generated: 2026-12-07 16:45' in lines and 'Run #2' in lines
    assert lines[lines.index('Run #1') + 1:lines.index('Run #1') + 6] == [
        'Solver: cobyla', 'Objective function: dipole_rmse', 'Max iterations: 3',
        'Target dataset: S1_ERP', 'Trials: 2']
    assert [line.split() for line in lines if line.startswith(('mu ', 'w ', 'rate '))] == [
        ['mu', '10.000000', '8.100000', '-1.900000'], ['w', '0.050000', '0.120000', '+0.070000'],
        ['rate', '10.000000', '12.500000', '+2.500000']]
    assert '  Band 1: 15.0-25.0 Hz, weight 1.000' in lines
    assert [line.split()[1] for line in lines if line.startswith('     ')] == [
        '5.000000', '3.200000', '1.100000', '-0.200000', '-0.400000']
    assert 'Total change: -3.900000' in lines and 'Total change: -0.200000' in lines
    assert generate_opt_history_table([], 'now') == 'No optimization runs have been completed yet.'
    with pytest.raises(ValueError, match=r"opt_results\[0\] lacks \['obj_values'\]"):
        generate_opt_history_table([dict(initial_params={}, opt_params=[])], 'now')
    with pytest.raises(ValueError, match='1 opt_params for 2 initial_params'):
        generate_opt_history_table([dict(runs[0], opt_params=[1.])], 'now')
