"""Argument checks of ``fit_drives`` and ``sensitivity``, made before any
model is built or compiled."""
from __future__ import annotations

import math
import os

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import (check_array, check_int, check_memory, check_number, check_option,
                       check_time_grid)
from ..cells.cell_types import CELL_TYPES
from ..dipole import Dipole, read_waveform
from ..grad import model
from ..network.network import Network
from .parameters import expand_names


def check_run(net, params, n_trials, tstop, dt, draws, smooth_window, max_delay, fitted=True):
    """The shared checks.  Returns (tstop, dt) in ms, all parameter names,
    their values in ``net`` and the names of ``params`` resolved; ``fitted``:
    parameters that do not act (``model.switched_off``) are refused."""
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network; got {type(net).__name__}")
    tstop, dt, n_steps = check_time_grid(tstop, dt)
    n_trials = check_int("n_trials", n_trials, ge=1)
    check_option("draws", draws, ("key", "hnn-core"))
    if smooth_window is not None:
        check_number("smooth_window", smooth_window, ge=dt, lt=tstop, unit=" ms")
    check_number("max_delay", max_delay, gt=0, unit=" ms")
    if isinstance(params, str) or not isinstance(params, (list, tuple)) or not params:
        raise TypeError(f"params must be a non-empty list of parameter names such as "
                        f"['evprox1.mu']; got {params!r}")
    for i, p in enumerate(params):
        if not isinstance(p, str):
            raise TypeError(f"params[{i}] must be a str; got {p!r}")
    names, values = model.drive_parameters(net)
    free = expand_names(params, names, model.switched_off(net) if fitted else ())
    return tstop, dt, names, values, free


# bytes per node of one of reverse mode's 2·√T checkpoints: XLA's memory plan for the gradient
# of bench_grad.py's loss, 4 somato trials (10,670 nodes) of 170 ms: 0.50 GiB, 77 bytes each.
# The same trials in two parts at once (parts.py) hold as much: per part 0.13 GiB of saved states
# (jax.vjp's forward output) and 0.13 GiB of its backward's temporaries.
REVERSE_BYTES_PER_NODE = 80


def check_fit_memory(net, n_trials, tstop, dt, n_runs, reverse, what="a fit"):
    """Refuse, before compiling, a fit or sensitivity whose memory exceeds
    this machine's: per trial, ``n_runs`` dipoles (a forward mode's
    derivatives, a sensitivity's rows) in float64 and, in ``reverse`` mode,
    the checkpointed states."""
    n_steps = round(tstop / dt)
    n_nodes = sum(len(net.gid_ranges[ct]) * net.cell_types[ct].tree.n_nodes for ct in CELL_TYPES)
    per_trial = 8 * 2 * (n_steps + 1) * n_runs
    if reverse:
        per_trial += REVERSE_BYTES_PER_NODE * 2 * math.isqrt(n_steps) * n_nodes
    check_memory(n_trials * per_trial,
                 f"{what} over {n_trials} trial(s) x {n_steps + 1} steps (tstop={tstop:g} ms, "
                 f"dt={dt:g} ms{', reverse mode' if reverse else ''})",
                 "shorten tstop, coarsen dt, use fewer trials or use forward mode "
                 "(autodiff='forward')" if reverse else
                 "shorten tstop, coarsen dt or use fewer trials")


def check_trials_per_average(trials_per_average, n_trials):
    """The number of disjoint averages the loss scores: 1 for None (all
    ``n_trials`` averaged), else n_trials / trials_per_average."""
    if trials_per_average is None:
        return 1
    k = check_int("trials_per_average", trials_per_average, ge=1)
    if n_trials % k:
        raise ValueError(f"trials_per_average must divide n_trials={n_trials} into whole "
                         f"averages; got {k}")
    return n_trials // k


def check_key(key):
    """None or a JAX PRNG key (``jax.random.PRNGKey`` or ``jax.random.key``)."""
    if key is None:
        return
    dtype = getattr(key, "dtype", None)
    typed = dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)
    raw = dtype == np.uint32 and getattr(key, "shape", None) == (2,)
    if not (typed or raw):
        raise TypeError(f"key must be None or a JAX PRNG key such as jax.random.PRNGKey(0); "
                        f"got {key!r}")


def check_target(target, tstop, dt):
    """``target`` as (times ms, values nAm): finite, on strictly increasing
    times that cover 0-tstop ms to within one of the target's own samples
    (HNN's files end a sample short of their tstop; the fit holds the end
    values).  Taken from a ``Dipole`` (its aggregate), a (times, values)
    pair, an (n, 2) array of time and value columns (``np.loadtxt``'s) or a
    waveform file's path (``read_waveform``: bare names are also looked up
    among the shipped waveforms).  Errors name the target."""
    what = "target"
    if isinstance(target, (str, os.PathLike)):
        dpl = read_waveform(target)
        what = f"target {os.path.basename(dpl.info['source'])}"
        times, values = dpl.times, dpl.data["agg"]
    elif isinstance(target, Dipole):
        times, values = target.times, target.data["agg"]
    elif isinstance(target, np.ndarray) and target.ndim == 2:
        if target.shape[1] != 2:
            raise ValueError(f"target as an array must have shape (n, 2), columns time (ms) and "
                             f"dipole (nAm); got shape {target.shape}")
        times, values = target.T
    elif isinstance(target, (tuple, list)) and len(target) == 2:
        times, values = target
    else:
        raise TypeError(f"target must be a Dipole, a (times ms, values nAm) pair, an (n, 2) "
                        f"array or a waveform file's path; got {type(target).__name__}")
    times = check_array(f"{what} times (ms)", times, min_size=2)
    values = check_array(f"{what} values (nAm)", values, min_size=2)
    if times.shape != values.shape:
        raise ValueError(f"{what} times (ms) and values (nAm) must have the same length; "
                         f"got {times.size} and {values.size}")
    step = np.diff(times)
    if not np.all(step > 0):
        raise ValueError(f"{what} times (ms) must be strictly increasing")
    if times[0] > max(dt, step[0]) or times[-1] < tstop - max(dt, step[-1]):
        raise ValueError(f"{what} spans {times[0]:g}-{times[-1]:g} ms; it must cover "
                         f"0-{tstop:g} ms (to within one of its samples)")
    return times, values


def check_start(transform, free, start):
    """Each fitted parameter's value in ``net`` must lie inside its bounds
    (mu: (low, high]; the rest [low, high]), else the fit would clip it."""
    for name, x, lo, hi in zip(free, start, transform.lo, transform.hi):
        if not lo <= x <= hi:
            raise ValueError(f"{name} starts at {x:g}, outside its bounds [{lo:g}, {hi:g}]: "
                             "set the drive in net within them or widen bounds")


def check_bounds(bounds, free):
    """``bounds``: None or {fitted name: (low, high)}."""
    if bounds is None:
        return {}
    if not isinstance(bounds, dict):
        raise TypeError(f"bounds must be a dict {{name: (low, high)}} or None; got {bounds!r}")
    unknown = [n for n in bounds if n not in free]
    if unknown:
        raise ValueError(f"bounds: {unknown} are not among the fitted parameters {free}")
    for n, b in bounds.items():
        if not (isinstance(b, (tuple, list)) and len(b) == 2):
            raise TypeError(f"bounds[{n!r}] must be a (low, high) pair; got {b!r}")
        check_number(f"bounds[{n!r}][0]", b[0])
        if not _is_inf(b[1]):
            check_number(f"bounds[{n!r}][1]", b[1])
    return bounds


def _is_inf(x):
    return isinstance(x, float) and x == np.inf


def check_optimizer(optimizer, n):
    """An optax transformation whose first step from 0, given a gradient of
    ones, goes down it (a zero or negative learning rate does not)."""
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise TypeError(f"optimizer must be an optax GradientTransformation; got {optimizer!r}")
    u, g = jnp.zeros(n), jnp.ones(n)
    step, _ = optimizer.update(g, optimizer.init(u), u)
    step = np.asarray(step)
    if not (np.all(np.isfinite(step)) and float(step @ np.ones(n)) < 0):
        raise ValueError(f"optimizer does not step down the gradient (probe step {step} for a "
                         "gradient of ones): is its learning rate > 0?")
