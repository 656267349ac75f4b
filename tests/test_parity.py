"""hnn-core 0.6.1 API items that its examples and scripts use."""
import pickle

import numpy as np
import pytest

import hnnjax as hnn
from hnnjax.dipole import simulate_dipole
from hnnjax.workflows.simulate import check_times

W = {'L2_pyramidal': 0.05, 'L5_pyramidal': 0.05}


def _two_drive_net():
    net = hnn.neymotin_2020_model(mesh_shape=(3, 3))
    net.add_evoked_drive('early', mu=5., sigma=1., numspikes=1, location='proximal',
                         weights_ampa=W, event_seed=1)
    net.add_evoked_drive('late', mu=12., sigma=1., numspikes=1, location='distal',
                         weights_ampa=W, event_seed=2)
    return net


def _spikes_of(cell_response, name):
    return [t for t, k in zip(cell_response.spike_times[0], cell_response.spike_types[0])
            if k == name]


def test_deleted_drive_is_simulated_without_it(capsys):
    full = _two_drive_net()
    dpl_full = simulate_dipole(full, tstop=20., n_trials=1, verbose=False)[0]
    assert capsys.readouterr().out == ''
    net = _two_drive_net()
    del net.external_drives['early']
    assert list(net.external_drives) == ['late']
    assert {c['src_type'] for c in net.connectivity} >= {'late'}
    assert 'early' not in {c['src_type'] for c in net.connectivity}
    assert list(net.gid_ranges) == list(full.gid_ranges)  # gids stay reserved, as in hnn-core
    dpl = simulate_dipole(net, tstop=20., n_trials=1)[0]
    assert 'simulating 1 trial(s) of 20 ms' in capsys.readouterr().out
    assert _spikes_of(net.cell_response, 'early') == []
    assert _spikes_of(full.cell_response, 'early') != []
    assert _spikes_of(net.cell_response, 'late') == _spikes_of(full.cell_response, 'late') != []
    assert not np.allclose(dpl.data['agg'], dpl_full.data['agg'])


def test_drives_container_keeps_its_network_through_copies():
    net = _two_drive_net()
    for other in (net.copy(), pickle.loads(pickle.dumps(net))):
        assert other.external_drives._net is other
        other.external_drives.pop('late')
        assert 'late' not in {c['src_type'] for c in other.connectivity}
        assert 'late' in {c['src_type'] for c in net.connectivity}
    assert net.external_drives.pop('nothing', None) is None
    other = net.copy()
    assert other.external_drives.popitem()[0] == 'late'
    other.external_drives.clear()
    assert not other.external_drives and all(c['src_type'] in other.cell_types
                                              for c in other.connectivity)
    with pytest.raises(KeyError, match='no drives'):
        other.external_drives.popitem()
    with pytest.raises(KeyError):
        del net.external_drives['nothing']
    net.clear_drives()
    net.add_evoked_drive('again', mu=5., sigma=1., numspikes=1, location='proximal',
                         weights_ampa=W)
    del net.external_drives['again']
    assert not any(c['src_type'] == 'again' for c in net.connectivity)


def test_simulate_dipole_is_importable_from_dipole():
    assert simulate_dipole is hnn.simulate_dipole
    with pytest.raises(TypeError, match='verbose'):
        simulate_dipole(_two_drive_net(), tstop=20., verbose='yes')


def test_deprecations_as_in_hnn_core():
    with pytest.warns(DeprecationWarning, match='jones_2009_model.*neymotin_2020_model'):
        net = hnn.jones_2009_model(mesh_shape=(1, 1))
    assert len(net.connectivity) == 16
    with pytest.warns(DeprecationWarning, match='legacy_mode'), \
            pytest.warns(UserWarning, match='non-legacy network'):
        net = hnn.neymotin_2020_model(mesh_shape=(1, 1), legacy_mode=True)
    assert net._legacy_mode is True
    with pytest.raises(TypeError, match='legacy_mode'):
        hnn.Network(hnn.read_params(hnn.io.params.params_path('default')), legacy_mode='yes')


def test_hnn_core_parameter_files_ship():
    from pathlib import Path

    param_dir = Path(hnn.__file__).parent / 'param'
    names = {'N20.json', 'default.json', 'gamma_L5weak_L2weak.json', 'neymotin2020_base.json'}
    assert names <= {p.name for p in param_dir.iterdir()}
    gamma = hnn.read_params(param_dir / 'gamma_L5weak_L2weak.json')
    assert 'extpois' in hnn.neymotin_2020_model(gamma, add_drives_from_params=True,
                                                mesh_shape=(1, 1)).external_drives
    hnn_core = pytest.importorskip('hnn_core')
    for theirs in (Path(hnn_core.__file__).parent / 'param').glob('*.json'):
        assert (param_dir / theirs.name).read_bytes() == theirs.read_bytes(), theirs.name


def test_tonic_bias_name():
    net = hnn.neymotin_2020_model(mesh_shape=(1, 1))
    net.add_tonic_bias(cell_type='L2_basket', bias_name='tonic', amplitude=1.0)
    assert net.external_biases['tonic']['L2_basket']['amplitude'] == 1.0
    with pytest.raises(ValueError, match='bias_name'):
        net.add_tonic_bias(cell_type='L5_basket', bias_name='second', amplitude=1.0)


def test_read_params_from_file_contents(tmp_path):
    from hnnjax.io.params import params_path

    text = params_path('N20').read_text()
    assert hnn.read_params('anything.json', file_contents=text) == hnn.read_params(params_path('N20'))
    legacy = hnn.read_params(tmp_path / 'absent.param', file_contents='tstop: 50.\nN_trials: 3\n')
    assert legacy['tstop'] == 50.0 and legacy['N_trials'] == 3
    with pytest.raises(TypeError, match='file_contents'):
        hnn.read_params('a.json', file_contents=b'{}')
    with pytest.raises(ValueError, match='extension'):
        hnn.read_params('a.txt', file_contents='{}')


def test_hnn_core_module_paths():
    """hnn-core's public names import from the same module paths."""
    from hnnjax.cell_response import CellResponse, read_spikes  # noqa: F401
    from hnnjax.cells_default import basket, pyramidal  # noqa: F401
    from hnnjax.extracellular import ExtracellularArray, calculate_csd2d  # noqa: F401
    from hnnjax.hnn_io import (dict_to_network, network_to_dict,  # noqa: F401
                               read_network_configuration, write_network_configuration)
    from hnnjax.params import Params, convert_to_json, read_params  # noqa: F401
    from hnnjax.utils import smooth_waveform
    from hnnjax.viz import NetworkPlotter, plot_laminar_csd, plot_laminar_lfp  # noqa: F401
    x = np.r_[np.zeros(10), 1.0, np.zeros(10)]
    window = np.hamming(5) / np.hamming(5).sum()
    np.testing.assert_allclose(smooth_waveform(x, 5.0, 1000.0)[8:13], window)
    with pytest.raises(ValueError, match="1-D"):
        smooth_waveform(np.zeros((2, 3)), 1.0, 1000.0)


def test_simulate_runs_to_the_last_whole_step_as_neuron(recwarn):
    """hnn-core accepts any tstop: NEURON's fixed step stops at the last
    whole step within it (hnn-core 0.6.1 to 9.9749 ms: 399 samples, to 9.99
    ms: 400, to 10.024 ms: 401).  hnnjax runs the same steps, says so, and
    the run equals the one to that step."""
    net = hnn.neymotin_2020_model(mesh_shape=(3, 3))
    net.add_evoked_drive("ev", mu=3.0, sigma=0.5, numspikes=1, location="proximal",
                         weights_ampa={"L2_pyramidal": 0.05, "L5_pyramidal": 0.05})
    whole = hnn.simulate_dipole(net, tstop=10.0, n_trials=1, verbose=False, progress=False)[0]
    assert not [w for w in recwarn if "whole number" in str(w.message)]
    for tstop, n_samples in ((9.9749, 399), (9.99, 400), (10.024, 401)):
        with pytest.warns(UserWarning, match=rf"tstop={tstop:g} ms is not a whole number of "
                          rf"dt=0.025 ms steps .*the run ends at {(n_samples - 1) * 0.025:g} ms"):
            dpl = hnn.simulate_dipole(net, tstop=tstop, n_trials=1, verbose=False,
                                      progress=False)[0]
        assert len(dpl.times) == n_samples
        np.testing.assert_array_equal(dpl.data["agg"], whole.data["agg"][:n_samples])
    with pytest.raises(ValueError, match="dt_ms=0.03 ms does not divide tstop_ms=40 ms"):
        check_times(40.0, 0.03)  # hnnjax's own entry points stay strict
