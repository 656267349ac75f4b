"""Connections: pick_connection, global gains, cell positions and the
connectivity plots (hnn-core 0.6.1's API)."""
import matplotlib

matplotlib.use('Agg')

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import hnnjax as hnn  # noqa: E402
from hnnjax.network import pick_connection  # noqa: E402
from hnnjax.network.connectivity import connection_weights  # noqa: E402
from hnnjax.viz import (plot_cell_connectivity, plot_connectivity_matrix,  # noqa: E402
                        plot_drive_strength)


@pytest.fixture
def net():
    net = hnn.neymotin_2020_model(mesh_shape=(3, 3))
    hnn.add_erp_drives_to_jones_model(net)
    return net


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close('all')


def _where(net, pred):
    return [i for i, c in enumerate(net.connectivity) if pred(c)]


def test_pick_connection_and_or_semantics(net):
    assert pick_connection(net, src_gids='L5_basket') == _where(
        net, lambda c: c['src_type'] == 'L5_basket')
    assert pick_connection(net, src_gids='L5_basket', target_gids='L5_pyramidal', loc='soma',
                           receptor='gabaa') == _where(
        net, lambda c: (c['src_type'], c['target_type'], c['receptor']) ==
        ('L5_basket', 'L5_pyramidal', 'gabaa'))
    assert pick_connection(net, loc=['distal', 'soma'], receptor='ampa') == _where(
        net, lambda c: c['loc'] in ('distal', 'soma') and c['receptor'] == 'ampa')
    first_l2 = net.gid_ranges['L2_pyramidal'][0]
    assert pick_connection(net, src_gids=[first_l2, 'evprox1'], target_gids='L2_basket') == \
        _where(net, lambda c: c['src_type'] in ('L2_pyramidal', 'evprox1')
               and c['target_type'] == 'L2_basket')
    assert pick_connection(net) == []
    assert pick_connection(net, src_gids='evdist1', target_gids='L5_basket') == []


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(loc='apical'), ValueError, 'loc'),
    (dict(receptor=['ampa', 'glu']), ValueError, 'receptor'),
    (dict(src_gids='L6_pyramidal'), ValueError, 'src_gids'),
    (dict(target_gids='evprox1'), ValueError, 'target_gids'),
    (dict(src_gids=10_000), ValueError, 'src_gids'),
    (dict(src_gids=1.5), TypeError, 'src_gids'),
    (dict(loc=3), TypeError, 'loc'),
])
def test_pick_connection_bad_input(net, kwargs, error, match):
    with pytest.raises(error, match=match):
        pick_connection(net, **kwargs)


def test_pick_connection_matches_hnn_core(net):
    hnn_core = pytest.importorskip('hnn_core')
    from hnn_core.network_models import add_erp_drives_to_jones_model

    theirs = hnn_core.neymotin_2020_model(mesh_shape=(3, 3))
    add_erp_drives_to_jones_model(theirs)
    for kwargs in (dict(src_gids='L5_basket'), dict(target_gids='L2_basket', receptor=['ampa', 'nmda']),
                   dict(loc='distal'), dict(src_gids=[0, 1, 40], loc=['soma', 'proximal']),
                   dict(src_gids='evprox1', target_gids=range(9, 15))):
        assert pick_connection(net, **kwargs) == hnn_core.pick_connection(theirs, **kwargs)
    theirs.set_cell_positions(inplane_distance=2.5, layer_separation=1000.)
    net.set_cell_positions(inplane_distance=2.5, layer_separation=1000.)
    for name, positions in theirs.pos_dict.items():
        np.testing.assert_allclose(net.pos_dict[name], positions)


def test_global_synaptic_gains(net):
    assert net.get_global_synaptic_gains() == dict(e_e=1.0, e_i=1.0, i_e=1.0, i_i=1.0)
    copy = net.set_global_synaptic_gains(e_e=2.0, i_i=0.5, copy=True)
    assert net.get_global_synaptic_gains()['e_e'] == 1.0
    assert copy.get_global_synaptic_gains() == dict(e_e=2.0, e_i=1.0, i_e=1.0, i_i=0.5)
    assert net.set_global_synaptic_gains(i_e=3) is None
    pyr, bask = ('L2_pyramidal', 'L5_pyramidal'), ('L2_basket', 'L5_basket')
    for conn in net.connectivity:
        expected = 3.0 if conn['src_type'] in bask and conn['target_type'] in pyr else 1.0
        assert conn['nc_dict']['gain'] == expected, conn['src_type']  # drives untouched
    net.connectivity[pick_connection(net, src_gids='L2_pyramidal',
                                     target_gids='L5_pyramidal')[0]]['nc_dict']['gain'] = 9.0
    with pytest.warns(UserWarning, match='e_e connections have different gains'):
        net.get_global_synaptic_gains()
    with pytest.raises(ValueError, match='e_i'):
        net.set_global_synaptic_gains(e_i=-1.0)
    with pytest.raises(TypeError, match='copy'):
        net.set_global_synaptic_gains(e_e=1.0, copy=1)
    assert net.filter_cell_types(electro_type='excitatory') == list(pyr)
    assert net.filter_cell_types(layer='5', morpho_type='basket') == ['L5_basket']
    assert net.filter_cell_types(colour='red') == []
    assert net.delay == 1.0


def test_set_cell_positions_scales_grid_not_weights(net):
    before = [connection_weights(net, c)[2] for c in net.connectivity]
    net.set_cell_positions(inplane_distance=10.0)
    assert net.pos_dict['L2_pyramidal'][4] == (10.0, 10.0, 1307.4)
    assert net.pos_dict['evprox1'][0] == net.pos_dict['origin'] == (10.0, 10.0, 653.0)
    for w0, conn in zip(before, net.connectivity):
        np.testing.assert_allclose(connection_weights(net, conn)[2], w0)
    net.set_cell_positions(layer_separation=100.0)
    assert net.pos_dict['L5_basket'][0] == (0.0, 0.0, 20.0)
    assert net._inplane_distance == 10.0
    with pytest.raises(ValueError, match='inplane_distance'):
        net.set_cell_positions(inplane_distance=0)


def test_connectivity_plots_show_the_weights(net, tmp_path):
    net.add_connection('L2_pyramidal', 'L2_basket', 'soma', 'ampa', weight=0.5, delay=1.0,
                       lamtha=2.0, probability=0.5, conn_seed=1)
    idx = len(net.connectivity) - 1
    conn = net.connectivity[idx]
    src, tgt, weight = connection_weights(net, conn)
    assert 0 < src.size < 9 * 3 and np.all(weight <= 0.5) and np.any(weight == 0.5)

    fig = plot_connectivity_matrix(net, idx, show=False)
    fig.savefig(tmp_path / 'matrix.png')
    matrix = fig.axes[0].get_images()[0].get_array()
    assert matrix.shape == (9, 3)
    np.testing.assert_allclose(matrix[src, tgt], weight)
    assert np.count_nonzero(matrix) == src.size
    assert fig.axes[0].get_title() == 'L2_pyramidal -> L2_basket (soma, ampa)'
    flat = plot_connectivity_matrix(net, idx, show_weight=False, colorbar=False, show=False)
    assert set(np.unique(flat.axes[0].get_images()[0].get_array())) == {0.0, 1.0}

    src_gid = sorted(conn['gid_pairs'])[-1]
    fig = plot_cell_connectivity(net, idx, src_gid=src_gid, show=False)
    fig.savefig(tmp_path / 'cell.png')
    targets = fig.axes[1].collections[0]
    sel = src == src_gid - net.gid_ranges['L2_pyramidal'][0]
    np.testing.assert_allclose(targets.get_array(), weight[sel])
    np.testing.assert_allclose(targets.get_offsets(),
                               np.array(net.pos_dict['L2_basket'])[tgt[sel], :2])
    with pytest.raises(ValueError, match='src_gid'):
        plot_cell_connectivity(net, idx, src_gid=net.gid_ranges['L2_basket'][0], show=False)
    drive_conn = pick_connection(net, src_gids='evprox1')[0]
    assert len(plot_cell_connectivity(net, drive_conn, show=False).axes) == 2  # targets + colorbar
    with pytest.raises(ValueError, match='conn_idx'):
        plot_connectivity_matrix(net, len(net.connectivity), show=False)


def test_drive_strength_sums_weights(net, tmp_path):
    fig = plot_drive_strength(net, normalize=False, show=False)
    fig.savefig(tmp_path / 'drive.png')
    values = fig.axes[0].get_images()[0].get_array()
    assert values.shape == (3, 4)
    evprox2_l2pyr = sum(connection_weights(net, net.connectivity[i])[2].sum()
                        for i in pick_connection(net, src_gids='evprox2',
                                                 target_gids='L2_pyramidal'))
    assert values[2, 1] == pytest.approx(evprox2_l2pyr)
    assert values[0, 2] == 0.0  # evdist1 does not reach L5 baskets
    normalized = plot_drive_strength(net, show=False).axes[0].get_images()[0].get_array()
    np.testing.assert_allclose(normalized, values / values.max())
    counts = plot_drive_strength(net, show_weight=False, normalize=False, color_scale='log',
                                 show=False).axes[0].get_images()[0].get_array()
    assert counts[1, 1] == pytest.approx(np.log1p(9))  # evprox1: one AMPA pair per L2 pyramid
    with pytest.raises(ValueError, match='color_scale'):
        plot_drive_strength(net, color_scale='db', show=False)
    net.clear_drives()
    with pytest.raises(ValueError, match='no drives'):
        plot_drive_strength(net, show=False)
