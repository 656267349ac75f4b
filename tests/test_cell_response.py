"""CellResponse built and read as in hnn-core 0.6.1."""
import numpy as np
import pytest

from hnnjax import CellResponse

GID_RANGES = {'L2_basket': range(0, 2), 'L5_pyramidal': range(2, 4), 'evprox1': range(4, 6)}
SPIKE_TIMES = [[2.5, 3.0, 11.0, 40.0], [], [7.25, 30.0]]
SPIKE_GIDS = [[4, 0, 2, 0], [], [3, 5]]
SPIKE_TYPES = [['evprox1', 'L2_basket', 'L5_pyramidal', 'L2_basket'], [],
               ['L5_pyramidal', 'evprox1']]


def _response(**kwargs):
    return CellResponse(cell_type_names=['L2_basket', 'L5_pyramidal'],
                        spike_times=SPIKE_TIMES, spike_gids=SPIKE_GIDS,
                        spike_types=SPIKE_TYPES, times=np.arange(0, 50.0, 0.5), **kwargs)


def test_constructor_and_derived_views():
    cr = _response()
    assert repr(cr) == '<CellResponse | 3 simulation trials>'
    assert cr.spike_times == SPIKE_TIMES and cr.spike_types == SPIKE_TYPES
    assert cr.times.shape == (100,) and cr.vsec == cr.isec == cr.ca == []
    assert cr.cell_types == ['L2_basket', 'L5_pyramidal', 'evprox1']
    assert cr.spike_times_by_type == {
        'L2_basket': [[3.0, 40.0], [], []], 'L5_pyramidal': [[11.0], [], [7.25]],
        'evprox1': [[2.5], [], [30.0]]}
    empty = CellResponse(['L2_basket'])
    assert empty.spike_times == [] and empty.cell_types == [] and empty.times.size == 0


def test_update_types_from_gid_ranges():
    cr = _response()
    cr.update_types({'L2_basket': range(0, 2), 'L5_pyramidal': [2, 3], 'evdist1': range(4, 5)})
    assert cr.spike_types == [['evdist1', 'L2_basket', 'L5_pyramidal', 'L2_basket'], [],
                              ['L5_pyramidal', '']]  # gid 5 has no owner any more
    cr.update_types({'a': range(0, 6, 2), 'b': [5, 3], 'c': []})
    assert cr.spike_types == [['a', 'a', 'a', 'a'], [], ['b', 'b']]
    cr.update_types({'a': range(0, 3, 2), 'c': [], 'd': range(9, 2, -1)})
    assert cr.spike_types == [['d', 'a', 'a', 'a'], [], ['d', 'd']]
    cr.add_trial([1.0, 0.5, 0.5], [4, 3, 100])  # types by gid_ranges, spikes sorted by time then gid
    assert cr.spike_gids[-1] == [3, 100, 4] and cr.spike_types[-1] == ['d', None, 'd']
    with pytest.raises(ValueError, match='gid 1 is in both'):
        cr.update_types({'a': range(0, 2), 'b': range(1, 3)})
    with pytest.raises(TypeError, match='gid_ranges'):
        cr.update_types([range(3)])


def test_to_dict_and_equality():
    cr = _response(gid_ranges=GID_RANGES)
    cr.add_trial([1.0], [2], vsec={2: {'soma': np.arange(3.0)}})
    data = cr.to_dict()
    assert data['spike_times'] == SPIKE_TIMES + [[1.0]] and data['spike_types'][3] == ['L5_pyramidal']
    assert list(data['vsec'][0]) == ['2'] and data['vsec'][0]['2']['soma'] is cr.vsec[0][2]['soma']
    assert data['isec'] == data['ca'] == [{}]
    assert data['cell_type_names'] == ['L2_basket', 'L5_pyramidal']
    np.testing.assert_array_equal(data['times'], cr.times)
    other = _response()
    other.add_trial([1.0], [2], types=['L5_pyramidal'], vsec={2: {'soma': np.arange(1.0, 4.0)}})
    assert other != cr  # traces differ
    other.vsec[0][2]['soma'] = np.arange(3.0)
    assert other == cr
    other.spike_times[2] = [7.2504, 30.0]  # equal to 0.001 ms
    assert other == cr
    other.spike_gids[2] = [3, 4]
    assert other != cr


def test_mean_rates_layouts():
    cr = _response(gid_ranges=GID_RANGES)
    rates = cr.mean_rates(0, 50.0, mean_type='cell')
    assert rates == {'L2_basket': [[40.0, 0.0], [0.0, 0.0], [0.0, 0.0]],
                     'L5_pyramidal': [[20.0, 0.0], [0.0, 0.0], [0.0, 20.0]]}
    assert cr.mean_rates(0, 50.0, mean_type='trial') == {
        'L2_basket': [20.0, 0.0, 0.0], 'L5_pyramidal': [10.0, 0.0, 10.0]}
    assert cr.mean_rates(0, 50.0, GID_RANGES) == {'L2_basket': pytest.approx(20 / 3),
                                                  'L5_pyramidal': pytest.approx(20 / 3)}
    assert cr.mean_rates(0, 20.0)['L2_basket'] == pytest.approx(25 / 3)  # the 40 ms spike is out
    with pytest.raises(ValueError, match='no gids for cell type'):
        cr.mean_rates(0, 50.0, {'L2_basket': range(2)})


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(cell_type_names='L2_basket'), TypeError, 'cell_type_names'),
    (dict(spike_times=[1.0, 2.0]), TypeError, 'spike_times'),
    (dict(spike_times={'L2_basket': range(2)}), TypeError, 'CellResponse\\(cell_type_names'),
    (dict(spike_times=[[1.0]], spike_gids=[[0]]), ValueError, 'same number of trials'),
    (dict(spike_times=[[1.0]], spike_gids=[[0, 1]], spike_types=[['a']]), ValueError,
     'one entry per spike'),
    (dict(times='0-50'), TypeError, 'times'),
    (dict(gid_ranges={'a': 3}), TypeError, 'gid_ranges'),
])
def test_constructor_bad_input(kwargs, error, match):
    args = {'cell_type_names': ['L2_basket'], **kwargs}
    with pytest.raises(error, match=match):
        CellResponse(**args)


def test_matches_hnn_core():
    hnn_core = pytest.importorskip('hnn_core')
    ours = _response()
    theirs = hnn_core.CellResponse(cell_type_names=['L2_basket', 'L5_pyramidal'],
                                   spike_times=SPIKE_TIMES, spike_gids=SPIKE_GIDS,
                                   spike_types=SPIKE_TYPES, times=np.arange(0, 50.0, 0.5))
    assert ours.cell_types == theirs.cell_types
    assert ours.spike_times_by_type == theirs.spike_times_by_type
    for mean_type in ('all', 'trial', 'cell'):
        assert ours.mean_rates(0, 50.0, GID_RANGES, mean_type) == pytest.approx(
            theirs.mean_rates(0, 50.0, GID_RANGES, mean_type))
    theirs_dict, ours_dict = theirs.to_dict(), ours.to_dict()
    assert set(theirs_dict) <= set(ours_dict)
    for key in ('spike_times', 'spike_gids', 'spike_types', 'vsec', 'isec', 'ca'):
        assert ours_dict[key] == theirs_dict[key]
    ranges = {'L2_basket': range(0, 2), 'L5_pyramidal': range(2, 4), 'evdist1': range(4, 5)}
    ours.update_types(ranges)
    theirs.update_types(ranges)
    assert ours.spike_types == [[str(k) for k in trial] for trial in theirs.spike_types]


@pytest.mark.parametrize("shape", [(6800, 270), (13, 17), (7, 3), (1, 1), (0, 5), (100, 8)])
@pytest.mark.parametrize("density", [0.0, 0.001, 0.3, 1.0])
def test_spikes_read_off_a_packed_raster_in_np_nonzero_order(shape, density):
    """simulate_dipole's trials return their spike rasters (steps, cells)
    packed 8 cells to a byte; each spike's step and cell come back as
    np.nonzero of the unpacked raster gives them, whatever the cell count
    modulo 8 and however dense."""
    from hnnjax.network.simulate import spike_steps_and_cells
    raster = np.random.default_rng(sum(shape)).random(shape) < density
    got = spike_steps_and_cells(np.packbits(raster, axis=1))
    want = np.nonzero(raster)
    assert len(got) == 2
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
