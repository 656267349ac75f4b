"""Fitting drive parameters to a dipole waveform with gradients and optax."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from ..dipole import Dipole
from ..network.simulate import baseline_renormalize, instantiate_drives
from . import model


def expand_names(pattern_list, names):
    """Resolve parameter names; ``'evprox1.*'`` means all of a drive's."""
    out = []
    for p in pattern_list:
        hits = [n for n in names if n.startswith(p[:-1])] if p.endswith(".*") else [p] * (p in names)
        if not hits:
            raise ValueError(f"params: {p!r} matches no parameter; available: {names}")
        out += [h for h in hits if h not in out]
    return out


def set_drive_parameter(net, name, value):
    """Write a fitted value back into ``net`` (drive dict and its connections)."""
    drive_name, key, *ct = name.split(".")
    drive = net.external_drives[drive_name]
    if key in ("mu", "sigma"):
        drive["dynamics"][key] = float(value)
        return
    ct = ct[0]
    if key == "synaptic_delays":
        if not isinstance(drive["synaptic_delays"], dict):
            drive["synaptic_delays"] = {c: drive["synaptic_delays"] for c in drive["target_types"]}
        drive["synaptic_delays"][ct] = float(value)
    else:
        drive[key][ct] = float(value)
    for conn in net.connectivity:
        if conn["src_type"] == drive_name and conn["target_type"] == ct:
            if key == "synaptic_delays":
                conn["nc_dict"]["A_delay"] = float(value)
            elif key == f"weights_{conn['receptor']}":
                conn["nc_dict"]["A_weight"] = float(value)


class _Transform:
    """Unconstrained <-> constrained values: mu in [lo, hi] via a sigmoid;
    sigma, weights and delays positive via softplus (or a sigmoid if bounded)."""

    def __init__(self, names, bounds, tstop):
        lo, hi = [], []
        for n in names:
            kind = n.split(".")[1]
            default = (0.0, tstop) if kind == "mu" else (0.0, np.inf)
            b = bounds.get(n, default)
            if not (b[0] < b[1]) or (kind != "mu" and b[0] < 0):
                raise ValueError(f"bounds[{n!r}] must satisfy 0 <= low < high, got {b}")
            lo.append(b[0])
            hi.append(b[1])
        self.lo, self.hi = np.array(lo), np.array(hi)
        self.bounded = np.isfinite(self.hi)
        self.span = np.where(self.bounded, self.hi - self.lo, 1.0)

    def to_constrained(self, u):
        sig = self.lo + self.span * jax.nn.sigmoid(u)
        pos = self.lo + jax.nn.softplus(u) + 1e-9
        return jnp.where(self.bounded, sig, pos)

    def to_unconstrained(self, x):
        x = np.asarray(x, float)
        p = np.clip((x - self.lo) / self.span, 1e-6, 1 - 1e-6)
        y = np.maximum(x - self.lo - 1e-9, 1e-12)
        return np.where(self.bounded, np.log(p / (1 - p)), np.where(y > 30, y, np.log(np.expm1(y))))


def hamming_smooth(x, window_ms, dt):
    """``Dipole.smooth`` in JAX: unit-sum Hamming window, 'same' convolution."""
    n = int(round(window_ms / dt))
    w = np.hamming(n)
    return jnp.convolve(x, jnp.asarray(w / w.sum(), x.dtype), mode="same")


def dipole_fn(net, tstop, dt=0.025, max_delay=25.0, gn=None):
    """A pure function theta, z (n_trials, ...) -> (aggregate dipoles
    (n_trials, n_steps + 1), nAm, baseline renormalised as ``simulate_dipole``;
    overflow flags), with the model, parameter names and current values.
    ``gn``: a model already built from ``net`` (e.g. grown by ``model.grow``)."""
    if gn is None:
        gn, names, theta0, n_steps = model.build(net, tstop, dt, max_delay=max_delay)
    else:
        (names, theta0), n_steps = model.drive_parameters(net), int(round(tstop / dt))
    times = np.arange(n_steps + 1) * dt
    n_pyr = net.mesh_shape[0] * net.mesh_shape[1]
    l2_off, l5_off = baseline_renormalize(times, np.zeros_like(times), np.zeros_like(times), n_pyr)

    def one(theta, z):
        dip, _, overflow = model.run(gn, theta, z, n_steps, dt)
        raw = jnp.concatenate([jnp.zeros((1, 2), dip.dtype), dip])
        agg = (raw[:, 0] + l2_off) + (raw[:, 1] + l5_off)
        return agg * 1e-6, overflow

    def fn(theta, z):
        return jax.vmap(one, in_axes=(None, 0))(theta, z)

    return fn, gn, names, theta0, times


def trial_draws(net, gn, n_trials, tstop, draws="key", key=None):
    """The drive draws z (n_trials, ...) ``fit_drives`` uses: standard normals
    from ``key`` (``draws='key'``) or those of hnn-core's seeded drive times
    (``draws='hnn-core'``: t = mu + sigma·z, the trials ``simulate_dipole`` runs)."""
    if draws == "key":
        return jnp.stack([model.draw_z(gn, k) for k in jax.random.split(key, n_trials)])
    trial_times = instantiate_drives(copy.deepcopy(net), tstop, n_trials)
    return jnp.stack([jnp.asarray(model.z_from_times(net, gn, t)) for t in trial_times])


def _loss(kind):
    if callable(kind):
        return kind
    if kind == "rmse":
        return lambda sim, tgt: jnp.sqrt(jnp.mean((sim - tgt) ** 2))
    if kind == "corr":
        def corr(sim, tgt):
            a, b = sim - sim.mean(), tgt - tgt.mean()
            return 1.0 - jnp.sum(a * b) / jnp.sqrt(jnp.sum(a * a) * jnp.sum(b * b))
        return corr
    raise ValueError(f"loss must be 'rmse', 'corr' or a callable, got {kind!r}")


@dataclass
class FitResult:
    values: dict  # name -> fitted value
    net: object  # a copy of the network with the fitted drives
    loss_history: list = field(default_factory=list)
    dipole: Dipole | None = None  # trial average, smoothed and scaled (nAm)
    scale: float = 1.0

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


def fit_drives(net, target, params, *, n_trials=1, tstop=170.0, dt=0.025, smooth_window=20.0,
               scale="fit", loss="rmse", optimizer=None, n_steps=50, key=None, bounds=None,
               max_delay=25.0, progress=True, draws="key"):
    """Fit drive parameters of ``net`` so its trial-averaged, smoothed, scaled
    aggregate dipole matches ``target`` (a ``Dipole`` or (times ms, nAm)).

    ``params``: names such as ``'evprox1.mu'``, ``'evdist1.weights_nmda.L2_pyramidal'``
    or ``'evprox1.*'``.  ``scale``: a fixed factor or ``'fit'`` (least squares
    each step).  ``optimizer``: an optax transformation (default Adam, 0.05 on
    the unconstrained parameters).  The trials' drive draws are fixed over the
    fit (common random numbers): ``draws='key'`` takes standard normals from
    ``key``; ``draws='hnn-core'`` takes those of hnn-core's seeds, i.e. the
    trials ``simulate_dipole(net, n_trials=n_trials)`` runs, so a faithful
    simulation of ``result.net`` sees the drive draws the fit saw.  The
    parameters with the lowest loss seen are returned; ``loss_history`` holds
    every step's loss.
    """
    if not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
        raise ValueError(f"n_steps must be an integer >= 1, got {n_steps!r}")
    if not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise ValueError(f"n_trials must be an integer >= 1, got {n_trials!r}")
    if smooth_window is not None and not (0 < smooth_window < tstop):
        raise ValueError(f"smooth_window must be in (0, tstop) ms, got {smooth_window}")
    if not (scale == "fit" or (isinstance(scale, (int, float)) and np.isfinite(scale))):
        raise ValueError(f"scale must be 'fit' or a finite number, got {scale!r}")
    if draws not in ("key", "hnn-core"):
        raise ValueError(f"draws must be 'key' or 'hnn-core', got {draws!r}")
    loss_fn = _loss(loss)
    key = jax.random.PRNGKey(0) if key is None else key
    fn, gn, names, theta0, times = dipole_fn(net, tstop, dt, max_delay)
    free = expand_names(params, names)
    idx = np.array([names.index(n) for n in free])
    tgt_t, tgt_v = (target.times, target.data["agg"]) if isinstance(target, Dipole) else target
    tgt_t, tgt_v = np.asarray(tgt_t, float), np.asarray(tgt_v, float)
    if tgt_t[0] > times[0] + dt or tgt_t[-1] < times[-1] - dt:
        raise ValueError(f"target spans {tgt_t[0]:g}-{tgt_t[-1]:g} ms; it must cover 0-{tstop:g} ms")
    tgt = jnp.asarray(np.interp(times, tgt_t, tgt_v))
    tr = _Transform(free, bounds or {}, tstop)
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
            return loss_fn(s * avg, tgt), (s, overflow)

        return jax.jit(simulate), jax.jit(jax.value_and_grad(objective, has_aux=True))

    compiled = compile_objective(fn)

    def evaluate(u, grad=True):
        """(loss, gradient) or (avg, scale) at u.  A step with more events than
        the model has room for -> twice the room, compiled again (rare)."""
        nonlocal gn, compiled
        while True:
            if grad:
                (val, (_, overflow)), g = compiled[1](u)
                out = (val, g)
            else:
                avg, s, overflow = compiled[0](u)
                out = (avg, s)
            if not bool(overflow):
                return out
            gn = model.grow(gn)
            compiled = compile_objective(dipole_fn(net, tstop, dt, max_delay, gn)[0])

    opt = optimizer or optax.adam(0.05)
    u = jnp.asarray(tr.to_unconstrained(theta0[idx]))
    state = opt.init(u)
    history = []
    best = (np.inf, u)
    bar = tqdm(range(n_steps), desc="fit", disable=not progress)
    for step in bar:
        val, g = evaluate(u)
        bad = [free[i] for i in np.flatnonzero(~np.isfinite(np.asarray(g)))]
        if not np.isfinite(float(val)) or bad:
            raise FloatingPointError(f"non-finite loss ({float(val)}) or gradient at step {step}"
                                     f" for parameters {bad or free}")
        history.append(float(val))
        best = min(best, (float(val), u), key=lambda b: b[0])
        bar.set_postfix(loss=f"{float(val):.4g}")
        updates, state = opt.update(g, state, u)
        u = optax.apply_updates(u, updates)
    avg, s = evaluate(u, grad=False)
    val = loss_fn(s * avg, tgt)
    history.append(float(val))
    if best[0] < float(val):  # return the best parameters seen, not the last
        u = best[1]
        avg, s = evaluate(u, grad=False)
    fitted = np.asarray(tr.to_constrained(u))
    values = dict(zip(free, fitted.tolist()))
    net_fit = copy.deepcopy(net)
    for n, v in values.items():
        set_drive_parameter(net_fit, n, v)
    dpl = Dipole(times, np.asarray(avg) * float(s))
    return FitResult(values=values, net=net_fit, loss_history=history, dipole=dpl, scale=float(s))
