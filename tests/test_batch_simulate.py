"""BatchSimulate: hnn-core's sweep API; each set's results equal a run of that set alone."""
import numpy as np
import pytest

import hnnjax as hnn
from hnnjax import batch_simulate
from hnnjax.batch_simulate import BatchSimulate

TSTOP = 20.


def set_params(param_values, net):
    """hnn-core's argument order: the values, then the network copy."""
    w = param_values['weight']
    net.add_evoked_drive('evprox', mu=param_values['mu'], sigma=1., numspikes=1,
                         location='proximal', event_seed=1,
                         weights_ampa={'L2_pyramidal': w, 'L5_pyramidal': w,
                                       'L2_basket': 0.01, 'L5_basket': 0.01})
    if param_values.get('gain') is not None:  # changes local connections: a group of its own
        net.set_global_synaptic_gains(e_e=param_values['gain'])


def _alone(net, values, n_trials, record_vsec=False):
    net = net.copy()
    set_params(values, net)
    dpls = hnn.simulate_dipole(net, tstop=TSTOP, n_trials=n_trials, record_vsec=record_vsec,
                               verbose=False, progress=False)
    return dpls, net.cell_response


@pytest.fixture(scope='module')
def net():
    return hnn.neymotin_2020_model(mesh_shape=(3, 3))


def test_sweep_equals_each_set_alone(net, tmp_path, monkeypatch, capsys):
    groups = []
    simulate_group = BatchSimulate._simulate_group
    monkeypatch.setattr(BatchSimulate, '_simulate_group',
                        lambda self, nets: groups.append(len(nets)) or simulate_group(self, nets))
    summary = lambda results: [float(np.max(r['dpl'][0].data['agg'])) for r in results]
    batch = BatchSimulate(set_params, net=net, tstop=TSTOP, n_trials=2, batch_size=3,
                          save_outputs=True, save_spiking=True, save_folder=tmp_path,
                          summary_func=summary)
    grid = {'mu': [5., 8., 6., 9.], 'weight': [0.02, 0.2, 0.1, 0.05], 'gain': [None] * 3 + [2.]}
    res = batch.run(grid, combinations=False, n_jobs=4, backend='multiprocessing')
    assert 'simulating 3 parameter set(s) x 2 trial(s)' in capsys.readouterr().out
    assert groups == [3, 1]  # batch 1: one compiled group; batch 2: the changed network
    assert [len(b) for b in res['simulated_data']] == [3, 1]
    results = [r for b in res['simulated_data'] for r in b]
    assert [r['param_values']['mu'] for r in results] == grid['mu']
    for r in results:
        dpls, cr = _alone(net, r['param_values'], 2)
        for k in range(2):
            np.testing.assert_allclose(r['dpl'][k].data['agg'], dpls[k].data['agg'],
                                       rtol=0, atol=1e-12)
            assert r['spiking']['spike_times'][k] == cr.spike_times[k]
            assert r['net'].cell_response.spike_gids[k] == cr.spike_gids[k]
    assert res['summary_statistics'][0] == summary(res['simulated_data'][0])
    loaded = batch.load_all_results()
    assert [len(f['param_values']) for f in loaded] == [3, 1]
    np.testing.assert_array_equal(loaded[0]['dpl'][1][0].data['agg'],
                                  results[1]['dpl'][0].data['agg'])
    assert loaded[0]['spiking'][2]['spike_gids'] == results[2]['spiking']['spike_gids']
    batch.overwrite = False
    with pytest.raises(FileExistsError, match='sim_run_0-3'):
        batch._save(results[:3], 0, 3)


def test_sets_whose_cells_differ_run_together(net, monkeypatch):
    """A sweep of cell conductances (hnn-core's cell edits in ``set_params``,
    a removed mechanism too) runs its sets in one compiled group, each
    trial with its own channel parameters, and each set's result equals
    that set alone (measured equal to the bit on this 3x3 network; a lone
    10x10 trial, run in two parts, differs by ~1e-13 relative, as drive
    sweeps do)."""
    def edit(values, net):
        cell = net.cell_types['L5_pyramidal']['cell_object']
        cell.sections['soma'].mechs['hh2']['gkbar_hh2'] = values['gk']
        cell.sections['apical_1'].mechs['ca']['gbar_ca'] = values['ca']
        if values['ca'] == 0.0:
            del cell.sections['apical_2'].mechs['ca']
        net.add_evoked_drive('evprox', mu=5., sigma=1., numspikes=1, location='proximal',
                             event_seed=1, weights_ampa={'L5_pyramidal': 0.2, 'L2_basket': 0.01})

    groups = []
    simulate_group = BatchSimulate._simulate_group
    monkeypatch.setattr(BatchSimulate, '_simulate_group',
                        lambda self, nets: groups.append(len(nets)) or simulate_group(self, nets))
    grid = {'gk': [0.005, 0.01, 0.03], 'ca': [60.0, 0.0, 120.0]}
    res = BatchSimulate(edit, net=net, tstop=TSTOP, n_trials=2).run(
        grid, combinations=False, verbose=False)['simulated_data'][0]
    assert groups == [3]
    peaks = []
    for r in res:
        alone = net.copy()
        edit(r['param_values'], alone)
        dpls = hnn.simulate_dipole(alone, tstop=TSTOP, n_trials=2, verbose=False, progress=False)
        for k in range(2):
            np.testing.assert_allclose(r['dpl'][k].data['agg'], dpls[k].data['agg'], rtol=0, atol=1e-12)
        peaks.append(float(np.abs(dpls[0].data['agg']).max()))
    assert len(set(peaks)) == 3  # the edits change the dipole


def test_product_grid_and_outputs(net):
    batch = BatchSimulate(set_params, net=net, tstop=TSTOP, record_vsec='soma',
                          save_dpl=False, save_voltages=True, clear_cache=True,
                          summary_func=lambda results: [r['param_values'] for r in results])
    res = batch.run({'mu': [5., 8.], 'weight': [0.02, 0.2]}, verbose=False)
    assert list(res) == ['summary_statistics']
    assert res['summary_statistics'][0] == [{'mu': m, 'weight': w}
                                            for m in (5., 8.) for w in (0.02, 0.2)]
    assert batch.run({'mu': [5.], 'weight': [0.1]}, return_output=False, verbose=False) is None
    one = batch.simulate_batch([{'mu': 5., 'weight': 0.2}])[0]
    assert 'dpl' not in one
    cells = {g for ct in net.cell_types for g in net.gid_ranges[ct]}
    assert set(one['voltages'][0]) == cells
    _, cr = _alone(net, {'mu': 5., 'weight': 0.2}, 1, record_vsec='soma')
    for gid in (0, 9, 20):
        np.testing.assert_array_equal(one['voltages'][0][gid]['soma'], np.asarray(cr.vsec[0][gid]['soma']))


def test_postproc_smooths_and_scales_as_simulate_dipole(net):
    net = net.copy()
    net._params['dipole_smooth_win'] = 10.  # ms, within the 20 ms run
    batch = BatchSimulate(set_params, net=net, tstop=TSTOP, postproc=True)
    values = {'mu': 5., 'weight': 0.2}
    mine = batch.simulate_batch([values])[0]['dpl'][0]
    alone = net.copy()
    set_params(values, alone)
    with pytest.warns(DeprecationWarning, match='postproc'):
        ref = hnn.simulate_dipole(alone, tstop=TSTOP, n_trials=1, postproc=True, verbose=False,
                                  progress=False)[0]
    assert ref.scale_applied == net._params['dipole_scalefctr'] != 1
    np.testing.assert_allclose(mine.data['agg'], ref.data['agg'], rtol=0, atol=1e-9)


def test_bad_arguments(net):
    with pytest.raises(TypeError, match='set_params'):
        BatchSimulate('nope', net=net)
    with pytest.raises(TypeError, match='summary_func'):
        BatchSimulate(set_params, net=net, summary_func=3)
    with pytest.raises(ValueError, match='record_isec'):
        BatchSimulate(set_params, net=net, record_isec='dendrites')
    batch = BatchSimulate(set_params, net=net, tstop=TSTOP)
    with pytest.raises(ValueError, match='backend'):
        batch.run({'mu': [5.], 'weight': [0.1]}, backend='mpi')
    with pytest.raises(TypeError, match='param_grid'):
        batch.run([('mu', [5.])])


def test_events_of_several_sets_concatenate_inertly():
    a = batch_simulate.Events(ptr=np.zeros((1, 3), np.int32), dst=np.array([[4, -1]], np.int32),
                              w=np.array([[1., 0.]]), max_per_step=4)
    b = batch_simulate.Events(ptr=np.zeros((2, 3), np.int32), dst=np.full((2, 1), 2, np.int32),
                              w=np.ones((2, 1)), max_per_step=8)
    ab = batch_simulate._concat_events([a, b])
    assert ab.ptr.shape == (3, 3) and ab.max_per_step == 8
    np.testing.assert_array_equal(ab.dst, [[4, -1], [2, -1], [2, -1]])
    np.testing.assert_array_equal(ab.w, [[1., 0.], [1., 0.], [1., 0.]])


def test_electrodes_and_synaptic_currents(net):
    """save_lfp and save_currents (record_isec) give each set what a run of it alone records."""
    net = net.copy()
    net.add_electrode_array('shank', [(1.0, 1.0, z) for z in (0.0, 500.0, 1000.0)])
    batch = BatchSimulate(set_params, net=net, tstop=TSTOP, save_lfp=True, save_currents=True,
                          record_isec='soma')
    res = batch.run({'mu': [5., 8.], 'weight': [0.2, 0.1]}, combinations=False)
    for r in res['simulated_data'][0]:
        alone = net.copy()
        set_params(r['param_values'], alone)
        hnn.simulate_dipole(alone, tstop=TSTOP, n_trials=1, record_isec='soma', verbose=False,
                            progress=False)
        want = alone.rec_arrays['shank'].voltages
        assert np.abs(want).max() > 0
        np.testing.assert_allclose(r['lfp']['shank'].voltages, want, rtol=0, atol=1e-9 * np.abs(want).max())
        gid = net.gid_ranges['L5_pyramidal'][0]
        np.testing.assert_allclose(r['currents'][0][gid]['soma']['soma_gabaa'],
                                   alone.cell_response.isec[0][gid]['soma']['soma_gabaa'], atol=1e-12)
