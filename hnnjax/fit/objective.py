"""``Objective``: the loss of drive parameters against a target waveform, with
its compiled forward, batched and gradient functions.  Stages
(``hnnjax.fit.stages``) only call it; it alone builds, compiles and grows the
differentiable model."""
from __future__ import annotations

import copy
import time

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_bool, check_nonzero, check_option
from .._jit import jit
from ..grad import model
from ..grad.tangents import jvp_along_axes
from ..progress import say
from .arguments import (check_bounds, check_fit_memory, check_key, check_run, check_start,
                        check_target, check_trials_per_average)
from .forward import dipole_fn, evoked_normals, hamming_smooth, loss_function, trial_draws
from .parameters import Transform, set_drive_parameter
from .parts import TrialParts, part_count, point_calls


REUSE_GRADIENT_S = 10.0  # see Objective._call
FORWARD_MODE_MAX_PARAMS = 5  # autodiff="auto" takes forward mode up to this many parameters


class Objective:
    """The loss between ``target`` and the trial-averaged, smoothed, scaled
    aggregate dipole of ``net`` as a function of the fitted drive parameters
    ``params``, in unconstrained coordinates u (``transform`` maps them into
    their bounds).  The trials' drive draws are fixed at construction (common
    random numbers), so the loss is a deterministic function of u.

    Arguments are ``fit_drives``' (it documents them) and are all checked
    here; the model is built and compiled at the first evaluation.  Each evaluation runs the compiled function for its
    kind -- gradient, one point's forward, a batch of losses, a batch of
    residual waveforms -- and when a trial has more events than the model
    has room for, doubles the room, compiles again and repeats the call.
    On one CPU device with several cores, one point's trials (its gradient
    and forward) are split into parts run at once (``parts.py``).
    ``n_simulations`` counts the trial simulations run (a gradient counts as
    its forward trials).

    ``trials_per_average``: None scores the average of all ``n_trials``;
    k scores each average of k trials (n_trials / k disjoint ones) and takes
    the mean of their losses, i.e. the expected score of a k-trial average,
    its trial-to-trial variance included -- what a k-trial yardstick
    (``score_trials``) measures.

    ``autodiff``: how a gradient is computed.  'reverse': reverse mode
    through the checkpointed scan, a cost that does not grow with the
    number of parameters; 'forward': forward mode, one tangent per
    parameter carried along the run, nothing stored (memory of a few
    states); 'auto' (default): forward mode for up to
    ``FORWARD_MODE_MAX_PARAMS`` parameters, where it is the faster
    (``benchmarks/bench_grad.py``).  Both give the same gradient up to
    rounding."""

    def __init__(self, net, target, params, *, n_trials=1, tstop=170.0, dt=0.025,
                 smooth_window=20.0, scale="fit", loss="rmse", key=None, bounds=None,
                 max_delay=25.0, draws="key", trials_per_average=None, progress=True,
                 autodiff="auto"):
        tstop, dt, names, theta0, free = check_run(net, params, n_trials, tstop, dt, draws,
                                                   smooth_window, max_delay)
        self.n_averages = check_trials_per_average(trials_per_average, n_trials)
        self.loss_kind = loss
        self._loss_fn = loss_function(loss)
        if isinstance(scale, str):
            check_option("scale", scale, ("fit",))
        else:
            scale = check_nonzero("scale (or 'fit')", scale)
        self.progress = check_bool("progress", progress)
        check_option("autodiff", autodiff, ("auto", "forward", "reverse"))
        check_key(key)
        tgt_t, tgt_v = check_target(target, tstop, dt)
        if scale == "fit" and not np.any(tgt_v):
            raise ValueError("target values are all 0 nAm: with scale='fit' every simulation "
                             "scales to 0, so there is nothing to fit")
        self.free = free
        self.autodiff = autodiff if autodiff != "auto" else (
            "forward" if len(free) <= FORWARD_MODE_MAX_PARAMS else "reverse")
        check_fit_memory(net, n_trials, tstop, dt, 1 + len(free) if self.autodiff == "forward" else 1,
                         reverse=self.autodiff == "reverse")
        self.transform = Transform(free, check_bounds(bounds, free), tstop)
        self._idx = np.array([names.index(n) for n in free])
        check_start(self.transform, free, theta0[self._idx])
        self.net, self.tstop, self.dt, self.n_trials = net, tstop, dt, n_trials
        self.smooth_window, self.scale, self.max_delay = smooth_window, scale, max_delay
        self.target_times, self.target_values = tgt_t, tgt_v
        self.key = jax.random.PRNGKey(0) if key is None else key
        self.times = np.arange(round(tstop / dt) + 1) * dt
        self.target = jnp.asarray(np.interp(self.times, tgt_t, tgt_v))
        self.draws = draws
        self._theta0 = np.asarray(theta0, float)
        self._compiled = None  # built at the first evaluation
        self._grad_s = np.inf  # last steady gradient call (s); inf: none yet, 0: only the compiling one
        self._last = None  # (u bytes, (avg, s, loss)) of the last forward evaluation
        self.n_simulations = 0
        self.u0 = self.transform.to_unconstrained(self._theta0[self._idx])

    def _build(self):
        """The differentiable model, the trials' drive draws and the
        compiled functions (their compilation happens at their first call)."""
        fn, self._gn = dipole_fn(self.net, self.tstop, self.dt, self.max_delay,
                                 forward_mode=self.autodiff == "forward")[:2]
        self._z = trial_draws(self.net, self._gn, self.n_trials, self.tstop, self.draws, self.key)
        self._compiled = self._compile(fn)

    def _compile(self, fn):
        theta0, idx, tgt, loss_fn, tr = self._theta0, self._idx, self.target, self._loss_fn, \
            self.transform
        scale, window, dt, n_avg = self.scale, self.smooth_window, self.dt, self.n_averages

        def scaled(avg):
            if window:
                avg = hamming_smooth(avg, window, dt)
            return avg, (jnp.sum(avg * tgt) / jnp.sum(avg * avg) if scale == "fit" else scale)

        def per_average(dpl):  # (n_avg, n_times) smoothed k-trial averages, (n_avg,) scales
            return jax.vmap(scaled)(dpl.reshape(n_avg, -1, dpl.shape[-1]).mean(axis=1))

        def dipoles(u, z, rows=None):  # rows: the name of a vmap over points u
            theta = jnp.asarray(theta0).at[idx].set(tr.to_constrained(u))
            dpl, overflow = fn(theta, z, rows)
            return dpl, overflow.any()

        def head(dpl):  # the loss of the trials' dipoles; (scale, smoothed average)
            avg, s = scaled(dpl.mean(axis=0))
            if n_avg == 1:
                return loss_fn(s * avg, tgt), (s, avg)
            avgs, ss = per_average(dpl)
            return jax.vmap(lambda a, s_: loss_fn(s_ * a, tgt))(avgs, ss).mean(), (s, avg)

        def objective(u, z, rows=None):
            dpl, overflow = dipoles(u, z, rows)
            val, (s, avg) = head(dpl)
            return val, (s, overflow, avg)

        def residual(dpl):  # of one point's trial dipoles
            avg, s = scaled(dpl.mean(axis=0))
            if n_avg == 1:
                return s * avg - tgt
            avgs, ss = per_average(dpl)
            return ((ss[:, None] * avgs - tgt) / np.sqrt(n_avg)).reshape(-1)

        def losses(us, z):
            val, (_, overflow, _) = jax.vmap(lambda u: objective(u, z, "rows"), axis_name="rows")(us)
            return val, overflow.any()

        def residuals(us, z):
            def one(u):
                dpl, overflow = dipoles(u, z, "rows")
                return residual(dpl), overflow
            res, overflow = jax.vmap(one, axis_name="rows")(us)
            return res, overflow.any()

        def forward_mode_grad(u, z):  # (value, aux), gradient: one tangent per parameter
            val, dval, aux = jvp_along_axes(lambda u_: objective(u_, z), u, has_aux=True)
            return (val, aux), dval

        forward_mode = self.autodiff == "forward"
        n_parts = part_count(self.n_trials)
        grad = jit(forward_mode_grad) if forward_mode else \
            jit(jax.value_and_grad(objective, has_aux=True), reverse_mode=True)
        return dict(forward=jit(objective), grad=grad, losses=jit(losses), residuals=jit(residuals),
                    parts=TrialParts(dipoles, head, n_parts, forward_mode) if n_parts > 1 else None,
                    points=point_calls(dipoles, self.n_trials),
                    heads=dict(losses=jit(jax.vmap(lambda d: head(d)[0])),
                               residuals=jit(jax.vmap(residual))))

    def _call(self, kind, u, z=None):
        """The compiled ``kind`` at ``u``; on event overflow the model's room
        doubles and everything compiles again (rare).  With the trials in
        parts, one point's forward is the parts' forward passes of the
        gradient (no other compile; in forward mode, their passes without
        tangents).  In one call, after gradients that
        run in under REUSE_GRADIENT_S each, one point's forward reuses the
        compiled gradient (its backward pass then costs less than compiling
        the forward); after slower ones the forward compiles (HNN's ERP
        network, 8 trials: ~160 s per gradient, ~4x a forward).  A batch
        of points (losses, residuals) runs in calls of one point and a few
        trials, several at once (``PointCalls``), on one CPU device.  ``z``:
        the trials' drive draws (default: the objective's own)."""
        if self._compiled is None:
            self._build()
        z = self._z if z is None else z
        while True:
            t0 = time.perf_counter()
            parts = self._compiled["parts"]
            if parts is not None and kind in ("grad", "forward"):
                (val, (s, avg)), g, overflow = parts(u, z, grad=kind == "grad")
                out = (val, g) if kind == "grad" else (avg, s, val)
            elif kind == "grad" or (kind == "forward" and self._grad_s < REUSE_GRADIENT_S):
                (val, (s, overflow, avg)), g = self._compiled["grad"](u, z)
                out = (val, g) if kind == "grad" else (avg, s, val)
            elif kind == "forward":
                val, (s, overflow, avg) = self._compiled["forward"](u, z)
                out = (avg, s, val)
            elif self._compiled["points"] is not None:  # losses, residuals
                dpl, overflow = self._compiled["points"](u, z)
                out = self._compiled["heads"][kind](dpl)
            else:
                out, overflow = self._compiled[kind](u, z)
            self.n_simulations += self.n_trials * (u.shape[0] if u.ndim == 2 else 1)
            if not bool(overflow):  # waits for the result
                if kind == "grad":  # the first call's time is mostly compiling
                    self._grad_s = time.perf_counter() - t0 if np.isfinite(self._grad_s) else 0.0
                return out
            if self.progress:
                say("fit: more events than the compiled model has room for; "
                    "compiling it again with twice the room")
            self._gn = model.grow(self._gn)
            self._compiled = self._compile(
                dipole_fn(self.net, self.tstop, self.dt, self.max_delay, self._gn)[0])
            self._grad_s = np.inf

    def value_and_grad(self, u, z=None):
        """(loss, gradient with respect to u) by automatic differentiation
        (``autodiff``), on the objective's trials or on the drive draws ``z``
        (``fresh_draws``)."""
        val, g = self._call("grad", jnp.asarray(u), z)
        return float(val), np.asarray(g)

    def fresh_draws(self, key):
        """Drive draws of ``n_trials`` new trials from ``key``, for
        ``value_and_grad``: new standard normals for the evoked drives' spikes;
        Poisson, bursty and spike-train drives keep the objective's times
        (hnn-core's seeds).  Needs ``draws='key'``."""
        if self.draws != "key":
            raise ValueError("fresh drive draws need draws='key'; with draws='hnn-core' the "
                             "objective's trials are hnn-core's, fixed by their seeds")
        if self._compiled is None:
            self._build()
        return evoked_normals(self._gn, self._z, key)

    def forward(self, u):
        """(average of all the trials, smoothed, unscaled (nAm); its scale) at
        u, cached with the loss for the last point asked."""
        return self._evaluate(u)[:2]

    def loss(self, u):
        """The loss at one point u."""
        return self._evaluate(u)[2]

    def _evaluate(self, u):
        u = np.asarray(u, float)
        if self._last is None or self._last[0] != u.tobytes():
            avg, s, val = self._call("forward", jnp.asarray(u))
            self._last = (u.tobytes(), (np.asarray(avg), float(s), float(val)))
        return self._last[1]

    def losses(self, us, z=None):
        """Losses at the rows of ``us`` (m, d), in one batch (see ``_call``), on the
        objective's trials or on the drive draws ``z`` (``fresh_draws``)."""
        return np.asarray(self._call("losses", jnp.asarray(us), z))

    def residuals(self, us):
        """Residual waveforms scale·sim - target (m, n_times), nAm, at the
        rows of ``us``, in one batch (see ``_call``).  With ``trials_per_average``,
        each row holds every average's residuals, divided by √(number of
        averages): their sum of squares is the mean over the averages of
        each one's, what Levenberg-Marquardt minimises."""
        return np.asarray(self._call("residuals", jnp.asarray(us)))

    def residual(self, u):
        """The residual waveform at one point u, as a row of ``residuals``
        (without ``trials_per_average``: from the cached forward)."""
        if self.n_averages == 1:
            avg, s = self.forward(u)
            return s * avg - np.asarray(self.target)
        return self.residuals(np.asarray(u, float)[None])[0]

    def values(self, u):
        """{name: constrained value} at u."""
        return dict(zip(self.free, np.asarray(self.transform.to_constrained(u)).tolist()))

    def network(self, u):
        """A copy of the network with the drive parameters at u."""
        net = copy.deepcopy(self.net)
        for n, v in self.values(u).items():
            set_drive_parameter(net, n, v)
        return net
