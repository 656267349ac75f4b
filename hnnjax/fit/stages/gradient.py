"""``GradientDescent``: optax steps on the gradient of the objective, by
reverse mode or from a Gaussian-smoothed loss."""
from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..._checks import check_bool, check_int, check_number, check_option
from ...progress import bar, busy
from ..arguments import check_key, check_optimizer
from .stage import Stage

VALIDATION_STREAM = 2**31 - 1  # fold_in data of the held-out draws' key (steps use 0, 1, ...)


def smoothed_value_and_grad(batch_loss, u, key, smoothing, n_samples):
    """f(u) and the gradient of the Gaussian-smoothed E[f(u + s·e)], e ~ N(0, I),
    from ``n_samples`` antithetic pairs; ``batch_loss`` maps (m, d) points to
    (m,) losses in one call.  Unlike reverse mode, it sees f's jumps."""
    e = jax.random.normal(key, (n_samples, u.shape[0]), u.dtype)
    vals = batch_loss(jnp.concatenate([u[None], u + smoothing * e, u - smoothing * e]))
    diff = vals[1:n_samples + 1] - vals[n_samples + 1:]
    return vals[0], (diff @ e) / (2 * smoothing * n_samples)


class GradientDescent(Stage):
    """``n_steps`` steps of ``optimizer`` (an optax transformation; default
    Adam, 0.05 on the unconstrained parameters), each on the objective's
    trials together.

    ``gradient``: ``'autodiff'`` (reverse mode through the differentiable
    model) or ``'smoothed'``: the gradient of the loss smoothed by a Gaussian
    of standard deviation ``smoothing`` (unconstrained units; 0.1 is about
    10 % of a weight), from ``n_samples`` antithetic pairs of forward runs
    (2·n_samples + 1 points in one batch, directions from ``key``).  Reverse
    mode is exact but blind to spikes that appear or vanish (the loss jumps
    there); the smoothed gradient sees them.

    ``resample``: each step on fresh drive draws of the objective's trials
    (``Objective.fresh_draws``, keys from ``key``): a stochastic gradient of
    the expected loss, so the fit cannot tune itself to the noise of one set
    of draws.  Autodiff gradient and ``draws='key'`` only.

    ``validate``: early stopping on held-out trials.  Each step's starting
    point and the last point are also scored on drive draws of their own
    (``fresh_draws`` from ``fold_in(key, VALIDATION_STREAM)``, as many trials
    as the objective's, fixed over the stage), and the stage hands on the
    point that scores best there: more steps that only fit the objective's
    own draws are not kept.  Costs one forward of the trials per step
    (~1/4 of a gradient); ``draws='key'`` only.  The held-out losses are
    ``info['validation']`` and the point handed on ``info['validation_best']``
    (0: the start; ``n_steps``: the last point).

    Records the loss at each step's start and at the last point; hands on the
    best point seen.  With ``resample``: the loss at the start on the
    objective's own draws, each step's on its own draws, the last point's on
    the objective's draws again (first and last compare); hands on the last
    point (losses on different draws do not rank points).  With ``validate``,
    either way, the point best on the held-out draws."""
    n_steps: int = 50
    optimizer: optax.GradientTransformation | None = None
    gradient: str = "autodiff"
    smoothing: float = 0.1
    n_samples: int = 8
    key: jax.Array | None = None
    resample: bool = False
    validate: bool = False

    def __check_init__(self):
        check_int("GradientDescent.n_steps", self.n_steps, ge=1)
        check_option("GradientDescent.gradient", self.gradient, ("autodiff", "smoothed"))
        check_number("GradientDescent.smoothing", self.smoothing, gt=0)
        check_int("GradientDescent.n_samples", self.n_samples, ge=1)
        check_key(self.key)
        check_bool("GradientDescent.resample", self.resample)
        check_bool("GradientDescent.validate", self.validate)
        if self.resample and self.gradient != "autodiff":
            raise ValueError("GradientDescent.resample needs gradient='autodiff' (the smoothed "
                             "gradient compares losses, which must share their draws)")

    def _optimizer(self):
        return optax.adam(0.05) if self.optimizer is None else self.optimizer

    def check(self, objective):
        check_optimizer(self._optimizer(), len(objective.free))
        for flag in ("resample", "validate"):
            if getattr(self, flag) and objective.draws != "key":
                raise ValueError(f"GradientDescent.{flag} needs fit_drives(draws='key'): with "
                                 "draws='hnn-core' the trials are fixed by hnn-core's seeds")

    def summary(self, objective):
        fresh = ", fresh draws each step" if self.resample else ""
        held = ", early stopping on held-out draws" if self.validate else ""
        mode = f" ({objective.autodiff} mode)" if self.gradient == "autodiff" else ""
        return (f"{self.n_steps} {self.gradient}{mode} gradient steps{fresh}{held}; "
                + super().summary(objective))

    def _key(self, data):
        return jax.random.fold_in(jax.random.PRNGKey(0) if self.key is None else self.key, data)

    def _value_and_grad(self, objective, u, step):
        key = self._key(step)
        if self.gradient == "autodiff":
            return objective.value_and_grad(u, objective.fresh_draws(key) if self.resample else None)
        val, g = smoothed_value_and_grad(lambda b: jnp.asarray(objective.losses(b)),
                                         jnp.asarray(u), key, self.smoothing, self.n_samples)
        return float(val), np.asarray(g)

    def _run(self, objective, u, progress):
        opt, free = self._optimizer(), objective.free
        state, history, best = opt.init(jnp.asarray(u)), [], (np.inf, u, 0)
        held_out = objective.fresh_draws(self._key(VALIDATION_STREAM)) if self.validate else None
        validation, best_held = [], (np.inf, u, 0, np.nan)  # (held-out loss, u, step, loss)
        if self.resample:
            with busy("fit: loss at the start on the objective's draws", progress):
                history.append(objective.loss(u))
        steps = bar(range(self.n_steps), desc="GradientDescent", unit="step", enabled=progress)
        for step in steps:
            val, g = self._value_and_grad(objective, u, step)
            bad = [free[i] for i in np.flatnonzero(~np.isfinite(g))]
            if not np.isfinite(val) or bad:
                raise FloatingPointError(f"non-finite loss ({val}) or gradient at step {step}"
                                         f" for parameters {bad or free}")
            history.append(val)
            best = min(best, (val, u, step), key=lambda b: b[0])
            if self.validate:
                validation.append(float(objective.losses(u[None], held_out)[0]))
                best_held = min(best_held, (validation[-1], u, step, val), key=lambda b: b[0])
                steps.set_postfix(loss=f"{val:.4g}", held_out=f"{validation[-1]:.4g}")
            else:
                steps.set_postfix(loss=f"{val:.4g}")
            updates, state = opt.update(jnp.asarray(g), state, jnp.asarray(u))
            u = np.asarray(optax.apply_updates(jnp.asarray(u), updates))
        with busy("fit: loss at the last point", progress):
            val = objective.loss(u)
            if self.validate:
                validation.append(float(objective.losses(u[None], held_out)[0]))
        if not np.isfinite(val):
            raise FloatingPointError(f"non-finite loss ({val}) after step {self.n_steps}")
        history.append(val)
        if self.validate:
            best_held = min(best_held, (validation[-1], u, self.n_steps, val), key=lambda b: b[0])
        if history[-1] > history[0]:
            when = "the start" if best[2] == 0 else f"after {best[2]} step{'s' * (best[2] > 1)}"
            kept = ("the point best on the held-out draws is returned" if self.validate else
                    "the last point is returned" if self.resample else
                    f"the best point seen ({best[0]:.6g}, {when}) is returned")
            warnings.warn(f"the loss rose over the {self.n_steps} gradient steps ({history[0]:.6g}"
                          f" -> {history[-1]:.6g}); {kept}.  Lower the optimizer's learning "
                          "rate?", UserWarning, stacklevel=6)  # fit_drives' caller
        if self.validate:  # the point best on the held-out draws
            _, u, step, val = best_held
            if self.resample and step < self.n_steps:  # its loss on the objective's draws
                val = objective.loss(u)
            return u, val, history, {"validation": validation, "validation_best": step}
        if not self.resample and best[0] < val:  # hand on the best point seen, not the last
            val, u, _ = best
        return u, val, history, {}
