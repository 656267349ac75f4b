"""Drive spike times, bit-identical to hnn-core 0.6.1 (host-side NumPy).

Each drive cell of each trial draws from its own legacy ``RandomState``:
``seed_j = event_seed + trial_idx * n_gids`` (n_gids: all cells and drive
cells of the network), ``prng = RandomState(seed_j + k)`` for drive-cell
offset k, and ``prng2 = RandomState(seed_j)`` for the bursty start jitter
(shared by all cells of the drive). Generated trains keep
``0 < t <= tstop`` (simulation tstop) and are sorted. Times in ms, rates Hz.
Evoked and Poisson trains of many cells and trials are drawn for all seeds
at once (``legacy_random``), with the same bits.
"""
import numpy as np

from . import legacy_random
from .._checks import check_int, check_number


def evoked_times(prng, mu, sigma, numspikes):
    """``numspikes`` Gaussian times around ``mu`` (also the 'gaussian' type)."""
    return prng.normal(mu, sigma, numspikes)


def poisson_times(prng, tstart, tstop, rate):
    """Homogeneous Poisson train on [tstart, tstop) at ``rate`` Hz.

    Inter-event intervals are ``exponential(1 / rate) * 1000`` ms, accumulated
    from tstart one after the other (as hnn-core's loop does; drawing in
    blocks consumes the generator identically).
    """
    _check_poisson(tstart, tstop, rate)
    block = max(16, int(2 * rate * (tstop - tstart) / 1000.0))
    times, t_last = [np.empty(0)], tstart
    while t_last < tstop:
        steps = prng.exponential(1.0 / rate, block) * 1000.0
        t = np.add.accumulate(np.concatenate(([t_last], steps)))[1:]
        times.append(t[t < tstop])
        t_last = t[-1]
    return np.concatenate(times)


def _check_poisson(tstart, tstop, rate):
    if tstart < 0:
        raise ValueError(f'tstart must be >= 0 ms; got {tstart}')
    if tstop < tstart:
        raise ValueError(f'tstop must be >= tstart ({tstart} ms); '
                         f'got {tstop} ms')
    if not rate > 0:
        raise ValueError(f'rate_constant must be > 0 Hz; got {rate}')


def _poisson_rate(rate, target_type):
    """A Poisson drive's rate (Hz) for a drive cell targeting ``target_type``."""
    if not isinstance(rate, dict):
        return rate
    if target_type not in rate:
        raise ValueError(f'target_type must be one of {list(rate)} for a '
                         f'per-cell-type Poisson rate; got {target_type!r}')
    return rate[target_type]


def bursty_times(prng, prng2, tstart, tstart_std, tstop, burst_rate,
                 burst_std, numspikes, spike_isi):
    """Rhythmic bursts of ``numspikes`` spikes ``spike_isi`` ms apart.

    Burst centres start at tstart (jittered once per trial by ``prng2`` when
    tstart_std > 0), repeat every 1000 / burst_rate ms before tstop and are
    each jittered by burst_std; the train lists all bursts' first spikes,
    then all second spikes, and so on.
    """
    if tstart_std > 0.0:
        tstart = prng2.normal(tstart, tstart_std)
    period = 1000.0 / burst_rate
    if (numspikes - 1) * spike_isi > period:
        raise ValueError(f'burst duration (numspikes - 1) * spike_isi = '
                         f'{(numspikes - 1) * spike_isi} ms must be <= the '
                         f'burst period {period} ms')
    centres = prng.normal(np.arange(tstart, tstop, period), burst_std)
    if numspikes == 1:
        return centres
    offsets = np.arange(numspikes) - (numspikes - 1) / 2
    return np.ravel([centres + spike_isi * o for o in offsets])


def clip_and_sort(times, tstop):
    """Keep ``0 < t <= tstop`` and sort (what NEURON's VecStim needs)."""
    times = np.asarray(times, dtype=float)
    return np.sort(times[(times > 0) & (times <= tstop)])


def _seeded(prng, seed):
    """``prng`` reseeded (as ``RandomState(seed)``, 100x cheaper than a new one)."""
    if prng is None:
        return np.random.RandomState(seed)
    prng.seed(seed)
    return prng


def drive_cell_times(drive_type, dynamics, tstop, seed, offset,
                     target_type='any', prngs=(None, None)):
    """Train of drive cell ``offset`` for trial seed ``seed`` (= seed_j).

    ``tstop`` is the simulation end (ms); a drive's own ``tstop=None`` means
    that too. ``target_type`` selects a per-cell-type Poisson rate.
    ``prngs``: two ``RandomState`` objects to reseed instead of making new
    ones (same draws).
    """
    if drive_type == 'spike_train':  # hnn-core returns these unfiltered
        mask = np.asarray(dynamics['gids'], dtype=int) == offset
        return np.asarray(dynamics['times'], dtype=float)[mask]
    prng = _seeded(prngs[0], seed + offset)
    if drive_type in ('evoked', 'gaussian'):
        times = evoked_times(prng, dynamics['mu'], dynamics['sigma'],
                             dynamics['numspikes'])
    elif drive_type == 'poisson':
        rate = _poisson_rate(dynamics['rate_constant'], target_type)
        drive_tstop = tstop if dynamics['tstop'] is None else dynamics['tstop']
        times = poisson_times(prng, dynamics['tstart'], drive_tstop, rate)
    elif drive_type == 'bursty':
        drive_tstop = tstop if dynamics['tstop'] is None else dynamics['tstop']
        times = bursty_times(
            prng, _seeded(prngs[1], seed), dynamics['tstart'],
            dynamics['tstart_std'], drive_tstop, dynamics['burst_rate'],
            dynamics['burst_std'], dynamics['numspikes'],
            dynamics['spike_isi'])
    else:
        raise ValueError("drive_type must be one of 'evoked', 'gaussian', "
                         f"'poisson', 'bursty', 'spike_train'; got "
                         f'{drive_type!r}')
    return clip_and_sort(times, tstop)


def drive_event_times(drive, trial_idx, n_gids, tstop,
                      target_cell_type_of_offset=None, *, vectorize=None):
    """One event-time array per drive cell (offset 0..n_drive_cells-1) of
    trial ``trial_idx``: ``drive_trains`` for one trial."""
    check_int('trial_idx', trial_idx, ge=0)
    return drive_trains(drive, range(trial_idx, trial_idx + 1), n_gids, tstop,
                        target_cell_type_of_offset, vectorize=vectorize)[0]


def drive_trains(drive, trials, n_gids, tstop, target_cell_type_of_offset=None,
                 *, vectorize=None):
    """Per trial of ``trials`` (a range of trial indices), one event-time
    array per drive cell (offset 0..n_drive_cells-1).

    drive: dict from ``spec.make_drive`` (its 'event_seed' already shifted
    if the drive came from a params file). n_gids: total gids of the network
    at simulate time. tstop: simulation end (ms).
    target_cell_type_of_offset: target type per offset (see
    ``spec.offset_target_types``); needed only for per-cell-type Poisson
    rates, otherwise None.  Evoked and Poisson trains of many cells
    (``vectorize=None``: from VECTORIZE_MIN cells on) are drawn for all
    seeds at once (``legacy_random``; the same bits); ``vectorize`` forces
    either way.
    """
    check_int('n_gids', n_gids, ge=drive['n_drive_cells'])
    check_number('tstop', tstop, gt=0, unit=' ms')
    if not isinstance(trials, range):
        raise TypeError(f'trials must be a range of trial indices; got {trials!r}')
    n = drive['n_drive_cells']
    targets = target_cell_type_of_offset
    if targets is None:
        if isinstance(drive['dynamics'].get('rate_constant'), dict):
            raise ValueError('target_cell_type_of_offset is required for a '
                             'Poisson drive with per-cell-type rates')
        targets = ['any'] * n
    if len(targets) != n:
        raise ValueError(f'target_cell_type_of_offset must have '
                         f'n_drive_cells = {n} entries; got {len(targets)}')
    seed0 = int(drive['event_seed']) + trials.start * int(n_gids)
    last = int(drive['event_seed']) + (trials.stop - 1) * int(n_gids) + n - 1
    if drive['type'] != 'spike_train' and len(trials) and not (0 <= seed0 and last <= 2**32 - 1):
        raise ValueError(f"event_seed + trial_idx * n_gids + offset must lie "
                         f"in [0, 2**32 - 1] (NumPy RandomState); got seeds "
                         f"{seed0}..{last}")
    seeds = [int(drive['event_seed']) + trial * int(n_gids) for trial in trials]
    if vectorize is None:
        vectorize = len(trials) * n >= VECTORIZE_MIN
    if drive['type'] not in ('evoked', 'gaussian', 'poisson') or not vectorize:
        prngs = (np.random.RandomState(0), np.random.RandomState(0))
        return [[drive_cell_times(drive['type'], drive['dynamics'], tstop, seed, k,
                                  targets[k], prngs) for k in range(n)]
                for seed in seeds]
    cell_seeds = (np.asarray(seeds, np.int64)[:, None] + np.arange(n)).ravel()
    if drive['type'] == 'poisson':
        times, ok = _poisson_rows(drive['dynamics'], tstop, cell_seeds, targets)
    else:
        times, ok = _evoked_rows(drive['dynamics'], cell_seeds)
    times.sort(axis=1)  # NaN/inf (none, padding) last
    keep = (times > 0) & (times <= tstop)
    flat, ends = times[keep], np.cumsum(keep.sum(axis=1)).tolist()
    trains = [flat[a:b] for a, b in zip([0] + ends[:-1], ends)]  # 7x faster than np.split
    for i in np.flatnonzero(~ok):  # more draws than computed: the slow way
        trains[i] = drive_cell_times(drive['type'], drive['dynamics'], tstop,
                                     seeds[i // n], i % n, targets[i % n])
    return [trains[j * n:(j + 1) * n] for j in range(len(seeds))]


VECTORIZE_MIN = 4096  # cells x trials from which drawing all seeds at once pays


def _evoked_rows(dynamics, seeds):
    """``evoked_times`` of every seed: (seeds, numspikes) and the mask of
    seeds drawn here."""
    mu, sigma, numspikes = dynamics['mu'], dynamics['sigma'], int(dynamics['numspikes'])
    if sigma < 0:
        raise ValueError(f'sigma must be >= 0 ms; got {sigma}')
    g, ok = legacy_random.gaussians(seeds, numspikes)
    return (mu + sigma * g).T, ok


def _poisson_rows(dynamics, tstop, seeds, targets):
    """``poisson_times`` of every seed (trial-major, ``targets``: each drive
    cell's target type), padded with inf: (seeds, draws) and the mask of
    seeds whose train ended within the draws computed."""
    tstart = dynamics['tstart']
    end = tstop if dynamics['tstop'] is None else dynamics['tstop']
    rates = {t: _poisson_rate(dynamics['rate_constant'], t) for t in set(targets)}
    for r in rates.values():
        _check_poisson(tstart, end, r)
    scale = np.tile([1.0 / rates[t] for t in targets], len(seeds) // len(targets))  # exponential(1 / rate)
    lam = (end - tstart) / 1000.0 / scale.min()
    draws = min(int(lam + 6.0 * np.sqrt(lam)) + 6, legacy_random.MAX_DRAWS)
    u = legacy_random.uniforms(seeds, draws)
    times = np.full(u.shape, np.inf)
    t = np.full(len(seeds), float(tstart))
    live = np.flatnonzero(t < end)
    for k in range(draws):  # hnn-core's loop, for the seeds still below tstop
        if not live.size:
            break
        t[live] = t[live] + scale[live] * -legacy_random.log(1.0 - u[k, live]) * 1000.0
        times[k, live] = t[live]
        live = live[t[live] < end]
    times[times >= end] = np.inf
    ok = np.ones(len(seeds), bool)
    ok[live] = False
    return times.T, ok
