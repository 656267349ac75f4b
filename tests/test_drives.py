"""Drive specifications and hnn-core-exact drive event times (spec §6)."""
import json
from pathlib import Path

import numpy as np
import pytest

from hnnjax.drives.events import (bursty_times, clip_and_sort,
                                  drive_cell_times, drive_event_times,
                                  drive_trains)
from hnnjax.drives.spec import make_drive, offset_target_types
from hnnjax.io.params import drive_specs_from_params, params_path

CELLS = {'L2_basket': 35, 'L2_pyramidal': 100, 'L5_basket': 35,
         'L5_pyramidal': 100}
PROX_DELAYS = {'L2_basket': 0.1, 'L2_pyramidal': 0.1, 'L5_basket': 1.0,
               'L5_pyramidal': 1.0}
R = np.random.RandomState


def _first_times(drive, trial, n_gids, offsets=(0, 1, 2), tstop=170.0):
    times = drive_event_times(drive, trial, n_gids, tstop)
    return [times[k][0] for k in offsets]


def _attach_from_params(params):
    """Drives as hnn-core attaches them from params: sorted names, gids from
    270 on, then every seed shifted by the drive's first gid."""
    drives, first_gid = {}, sum(CELLS.values())
    for name, spec in drive_specs_from_params(params).items():
        spec = dict(spec)
        drive_type = spec.pop('type')
        drive = make_drive('evoked' if drive_type == 'gaussian' else drive_type,
                           name, cell_types=CELLS, existing_names=drives, **spec)
        drive['event_seed'] += first_gid
        first_gid += drive['n_drive_cells']
        drives[name] = drive
    return drives, first_gid


# ------------------------------------------------ spec §6.3 reference times


def _erp_drives():
    """add_erp_drives_to_jones_model's three drives (spec §6.4)."""
    evdist1 = make_drive(
        'evoked', 'evdist1', cell_types=CELLS, mu=63.53, sigma=3.85,
        numspikes=1, location='distal', event_seed=274,
        weights_ampa={'L2_basket': 0.006562, 'L2_pyramidal': 7e-6,
                      'L5_pyramidal': 0.1423},
        weights_nmda={'L2_basket': 0.019482, 'L2_pyramidal': 0.004317,
                      'L5_pyramidal': 0.080074},
        synaptic_delays={'L2_basket': 0.1, 'L2_pyramidal': 0.1,
                         'L5_pyramidal': 0.1})
    evprox1 = make_drive(
        'evoked', 'evprox1', cell_types=CELLS, mu=26.61, sigma=2.47,
        numspikes=1, location='proximal', event_seed=544,
        weights_ampa={'L2_basket': 0.08831, 'L2_pyramidal': 0.01525,
                      'L5_basket': 0.19934, 'L5_pyramidal': 0.00865},
        synaptic_delays=PROX_DELAYS)
    evprox2 = make_drive(
        'evoked', 'evprox2', cell_types=CELLS, mu=137.12, sigma=8.33,
        numspikes=1, location='proximal', event_seed=814,
        weights_ampa={'L2_basket': 3e-6, 'L2_pyramidal': 1.43884,
                      'L5_basket': 0.008958, 'L5_pyramidal': 0.684013},
        synaptic_delays=PROX_DELAYS)
    return evdist1, evprox1, evprox2


def test_erp_helper_reference_times():
    evdist1, evprox1, evprox2 = _erp_drives()
    assert [d['n_drive_cells'] for d in (evdist1, evprox1, evprox2)] == [235, 270, 270]
    n_gids = 270 + 235 + 270 + 270
    assert n_gids == 1045
    np.testing.assert_allclose(_first_times(evdist1, 0, n_gids),
                               [66.304983, 69.515203, 63.559899], atol=1e-6)
    np.testing.assert_allclose(_first_times(evprox1, 0, n_gids),
                               [23.806416, 23.388614, 26.448119], atol=1e-6)
    np.testing.assert_allclose(_first_times(evprox2, 0, n_gids),
                               [141.762520, 140.128057, 130.680701], atol=1e-6)
    np.testing.assert_allclose(_first_times(evdist1, 1, n_gids, (0,)),
                               [61.107320], atol=1e-6)


def test_default_json_path_reference_times():
    drives, n_gids = _attach_from_params(params_path('default'))
    assert n_gids == 1045
    assert {n: d['event_seed'] for n, d in drives.items()} == {
        'evdist1': 272, 'evprox1': 507, 'evprox2': 777}
    # default.json's proximal drives carry zero-weight NMDA connections
    assert drives['evprox1']['weights_nmda'] == dict.fromkeys(CELLS, 0.0)
    np.testing.assert_allclose(_first_times(drives['evdist1'], 0, n_gids),
                               [65.499389, 66.801529, 66.304983], atol=1e-6)
    np.testing.assert_allclose(_first_times(drives['evprox1'], 0, n_gids),
                               [25.482400, 28.407197, 24.610834], atol=1e-6)
    np.testing.assert_allclose(_first_times(drives['evprox2'], 0, n_gids),
                               [133.219821, 138.747131, 141.300084], atol=1e-6)


def test_somatosensory_example_reference_times():
    """Four synchronous drives added by API (spec §9.2), gids 270..273."""
    table = {  # name: mu, sigma, location, ampa, nmda (L2B, L2P, L5B, L5P), seed
        'evprox1': (21, 4.0, 'proximal', (0.0036, 0.0039, 0.0019, 0.0020),
                    (0.0029, 0.0005, 0.0030, 0.0019), 276),
        'evprox2': (134, 4.5, 'proximal', (0.003, 0.0039, 0.004, 0.0020),
                    (0.001, 0.0005, 0.002, 0.0020), 276),
        'evdist1': (32, 2.5, 'distal', (0.0043, 0.0032, None, 0.0009),
                    (0.0029, 0.0051, None, 0.0010), 277),
        'evdist2': (84, 4.5, 'distal', (0.0041, 0.0019, None, 0.0018),
                    (0.0032, 0.0018, None, 0.0017), 275),
    }
    expected = {'evprox1': [21.031064, 26.205659, 14.840229],
                'evprox2': [134.034947, 139.856366, 127.070258],
                'evdist1': [26.879292, 31.019347, 34.242315],
                'evdist2': [90.995692, 83.392998, 84.575727]}
    names = []
    for name, (mu, sigma, loc, ampa, nmda, seed) in table.items():
        weights = [{ct: w for ct, w in zip(CELLS, ws) if w is not None}
                   for ws in (ampa, nmda)]
        delays = PROX_DELAYS if loc == 'proximal' else 0.1
        drive = make_drive('evoked', name, cell_types=CELLS, existing_names=names,
                           mu=mu, sigma=sigma, numspikes=1, location=loc,
                           n_drive_cells=1, cell_specific=False,
                           weights_ampa=weights[0], weights_nmda=weights[1],
                           synaptic_delays=delays, event_seed=seed)
        names.append(name)
        got = [drive_event_times(drive, j, 274, 170.0)[0][0] for j in range(3)]
        np.testing.assert_allclose(got, expected[name], atol=1e-6)


def test_n20_params_drives_reference_times():
    drives, n_gids = _attach_from_params(params_path('N20'))
    assert n_gids == 293
    assert {n: d['event_seed'] for n, d in drives.items()} == {
        'bursty1': 274, 'bursty2': 284, 'evdist1': 294, 'evdist2': 291,
        'evprox1': 296}
    assert [drives[n]['n_drive_cells'] for n in drives] == [10, 10, 1, 1, 1]
    expected = {'evdist1': [29.435950, 35.547884, 30.804532],
                'evdist2': [82.870100, 79.490012, 84.763731],
                'evprox1': [23.262279, 23.328289, 18.552628]}
    for name, times in expected.items():
        got = [drive_event_times(drives[name], j, n_gids, 170.0)[0][0]
               for j in range(3)]
        np.testing.assert_allclose(got, times, atol=1e-6)
    # zero-weight bursty drives still produce trains (they only cost gids)
    bursts = drive_event_times(drives['bursty1'], 0, n_gids, 170.0)
    assert len(bursts) == 10 and all(len(b) > 0 for b in bursts)
    ref = _ref_bursty(274, 3, 50.0, 0.0, 170, 10.0, 20.0, 2, 10.0, 170.0)
    np.testing.assert_array_equal(bursts[3], ref)


# ------------------------------------------------ independent recipes


def _ref_poisson(seed, tstart, t_end, rate, tstop):
    """Spec §6.2 Poisson recipe with scalar draws."""
    prng, t, out = R(seed), tstart, []
    while t < t_end:
        t += prng.exponential(1.0 / rate) * 1000.0
        if t < t_end:
            out.append(t)
    out = np.array(out)
    return np.sort(out[(out > 0) & (out <= tstop)])


def _ref_bursty(seed_j, k, tstart, tstart_std, t_end, rate, std, n, isi, tstop):
    """Spec §6.2 bursty recipe with one scalar draw per burst."""
    prng, prng2 = R(seed_j + k), R(seed_j)
    if tstart_std > 0:
        tstart = prng2.normal(tstart, tstart_std)
    centres = np.array([prng.normal(c, std)
                        for c in np.arange(tstart, t_end, 1000.0 / rate)])
    train = np.concatenate([centres + isi * (m - (n - 1) / 2)
                            for m in range(n)])
    return np.sort(train[(train > 0) & (train <= tstop)])


def test_poisson_matches_recipe_and_properties():
    drive = make_drive('poisson', 'pois', cell_types=CELLS, tstart=20.0,
                       tstop=400.0, rate_constant=40.0, n_drive_cells=5,
                       cell_specific=False, location='proximal',
                       weights_ampa={'L5_pyramidal': 1e-3}, event_seed=11)
    n_gids, tstop = 275, 500.0
    for trial in (0, 3):
        trains = drive_event_times(drive, trial, n_gids, tstop)
        assert len(trains) == 5
        for k, train in enumerate(trains):
            seed = 11 + trial * n_gids + k
            np.testing.assert_array_equal(
                train, _ref_poisson(seed, 20.0, 400.0, 40.0, tstop))
            assert np.all(np.diff(train) >= 0)
            assert train.min() > 20.0 and train.max() < 400.0
    counts = [len(t) for j in range(20)
              for t in drive_event_times(drive, j, n_gids, tstop)]
    assert abs(np.mean(counts) - 40.0 * 0.38) < 2.0  # 15.2 expected


def test_poisson_per_cell_type_rates_and_default_tstop():
    rates = {'L2_pyramidal': 5.0, 'L5_pyramidal': 80.0}
    drive = make_drive('poisson', 'pois', cell_types=CELLS, rate_constant=rates,
                       location='proximal',
                       weights_ampa={'L2_pyramidal': 1e-3, 'L5_pyramidal': 1e-3})
    targets = offset_target_types(drive, CELLS)
    assert targets == ['L2_pyramidal'] * 100 + ['L5_pyramidal'] * 100
    assert drive['dynamics']['tstop'] is None
    trains = drive_event_times(drive, 1, 470, 250.0, targets)
    for k in (0, 99, 100, 199):
        rate = rates[targets[k]]
        np.testing.assert_array_equal(
            trains[k], _ref_poisson(2 + 470 + k, 0.0, 250.0, rate, 250.0))
    assert np.mean([len(t) for t in trains[100:]]) > 5 * np.mean(
        [len(t) for t in trains[:100]])
    with pytest.raises(ValueError, match='target_cell_type_of_offset is required'):
        drive_event_times(drive, 0, 470, 250.0)
    # a scalar rate on a cell-specific drive becomes a per-type dict
    drive = make_drive('poisson', 'p2', cell_types=CELLS, rate_constant=10,
                       location='proximal', weights_ampa={'L2_basket': 0.0})
    assert drive['dynamics']['rate_constant'] == {'L2_basket': 10.0}
    # the simulation tstop shorter than tstart: hnn-core fails at instantiation
    late = make_drive('poisson', 'p3', cell_types=CELLS, tstart=300.0,
                      rate_constant=10.0, n_drive_cells=1, cell_specific=False,
                      location='proximal', weights_ampa={'L2_basket': 0.0})
    with pytest.raises(ValueError, match='tstop must be >= tstart'):
        drive_event_times(late, 0, 271, 250.0)


@pytest.mark.parametrize('tstart_std, numspikes, isi', [(0.0, 2, 10.0),
                                                         (15.0, 3, 5.0),
                                                         (5.0, 1, 10.0)])
def test_bursty_matches_recipe(tstart_std, numspikes, isi):
    drive = make_drive('bursty', 'b', cell_types=CELLS, tstart=40.0,
                       tstart_std=tstart_std, tstop=300.0, burst_rate=20.0,
                       burst_std=6.0, numspikes=numspikes, spike_isi=isi,
                       n_drive_cells=4, location='distal', event_seed=9,
                       weights_ampa={'L2_pyramidal': 1e-4})
    for trial in (0, 2):
        trains = drive_event_times(drive, trial, 274, 320.0)
        for k, train in enumerate(trains):
            ref = _ref_bursty(9 + 274 * trial, k, 40.0, tstart_std, 300.0,
                              20.0, 6.0, numspikes, isi, 320.0)
            np.testing.assert_array_equal(train, ref)
            assert np.all(np.diff(train) >= 0)


def test_bursty_structure_and_clipping():
    prng, prng2 = R(5), R(6)
    times = bursty_times(prng, prng2, 50.0, 0.0, 170.0, 10.0, 0.0, 2, 10.0)
    # burst_std 0: centres 50, 150; first spikes of all bursts, then second
    np.testing.assert_allclose(times, [45.0, 145.0, 55.0, 155.0])
    # jitter past the drive's tstop survives up to the simulation tstop;
    # tstop=None means the simulation tstop
    drive = make_drive('bursty', 'b', cell_types=CELLS, tstart=0.0,
                       burst_rate=10.0, numspikes=2, spike_isi=10.0,
                       location='proximal', weights_ampa={'L2_basket': 0.0})
    train = drive_event_times(drive, 0, 271, 200.0)[0]
    np.testing.assert_allclose(train, [5.0, 95.0, 105.0])  # -5 dropped
    drive['dynamics']['tstop'] = 101.0
    np.testing.assert_allclose(drive_event_times(drive, 0, 271, 110.0)[0],
                               [5.0, 95.0, 105.0])
    np.testing.assert_allclose(drive_event_times(drive, 0, 271, 103.0)[0],
                               [5.0, 95.0])


def test_evoked_multiple_spikes_and_clip():
    drive = make_drive('evoked', 'e', cell_types=CELLS, mu=5.0, sigma=10.0,
                       numspikes=30, location='proximal',
                       weights_ampa={'L2_basket': 1e-3})
    trains = drive_event_times(drive, 0, 305, 12.0)
    raw = R(2 + 7).normal(5.0, 10.0, 30)
    np.testing.assert_array_equal(trains[7],
                                  np.sort(raw[(raw > 0) & (raw <= 12.0)]))
    np.testing.assert_array_equal(clip_and_sort([3.0, -1.0, 0.0, 12.0, 12.5, 1.0], 12.0),
                                  [1.0, 3.0, 12.0])


def test_gaussian_type_and_spike_train():
    g = make_drive('evoked', 'extgauss', cell_types=CELLS, mu=20.0, sigma=2.0,
                   numspikes=50, location='proximal',
                   weights_ampa={'L2_basket': 1e-3})
    assert g['type'] == 'gaussian'
    assert drive_event_times(g, 0, 305, 170.0)[0].shape == (50,)
    st = make_drive('spike_train', 'st', cell_types=CELLS,
                    spike_data={'x': [30.0, 10.0, 500.0], 'y': [5.0]},
                    location='proximal', weights_ampa={'L2_pyramidal': 1e-3})
    assert (st['n_drive_cells'], st['cell_specific'], st['event_seed']) == (2, False, 0)
    assert st['source_to_gid_map'] == {'x': 0, 'y': 1}
    assert st['space_constant'] == 3.0 and st['conn_seed'] is None
    trains = drive_event_times(st, 4, 272, 100.0)
    # hnn-core hands user trains over as given (no clipping, no sorting)
    np.testing.assert_array_equal(trains[0], [30.0, 10.0, 500.0])
    np.testing.assert_array_equal(trains[1], [5.0])
    tuples = make_drive('spike_train', 'st2', cell_types=CELLS,
                        spike_data=[(1.0, 7), (2.0, 3), (3.0, 7)],
                        location='proximal', weights_ampa={'L2_basket': 0.0})
    assert tuples['dynamics'] == {'times': [1.0, 2.0, 3.0], 'gids': [1, 0, 1]}
    assert 'source_to_gid_map' not in tuples
    np.testing.assert_array_equal(drive_cell_times('spike_train', tuples['dynamics'],
                                                   100.0, 0, 1), [1.0, 3.0])


# ------------------------------------------------ make_drive normalisation


def test_make_drive_defaults_and_layout():
    ev = make_drive('evoked', 'ev', cell_types=CELLS, mu=1, sigma=0, numspikes=1,
                    location='distal',
                    weights_nmda={'L5_pyramidal': 1e-3, 'L2_basket': 2e-3})
    assert list(ev) == ['type', 'name', 'location', 'n_drive_cells',
                        'cell_specific', 'dynamics', 'event_seed', 'conn_seed',
                        'weights_ampa', 'weights_nmda', 'synaptic_delays',
                        'probability', 'space_constant', 'target_types', 'events']
    assert ev['target_types'] == ['L2_basket', 'L5_pyramidal']
    assert list(ev['weights_nmda']) == ['L2_basket', 'L5_pyramidal']
    assert ev['weights_ampa'] == {} and ev['events'] == []
    assert (ev['n_drive_cells'], ev['cell_specific']) == (135, True)
    assert (ev['event_seed'], ev['conn_seed'], ev['space_constant']) == (2, 3, 3.0)
    assert ev['synaptic_delays'] == {'L2_basket': 0.1, 'L5_pyramidal': 0.1}
    assert ev['probability'] == {'L2_basket': 1.0, 'L5_pyramidal': 1.0}
    assert ev['dynamics'] == {'mu': 1.0, 'sigma': 0.0, 'numspikes': 1}
    assert offset_target_types(ev, CELLS) == ['L2_basket'] * 35 + ['L5_pyramidal'] * 100

    erp = _erp_drives()[0]
    targets = offset_target_types(erp, CELLS)
    assert targets[134] == 'L2_pyramidal' and targets[135] == 'L5_pyramidal'

    b = make_drive('bursty', 'b', cell_types=CELLS, burst_rate=10,
                   location='proximal', weights_ampa={'L2_basket': 1e-3})
    assert (b['n_drive_cells'], b['cell_specific'], b['space_constant']) == (1, False, 100.0)
    assert b['dynamics'] == {'tstart': 0.0, 'tstart_std': 0.0, 'tstop': None,
                             'burst_rate': 10.0, 'burst_std': 0.0,
                             'numspikes': 2, 'spike_isi': 10.0}
    assert offset_target_types(b, CELLS) == ['any']
    p = make_drive('poisson', 'p', cell_types=CELLS, tstop=100.0, rate_constant=5,
                   location='soma', weights_ampa={'L5_basket': 1e-3},
                   probability={'L5_basket': 0.5})
    assert p['space_constant'] == 100.0 and p['dynamics']['tstop'] == 100.0
    assert p['probability'] == {'L5_basket': 0.5} and p['n_drive_cells'] == 35
    # a single section, if every target type has it with the receptor used
    tuft = make_drive('evoked', 't', cell_types=CELLS, mu=1, sigma=1, numspikes=1,
                      location='apical_2', weights_ampa={'L5_pyramidal': 1e-3})
    assert tuft['location'] == 'apical_2'


# ------------------------------------------------ validation errors

BASE = {
    'evoked': dict(mu=10.0, sigma=1.0, numspikes=1, location='proximal',
                   weights_ampa={'L2_pyramidal': 1e-3}),
    'poisson': dict(rate_constant=10.0, location='proximal',
                    weights_ampa={'L2_pyramidal': 1e-3}),
    'bursty': dict(burst_rate=10.0, location='distal',
                   weights_ampa={'L2_pyramidal': 1e-3}),
    'spike_train': dict(spike_data={'a': [1.0, 2.0]}, location='proximal',
                        weights_ampa={'L2_pyramidal': 1e-3}),
}

ERRORS = [
    ('evoked', {'sigma': -1.0}, r'sigma must be a finite number >= 0'),
    ('evoked', {'numspikes': 0}, r'numspikes must be an integer >= 1'),
    ('evoked', {'location': 'elsewhere'}, r"location must be one of \['proximal'"),
    ('evoked', {'location': 'apical_tuft', 'weights_ampa': {'L2_basket': 1.0}},
     r"location must be one of \['proximal', 'distal', 'soma'\]"),
    ('evoked', {'location': 'soma'}, r"section 'soma' of L2_pyramidal has no 'ampa'"),
    ('evoked', {'location': 'distal', 'weights_nmda': {'L5_basket': 1e-3}},
     r'distal drive cannot target L5_basket'),
    ('evoked', {'weights_ampa': {'L4_stellate': 1.0}},
     r"weights_ampa: unknown target cell type\(s\) \['L4_stellate'\]"),
    ('evoked', {'weights_ampa': {'L2_pyramidal': -1.0}},
     r"weights_ampa\['L2_pyramidal'\] must be a finite number >= 0 µS"),
    ('evoked', {'weights_ampa': [1.0]}, r'weights_ampa must be a dict'),
    ('evoked', {'weights_ampa': None}, r'give no target cell type'),
    ('evoked', {'synaptic_delays': {'L2_pyramidal': 0.1, 'L5_pyramidal': 1.0}},
     r'synaptic_delays must be a number or a dict keyed by exactly'),
    ('evoked', {'synaptic_delays': {}}, r"got keys \[\]"),
    ('evoked', {'synaptic_delays': -0.1}, r'synaptic_delays must be .* >= 0 ms'),
    ('evoked', {'probability': 0.0}, r'probability must be .* > 0 and <= 1'),
    ('evoked', {'probability': {'L2_pyramidal': 1.5}},
     r"probability\['L2_pyramidal'\] must be"),
    ('evoked', {'space_constant': 0.0}, r'space_constant must be .* > 0'),
    ('evoked', {'n_drive_cells': 5}, r"n_drive_cells must be 'n_cells' when cell_specific=True"),
    ('evoked', {'cell_specific': False},
     r'n_drive_cells must be an integer >= 1 when cell_specific=False'),
    ('evoked', {'cell_specific': False, 'n_drive_cells': 0},
     r'n_drive_cells must be an integer >= 1'),
    ('evoked', {'conn_seed': -3}, r'conn_seed \(or None\) must be an integer >= 0'),
    ('evoked', {'conn_seed': None, 'probability': 0.5},
     r'conn_seed must be an integer >= 0 when probability < 1'),
    ('evoked', {'tstart': 0.0}, r"unknown parameter\(s\) \['tstart'\] for a evoked"),
    ('poisson', {'rate_constant': 0.0}, r'rate_constant must be .* > 0 Hz'),
    ('poisson', {'rate_constant': {'L2_pyramidal': -1.0}},
     r"rate_constant\['L2_pyramidal'\] must be"),
    ('poisson', {'rate_constant': {'L5_pyramidal': 1.0}},
     r"missing \['L2_pyramidal'\], unknown \[\]"),
    ('poisson', {'rate_constant': {'L2_pyramidal': 1.0, 'L4': 1.0}},
     r"unknown \['L4'\]"),
    ('poisson', {'rate_constant': {'L2_pyramidal': 1.0}, 'cell_specific': False,
                 'n_drive_cells': 1}, r'requires cell_specific=True'),
    ('poisson', {'tstart': -1.0}, r'tstart must be .* >= 0 ms'),
    ('poisson', {'tstart': 50.0, 'tstop': 10.0},
     r'tstop of a poisson drive must be >= tstart \(50.0 ms\)'),
    ('poisson', {'tstop': -1.0}, r'tstop must be .* >= 0 ms'),
    ('bursty', {'burst_rate': 0.0}, r'burst_rate must be .* > 0 Hz'),
    ('bursty', {'burst_std': -1.0}, r'burst_std must be'),
    ('bursty', {'tstart_std': -1.0}, r'tstart_std must be'),
    ('bursty', {'numspikes': 0}, r'numspikes must be an integer >= 1'),
    ('bursty', {'numspikes': 3, 'spike_isi': 60.0},
     r'burst duration .* = 120.0 ms must be <= the burst period'),
    ('bursty', {'tstart': 100.0, 'tstop': 50.0}, r'tstop of a bursty drive'),
    ('bursty', {'n_drive_cells': 'n_cells'},
     r'n_drive_cells must be an integer >= 1 when cell_specific=False'),
    ('spike_train', {'spike_data': {}}, r'at least one source'),
    ('spike_train', {'spike_data': []}, r'at least one source'),
    ('spike_train', {'spike_data': 'spikes.txt'}, r'spike_data must be a dict'),
    ('spike_train', {'spike_data': {'a': 5.0}}, r"spike_data\['a'\] must be a list"),
    ('spike_train', {'spike_data': [(1.0, -2)]}, r'spike_data gid must be'),
    ('spike_train', {'event_seed': 3}, r"unknown parameter\(s\) \['event_seed'\]"),
]


@pytest.mark.parametrize('drive_type, override, match', ERRORS)
def test_make_drive_errors(drive_type, override, match):
    kwargs = {**BASE[drive_type], **override}
    with pytest.raises(ValueError, match=match):
        make_drive(drive_type, 'd', cell_types=CELLS, **kwargs)


@pytest.mark.parametrize('override, match', [
    ({'numspikes': 1.5}, r'numspikes must be an integer >= 1; got 1.5'),
    ({'mu': None}, r'mu must be a finite number \(ms\); got None'),
    ({'cell_specific': 'yes'}, r'cell_specific must be True or False'),
    ({'event_seed': 1.5}, r'event_seed must be an integer; got 1.5'),
])
def test_make_drive_type_errors(override, match):
    with pytest.raises(TypeError, match=match):
        make_drive('evoked', 'd', cell_types=CELLS, **{**BASE['evoked'], **override})


def test_make_drive_argument_errors():
    with pytest.raises(ValueError, match=r"drive_type must be one of \('evoked'"):
        make_drive('tonic', 'd', cell_types=CELLS, **BASE['evoked'])
    with pytest.raises(ValueError, match=r"name 'ev' is already used"):
        make_drive('evoked', 'ev', cell_types=CELLS, existing_names=['ev'],
                   **BASE['evoked'])
    with pytest.raises(ValueError, match=r"name 'L2_basket' is already used"):
        make_drive('evoked', 'L2_basket', cell_types=CELLS, **BASE['evoked'])
    with pytest.raises(ValueError, match=r'name must be a non-empty str'):
        make_drive('evoked', '', cell_types=CELLS, **BASE['evoked'])
    with pytest.raises(ValueError, match=r"missing required parameter\(s\) \['mu'\]"):
        make_drive('evoked', 'd', cell_types=CELLS, sigma=1.0, numspikes=1,
                   location='proximal', weights_ampa={'L2_basket': 1.0})
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['tstop'\]"):
        make_drive('evoked', 'd', cell_types=CELLS, tstop=10.0, **BASE['evoked'])
    with pytest.raises(ValueError, match=r"cell_types: unknown cell type 'L4'"):
        make_drive('evoked', 'd', cell_types={'L4': 3}, **BASE['evoked'])
    with pytest.raises(ValueError, match=r"cell_types\['L2_pyramidal'\] must be"):
        make_drive('evoked', 'd', cell_types={'L2_pyramidal': 0}, **BASE['evoked'])


def test_drive_event_times_errors():
    drive = make_drive('evoked', 'd', cell_types=CELLS, **BASE['evoked'])
    with pytest.raises(ValueError, match=r'n_gids must be an integer >= 100'):
        drive_event_times(drive, 0, 50, 100.0)
    with pytest.raises(ValueError, match=r'trial_idx must be an integer >= 0'):
        drive_event_times(drive, -1, 370, 100.0)
    with pytest.raises(ValueError, match=r'tstop must be a finite number > 0 ms'):
        drive_event_times(drive, 0, 370, 0.0)
    with pytest.raises(ValueError, match=r'must have n_drive_cells = 100 entries'):
        drive_event_times(drive, 0, 370, 100.0, ['any'])
    with pytest.raises(ValueError, match=r"drive_type must be one of 'evoked'"):
        drive_cell_times('tonic', {}, 100.0, 0, 0)
    # params files may hold seed -1 (shifted by the first gid later); a seed
    # outside RandomState's range only fails when events are drawn
    negative = make_drive('evoked', 'n', cell_types=CELLS,
                          **{**BASE['evoked'], 'event_seed': -1})
    with pytest.raises(ValueError, match=r'must lie in \[0, 2\*\*32 - 1\]'):
        drive_event_times(negative, 0, 370, 100.0)
    negative['event_seed'] += 270
    assert len(drive_event_times(negative, 0, 370, 100.0)) == 100


# ------------------------------------------------ hnn-core run fixtures

FIXTURES = [f for f in sorted((Path(__file__).parent / 'fixtures').glob('net_*.npz'))
            if 'drive_event_times' in np.load(f).files]  # the network runs with drive events


def _drive_from_hnn_core(name, desc, cell_types):
    """make_drive from the drive description hnn-core stored in a fixture."""
    kwargs = dict(desc['dynamics'])
    if desc['type'] in ('evoked', 'gaussian'):
        kwargs.pop('sync_within_trial', None)
    for key in ('location', 'weights_ampa', 'weights_nmda', 'synaptic_delays',
                'probability', 'cell_specific', 'event_seed', 'conn_seed'):
        kwargs[key] = desc[key]
    kwargs['space_constant'] = desc['connections'][0]['nc_dict']['lamtha']
    kwargs['n_drive_cells'] = ('n_cells' if desc['cell_specific']
                               else desc['n_drive_cells'])
    drive_type = 'evoked' if desc['type'] == 'gaussian' else desc['type']
    return make_drive(drive_type, name, cell_types=cell_types, **kwargs)


def test_somato_fixture_present():
    assert any(f.name == 'net_somato.npz' for f in FIXTURES)


@pytest.mark.parametrize('vectorize', [False, True], ids=['per-cell', 'vectorized'])
@pytest.mark.parametrize('path', FIXTURES, ids=[f.stem for f in FIXTURES])
def test_fixture_event_times_exact(path, vectorize):
    """Every drive event hnn-core 0.6.1 generated, reproduced bit for bit,
    by both ways of drawing (one RandomState per cell; all seeds at once)."""
    with np.load(path) as f:
        data = {k: f[k] for k in f.files
                if k.startswith(('drive_', 'gid_range_', 'meta'))}
    meta = json.loads(str(data['meta']))
    ranges = {str(n): range(int(a), int(b)) for n, a, b in zip(
        data['gid_range_names'], data['gid_range_start'], data['gid_range_stop'])}
    cell_types = {ct: len(ranges[ct]) for ct in CELLS}
    n_gids = meta['n_gids']
    assert n_gids == max(r.stop for r in ranges.values())
    names = [str(n) for n in data['drive_names']]
    assert names == list(meta['drives'])
    for di, name in enumerate(names):
        desc = meta['drives'][name]
        drive = _drive_from_hnn_core(name, desc, cell_types)
        assert drive['n_drive_cells'] == len(ranges[name])
        assert drive['target_types'] == desc['target_types']
        assert drive['type'] == desc['type']
        targets = offset_target_types(drive, cell_types)
        for trial in range(meta['n_trials']):
            got = drive_event_times(drive, trial, n_gids, meta['tstop'], targets,
                                    vectorize=vectorize)
            sel = (data['drive_event_drive'] == di) & (data['drive_event_trial'] == trial)
            for k, gid in enumerate(ranges[name]):
                ref = data['drive_event_times'][sel & (data['drive_event_gid'] == gid)]
                np.testing.assert_array_equal(got[k], ref, err_msg=f'{name} {trial} {k}')


VECTOR_CASES = {
    'evoked 1 spike': ('evoked', dict(mu=20.0, sigma=4.0, numspikes=1)),
    'evoked 5 spikes, near 0': ('evoked', dict(mu=2.0, sigma=3.0, numspikes=5)),
    'evoked sigma 0': ('evoked', dict(mu=7, sigma=0.0, numspikes=2)),
    'poisson 1 Hz': ('poisson', dict(rate_constant=1.0)),
    'poisson per type, late start, own tstop': (
        'poisson', dict(tstart=30.0, tstop=90.0,
                        rate_constant={'L2_basket': 3.0, 'L2_pyramidal': 60.0,
                                       'L5_basket': 0.5, 'L5_pyramidal': 200.0})),
    'poisson beyond the computed draws': ('poisson', dict(rate_constant=2000.0)),
}


@pytest.mark.parametrize('case', VECTOR_CASES, ids=list(VECTOR_CASES))
def test_vectorized_draws_equal_per_cell_draws(case):
    """Drawing all seeds at once gives each cell's RandomState train bit for
    bit, over trials; seeds needing more draws than computed fall back."""
    drive_type, dynamics = VECTOR_CASES[case]
    drive = make_drive(drive_type, 'd', cell_types=CELLS, location='proximal',
                       weights_ampa={ct: 1e-3 for ct in CELLS}, event_seed=5,
                       **dynamics)
    targets = offset_target_types(drive, CELLS)
    args = (drive, range(2, 9), 275, 120.0, targets)
    slow = drive_trains(*args, vectorize=False)
    fast = drive_trains(*args, vectorize=True)
    assert len(fast) == 7 and all(len(t) == 270 for t in fast)
    for j, (a, b) in enumerate(zip(slow, fast)):
        for k, (x, y) in enumerate(zip(a, b)):
            assert x.dtype == y.dtype == float
            np.testing.assert_array_equal(x, y, err_msg=f'trial {j + 2} cell {k}')
    assert sum(map(len, sum(slow, []))) > 0
    assert drive_trains(*args) is not None  # the default picks one of the two


def test_drive_trains_checks_every_seed():
    drive = make_drive('evoked', 'd', cell_types=CELLS, **{**BASE['evoked'], 'event_seed': 0})
    last_ok = (2**32 - 1 - 99) // 370  # the last trial whose seeds all fit
    assert len(drive_trains(drive, range(last_ok - 1, last_ok + 1), 370, 100.0, vectorize=True)) == 2
    with pytest.raises(ValueError, match=r'must lie in \[0, 2\*\*32 - 1\]'):
        drive_trains(drive, range(last_ok, last_ok + 2), 370, 100.0, vectorize=True)
    with pytest.raises(TypeError, match='trials must be a range'):
        drive_trains(drive, [0, 1], 370, 100.0)
