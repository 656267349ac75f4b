"""``fit_drives``: fit drive parameters to a dipole waveform with gradients
and optax, after an optional coarse grid search over some of them and before
optional Levenberg-Marquardt refinement."""
from __future__ import annotations

import copy
import itertools
import warnings
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import optax
from ..dipole import Dipole
from ..grad import model
from ..progress import bar, busy, compile_notices, say
from .._checks import (check_array, check_bool, check_int, check_nonzero, check_number,
                       check_option)
from .arguments import (check_bounds, check_key, check_optimizer, check_run, check_start,
                        check_target)
from .least_squares import levenberg_marquardt_step
from .objective import dipole_fn, hamming_smooth, loss_function, trial_draws
from .parameters import Transform, set_drive_parameter


@dataclass
class FitResult:
    values: dict  # name -> fitted value
    net: object  # a copy of the network with the fitted drives
    # one loss per gradient step, the loss after them, then one per refinement step taken
    loss_history: list = field(default_factory=list)
    dipole: Dipole | None = None  # trial average, smoothed and scaled (nAm)
    scale: float = 1.0
    grid_points: dict | None = None  # name -> the grid's values, point by point
    grid_losses: np.ndarray | None = None  # loss at each grid point

    def plot_history(self, ax=None, show=True):
        """Loss against optimisation step."""
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3), constrained_layout=True)
        ax.plot(np.arange(len(self.loss_history)), self.loss_history, marker=".")
        ax.set_xlabel("Step")
        ax.set_ylabel("Loss")
        if show:
            plt.show()
        return ax.figure


def _grid_points(grid, free, tr):
    """The Cartesian product of ``grid`` as rows of constrained values
    (columns: the grid's names, in ``free``'s order), checked against bounds."""
    if not isinstance(grid, dict):
        raise TypeError(f"grid must be a dict {{name: candidate values}}; got {grid!r}")
    unknown = [n for n in grid if n not in free]
    if unknown:
        raise ValueError(f"grid: {unknown} are not among the fitted parameters {free}")
    names = [n for n in free if n in grid]
    axes = []
    for n in names:
        v = check_array(f"grid[{n!r}]", np.atleast_1d(grid[n]))
        i = free.index(n)
        lo, hi = tr.lo[i], tr.hi[i]
        if np.any(v <= lo) or np.any(v >= hi):
            raise ValueError(f"grid[{n!r}] must be a non-empty 1-D sequence of finite values "
                             f"strictly inside the bounds ({lo:g}, {hi:g}), got {grid[n]!r}")
        axes.append(v)
    return names, np.array(list(itertools.product(*axes)))


def smoothed_value_and_grad(batch_loss, u, key, smoothing, n_samples):
    """f(u) and the gradient of the Gaussian-smoothed E[f(u + s·e)], e ~ N(0, I),
    from ``n_samples`` antithetic pairs; ``batch_loss`` maps (m, d) points to
    (m,) losses in one call.  Unlike reverse mode, it sees f's jumps."""
    e = jax.random.normal(key, (n_samples, u.shape[0]), u.dtype)
    vals = batch_loss(jnp.concatenate([u[None], u + smoothing * e, u - smoothing * e]))
    diff = vals[1:n_samples + 1] - vals[n_samples + 1:]
    return vals[0], (diff @ e) / (2 * smoothing * n_samples)


def fit_drives(net, target, params, *, n_trials=1, tstop=170.0, dt=0.025, smooth_window=20.0,
               scale="fit", loss="rmse", optimizer=None, n_steps=50, key=None, bounds=None,
               max_delay=25.0, progress=True, draws="key", grid=None, grid_batch=8,
               gradient="autodiff", smoothing=0.1, n_samples=8, refine=0, refine_step=0.1):
    """Fit drive parameters of ``net`` so its trial-averaged, smoothed, scaled
    aggregate dipole matches ``target``: a ``Dipole``, a (times ms, values
    nAm) pair, an (n, 2) array of those columns or a waveform file's path
    (a bare name such as ``'yes_trial_S1_ERP_all_avg.txt'`` is also looked
    up among the shipped waveforms).  It must cover 0-``tstop`` ms to within
    one of its samples; it is interpolated onto the run's times, its end
    values held.  Every drive type takes part (see ``hnnjax.grad.model``);
    drives switched off with zero weights cost nothing and are not fitted.

    ``params``: names such as ``'evprox1.mu'``, ``'bursty1.tstart'``,
    ``'evdist1.weights_nmda.L2_pyramidal'`` or ``'evprox1.*'`` (the drive's
    parameters that act).  ``scale``: a fixed factor or ``'fit'`` (least
    squares each step).  ``optimizer``: an optax transformation (default Adam, 0.05 on
    the unconstrained parameters).  The trials' drive draws are fixed over the
    fit (common random numbers): ``draws='key'`` takes the evoked drives'
    standard normals from ``key``; ``draws='hnn-core'`` takes those of
    hnn-core's seeded drive times, i.e. the trials ``simulate_dipole(net,
    n_trials=n_trials)`` runs, so a faithful simulation of ``result.net``
    sees the drive draws the fit saw.  Poisson, bursty and spike-train drives
    take hnn-core's seeded times either way.

    ``grid``: {name: candidate values} for some fitted parameters (drive
    timing, typically).  The loss is first evaluated, forward only and
    ``grid_batch`` points per vmapped call, at every combination of them (the
    other parameters at their values in ``net``), and the gradient fit starts
    from the best point.  The loss over drive timing has one basin per spiking
    pattern; a gradient cannot leave its basin, a grid can.

    ``gradient``: ``'autodiff'`` (reverse mode through the differentiable
    model) or ``'smoothed'``: the gradient of the loss smoothed by a Gaussian
    of standard deviation ``smoothing`` (unconstrained units; 0.1 is about
    10 % of a weight), estimated from ``n_samples`` antithetic pairs of forward
    runs.  Reverse mode is exact but blind to spikes that appear or vanish
    (the loss jumps there); the smoothed gradient sees them, at 2·n_samples + 1
    forward runs a step.

    ``refine``: after the gradient steps, up to this many Levenberg-Marquardt
    steps from the best point seen (``loss='rmse'`` only): the Jacobian of the
    residual waveform by central differences of ``refine_step`` (unconstrained
    units, as ``smoothing``), 2·d + 4 forward runs a step (d parameters); it
    stops early when no damping lowers the loss.  The gradient finds the
    basin; the refinement resolves weakly constrained weights within it.

    The parameters with the lowest loss seen are returned; ``loss_history``
    holds every step's loss.
    """
    tstop, dt, names, theta0, free = check_run(net, params, n_trials, tstop, dt, draws,
                                               smooth_window, max_delay)
    n_steps = check_int("n_steps", n_steps, ge=0)
    check_int("grid_batch", grid_batch, ge=1)
    refine = check_int("refine", refine, ge=0)
    loss_fn = loss_function(loss)
    if refine and not (isinstance(loss, str) and loss == "rmse"):
        raise ValueError(f"refine (least squares) needs loss='rmse', got loss={loss!r}")
    check_number("refine_step", refine_step, gt=0)
    if n_steps == 0 and not grid and not refine:
        raise ValueError("n_steps must be >= 1 without a grid or refine (nothing to fit)")
    if isinstance(scale, str):
        check_option("scale", scale, ("fit",))
    else:
        check_nonzero("scale (or 'fit')", scale)
    check_option("gradient", gradient, ("autodiff", "smoothed"))
    check_number("smoothing", smoothing, gt=0)
    check_int("n_samples", n_samples, ge=1)
    check_bool("progress", progress)
    check_key(key)
    idx = np.array([names.index(n) for n in free])
    tgt_t, tgt_v = check_target(target, tstop, dt)
    if scale == "fit" and not np.any(tgt_v):
        raise ValueError("target values are all 0 nAm: with scale='fit' every simulation "
                         "scales to 0, so there is nothing to fit")
    tr = Transform(free, check_bounds(bounds, free), tstop)
    check_start(tr, free, theta0[idx])
    grid_names, grid_rows = _grid_points(grid, free, tr) if grid else ([], None)
    opt = optax.adam(0.05) if optimizer is None else optimizer
    check_optimizer(opt, len(free))
    with compile_notices(progress):
        key = jax.random.PRNGKey(0) if key is None else key
        fn, gn, names, theta0, times = dipole_fn(net, tstop, dt, max_delay)
        tgt = jnp.asarray(np.interp(times, tgt_t, tgt_v))
        z = trial_draws(net, gn, n_trials, tstop, draws, key)

        def compile_objective(fn):
            def simulate(u):
                theta = jnp.asarray(theta0).at[idx].set(tr.to_constrained(u))
                dpl, overflow = fn(theta, z)
                avg = dpl.mean(axis=0)
                if smooth_window:
                    avg = hamming_smooth(avg, smooth_window, dt)
                s = jnp.sum(avg * tgt) / jnp.sum(avg * avg) if scale == "fit" else scale
                return avg, s, overflow.any()

            def objective(u):
                avg, s, overflow = simulate(u)
                return loss_fn(s * avg, tgt), (s, overflow, avg)

            def objectives(us):
                val, (_, overflow, _) = jax.vmap(objective)(us)
                return val, overflow.any()

            def residuals(us):
                def one(u):
                    avg, s, overflow = simulate(u)
                    return s * avg - tgt, overflow
                res, overflow = jax.vmap(one)(us)
                return res, overflow.any()

            return (jax.jit(simulate), jax.jit(jax.value_and_grad(objective, has_aux=True)),
                    jax.jit(objectives), jax.jit(residuals))

        compiled = compile_objective(fn)
        reuse_gradient = gradient == "autodiff" and n_steps > 0

        def evaluate(u, kind):
            """kind 'grad': (loss, gradient); 'forward': (avg, scale); 'batch':
            losses of a batch of points; 'residuals': their residual waveforms.
            After autodiff steps, 'forward' reuses the compiled gradient: a
            backward pass costs less than compiling the forward pass alone.
            A call with more events than the model has room for -> twice the
            room, compiled again (rare)."""
            nonlocal gn, compiled
            while True:
                if kind == "grad" or (kind == "forward" and reuse_gradient):
                    (val, (s, overflow, avg)), g = compiled[1](u)
                    out = (val, g) if kind == "grad" else (avg, s)
                elif kind == "forward":
                    avg, s, overflow = compiled[0](u)
                    out = (avg, s)
                else:
                    out, overflow = compiled[2 if kind == "batch" else 3](u)
                if not bool(overflow):
                    return out
                if progress:
                    say("fit: more events than the compiled model has room for; "
                        "compiling it again with twice the room")
                gn = model.grow(gn)
                compiled = compile_objective(dipole_fn(net, tstop, dt, max_delay, gn)[0])

        u = jnp.asarray(tr.to_unconstrained(theta0[idx]))
        grid_losses = None
        if grid:
            cols = np.array([free.index(n) for n in grid_names])
            x = np.repeat(np.asarray(theta0, float)[idx][None], len(grid_rows), axis=0)
            x[:, cols] = grid_rows
            rows = tr.to_unconstrained(x)
            grid_losses = np.empty(len(rows))
            if progress:
                say(f"fit: loss at {len(rows)} grid points ({', '.join(grid_names)})")
            for s in bar(range(0, len(rows), grid_batch), desc="grid", unit="batch",
                         enabled=progress):
                batch = rows[s:s + grid_batch]
                pad = np.concatenate([batch, np.repeat(batch[-1:], grid_batch - len(batch), 0)])
                grid_losses[s:s + len(batch)] = np.asarray(evaluate(jnp.asarray(pad), "batch"))[:len(batch)]
            if not np.any(np.isfinite(grid_losses)):
                raise FloatingPointError("non-finite loss at every grid point")
            u = jnp.asarray(rows[int(np.nanargmin(np.where(np.isfinite(grid_losses), grid_losses, np.nan)))])

        state = opt.init(u)
        history = []
        best = (np.inf, u)
        if progress and n_steps:
            say(f"fit: {n_steps} {gradient} gradient steps on {', '.join(free)}"
                f" ({n_trials} trial{'s' * (n_trials > 1)} of {tstop:g} ms)")
        steps = bar(range(n_steps), desc="fit", unit="step", enabled=progress and n_steps > 0)
        for step in steps:
            if gradient == "autodiff":
                val, g = evaluate(u, "grad")
            else:
                val, g = smoothed_value_and_grad(lambda b: evaluate(b, "batch"), u,
                                                 jax.random.fold_in(key, step), smoothing, n_samples)
            bad = [free[i] for i in np.flatnonzero(~np.isfinite(np.asarray(g)))]
            if not np.isfinite(float(val)) or bad:
                raise FloatingPointError(f"non-finite loss ({float(val)}) or gradient at step {step}"
                                         f" for parameters {bad or free}")
            history.append(float(val))
            best = min(best, (float(val), u), key=lambda b: b[0])
            steps.set_postfix(loss=f"{float(val):.4g}")
            updates, state = opt.update(g, state, u)
            u = optax.apply_updates(u, updates)
        with busy("fit: loss at the last point", progress):
            avg, s = evaluate(u, "forward")
        val = loss_fn(s * avg, tgt)
        if not np.isfinite(float(val)):
            raise FloatingPointError(f"non-finite loss ({float(val)}) after step {n_steps}")
        history.append(float(val))
        if n_steps and history[-1] > history[0]:
            warnings.warn(f"the loss rose over the {n_steps} gradient steps ({history[0]:.4g} -> "
                          f"{history[-1]:.4g}); the best point seen is returned.  Lower the "
                          "optimizer's learning rate?", UserWarning, stacklevel=2)
        if best[0] < float(val):  # return the best parameters seen, not the last
            u = best[1]
            with busy(f"fit: back to the best point (loss {best[0]:.4g})", progress):
                avg, s = evaluate(u, "forward")
        if refine:
            r = np.asarray(s * avg - tgt)
            if progress:
                say(f"fit: up to {refine} Levenberg-Marquardt steps")
            for step in bar(range(refine), desc="refine", unit="step", enabled=progress):
                try:
                    out = levenberg_marquardt_step(lambda b: evaluate(jnp.asarray(b), "residuals"),
                                                   np.asarray(u), r, refine_step, free)
                except FloatingPointError as err:
                    raise FloatingPointError(f"refinement step {step}: {err}") from None
                if out is None:
                    break
                u, r = jnp.asarray(out[0]), out[1]
                history.append(float(np.sqrt(np.mean(r ** 2))))
            if len(history) > n_steps + 1:  # a step was taken
                with busy("fit: the refined point", progress):
                    avg, s = evaluate(u, "forward")
        fitted = np.asarray(tr.to_constrained(u))
        values = dict(zip(free, fitted.tolist()))
        net_fit = copy.deepcopy(net)
        for n, v in values.items():
            set_drive_parameter(net_fit, n, v)
        dpl = Dipole(times, np.asarray(avg) * float(s))
        points = dict(zip(grid_names, grid_rows.T)) if grid else None
        return FitResult(values=values, net=net_fit, loss_history=history, dipole=dpl, scale=float(s),
                         grid_points=points, grid_losses=grid_losses)
