"""Parameter files: hnn-core 0.6.1 templating semantics and params drives."""
import json
from pathlib import Path

import pytest

from hnnjax.io.params import (Params, drive_specs_from_params, params_path,
                              read_params)
from hnnjax.io.params_default import default_params

LEGACY_DIR = Path('/work/shared/data/params')
needs_legacy = pytest.mark.skipif(not LEGACY_DIR.is_dir(),
                                  reason='legacy .param files not available')
CELL_TYPES = ['L2_basket', 'L2_pyramidal', 'L5_basket', 'L5_pyramidal']


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------------------ defaults


@pytest.mark.parametrize('n_prox, n_dist', [(0, 0), (2, 1), (1, 2), (3, 4)])
def test_default_key_count(n_prox, n_dist):
    # 199 base keys, 12 per proximal and 10 per distal evoked input
    assert len(default_params(n_prox, n_dist)) == 199 + 12 * n_prox + 10 * n_dist


def test_default_values_spot_checks():
    p = default_params(1, 1)
    assert p['tstop'] == 250.0 and p['dipole_scalefctr'] == 30e3
    assert p['L5Pyr_dend_el_hh2'] == -71.0 and p['L2Pyr_soma_gnabar_hh2'] == 0.18
    assert p['L5Basket_Gauss_sigma'] == 2.0 and p['input_dist_A_delay_L2'] == 5.0
    assert p['numspikes_evprox_1'] == 1 and isinstance(p['prng_seedcore_evdist_1'], int)
    assert 'gbar_evdist_1_L5Basket_ampa' not in p
    assert 'gbar_evprox_1_L5Basket_nmda' in p
    assert p['T_pois'] == -1 and p['sync_evinput'] == 1


# ------------------------------------------------------------ reading


def test_read_n20_json():
    p = read_params(params_path('N20'))
    assert isinstance(p, Params)
    assert len(p) == len(default_params(1, 2))
    assert p['N_trials'] == 100 and p['tstop'] == 170
    assert p['dipole_scalefctr'] == 12 and p['dipole_smooth_win'] == 20
    weights = {'gbar_L2Pyr_L2Pyr_ampa': 2e-4, 'gbar_L2Pyr_L2Pyr_nmda': 2e-4,
               'gbar_L2Pyr_L5Pyr': 2e-4, 'gbar_L2Basket_L5Pyr': 2e-3,
               'gbar_L5Pyr_L5Pyr_ampa': 1e-3, 'gbar_L5Pyr_L5Pyr_nmda': 5e-4,
               'gbar_L5Basket_L5Pyr_gabaa': 0.02,
               'gbar_L5Basket_L5Pyr_gabab': 0.06,
               'gbar_L2Basket_L2Pyr_gabaa': 0.05, 'gbar_L2Pyr_L5Basket': 2.5e-4}
    for key, value in weights.items():
        assert p[key] == value, key
    assert p['prng_seedcore_evdist_2'] == 0
    # unknown keys are dropped, including seeds of inputs the file lacks
    for dropped in ('save_vsoma', 'prng_seedcore_evprox_2',
                    'Itonic_A_L2Pyr_soma'):
        assert dropped not in p
    raw = json.loads(params_path('N20').read_text())
    assert 'save_vsoma' in raw and 'prng_seedcore_evprox_2' in raw


def test_read_default_json_and_dict():
    p = read_params(params_path('default'))
    assert len(p) == len(default_params(2, 1))
    assert p['t_evprox_1'] == 26.61 and p['sigma_t_evdist_1'] == 3.85
    raw = json.loads(params_path('default').read_text())
    assert read_params(raw) == p
    assert Params(raw) == p
    assert len(Params()) == 199  # no evoked inputs


def test_missing_keys_take_defaults_unknown_dropped():
    with pytest.warns(UserWarning, match=r"unknown parameter\(s\) \['not_a_key'\]"):
        p = read_params({'t_evprox_1': 20.0, 'gbar_L2Pyr_L2Pyr_ampa': 1e-3,
                         'not_a_key': 5})
    assert p['t_evprox_1'] == 20.0 and p['gbar_L2Pyr_L2Pyr_ampa'] == 1e-3
    assert p['sigma_t_evprox_1'] == 0.0 and p['tstop'] == 250.0
    assert 'not_a_key' not in p and 't_evprox_2' not in p


def test_evoked_inputs_counted_not_indexed():
    # hnn-core counts t_evprox_* keys and numbers inputs 1..n
    with pytest.warns(UserWarning, match=r"\['t_evprox_3'\] are ignored"):
        p = read_params({'t_evprox_1': 10.0, 't_evprox_3': 30.0})
    assert p['t_evprox_1'] == 10.0 and p['t_evprox_2'] == 0.0
    assert 't_evprox_3' not in p


@needs_legacy
def test_read_legacy_param_matches_json_conventions():
    p = read_params(LEGACY_DIR / 'default.param')
    assert len(p) == len(default_params(2, 1))
    assert p['tstop'] == 170 and isinstance(p['tstop'], int)
    assert p['t0_input_prox'] == 1000.0 and isinstance(p['t0_input_prox'], float)
    assert p['distribution_prox'] == 'normal'
    assert p['T_pois'] == 170.0 and p['sync_evinput'] == 0
    assert 'expmt_groups' not in p
    ref = read_params(params_path('default'))
    for key in ('gbar_evprox_1_L2Pyr_ampa', 't_evdist_1', 'gbar_L2Pyr_L2Pyr_ampa'):
        assert p[key] == ref[key]


def test_legacy_value_rules(tmp_path):
    path = _write(tmp_path, 'x.param',
                  'tstop: 100\nt_evprox_1: 2e1\nsigma_t_evprox_1: 3.\n\n'
                  'spec_cmap: viridis\nsim_prefix: 12ab\n')
    p = read_params(path)
    assert p['tstop'] == 100 and isinstance(p['tstop'], int)
    assert p['t_evprox_1'] == 20.0 and isinstance(p['t_evprox_1'], float)
    assert p['sigma_t_evprox_1'] == 3.0
    assert p['spec_cmap'] == 'viridis' and p['sim_prefix'] == '12ab'


def test_read_errors(tmp_path):
    with pytest.raises(ValueError, match=r"extension '\.txt'.*\.json, \.param"):
        read_params(_write(tmp_path, 'p.txt', '{}'))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        read_params(tmp_path / 'missing.json')
    with pytest.raises(ValueError, match=r'bad\.json: invalid JSON at line 2'):
        read_params(_write(tmp_path, 'bad.json', '{"tstop": 1,\n oops}'))
    with pytest.raises(ValueError, match='expected a JSON object'):
        read_params(_write(tmp_path, 'list.json', '[1, 2]'))
    with pytest.raises(ValueError, match='no parameters'):
        read_params(_write(tmp_path, 'empty.json', '{}'))
    with pytest.raises(ValueError, match=r'bad\.param, line 2: expected'):
        read_params(_write(tmp_path, 'bad.param', 'tstop: 1\nno colon\n'))
    with pytest.raises(ValueError, match='line 1: expected'):
        read_params(_write(tmp_path, 'two.param', 'a: b: c\n'))
    with pytest.raises(ValueError, match='params_input must be a dict'):
        Params([1, 2])


def test_params_path():
    assert params_path('N20').name == 'N20.json' and params_path('N20').is_file()
    assert params_path('default').is_file()
    assert params_path('gamma_L5weak_L2weak').is_file()
    with pytest.raises(ValueError, match=r"name must be one of \('default', 'N20', "
                       r"'gamma_L5weak_L2weak', 'ERPYes100Trials', 'ERPYesSupraT'\)"):
        params_path('gamma')


def test_params_wildcards_copy_write(tmp_path):
    p = read_params(params_path('N20'))
    sub = p['gbar_L2Pyr_L2Pyr*']
    assert isinstance(sub, Params)
    assert sub == {'gbar_L2Pyr_L2Pyr_ampa': 2e-4, 'gbar_L2Pyr_L2Pyr_nmda': 2e-4}
    p['gbar_L2Pyr_L2Pyr*'] = 1e-3
    assert p['gbar_L2Pyr_L2Pyr_ampa'] == p['gbar_L2Pyr_L2Pyr_nmda'] == 1e-3
    with pytest.raises(KeyError):
        p['nothing_matches*']
    q = p.copy()
    q['tstop'] = 1.0
    assert p['tstop'] == 170 and isinstance(q, Params)
    p.write(tmp_path / 'out.json')
    assert read_params(tmp_path / 'out.json') == p


# ------------------------------------------------------------ drives


def test_n20_drive_specs():
    specs = drive_specs_from_params(read_params(params_path('N20')))
    assert list(specs) == ['bursty1', 'bursty2', 'evdist1', 'evdist2', 'evprox1']
    for name, location in (('bursty1', 'proximal'), ('bursty2', 'distal')):
        b = specs[name]
        assert b['type'] == 'bursty' and b['location'] == location
        assert (b['tstart'], b['tstop'], b['tstart_std']) == (50.0, 170, 0.0)
        assert (b['burst_rate'], b['burst_std'], b['numspikes']) == (10.0, 20.0, 2)
        assert (b['spike_isi'], b['n_drive_cells'], b['cell_specific']) == (10, 10, False)
        assert b['space_constant'] == 100.0 and b['event_seed'] == 4
        assert set(b['weights_ampa'].values()) == {0.0}
        assert set(b['weights_nmda'].values()) == {0.0}
    assert list(specs['bursty2']['weights_ampa']) == ['L2_basket', 'L2_pyramidal',
                                                      'L5_pyramidal']
    assert specs['bursty1']['synaptic_delays'] == {
        'L2_basket': 0.1, 'L2_pyramidal': 0.1, 'L5_basket': 1.0, 'L5_pyramidal': 1.0}
    assert set(specs['bursty2']['synaptic_delays'].values()) == {5.0}

    ev = specs['evprox1']
    assert (ev['type'], ev['mu'], ev['sigma'], ev['numspikes']) == ('evoked', 20, 3.0, 1)
    assert (ev['n_drive_cells'], ev['cell_specific']) == (1, False)
    assert ev['weights_ampa'] == {'L2_basket': 0.003, 'L2_pyramidal': 0.0025,
                                  'L5_basket': 0.004, 'L5_pyramidal': 0.001}
    assert ev['weights_nmda'] == {'L2_basket': 0.003, 'L2_pyramidal': 0.0,
                                  'L5_basket': 0.004, 'L5_pyramidal': 0.0}
    assert ev['synaptic_delays'] == {'L2_basket': 0.1, 'L2_pyramidal': 0.1,
                                     'L5_basket': 1.0, 'L5_pyramidal': 1.0}
    assert ev['location'] == 'proximal' and ev['space_constant'] == 3.0
    for name, mu, seed in (('evdist1', 32, 4), ('evdist2', 82, 0)):
        d = specs[name]
        assert (d['mu'], d['sigma'], d['event_seed']) == (mu, 3.0, seed)
        assert d['location'] == 'distal'
        assert d['weights_ampa'] == d['weights_nmda'] == {
            'L2_basket': 0.003, 'L2_pyramidal': 0.0045, 'L5_pyramidal': 0.001}
        assert set(d['synaptic_delays'].values()) == {0.1}


def test_default_json_drive_specs():
    specs = drive_specs_from_params(params_path('default'))
    assert list(specs) == ['evdist1', 'evprox1', 'evprox2']
    for spec in specs.values():
        assert spec['n_drive_cells'] == 'n_cells' and spec['cell_specific']
        assert spec['event_seed'] == 2 and spec['numspikes'] == 1
    assert (specs['evdist1']['mu'], specs['evdist1']['sigma']) == (63.53, 3.85)
    assert (specs['evprox1']['mu'], specs['evprox1']['sigma']) == (26.61, 2.47)
    assert (specs['evprox2']['mu'], specs['evprox2']['sigma']) == (137.12, 8.33)
    assert specs['evdist1']['weights_ampa'] == {
        'L2_basket': 0.006562, 'L2_pyramidal': 7e-6, 'L5_pyramidal': 0.1423}
    assert specs['evdist1']['weights_nmda'] == {
        'L2_basket': 0.019482, 'L2_pyramidal': 0.004317, 'L5_pyramidal': 0.080074}
    assert specs['evprox1']['weights_ampa'] == {
        'L2_basket': 0.08831, 'L2_pyramidal': 0.01525, 'L5_basket': 0.19934,
        'L5_pyramidal': 0.00865}
    assert specs['evprox2']['weights_ampa'] == {
        'L2_basket': 3e-6, 'L2_pyramidal': 1.43884, 'L5_basket': 0.008958,
        'L5_pyramidal': 0.684013}
    # proximal NMDA entries exist with weight 0 (zero-weight connections)
    assert specs['evprox1']['weights_nmda'] == dict.fromkeys(CELL_TYPES, 0.0)


def test_gaussian_and_poisson_drives():
    p = read_params(params_path('default'))
    p.update({'L2Basket_Gauss_mu': 100.0, 'L5Pyr_Gauss_mu': 90.0,
              'L2Pyr_Gauss_A_weight': 1e-3, 'prng_seedcore_extgauss': 7,
              'T_pois': 150.0, 't0_pois': -5.0, 'L2Pyr_Pois_lamtha': 40.0,
              'L5Pyr_Pois_lamtha': -1.0, 'L2Pyr_Pois_A_weight_nmda': 2e-4})
    specs = drive_specs_from_params(p)
    assert list(specs) == ['evdist1', 'evprox1', 'evprox2', 'extgauss', 'extpois']
    g = specs['extgauss']
    assert (g['type'], g['mu'], g['sigma'], g['numspikes']) == ('gaussian', 100.0, 3.6, 50)
    assert g['weights_ampa']['L2_pyramidal'] == 1e-3 and g['weights_nmda'] == {}
    assert g['event_seed'] == 7 and g['location'] == 'proximal'
    assert g['space_constant'] == 100.0
    # hnn-core 0.6.1 reads each type's delay from its *_Gauss_mu entry
    assert g['synaptic_delays'] == {'L2_basket': 100.0, 'L2_pyramidal': 2000.0,
                                    'L5_basket': 2000.0, 'L5_pyramidal': 90.0}
    q = specs['extpois']
    assert (q['type'], q['tstart'], q['tstop']) == ('poisson', 0, 150.0)
    assert q['rate_constant'] == {'L2_basket': 1, 'L2_pyramidal': 40.0,
                                  'L5_basket': 1, 'L5_pyramidal': 1}
    assert q['weights_nmda']['L2_pyramidal'] == 2e-4
    assert q['synaptic_delays'] == {'L2_basket': 1.0, 'L2_pyramidal': 0.1,
                                    'L5_basket': 1.0, 'L5_pyramidal': 1.0}
    assert 'n_drive_cells' not in q  # hnn-core relies on the API defaults
    # Gaussian mean after tstop and T_pois < t0_pois skip the drives
    p.update({'L2Basket_Gauss_mu': 171.0, 'T_pois': -6})
    assert list(drive_specs_from_params(p)) == ['evdist1', 'evprox1', 'evprox2']
    # an explicit tstop replaces params['tstop'] in the skip rule
    assert 'extgauss' in drive_specs_from_params(p, tstop=200.0)


def test_bursty_skip_clip_and_numbering():
    p = read_params({'tstop': 300.0, 't0_input_dist': 100.0,
                     'tstop_input_dist': 1000.0, 'repeats_dist': 3,
                     't0_input_prox': 400.0, 'tstop_input_prox': 500.0})
    specs = drive_specs_from_params(p)
    assert list(specs) == ['bursty2']  # proximal skipped, name keeps index 2
    assert specs['bursty2']['tstop'] == 300.0
    assert specs['bursty2']['n_drive_cells'] == 3
    assert list(drive_specs_from_params(p, tstop=450.0)) == ['bursty1', 'bursty2']


def test_alphabetical_order_and_legacy_delay_rule():
    raw = {f't_evprox_{i}': float(i) for i in range(1, 11)}
    assert list(drive_specs_from_params(raw))[:3] == ['evprox1', 'evprox10', 'evprox2']
    with pytest.raises(ValueError, match='input_dist_A_delay_L5 = -1'):
        drive_specs_from_params({'input_dist_A_delay_L5': -1})


@needs_legacy
def test_legacy_files_drive_lists():
    # the .param files set T_pois >= t0_pois, so hnn-core's non-legacy mode
    # keeps a (zero-weight, 1 Hz) Poisson drive
    specs = drive_specs_from_params(LEGACY_DIR / 'default.param')
    assert list(specs) == ['evdist1', 'evprox1', 'evprox2', 'extpois']
    assert set(specs['extpois']['rate_constant'].values()) == {1}
    specs = drive_specs_from_params(LEGACY_DIR / 'AlphaAndBeta.param')
    assert list(specs) == ['bursty1', 'bursty2', 'evdist1', 'evprox1',
                           'evprox2', 'extpois']
    assert specs['bursty1']['tstop'] == 710.0
    gamma = drive_specs_from_params(LEGACY_DIR / 'gamma_L5weak_L2weak.param')
    assert gamma['extpois']['rate_constant'] == {
        'L2_basket': 1, 'L2_pyramidal': 140.0, 'L5_basket': 1, 'L5_pyramidal': 40.0}


def test_shipped_hand_fits_are_hnns_files():
    """HNN's yes-trial fit and its suprathreshold variant ship with hnnjax,
    byte for byte."""
    from hnnjax.io.params import params_path
    for name, n_trials, smooth in (('ERPYes100Trials', 100, 30), ('ERPYesSupraT', 3, 20)):
        shipped = params_path(name)
        assert shipped.read_bytes() == (LEGACY_DIR / f'{name}.param').read_bytes()
        p = read_params(shipped)
        assert (p['N_trials'], p['dipole_smooth_win']) == (n_trials, smooth)
