"""``optimize_evoked``: hnn-core's older optimizer of evoked drives, HNN's
fit of an evoked response one stretch of time at a time.

The drives are sorted by their earliest time (mu minus
``timing_range_multiplier`` sigma) and grouped into chunks whose time
ranges overlap.  Each chunk's drives (sigma, mu and every AMPA/NMDA weight,
hnn-core's parameter names such as ``'evprox1_gbar_ampa_L2_basket'``) are
fitted by COBYLA to a weighted RMSE that counts the dipole from the chunk's
drives on and less after later drives (a normal CDF minus the later drives'
CDFs times ``decay_multiplier``); a last step fits all drives together on
the plain RMSE.  The chunks, ranges, windows and weights are hnn-core
0.6.1's (``tests/fixtures/opt_evoked.npz``).

Where hnnjax departs from hnn-core 0.6.1 (``benchmarks/bench_optimize_evoked.py``
runs both on hnn-core's old example):

- every parameter is held in its own range (0.6.1 binds every COBYLA
  constraint to the last parameter's range, as in its ``Optimizer``), and
  COBYLA steps in units of each range (0.6.1 steps 0.1 in every unit: a
  tenth of a millisecond for a time, ten times a 0.01 µS weight);
- a step's result is its best simulation (0.6.1 keeps the drives of the
  step's last simulation and judges the step by that simulation's RMSE);
- the last step starts from the values accepted so far, with ranges around
  them (0.6.1 starts it from the initial values);
- drives are changed in place; 0.6.1 deletes and adds them again, which
  gives them new gids but the same dipoles (tested).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from math import ceil, floor

import numpy as np
from scipy.optimize import fmin_cobyla
from scipy.stats import norm

from .._checks import check_bool, check_int, check_nonzero, check_number, check_time_grid
from ..dipole import Dipole, average_dipoles
from ..fit.parameters import set_drive_parameter
from ..network.network import Network
from ..network.simulate import simulate_dipole
from .general_optimization import box_constraints
from .objective_functions import dipole_rmse

MIN_MAXITER = 12  # hnn-core's least number of simulations per step


@dataclass
class Chunk:
    """One step's drives (``inputs``), its parameters' ``ranges`` (name ->
    (initial, low, high)), the ``window`` (ms) its RMSE covers and the
    ``weights`` of that RMSE (one per simulated sample)."""
    inputs: list
    ranges: dict
    window: tuple
    weights: np.ndarray


def optimize_evoked(net, tstop, n_trials, target_dpl, initial_dpl, maxiter=50,
                    timing_range_multiplier=3.0, sigma_range_multiplier=50.0,
                    synweight_range_multiplier=500.0, decay_multiplier=1.6, scale_factor=1.0,
                    smooth_window_len=None, dt=0.025, which_drives="all", return_rmse=False):
    """Fit the timing (mu, sigma; ms) and synaptic weights (µS) of ``net``'s
    evoked drives to ``target_dpl``, chunk by chunk (module docstring).

    ``tstop``, ``dt`` (ms) and ``n_trials`` are each simulation's;
    ``initial_dpl`` is the dipole the fit starts from (its RMSE over
    0-``tstop`` is the one to beat).  ``maxiter``: simulations per step (0
    skips the fit; 1-11 are raised to 12, as in hnn-core; a step of n
    parameters runs at least n + 2, COBYLA's least, as SciPy does).  The ranges:
    mu ± ``timing_range_multiplier`` sigma (within 0-``tstop``), sigma and
    weights ± that many percent (``sigma_range_multiplier``,
    ``synweight_range_multiplier``; a zero weight gets 0-1 µS).  Each trial's
    dipole is scaled by ``scale_factor``, smoothed over ``smooth_window_len``
    ms, then the trials are averaged.  ``which_drives``: 'all' or a list of
    evoked drive names.  Returns a copy of ``net`` with the fitted drives,
    and with ``return_rmse`` also every simulation's RMSE (nAm) from its
    step's window start to ``tstop``.
    """
    drives = _check_args(net, tstop, n_trials, target_dpl, initial_dpl, maxiter,
                         timing_range_multiplier, sigma_range_multiplier,
                         synweight_range_multiplier, decay_multiplier, scale_factor,
                         smooth_window_len, dt, which_drives, return_rmse)
    if 0 < maxiter < MIN_MAXITER:
        warnings.warn(f"maxiter={maxiter}: each step needs at least {MIN_MAXITER} simulations; "
                      f"running {MIN_MAXITER}", UserWarning, stacklevel=2)
        maxiter = MIN_MAXITER
    multipliers = (timing_range_multiplier, sigma_range_multiplier, synweight_range_multiplier)
    net = net.copy()
    params, values = drive_parameters(net, drives)
    chunks = plan(params, values, tstop, dt, multipliers, decay_multiplier)
    n_steps = len(chunks) + (len(chunks) > 1)  # the chunks, then all drives together
    best_rmse = dipole_rmse(initial_dpl, target_dpl, tstop=tstop)
    print(f"Initial RMSE: {best_rmse:.4g} nAm")
    simulate = _Simulation(tstop, dt, n_trials, scale_factor, smooth_window_len)
    rmse_log = []
    for k in range(n_steps):
        if maxiter == 0:
            print(f"Skipping optimization step {k + 1} (0 simulations)")
            continue
        chunk = chunks[k] if k < len(chunks) else last_chunk(  # ranges around the values so far
            plan(params, values, tstop, dt, multipliers, decay_multiplier))
        free = [n for n, (_, low, high) in chunk.ranges.items() if high > low]  # others: fixed
        if not free:
            print(f"Skipping optimization step {k + 1}: its ranges are single values")
            continue
        n_sims = max(maxiter, len(free) + 2)  # COBYLA's least for n parameters (SciPy raises it)
        least = f" (COBYLA's least for {len(free)} parameters)" if n_sims > maxiter else ""
        print(f"Starting optimization step {k + 1}/{n_steps}: {', '.join(chunk.inputs)} "
              f"({len(free)} parameters) over {chunk.window[0]:.3f}-{chunk.window[1]:.3f} ms, "
              f"{n_sims} simulations{least}")
        best = _fit_chunk(net, params, chunk, free, simulate, target_dpl, n_sims, rmse_log,
                          step=f"{k + 1}/{n_steps}")
        rmse = dipole_rmse(best["dpl"], target_dpl, tstop=tstop)
        if rmse <= best_rmse:
            best_rmse, net = rmse, best["net"]
            values.update(best["values"])
            print(f"Step {k + 1}: RMSE {rmse:.4g} nAm, kept")
        else:
            print(f"Step {k + 1}: RMSE {rmse:.4g} nAm, above {best_rmse:.4g}: not kept")
    print(f"Final RMSE: {best_rmse:.4g} nAm")
    return (net, rmse_log) if return_rmse else net


@dataclass(frozen=True)
class Parameter:
    """One fitted value: its ``drive``, its ``kind`` ('sigma', 'mu' or
    'weight') and its name in ``fit.parameters.set_drive_parameter``."""
    drive: str
    kind: str
    key: str


def drive_parameters(net, drives):
    """(hnn-core's parameter names -> ``Parameter``, names -> today's
    values), drive by drive: '<drive>_sigma' (ms), '<drive>_mu' (ms), then '<drive>_gbar_<receptor>_<cell
    type>' (µS) for each of its connections."""
    params, values = {}, {}
    for name in drives:
        dynamics = net.external_drives[name]["dynamics"]
        for kind in ("sigma", "mu"):
            params[f"{name}_{kind}"] = Parameter(name, kind, f"{name}.{kind}")
        values[f"{name}_sigma"] = float(dynamics["sigma"])
        values[f"{name}_mu"] = float(dynamics["mu"])
        for conn in net.connectivity:
            if conn["src_type"] == name:
                receptor, cell_type = conn["receptor"], conn["target_type"]
                key = f"{name}_gbar_{receptor}_{cell_type}"
                params[key] = Parameter(name, "weight", f"{name}.weights_{receptor}.{cell_type}")
                values[key] = float(conn["nc_dict"]["A_weight"])
    return params, values


def _spread(value, percent):
    """(value, low, high): ``value`` ± ``percent`` %, low not below 0."""
    return value, max(0.0, value - value * percent / 100.0), value + value * percent / 100.0


def plan(params, values, tstop, dt, multipliers, decay_multiplier):
    """hnn-core's chunks for ``values`` of ``params`` (``drive_parameters``):
    one ``Chunk`` per group of drives whose time ranges overlap, in order of
    their earliest time (where there are several, ``last_chunk`` of them
    is the last step)."""
    timing, sigma_percent, weight_percent = multipliers
    drives = {}
    for name, p in params.items():  # sigma comes before mu, drive by drive
        value = values[name]
        d = drives.setdefault(p.drive, {"ranges": {}})
        if p.kind == "sigma":
            value = d["sigma"] = value or 0.01  # a zero sigma has no CDF: 0.01 ms, as hnn-core
            d["ranges"][name] = _spread(value, sigma_percent)
        elif p.kind == "mu":
            d["mu"] = value
            d["start"] = max(0.0, value - d["sigma"] * timing)
            d["end"] = min(tstop, value + d["sigma"] * timing)
            if d["start"] >= d["end"]:
                raise ValueError(f"which_drives: {p.drive!r} (mu={value:g} ms, sigma="
                                 f"{d['sigma']:g} ms) has no time within 0-{tstop:g} ms to fit; "
                                 "leave it out of which_drives")
            d["ranges"][name] = (value, d["start"], d["end"])
        else:
            d["ranges"][name] = _spread(value, weight_percent) if value != 0 else (0.0, 0.0, 1.0)
    order = sorted(drives, key=lambda n: drives[n]["start"])
    times = np.linspace(0, tstop, ceil(tstop / dt) + 1)
    cdf = {n: norm.cdf(times, drives[n]["start"], drives[n]["sigma"]) for n in order}
    chunks = []
    for name in order:
        d = drives[name]
        weights = cdf[name].copy()
        for other in order:  # later drives (by mu) take weight away, the later the more
            if other != name and drives[other]["mu"] >= d["mu"]:
                weights -= cdf[other] * decay_multiplier * (drives[other]["mu"] - d["mu"]) / tstop
        np.clip(weights, 0.0, None, out=weights)
        counted = times[weights > 0.01]
        first, last = (counted[0], counted[-1]) if counted.size else (d["start"], d["end"])
        window = (floor(min(d["start"], first) / dt) * dt, ceil(max(d["end"], last) / dt) * dt)
        if chunks and d["start"] <= chunks[-1]["end"]:
            c = chunks[-1]
            c["chunk"].inputs.append(name)
            c["chunk"].ranges.update(d["ranges"])
            c["chunk"].window = (c["chunk"].window[0], max(c["chunk"].window[1], window[1]))
            c["chunk"].weights = (c["chunk"].weights + weights) / 2
            c["end"] = d["end"]
        else:
            chunks.append({"chunk": Chunk([name], dict(d["ranges"]), window, weights),
                           "end": d["end"]})
    return [c["chunk"] for c in chunks]


def last_chunk(chunks):
    """The step of all drives of ``chunks``: their ranges, from 0 ms to the
    latest window end, every sample weighted 1 (the plain RMSE)."""
    ranges = {name: r for c in chunks for name, r in c.ranges.items()}
    return Chunk([n for c in chunks for n in c.inputs], ranges,
                 (0.0, max(c.window[1] for c in chunks)), np.ones_like(chunks[-1].weights))


class _Simulation:
    """The trial-averaged dipole of a network: ``n_trials`` trials, each
    scaled and smoothed first (hnn-core's order)."""

    def __init__(self, tstop, dt, n_trials, scale_factor, smooth_window_len):
        self.tstop, self.dt, self.n_trials = tstop, dt, n_trials
        self.scale_factor, self.smooth_window_len = scale_factor, smooth_window_len

    def __call__(self, net) -> Dipole:
        with warnings.catch_warnings():  # optimize_evoked's own check has said so
            warnings.filterwarnings("ignore", message=".* is not a whole number of .* steps")
            dpls = simulate_dipole(net, tstop=self.tstop, dt=self.dt, n_trials=self.n_trials,
                                   verbose=False)
        for dpl in dpls:
            dpl.scale(self.scale_factor)
            if self.smooth_window_len is not None:
                dpl.smooth(self.smooth_window_len)
        return average_dipoles(dpls)


def with_values(net, params, values):
    """A copy of ``net`` whose drives take ``values`` of ``params``;
    negative values (COBYLA may step just outside a range) as 0."""
    net = net.copy()
    for name, value in values.items():
        set_drive_parameter(net, params[name].key, max(0.0, value))
    return net


def _fit_chunk(net, params, chunk, free, simulate, target, maxiter, rmse_log, step):
    """COBYLA over the ``free`` parameters of ``chunk``, each in units of its
    range (0 and 1 its ends; rhobeg 0.1 and rhoend 1e-4 of it), from the
    ranges' initial values, ``maxiter`` simulations at most; returns the one
    with the lowest weighted RMSE ({'values', 'net', 'dpl', 'wrmse'})."""
    low = np.array([chunk.ranges[n][1] for n in free])
    span = np.array([chunk.ranges[n][2] for n in free]) - low
    best = {"wrmse": np.inf}

    def objective(u):
        trial_values = {n: initial for n, (initial, _, _) in chunk.ranges.items()}
        trial_values.update(zip(free, (max(0.0, float(v)) for v in low + np.asarray(u) * span)))
        trial_net = with_values(net, params, trial_values)
        try:
            dpl = simulate(trial_net)
        except FloatingPointError as err:
            raise FloatingPointError(f"optimize_evoked step {step}: the simulation at "
                                     f"{trial_values} failed: {err}") from None
        wrmse = dipole_rmse(dpl, target, *chunk.window, weights=chunk.weights)
        rmse_log.append(dipole_rmse(dpl, target, chunk.window[0], simulate.tstop))
        print(f"Optimization step {step}, simulation {len(rmse_log)}: weighted RMSE "
              f"{wrmse:.4g} nAm over {chunk.window[0]:.3f}-{chunk.window[1]:.3f} ms", flush=True)
        if wrmse < best["wrmse"]:
            best.update(values=trial_values, net=trial_net, dpl=dpl, wrmse=wrmse)
        return wrmse

    u0 = (np.array([chunk.ranges[n][0] for n in free]) - low) / span
    fmin_cobyla(objective, u0, box_constraints([(0.0, 1.0)] * len(free)), rhobeg=0.1,
                rhoend=1e-4, maxfun=maxiter, catol=0.0, disp=0)
    return best


def _check_args(net, tstop, n_trials, target_dpl, initial_dpl, maxiter, timing_range_multiplier,
                sigma_range_multiplier, synweight_range_multiplier, decay_multiplier,
                scale_factor, smooth_window_len, dt, which_drives, return_rmse):
    """Every argument checked before anything is simulated; returns the
    names of the drives to fit, in the network's order."""
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network; got {type(net).__name__}")
    check_time_grid(tstop, dt, partial_step=True)
    check_int("n_trials", n_trials, ge=1)
    for name, dpl in (("target_dpl", target_dpl), ("initial_dpl", initial_dpl)):
        if not isinstance(dpl, Dipole):
            raise TypeError(f"{name} must be a Dipole; got {type(dpl).__name__}")
    check_int("maxiter", maxiter, ge=0)
    check_number("timing_range_multiplier", timing_range_multiplier, gt=0)
    check_number("sigma_range_multiplier", sigma_range_multiplier, ge=0, unit=" %")
    check_number("synweight_range_multiplier", synweight_range_multiplier, ge=0, unit=" %")
    check_number("decay_multiplier", decay_multiplier, ge=0)
    check_nonzero("scale_factor", scale_factor)
    if smooth_window_len is not None:
        check_number("smooth_window_len", smooth_window_len, gt=0, unit=" ms")
    check_bool("return_rmse", return_rmse)
    evoked = [n for n, d in net.external_drives.items() if d["type"] in ("evoked", "gaussian")]
    if not evoked:
        raise ValueError("net has no evoked drives to optimize; add them with net.add_evoked_drive")
    if isinstance(which_drives, str) and which_drives == "all":
        return evoked
    if isinstance(which_drives, str) or not isinstance(which_drives, (list, tuple)) \
            or not which_drives:
        raise TypeError(f"which_drives must be 'all' or a non-empty list of evoked drive names; "
                        f"got {which_drives!r}")
    for name in which_drives:
        if name not in evoked:
            kind = (f"a {net.external_drives[name]['type']} drive"
                    if name in net.external_drives else "not a drive of net")
            raise ValueError(f"which_drives: {name!r} is {kind}; optimize_evoked fits evoked "
                             f"drives: {evoked}")
    return sorted(set(which_drives))  # hnn-core's order (np.unique)
