"""Drive specifications: hnn-core 0.6.1's ``add_*_drive`` arguments, checked.

``make_drive`` validates the keyword arguments of hnn-core's
``add_evoked_drive``, ``add_poisson_drive``, ``add_bursty_drive`` and
``add_spike_train_drive`` (same defaults) and returns a dict shaped like
hnn-core's ``net.external_drives[name]``. Host-side only (NumPy/Python).
Units: ms, µS (weights), Hz (rates); space_constant in units of the
in-plane grid spacing.
"""
import functools

import numpy as np

from .._checks import check_bool, check_int, check_number
from ..cells.cell_types import CELL_TYPES, cell_types

DRIVE_TYPES = ('evoked', 'gaussian', 'poisson', 'bursty', 'spike_train')


@functools.lru_cache(maxsize=None)
def _sites():
    """Per cell type, from the cell models: section -> receptors carried
    there, and the sections each drive location group ('proximal',
    'distal') targets (empty where a type has no such group)."""
    receptors, groups = {}, {}
    for name, ct in cell_types().items():
        by_section = {}
        for section, receptor in ct.synapses:
            by_section[section] = by_section.get(section, ()) + (receptor,)
        receptors[name] = by_section
        groups[name] = {g: tuple(ct.groups.get(g, ())) for g in ('proximal', 'distal')}
    return receptors, groups


_REQUIRED = object()
_CONNECTION = dict(location=_REQUIRED, weights_ampa=None, weights_nmda=None,
                   synaptic_delays=0.1, probability=1.0)
_EVOKED = dict(mu=_REQUIRED, sigma=_REQUIRED, numspikes=_REQUIRED,
               n_drive_cells='n_cells', cell_specific=True,
               space_constant=3.0, event_seed=2, conn_seed=3)
_DEFAULTS = {
    'evoked': _EVOKED,
    'gaussian': _EVOKED,
    'poisson': dict(tstart=0, tstop=None, rate_constant=_REQUIRED,
                    n_drive_cells='n_cells', cell_specific=True,
                    space_constant=100.0, event_seed=2, conn_seed=3),
    'bursty': dict(tstart=0, tstart_std=0, tstop=None, burst_rate=_REQUIRED,
                   burst_std=0, numspikes=2, spike_isi=10, n_drive_cells=1,
                   cell_specific=False, space_constant=100.0, event_seed=2,
                   conn_seed=3),
    'spike_train': dict(spike_data=_REQUIRED, space_constant=3.0,
                        conn_seed=None),
}


def _resolve_args(drive_type, kwargs):
    """Fill hnn-core's defaults; reject unknown and missing arguments."""
    accepted = {**_CONNECTION, **_DEFAULTS[drive_type]}
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(f'unknown parameter(s) {unknown} for a {drive_type}'
                         f' drive; accepted: {sorted(accepted)}')
    args = {**accepted, **kwargs}
    missing = sorted(k for k, v in args.items() if v is _REQUIRED)
    if missing:
        raise ValueError(f'missing required parameter(s) {missing} for a '
                         f'{drive_type} drive')
    return args


def _check_cell_types(cell_types):
    if not isinstance(cell_types, dict) or not cell_types:
        raise ValueError('cell_types must be a non-empty dict of cell type '
                         f'-> number of cells; got {cell_types!r}')
    for cell_type, n in cell_types.items():
        if cell_type not in CELL_TYPES:
            raise ValueError(f'cell_types: unknown cell type {cell_type!r}; '
                             f'accepted: {CELL_TYPES}')
        check_int(f'cell_types[{cell_type!r}]', n, ge=1, integral_float=True)


def _weights(param, weights, cell_types):
    """Weight dict in cell_types order (µS, >= 0); None means no entry."""
    if weights is None:
        return {}
    if not isinstance(weights, dict):
        raise ValueError(f'{param} must be a dict of cell type -> weight (µS)'
                         f' or None; got {weights!r}')
    unknown = sorted(set(weights) - set(cell_types))
    if unknown:
        raise ValueError(f'{param}: unknown target cell type(s) {unknown}; '
                         f'accepted: {list(cell_types)}')
    return {ct: check_number(f'{param}[{ct!r}]', weights[ct], ge=0, unit=' µS')
            for ct in cell_types if ct in weights}


def _check_location(location, targets, receptors_by_type):
    """'proximal'/'distal' or a section present in every target type, and
    carrying every receptor the drive uses there."""
    section_receptors, section_groups = _sites()
    sections = set.intersection(*(set(section_receptors[ct]) for ct in targets))
    valid = ['proximal', 'distal'] + sorted(sections)
    if location not in valid:
        raise ValueError(f'location must be one of {valid} for target types '
                         f'{targets}; got {location!r}')
    if location == 'distal' and 'L5_basket' in targets:
        raise ValueError('a distal drive cannot target L5_basket: remove '
                         'L5_basket from weights_ampa and weights_nmda')
    for ct in targets:
        group = section_groups[ct].get(location, (location,))
        for section in group:
            for receptor in receptors_by_type[ct]:
                if receptor not in section_receptors[ct][section]:
                    raise ValueError(
                        f'location {location!r}: section {section!r} of '
                        f'{ct} has no {receptor!r} synapse (weights_'
                        f'{receptor}[{ct!r}]); accepted receptors there: '
                        f'{section_receptors[ct][section]}')


def _per_target(param, value, targets, check):
    """A float (same for all targets) or a dict keyed by exactly the targets."""
    if isinstance(value, dict):
        if set(value) != set(targets):
            raise ValueError(
                f'{param} must be a number or a dict keyed by exactly the '
                f'target cell types {targets}; got keys {sorted(value)}')
        return {ct: check(f'{param}[{ct!r}]', value[ct]) for ct in targets}
    return {ct: check(param, value) for ct in targets}


def _drive_cells(args, targets, cell_types):
    """(cell_specific, resolved number of drive cells) by hnn-core's rules."""
    cell_specific, n = args['cell_specific'], args['n_drive_cells']
    if check_bool('cell_specific', cell_specific):
        if n != 'n_cells':
            raise ValueError("n_drive_cells must be 'n_cells' when "
                             f'cell_specific=True; got {n!r}')
        return True, sum(cell_types[ct] for ct in targets)
    if isinstance(n, str):
        raise ValueError('n_drive_cells must be an integer >= 1 when '
                         f'cell_specific=False; got {n!r}')
    return False, check_int('n_drive_cells', n, ge=1, integral_float=True)


def _check_times(drive_type, args):
    """tstart >= 0 and, if given, 0 <= tstop with tstart <= tstop (ms)."""
    tstart = check_number('tstart', args['tstart'], ge=0, unit=' ms')
    tstop = args['tstop']
    if tstop is not None:
        tstop = check_number('tstop', tstop, ge=0, unit=' ms')
        if tstop < tstart:
            raise ValueError(f'tstop of a {drive_type} drive must be >= '
                             f'tstart ({tstart} ms); got {tstop} ms')
    return tstart, tstop


def _evoked_dynamics(args):
    return {'mu': check_number('mu', args['mu'], unit=' ms'),
            'sigma': check_number('sigma', args['sigma'], ge=0, unit=' ms'),
            'numspikes': check_int('numspikes', args['numspikes'], ge=1, integral_float=True)}


def _poisson_dynamics(args, targets, cell_types, cell_specific):
    tstart, tstop = _check_times('poisson', args)
    rate = args['rate_constant']
    if isinstance(rate, dict):
        missing = sorted(set(targets) - set(rate))
        unknown = sorted(set(rate) - set(cell_types))
        if missing or unknown:
            raise ValueError(
                'rate_constant dict must have a key for every target cell '
                f'type {targets} and only known cell types {list(cell_types)};'
                f' missing {missing}, unknown {unknown}')
        if not cell_specific:
            raise ValueError('a rate_constant dict (per cell type) requires '
                             "cell_specific=True and n_drive_cells='n_cells'")
        rate = {ct: check_number(f'rate_constant[{ct!r}]', rate[ct], gt=0,
                            unit=' Hz') for ct in cell_types if ct in rate}
    else:
        rate = check_number('rate_constant', rate, gt=0, unit=' Hz')
        if cell_specific:
            rate = {ct: rate for ct in targets}
    return {'tstart': tstart, 'tstop': tstop, 'rate_constant': rate}


def _bursty_dynamics(args):
    tstart, tstop = _check_times('bursty', args)
    dyn = {'tstart': tstart,
           'tstart_std': check_number('tstart_std', args['tstart_std'], ge=0,
                                 unit=' ms'),
           'tstop': tstop,
           'burst_rate': check_number('burst_rate', args['burst_rate'], gt=0,
                                 unit=' Hz'),
           'burst_std': check_number('burst_std', args['burst_std'], ge=0,
                                unit=' ms'),
           'numspikes': check_int('numspikes', args['numspikes'], ge=1, integral_float=True),
           'spike_isi': check_number('spike_isi', args['spike_isi'], ge=0,
                                unit=' ms')}
    period = 1000.0 / dyn['burst_rate']
    duration = (dyn['numspikes'] - 1) * dyn['spike_isi']
    if duration > period:
        raise ValueError(f'burst duration (numspikes - 1) * spike_isi = '
                         f'{duration} ms must be <= the burst period '
                         f'1000 / burst_rate = {period} ms')
    return dyn


def _spike_train_dynamics(spike_data):
    """hnn-core's standardised {'times', 'gids'} (drive-cell offsets 0..n-1),
    the number of sources, and the source -> offset map (dict input only)."""
    if isinstance(spike_data, dict):
        source_map = {src: i for i, src in enumerate(spike_data)}
        times, gids = [], []
        for src, src_times in spike_data.items():
            if not isinstance(src_times, (list, tuple, np.ndarray)):
                raise ValueError(f'spike_data[{src!r}] must be a list or '
                                 f'array of times (ms); got {src_times!r}')
            times += [check_number(f'spike_data[{src!r}]', t, unit=' ms')
                      for t in src_times]
            gids += [source_map[src]] * len(src_times)
        n = len(source_map)
    elif isinstance(spike_data, list) and all(
            isinstance(x, (tuple, list)) and len(x) == 2 for x in spike_data):
        source_map = None
        times = [check_number('spike_data time', t, unit=' ms')
                 for t, _ in spike_data]
        raw = [check_int('spike_data gid', g, ge=0, integral_float=True) for _, g in spike_data]
        rank = {g: i for i, g in enumerate(sorted(set(raw)))}
        gids = [rank[g] for g in raw]
        n = len(rank)
    else:
        raise ValueError('spike_data must be a dict {source: [times (ms)]} '
                         f'or a list of (time, gid) tuples; got {spike_data!r}')
    if n == 0:
        raise ValueError('spike_data must contain at least one source')
    return {'times': times, 'gids': gids}, n, source_map


def make_drive(drive_type, name, *, cell_types, existing_names=(), tstop=None,
               **kwargs):
    """Validated drive dict mirroring hnn-core's ``net.external_drives[name]``.

    drive_type: 'evoked', 'gaussian' (evoked drive stored as type
    'gaussian', as hnn-core does for the name 'extgauss'), 'poisson',
    'bursty' or 'spike_train'. ``cell_types`` maps cell type -> number of
    cells in hnn-core's order; ``existing_names`` are names already taken.
    ``tstop`` is the drive's own end time (Poisson/bursty; None = the
    simulation tstop). ``kwargs`` are those of hnn-core's ``add_*_drive``.
    Weights, delays, probabilities (and per-type rates) come back as dicts
    in cell_types order; 'n_drive_cells' is resolved to an int; 'events'
    stays empty (see ``events.drive_event_times``).
    """
    if drive_type not in DRIVE_TYPES:
        raise ValueError(f'drive_type must be one of {DRIVE_TYPES}; '
                         f'got {drive_type!r}')
    _check_cell_types(cell_types)
    if not isinstance(name, str) or not name:
        raise ValueError(f'name must be a non-empty str; got {name!r}')
    if name in existing_names or name in cell_types:
        raise ValueError(f'name {name!r} is already used by a drive or '
                         'cell type; choose a unique drive name')
    if tstop is not None:
        kwargs['tstop'] = tstop
    args = _resolve_args(drive_type, kwargs)

    weights_ampa = _weights('weights_ampa', args['weights_ampa'], cell_types)
    weights_nmda = _weights('weights_nmda', args['weights_nmda'], cell_types)
    targets = [ct for ct in cell_types
               if ct in weights_ampa or ct in weights_nmda]
    if not targets:
        raise ValueError('weights_ampa and weights_nmda give no target cell '
                         'type: give at least one a weight (0 is allowed)')
    receptors = {ct: [r for r, w in (('ampa', weights_ampa),
                                     ('nmda', weights_nmda)) if ct in w]
                 for ct in targets}
    _check_location(args['location'], targets, receptors)
    delays = _per_target(
        'synaptic_delays', args['synaptic_delays'], targets,
        lambda p, v: check_number(p, v, ge=0, unit=' ms'))
    probability = _per_target(
        'probability', args['probability'], targets,
        lambda p, v: check_number(p, v, gt=0, le=1))
    space_constant = check_number('space_constant', args['space_constant'], gt=0)
    conn_seed = args['conn_seed']
    if conn_seed is not None:
        conn_seed = check_int('conn_seed (or None)', conn_seed, ge=0)
    if conn_seed is None and min(probability.values()) < 1:
        raise ValueError('conn_seed must be an integer >= 0 when '
                         'probability < 1')

    extra = {}
    if drive_type == 'spike_train':
        dynamics, n_drive_cells, source_map = _spike_train_dynamics(
            args['spike_data'])
        cell_specific, event_seed = False, 0
        if source_map is not None:
            extra['source_to_gid_map'] = source_map
    else:
        cell_specific, n_drive_cells = _drive_cells(args, targets, cell_types)
        # may be negative: params files use -1, later shifted by the first gid
        event_seed = check_int('event_seed', args['event_seed'])
        if drive_type == 'poisson':
            dynamics = _poisson_dynamics(args, targets, cell_types,
                                         cell_specific)
        elif drive_type == 'bursty':
            dynamics = _bursty_dynamics(args)
        else:
            dynamics = _evoked_dynamics(args)
    if drive_type == 'evoked' and name == 'extgauss':
        drive_type = 'gaussian'

    return {'type': drive_type, 'name': name, 'location': args['location'],
            'n_drive_cells': n_drive_cells, 'cell_specific': cell_specific,
            'dynamics': dynamics, 'event_seed': event_seed,
            'conn_seed': conn_seed, 'weights_ampa': weights_ampa,
            'weights_nmda': weights_nmda, 'synaptic_delays': delays,
            'probability': probability, 'space_constant': space_constant,
            'target_types': targets, 'events': [], **extra}


def offset_target_types(drive, cell_types):
    """Target cell type of each drive-cell offset ('any' if not cell-specific).

    Cell-specific drives assign offsets consecutively over target types in
    cell_types order, one per target cell.
    """
    if not drive['cell_specific']:
        return ['any'] * drive['n_drive_cells']
    return [ct for ct in drive['target_types'] for _ in range(cell_types[ct])]
