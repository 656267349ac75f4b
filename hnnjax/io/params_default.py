"""Default values of hnn-core 0.6.1's flat parameter dictionary.

``read_params`` keeps exactly the keys of this dictionary (file value when
present, default otherwise), so the key set and the defaults below define
which entries of an HNN parameter file are meaningful. Most defaults switch a
feature off (zero weights, start times beyond any tstop, seeds 0).
Units: ms, µm, µS (weights), Hz (rates), S/cm² (hh2), pS/µm² (km, ca, kca).
"""

# short cell-type names used in parameter keys, with the Gaussian-input
# standard deviation (ms) of each
_GAUSS_SIGMA = {'L2Basket': 3.6, 'L2Pyr': 3.6, 'L5Pyr': 4.8, 'L5Basket': 2.0}

# local connection weights (µS), all off by default
_LOCAL_GBAR_KEYS = (
    'L2Pyr_L2Pyr_ampa', 'L2Pyr_L2Pyr_nmda',
    'L2Basket_L2Pyr_gabaa', 'L2Basket_L2Pyr_gabab',
    'L2Pyr_L2Basket', 'L2Basket_L2Basket',
    'L5Pyr_L5Pyr_ampa', 'L5Pyr_L5Pyr_nmda', 'L2Pyr_L5Pyr', 'L2Basket_L5Pyr',
    'L5Basket_L5Pyr_gabaa', 'L5Basket_L5Pyr_gabab',
    'L5Basket_L5Basket', 'L5Pyr_L5Basket', 'L2Pyr_L5Basket',
)

# pyramidal morphology: section -> (L, diam) in µm
_MORPHOLOGY = {
    'L2Pyr': {
        'soma': (22.1, 23.4), 'apicaltrunk': (59.5, 4.25),
        'apical1': (306.0, 4.08), 'apicaltuft': (238.0, 3.4),
        'apicaloblique': (340.0, 3.91), 'basal1': (85.0, 4.25),
        'basal2': (255.0, 2.72), 'basal3': (255.0, 2.72),
    },
    'L5Pyr': {
        'soma': (39.0, 28.9), 'apicaltrunk': (102.0, 10.2),
        'apical1': (680.0, 7.48), 'apical2': (680.0, 4.93),
        'apicaltuft': (425.0, 3.4), 'apicaloblique': (255.0, 5.1),
        'basal1': (85.0, 6.8), 'basal2': (255.0, 8.5), 'basal3': (255.0, 8.5),
    },
}
_CM = {'L2Pyr': 0.6195, 'L5Pyr': 0.85}  # µF/cm², soma and dendrites
_RA = 200.0  # Ω·cm, all pyramidal sections

# synapse receptor -> (e in mV, tau1 in ms, tau2 in ms), both pyramidal types
_SYNAPSES = {
    'ampa': (0.0, 0.5, 5.0), 'nmda': (0.0, 1.0, 20.0),
    'gabaa': (-80.0, 0.5, 5.0), 'gabab': (-80.0, 1.0, 20.0),
}

# channel parameters per (cell, soma|dend)
_BIOPHYSICS = {
    ('L2Pyr', 'soma'): {'gkbar_hh2': 0.01, 'gnabar_hh2': 0.18,
                        'el_hh2': -65.0, 'gl_hh2': 4.26e-5, 'gbar_km': 250.0},
    ('L2Pyr', 'dend'): {'gkbar_hh2': 0.01, 'gnabar_hh2': 0.15,
                        'el_hh2': -65.0, 'gl_hh2': 4.26e-5, 'gbar_km': 250.0},
    ('L5Pyr', 'soma'): {'gkbar_hh2': 0.01, 'gnabar_hh2': 0.16,
                        'el_hh2': -65.0, 'gl_hh2': 4.26e-5, 'gbar_ca': 60.0,
                        'taur_cad': 20.0, 'gbar_kca': 2e-4, 'gbar_km': 200.0,
                        'gbar_cat': 2e-4, 'gbar_ar': 1e-6},
    ('L5Pyr', 'dend'): {'gkbar_hh2': 0.01, 'gnabar_hh2': 0.14,
                        'el_hh2': -71.0, 'gl_hh2': 4.26e-5, 'gbar_ca': 60.0,
                        'taur_cad': 20.0, 'gbar_kca': 2e-4, 'gbar_km': 200.0,
                        'gbar_cat': 2e-4, 'gbar_ar': 1e-6},
}

# rhythmic (bursty) input settings that differ between proximal and distal
_RHYTHMIC = {
    'prox': {'delay_L2': 0.1, 'delay_L5': 1.0,
             'targets': ('L2Pyr', 'L5Pyr', 'L2Basket', 'L5Basket')},
    'dist': {'delay_L2': 5.0, 'delay_L5': 5.0,
             'targets': ('L2Pyr', 'L5Pyr', 'L2Basket')},
}

_SIMULATION = {
    'sim_prefix': 'default', 'tstop': 250.0, 'N_pyr_x': 1, 'N_pyr_y': 1,
    'dt_evprox0_evdist': -1, 'dt_evprox0_evprox1': -1,
    'sync_evinput': 1, 'inc_evinput': 0.0,
    'save_spec_data': 0, 'f_max_spec': 40.0, 'spec_cmap': 'jet',
    'dipole_scalefctr': 30e3, 'dipole_smooth_win': 15.0,
    'save_figs': 0, 'save_dpl': 0, 'record_vsoma': 0, 'record_isoma': 0,
    'record_vsec': 0, 'record_isec': 0, 'record_ca': 0,
    'N_trials': 1,
    'prng_seedcore_input_prox': 0, 'prng_seedcore_input_dist': 0,
    'prng_seedcore_extpois': 0, 'prng_seedcore_extgauss': 0,
    't0_pois': 0.0, 'T_pois': -1,
    'dt': 0.025, 'celsius': 37.0, 'threshold': 0.0,
}


def _external_input_defaults():
    """Gaussian and Poisson inputs, per cell type (all off)."""
    p = {}
    for cell, sigma in _GAUSS_SIGMA.items():
        p[f'{cell}_Gauss_A_weight'] = 0.0
        p[f'{cell}_Gauss_mu'] = 2000.0
        p[f'{cell}_Gauss_sigma'] = sigma
        p[f'{cell}_Pois_A_weight_ampa'] = 0.0
        p[f'{cell}_Pois_A_weight_nmda'] = 0.0
        p[f'{cell}_Pois_lamtha'] = 0.0
    return p


def _rhythmic_defaults():
    """Proximal and distal rhythmic inputs (start beyond the default tstop)."""
    p = {}
    for loc in _RHYTHMIC:
        p[f'distribution_{loc}'] = 'normal'
        p[f't0_input_{loc}'] = 1000.0
        p[f'tstop_input_{loc}'] = 250.0
        p[f'f_input_{loc}'] = 10.0
        p[f'f_stdev_{loc}'] = 20.0
        p[f'events_per_cycle_{loc}'] = 2
        p[f'repeats_{loc}'] = 10
        p[f't0_input_stdev_{loc}'] = 0.0
    for loc, spec in _RHYTHMIC.items():
        for cell in spec['targets']:
            for receptor in ('ampa', 'nmda'):
                p[f'input_{loc}_A_weight_{cell}_{receptor}'] = 0.0
        p[f'input_{loc}_A_delay_L2'] = spec['delay_L2']
        p[f'input_{loc}_A_delay_L5'] = spec['delay_L5']
    return p


def _pyramidal_defaults(cell):
    """Geometry, synapse and channel parameters of one pyramidal type."""
    p = {}
    for section, (length, diam) in _MORPHOLOGY[cell].items():
        p[f'{cell}_{section}_L'] = length
        p[f'{cell}_{section}_diam'] = diam
        if section == 'soma':
            p[f'{cell}_soma_cm'] = _CM[cell]
            p[f'{cell}_soma_Ra'] = _RA
            p[f'{cell}_dend_cm'] = _CM[cell]
            p[f'{cell}_dend_Ra'] = _RA
    for receptor, (e, tau1, tau2) in _SYNAPSES.items():
        p[f'{cell}_{receptor}_e'] = e
        p[f'{cell}_{receptor}_tau1'] = tau1
        p[f'{cell}_{receptor}_tau2'] = tau2
    for part in ('soma', 'dend'):
        for name, value in _BIOPHYSICS[(cell, part)].items():
            p[f'{cell}_{part}_{name}'] = value
    return p


def evoked_defaults(n_inputs, location):
    """Keys of ``n_inputs`` evoked inputs ('prox' or 'dist'), numbered from 1.

    Distal evoked inputs have no L5 basket weights.
    """
    targets = _RHYTHMIC[location]['targets']
    p = {}
    for i in range(1, n_inputs + 1):
        name = f'ev{location}_{i}'
        for cell in targets:
            for receptor in ('ampa', 'nmda'):
                p[f'gbar_{name}_{cell}_{receptor}'] = 0.0
        p[f't_{name}'] = 0.0
        p[f'sigma_t_{name}'] = 0.0
        p[f'prng_seedcore_{name}'] = 0
        p[f'numspikes_{name}'] = 1
    return p


def default_params(n_prox=2, n_dist=1):
    """Full default dictionary for ``n_prox``/``n_dist`` evoked inputs."""
    p = dict(_SIMULATION)
    p.update(_external_input_defaults())
    p.update({f'gbar_{key}': 0.0 for key in _LOCAL_GBAR_KEYS})
    p.update(_rhythmic_defaults())
    p.update(_pyramidal_defaults('L2Pyr'))
    p.update(_pyramidal_defaults('L5Pyr'))
    p.update(evoked_defaults(n_prox, 'prox'))
    p.update(evoked_defaults(n_dist, 'dist'))
    return p
