"""The pieces of a fit's objective: the differentiable trial dipoles as a pure
function of the drive parameters, the trials' drive draws, smoothing, losses."""
from __future__ import annotations

import copy

import jax
import jax.numpy as jnp
import numpy as np

from ..grad import model
from ..network.integrate import skips_idle_steps
from ..network.simulate import baseline_renormalize, instantiate_drives


def hamming_smooth(x, window_ms, dt):
    """``Dipole.smooth`` in JAX: unit-sum Hamming window, 'same' convolution."""
    n = int(round(window_ms / dt))
    w = np.hamming(n)
    return jnp.convolve(x, jnp.asarray(w / w.sum(), x.dtype), mode="same")


def dipole_fn(net, tstop, dt=0.025, max_delay=25.0, gn=None, skip_idle=None, forward_mode=False):
    """A pure function theta, z (n_trials, ...) -> (aggregate dipoles
    (n_trials, n_steps + 1), nAm, baseline renormalised as ``simulate_dipole``;
    overflow flags), with the model, parameter names and current values.
    ``gn``: a model already built from ``net`` (e.g. grown by ``model.grow``).
    ``skip_idle``: skip the local events' work at steps where none is due
    (``grad.delivery``; default: on one CPU device, ``skips_idle_steps``).
    The function's ``row_axis`` names a ``vmap`` over parameter sets around
    it, if any: then a step is skipped only when no trial of any set has an
    event due.  ``forward_mode``: the model for ``jax.jvp`` (no reverse
    mode; ``model.forward_mode``), whose tangents are carried through the
    trials one after another (``lax.map``) while its values alone run the
    trials batched: 4 trials of the somato loss with 3 tangents run 1.38x
    faster one at a time (``benchmarks/README.md``), the forward 1.7x slower."""
    if gn is None:
        gn, names, theta0, n_steps = model.build(net, tstop, dt, max_delay=max_delay)
    else:
        (names, theta0), n_steps = model.drive_parameters(net), int(round(tstop / dt))
    gn = model.forward_mode(gn) if forward_mode else gn
    times = np.arange(n_steps + 1) * dt
    n_pyr = net.mesh_shape[0] * net.mesh_shape[1]
    l2_off, l5_off = baseline_renormalize(times, np.zeros_like(times), np.zeros_like(times), n_pyr)

    skip = skips_idle_steps() if skip_idle is None else skip_idle

    def one(theta, z, axes, quiet_first=False):
        dip, _, overflow = model.run(gn, theta, z, n_steps, dt, skip_idle=skip, batch_axis=axes,
                                     quiet_first=quiet_first)
        raw = jnp.concatenate([jnp.zeros((1, 2), dip.dtype), dip])
        agg = (raw[:, 0] + l2_off) + (raw[:, 1] + l5_off)
        return agg * 1e-6, overflow

    def fn(theta, z, row_axis=None):
        axes = ("trials",) if row_axis is None else ("trials", row_axis)
        return jax.vmap(lambda zi: one(theta, zi, axes), axis_name="trials")(z)

    if gn.forward_mode:
        fn = _tangents_trial_by_trial(fn, one)
    return fn, gn, names, theta0, times


def _tangents_trial_by_trial(fn, one):
    """``fn`` whose JVP runs the trials one after another, each with all its
    tangents: the run's state and tangents of one trial stay small enough
    for the cache, which a batch of trials and tangents outgrows."""
    fn = jax.custom_jvp(fn, nondiff_argnums=(2,))

    @fn.defjvp
    def jvp(row_axis, primals, tangents):
        theta, z = primals
        axes = None if row_axis is None else (row_axis,)
        (dip, overflow), (d_dip, _) = jax.lax.map(
            lambda zi: jax.jvp(lambda th: one(th, zi, axes, quiet_first=True), (theta,),
                               (tangents[0],)), z)
        return (dip, overflow), (d_dip, np.zeros(overflow.shape, jax.dtypes.float0))
    return fn


def trial_draws(net, gn, n_trials, tstop, draws="key", key=None):
    """The drive draws z (n_trials, ...) ``fit_drives`` uses, fixed over a
    fit.  Evoked drives: standard normals from ``key`` (``draws='key'``) or
    those of hnn-core's seeded drive times (``draws='hnn-core'``: t = mu +
    sigma·z, the trials ``simulate_dipole`` runs).  Poisson, bursty and
    spike-train drives: hnn-core's seeded times of those trials either way."""
    gauss = np.asarray(gn.cell_gauss)
    if draws == "key" and gauss.all():
        return jnp.stack([model.draw_z(gn, k) for k in jax.random.split(key, n_trials)])
    trial_times = instantiate_drives(copy.deepcopy(net), tstop, n_trials)
    zs = [model.z_from_times(net, gn, t) for t in trial_times]
    width = max(zt.shape[1] for zt in zs)
    z = np.stack([np.pad(zt, ((0, 0), (0, width - zt.shape[1])), constant_values=model.PAD)
                  for zt in zs])
    return evoked_normals(gn, z, key) if draws == "key" else jnp.asarray(z)


def evoked_normals(gn, z, key):
    """``z`` with its evoked drives' spike slots replaced by standard normals
    from ``key``; the other drives' entries kept."""
    evoked = np.asarray(gn.cell_gauss)[:, None] & (np.arange(z.shape[-1]) < gn.max_spikes)
    return jnp.where(evoked, jax.random.normal(key, z.shape, jnp.asarray(z).dtype), z)


def loss_function(kind):
    """'rmse' (nAm), 'corr' (1 - Pearson correlation) or a callable (sim, target)."""
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
