"""HNN parameter files (hnn-core JSON and legacy ``.param``) and their drives.

Semantics follow hnn-core 0.6.1: a file is reduced to the keys of the default
dictionary (``params_default.default_params``) templated for as many evoked
inputs as the file defines; ``drive_specs_from_params`` lists the drives that
``add_drives_from_params=True`` attaches (non-legacy mode).
"""
import fnmatch
import json
import math
import os
import re
import warnings
from copy import deepcopy
from importlib import resources
from numbers import Real
from pathlib import Path

from ..cells.cell_types import CELL_TYPES
from .params_default import default_params

_SHORT = {'L2_basket': 'L2Basket', 'L2_pyramidal': 'L2Pyr',
          'L5_basket': 'L5Basket', 'L5_pyramidal': 'L5Pyr'}
_SHIPPED = ('default', 'N20', 'gamma_L5weak_L2weak',
            'ERPYes100Trials', 'ERPYesSupraT')  # the last two: HNN's legacy .param files
# keys HNN's own parameter files carry and hnn-core 0.6.1 ignores
_CARRIED = ('expmt_groups', 'save_vsoma', 'prng_seedcore_*', 'Itonic_*')


def _count_evoked_inputs(d):
    """Number of proximal and distal evoked inputs (keys ``t_*ev{prox,dist}*``)."""
    timing = [k for k in d if k.startswith('t_')]
    n_prox = sum('evprox' in k for k in timing)
    n_dist = sum('evdist' in k and 'evprox' not in k for k in timing)
    return n_prox, n_dist


class Params(dict):
    """Flat HNN parameter dictionary, templated on the defaults.

    ``Params(d)`` keeps every default key (taking ``d``'s value when present)
    and drops keys unknown to the defaults, as hnn-core does. Indexing or
    assigning with a glob pattern (``params['gbar_L2*']``) selects/sets all
    matching keys.
    """

    def __init__(self, params_input=None):
        if params_input is None:
            params_input = {}
        if not isinstance(params_input, dict):
            raise ValueError('params_input must be a dict or None; got '
                             f'{type(params_input).__name__}')
        template = default_params(*_count_evoked_inputs(params_input))
        super().__init__({key: params_input.get(key, value)
                          for key, value in template.items()})

    def __getitem__(self, key):
        if key in self.keys() or not isinstance(key, str):
            return dict.__getitem__(self, key)
        matches = fnmatch.filter(self.keys(), key)
        if not matches:
            return dict.__getitem__(self, key)  # KeyError
        subset = Params.__new__(Params)
        dict.update(subset, {k: deepcopy(dict.__getitem__(self, k))
                             for k in matches})
        return subset

    def __setitem__(self, key, value):
        matches = ([] if key in self.keys() or not isinstance(key, str)
                   else fnmatch.filter(self.keys(), key))
        for k in matches or [key]:
            dict.__setitem__(self, k, value)

    def __repr__(self):
        return json.dumps(self, sort_keys=True, indent=4)

    def copy(self):
        """Deep copy (values may be mutable)."""
        return deepcopy(self)

    def write(self, fname):
        """Write the parameters as a flat hnn-core JSON file."""
        with open(fname, 'w') as fp:
            json.dump(self, fp, indent=4)


def _parse_legacy_value(value):
    """Legacy ``.param`` value: float if it contains '.' or 'e', else int,
    else the string itself (hnn-core's rule)."""
    try:
        return float(value) if ('.' in value or 'e' in value) else int(value)
    except ValueError:
        return value


def _read_legacy(text, fname):
    """``key: value`` lines -> dict; blank lines are skipped."""
    out = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(':')
        if len(fields) != 2:
            raise ValueError(f'{fname}, line {lineno}: expected "key: value", '
                             f'got {line.strip()!r}')
        key, value = (field.strip() for field in fields)
        if not key:
            raise ValueError(f'{fname}, line {lineno}: empty key')
        out[key] = _parse_legacy_value(value)
    return out


def _read_json(text, fname):
    try:
        out = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f'{fname}: invalid JSON at line {err.lineno}, '
                         f'column {err.colno}: {err.msg}') from None
    if not isinstance(out, dict):
        raise ValueError(f'{fname}: expected a JSON object of parameters, '
                         f'got {type(out).__name__}')
    return out


def _where(source, text, key):
    """'<file>, line <n>' of ``key`` in a file's ``text`` (or 'params' for a dict)."""
    if text is None:
        return source
    match = re.search(rf'^\s*"?{re.escape(key)}"?\s*:', text, re.M)
    return f'{source}, line {text[:match.start()].count(chr(10)) + 1}' if match else source


def check_params(params_dict, source='params', text=None):
    """Every value whose default is a number must be a finite number; keys
    unknown to hnn-core warn (they are dropped, as hnn-core drops them),
    except those HNN's own files carry (GUI settings, spare seeds, tonic
    inputs), unless a tonic input is switched on."""
    template = default_params(*_count_evoked_inputs(params_dict))
    for key, default in template.items():
        value = params_dict.get(key, default)
        if isinstance(default, Real) and not (
                isinstance(value, Real) and math.isfinite(value)):
            raise ValueError(f'{_where(source, text, key)}: {key} must be a '
                             f'finite number (like its default {default!r}); '
                             f'got {json.dumps(value) if text else repr(value)}')
    unknown = [k for k in params_dict if k not in template
               and not any(fnmatch.fnmatch(k, p) for p in _CARRIED)]
    if unknown:
        warnings.warn(f'{source}: unknown parameter(s) {unknown} are ignored '
                      '(hnn-core drops them too); check their spelling',
                      UserWarning, stacklevel=3)
    tonic = [k for k in params_dict if k.startswith('Itonic_A_')
             and params_dict[k] not in (0, 0.0)]
    if tonic:
        warnings.warn(f'{source}: tonic inputs {tonic} are ignored, as in '
                      'hnn-core 0.6.1; add them with Network.add_tonic_bias',
                      UserWarning, stacklevel=3)


def read_params(params_fname, file_contents=None):
    """Read an hnn-core ``.json`` or HNN ``.param`` file (or a dict) as Params.

    ``file_contents`` (str), if given, is parsed instead of reading the
    file; ``params_fname``'s extension still says how.  Keys absent from
    the file take their defaults; unknown keys are dropped with a warning;
    numeric entries must be finite numbers.
    """
    if isinstance(params_fname, dict):
        check_params(params_fname, 'params')
        return Params(params_fname)
    if not isinstance(params_fname, (str, os.PathLike)):
        raise TypeError(f'params_fname must be a path to a .json or .param file or '
                        f'a dict; got {type(params_fname).__name__}')
    path = Path(params_fname)
    readers = {'.json': _read_json, '.param': _read_legacy}
    if path.suffix not in readers:
        raise ValueError(f'params file {path}: unrecognized extension '
                         f'{path.suffix!r}; expected one of .json, .param')
    if file_contents is not None:
        if not isinstance(file_contents, str):
            raise TypeError(f'file_contents must be the text of a params file or None; '
                            f'got {type(file_contents).__name__}')
        text = file_contents
    elif not path.is_file():
        raise FileNotFoundError(f'params file {path} does not exist')
    else:
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            raise ValueError(f'params file {path} is not a text file') from None
    params_dict = readers[path.suffix](text, path)
    if not params_dict:
        raise ValueError(f'params file {path}: no parameters found')
    check_params(params_dict, path, text)
    return Params(params_dict)


def params_path(name):
    """Path of a flat parameter file shipped with hnnjax: hnn-core's 'default',
    'N20' and 'gamma_L5weak_L2weak' (.json), and HNN's 'ERPYes100Trials'
    (.param, the published fit of ``yes_trial_S1_ERP_all_avg.txt``) and
    'ERPYesSupraT' (.param, HNN's suprathreshold variant of it: other evoked
    latencies and weights, 20 ms smoothing)."""
    if name not in _SHIPPED:
        raise ValueError(f'name must be one of {_SHIPPED}; got {name!r}')
    suffix = '.param' if name.startswith('ERPYes') else '.json'
    return Path(str(resources.files('hnnjax') / 'data' / 'params' / f'{name}{suffix}'))


# ---------------------------------------------------------------------------
# drives defined by a parameter set


def _rhythmic_specs(p, tstop):
    """bursty1 (proximal) / bursty2 (distal), each skipped if it ends before
    it starts once its tstop is clipped to the simulation tstop."""
    specs = {}
    for i, (loc, location) in enumerate((('prox', 'proximal'),
                                         ('dist', 'distal')), start=1):
        if p[f'input_{loc}_A_delay_L5'] == -1:  # checked even if skipped
            raise ValueError(f'input_{loc}_A_delay_L5 = -1 (legacy "same as '
                             'L2" delay rule) is not supported; hnn-core '
                             '0.6.1 fails on it too. Use a delay >= 0 ms')
        t0 = p[f't0_input_{loc}']
        t_end = min(p[f'tstop_input_{loc}'], tstop)
        if t_end < t0:
            continue
        targets = [ct for ct in CELL_TYPES
                   if not (loc == 'dist' and ct == 'L5_basket')]
        delays = {ct: p[f'input_{loc}_A_delay_{ct[:2]}'] for ct in targets}
        specs[f'bursty{i}'] = {
            'type': 'bursty',
            'tstart': t0,
            'tstart_std': p[f't0_input_stdev_{loc}'],
            'tstop': t_end,
            'burst_rate': p[f'f_input_{loc}'],
            'burst_std': p[f'f_stdev_{loc}'],
            'numspikes': p[f'events_per_cycle_{loc}'],
            'spike_isi': 10,
            'n_drive_cells': p[f'repeats_{loc}'],
            'cell_specific': False,
            'weights_ampa': {ct: p[f'input_{loc}_A_weight_{_SHORT[ct]}_ampa']
                             for ct in targets},
            'weights_nmda': {ct: p[f'input_{loc}_A_weight_{_SHORT[ct]}_nmda']
                             for ct in targets},
            'location': location,
            'space_constant': 100.0,
            'synaptic_delays': delays,
            'event_seed': int(p[f'prng_seedcore_input_{loc}']),
        }
    return specs


def _evoked_specs(p):
    """evprox<i> / evdist<i>: one evoked drive per numbered evoked input."""
    specs = {}
    sync = bool(p['sync_evinput'])
    n_prox, n_dist = _count_evoked_inputs(p)
    for loc, location, n in (('prox', 'proximal', n_prox),
                             ('dist', 'distal', n_dist)):
        targets = [ct for ct in CELL_TYPES
                   if not (loc == 'dist' and ct == 'L5_basket')]
        for i in range(1, n + 1):
            key = f'ev{loc}_{i}'
            delays = {ct: (1.0 if loc == 'prox' and ct.startswith('L5')
                           else 0.1) for ct in targets}
            specs[f'ev{loc}{i}'] = {
                'type': 'evoked',
                'mu': p[f't_{key}'],
                'sigma': p[f'sigma_t_{key}'],
                'numspikes': p[f'numspikes_{key}'],
                'n_drive_cells': 1 if sync else 'n_cells',
                'cell_specific': not sync,
                'weights_ampa': {ct: p[f'gbar_{key}_{_SHORT[ct]}_ampa']
                                 for ct in targets},
                'weights_nmda': {ct: p[f'gbar_{key}_{_SHORT[ct]}_nmda']
                                 for ct in targets},
                'location': location,
                'event_seed': int(p[f'prng_seedcore_{key}']),
                'synaptic_delays': delays,
                'space_constant': 3.0,
            }
    return specs


def _gaussian_spec(p, tstop):
    """extgauss: 50 spikes per cell around L2Basket_Gauss_mu; skipped if that
    mean lies after tstop. hnn-core 0.6.1 takes each type's synaptic delay
    from its ``*_Gauss_mu`` entry (an index slip kept here for parity)."""
    if p['L2Basket_Gauss_mu'] > tstop:
        return {}
    return {'extgauss': {
        'type': 'gaussian',
        'mu': p['L2Basket_Gauss_mu'],
        'sigma': p['L2Basket_Gauss_sigma'],
        'numspikes': 50,
        'weights_ampa': {ct: p[f'{_SHORT[ct]}_Gauss_A_weight']
                         for ct in CELL_TYPES},
        'weights_nmda': {},
        'location': 'proximal',
        'event_seed': int(p['prng_seedcore_extgauss']),
        'synaptic_delays': {ct: p[f'{_SHORT[ct]}_Gauss_mu']
                            for ct in CELL_TYPES},
        'space_constant': 100.0,
    }}


def _poisson_spec(p):
    """extpois: cell-specific Poisson drive on all types; skipped if
    T_pois < t0_pois. Non-positive rates become 1 Hz, negative times 0."""
    if p['T_pois'] < p['t0_pois']:
        return {}
    delays = {'L2_basket': 1.0, 'L2_pyramidal': 0.1,
              'L5_basket': 1.0, 'L5_pyramidal': 1.0}
    rates = {ct: p[f'{_SHORT[ct]}_Pois_lamtha'] for ct in CELL_TYPES}
    return {'extpois': {
        'type': 'poisson',
        'tstart': max(0, p['t0_pois']),
        'tstop': max(0, p['T_pois']),
        'rate_constant': {ct: (r if r > 0 else 1) for ct, r in rates.items()},
        'weights_ampa': {ct: p[f'{_SHORT[ct]}_Pois_A_weight_ampa']
                         for ct in CELL_TYPES},
        'weights_nmda': {ct: p[f'{_SHORT[ct]}_Pois_A_weight_nmda']
                         for ct in CELL_TYPES},
        'location': 'proximal',
        'event_seed': int(p['prng_seedcore_extpois']),
        'synaptic_delays': delays,
        'space_constant': 100.0,
    }}


def drive_specs_from_params(params, tstop=None):
    """Drives hnn-core 0.6.1 attaches with ``add_drives_from_params=True``.

    Returns ``{name: {'type': ..., **keyword arguments of add_evoked_drive /
    add_poisson_drive / add_bursty_drive}}`` in attachment order (sorted
    names). Type 'gaussian' is added with ``add_evoked_drive``. ``event_seed``
    is ``prng_seedcore_*``; hnn-core then adds each drive's first gid.
    ``tstop`` (ms) defaults to ``params['tstop']``, which hnn-core uses to
    clip rhythmic inputs and to skip the Gaussian input.
    """
    p = params if isinstance(params, Params) else read_params(params)
    tstop = p['tstop'] if tstop is None else tstop
    specs = {}
    specs.update(_rhythmic_specs(p, tstop))
    specs.update(_evoked_specs(p))
    specs.update(_gaussian_spec(p, tstop))
    specs.update(_poisson_spec(p))
    return {name: specs[name] for name in sorted(specs)}
