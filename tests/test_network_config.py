"""Hierarchical network configurations (hnn-core 0.6.1's JSON format)."""
import io
import json
from pathlib import Path

import numpy as np
import pytest

import hnnjax as hnn
from hnnjax.io.params import params_path

PARAM_DIR = Path(hnn.__file__).parent / 'param'
BASE = PARAM_DIR / 'neymotin2020_base.json'


def _normalized(data):
    """A configuration dict with hnn-core's unordered containers (gid sets)
    sorted and drive arguments in hnnjax's equivalent form (per target
    type, {} for no weights), for comparisons."""
    data = json.loads(json.dumps(data))
    for conn in data['connectivity']:
        conn['src_gids'], conn['target_gids'] = sorted(conn['src_gids']), sorted(conn['target_gids'])
    for drive in data['external_drives'].values():
        drive.pop('space_constant', None)  # hnn-core keeps it in the connections only
        for key in ('probability', 'synaptic_delays'):  # hnnjax stores them per target type
            if not isinstance(drive[key], dict):
                drive[key] = {ct: drive[key] for ct in drive['target_types']}
        for key in ('weights_ampa', 'weights_nmda'):
            drive[key] = drive[key] or {}
    return data


def _rich_net():
    net = hnn.neymotin_2020_model(mesh_shape=(3, 3))
    hnn.add_erp_drives_to_jones_model(net)
    net.add_poisson_drive('pois', rate_constant={'L2_basket': 20.0}, location='proximal',
                          weights_ampa={'L2_basket': 0.01}, tstop=40.0, probability=0.7,
                          conn_seed=4)
    net.add_bursty_drive('burst', tstart=5.0, burst_rate=20.0, location='distal',
                         weights_nmda={'L5_pyramidal': 0.002}, n_drive_cells=2)
    net.add_spike_train_drive('replay', spike_data=[(6.0, 0), (9.5, 1), (12.0, 0)],
                              location='soma', weights_ampa={'L5_basket': 0.02})
    net.add_connection('L2_pyramidal', 'L2_basket', 'soma', 'ampa', weight=0.5, delay=1.0,
                       lamtha=2.0, probability=0.5, conn_seed=1)
    net.add_tonic_bias(cell_type='L5_pyramidal', amplitude=0.1, t0=5.0, tstop=10.0)
    net.set_global_synaptic_gains(e_i=1.5)
    return net


def test_shipped_base_file_is_the_params_network():
    net = hnn.read_network_configuration(BASE)
    ref = hnn.neymotin_2020_model(add_drives_from_params=True)
    assert net.to_dict() == ref.to_dict()
    with open(BASE) as f:
        assert _normalized(net.to_dict()) == _normalized(json.load(f))


def test_round_trip_keeps_the_network(tmp_path):
    net = _rich_net()
    fname = tmp_path / 'net.json'
    net.write_configuration(fname)
    back = hnn.read_network_configuration(fname)
    assert back.to_dict() == net.to_dict()
    assert back.connectivity[-1]['gid_pairs'] == net.connectivity[-1]['gid_pairs']
    assert back.external_biases == net.external_biases
    assert back.get_global_synaptic_gains() == dict(e_e=1.0, e_i=1.5, i_e=1.0, i_i=1.0)
    buf = io.StringIO()
    hnn.write_network_configuration(net, buf)
    assert hnn.dict_to_network(json.load(buf)).to_dict() == net.to_dict()
    with pytest.raises(FileExistsError, match='overwrite'):
        hnn.write_network_configuration(net, fname, overwrite=False)
    bare = hnn.read_network_configuration(fname, read_drives=False, read_external_biases=False)
    assert not bare.external_drives and not bare.external_biases['tonic']
    assert all(c['src_type'] in bare.cell_types for c in bare.connectivity)


def test_round_trip_simulates_the_same(tmp_path):
    net = hnn.neymotin_2020_model(mesh_shape=(3, 3))
    hnn.add_erp_drives_to_jones_model(net)
    net.add_connection('L2_pyramidal', 'L2_basket', 'soma', 'ampa', weight=0.05, delay=1.0,
                       lamtha=2.0, probability=0.5, conn_seed=1)
    net.write_configuration(tmp_path / 'net.json')
    back = hnn.read_network_configuration(tmp_path / 'net.json')
    for drive in net.external_drives.values():
        drive['dynamics']['mu'] -= 20.0  # earlier, to fire within the short run
    for drive in back.external_drives.values():
        drive['dynamics']['mu'] -= 20.0
    dpl = hnn.simulate_dipole(net, tstop=20.0, n_trials=1, verbose=False)[0]
    dpl_back = hnn.simulate_dipole(back, tstop=20.0, n_trials=1, verbose=False)[0]
    assert net.cell_response.spike_times != [[]]
    np.testing.assert_array_equal(dpl_back.data['agg'], dpl.data['agg'])
    assert back.cell_response == net.cell_response
    with_output = net.to_dict(write_output=True)
    assert with_output['cell_response']['spike_times'] == net.cell_response.spike_times
    assert with_output['external_drives']['evprox1']['events'] != []
    assert net.to_dict()['cell_response'] == {}


def test_convert_to_json_leaves_out_switched_off_drives(tmp_path):
    hnn.convert_to_json(params_path('default'), tmp_path / 'default')
    net = hnn.read_network_configuration(tmp_path / 'default.json')
    ref = hnn.neymotin_2020_model(params_path('default'), add_drives_from_params=True)
    assert net.to_dict() == ref.to_dict()
    params = json.loads(params_path('default').read_text())
    params.update({k: 0.0 for k in params if k.startswith('gbar_evprox_1_')})
    (tmp_path / 'off.json').write_text(json.dumps(params))
    hnn.convert_to_json(tmp_path / 'off.json', tmp_path / 'off.json')
    net = hnn.read_network_configuration(tmp_path / 'off.json')
    assert list(net.external_drives) == [d for d in ref.external_drives if d != 'evprox1']
    assert list(net.gid_ranges)[4:] == list(net.external_drives)  # renumbered, no gap


@pytest.mark.parametrize('edit, error, match', [
    (lambda d: d['cell_types']['L5_pyramidal']['cell_object']['sections']['soma'].update(L=-10.0),
     ValueError, "cell_types\\['L5_pyramidal'\\]\\['cell_object'\\]\\['sections'\\]\\['soma'\\]\\['L'\\] must be"),
    (lambda d: d['cell_types'].pop('L2_basket'), ValueError, "the only ones hnnjax simulates"),
    (lambda d: d.update(rec_arrays={'shank': {}}), ValueError, 'rec_arrays'),
    (lambda d: d['gid_ranges']['evprox1'].update(start=600), ValueError, 'gid_ranges'),
    (lambda d: d.pop('connectivity'), ValueError, 'connectivity'),
    (lambda d: d['external_drives']['evprox1'].update(type='laser'), ValueError, 'laser'),
])
def test_dict_to_network_rejects_what_hnnjax_cannot_build(edit, error, match):
    net = hnn.neymotin_2020_model(mesh_shape=(2, 2))
    hnn.add_erp_drives_to_jones_model(net)
    data = net.to_dict()
    edit(data)
    with pytest.raises(error, match=match):
        hnn.dict_to_network(data)


def test_read_network_configuration_bad_files(tmp_path):
    (tmp_path / 'p.json').write_text(params_path('default').read_text())
    with pytest.raises(ValueError, match='does not hold a Network'):
        hnn.read_network_configuration(tmp_path / 'p.json')
    (tmp_path / 'x.json').write_text('{"object_type": ')
    with pytest.raises(ValueError, match='not JSON'):
        hnn.read_network_configuration(tmp_path / 'x.json')
    with pytest.raises(TypeError, match='fname'):
        hnn.read_network_configuration(3)
    with pytest.raises(TypeError, match='output'):
        hnn.write_network_configuration(hnn.neymotin_2020_model(mesh_shape=(1, 1)), 3)


def test_files_move_between_hnn_core_and_hnnjax(tmp_path):
    hnn_core = pytest.importorskip('hnn_core')
    from hnn_core.network_models import add_erp_drives_to_jones_model

    theirs = hnn_core.neymotin_2020_model(mesh_shape=(3, 3))
    add_erp_drives_to_jones_model(theirs)
    theirs.add_poisson_drive('pois', rate_constant=10., location='proximal',
                             weights_ampa={'L2_basket': 0.01}, synaptic_delays=0.1)
    theirs.add_tonic_bias(cell_type='L5_pyramidal', amplitude=0.1, t0=5., tstop=10.)
    theirs.write_configuration(tmp_path / 'theirs.json')
    ours = hnn.read_network_configuration(tmp_path / 'theirs.json')
    with open(tmp_path / 'theirs.json') as f:
        assert _normalized(ours.to_dict()) == _normalized(json.load(f))
    ours.write_configuration(tmp_path / 'ours.json')
    back = hnn_core.read_network_configuration(tmp_path / 'ours.json')
    back_data, theirs_data = _normalized(back.to_dict()), _normalized(theirs.to_dict())
    for data in (back_data, theirs_data):  # hnn-core's own reading shifts cell end points
        del data['cell_types']
    assert back_data == theirs_data
