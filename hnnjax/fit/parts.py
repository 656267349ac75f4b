"""A fit's evaluations in compiled calls run at the same time, one per core on
one CPU device (``calls_at_once``): one compiled call keeps about one core
busy (``benchmarks/bench_fit_parts.py``).

``TrialParts``: one point's loss and gradient with its trials split into
equal parts.

The loss depends on all trials through their average, so the gradient goes
in three steps: each part's forward pass (``jax.vjp``: its trial dipoles and what its
backward pass needs; in forward mode ``jax.jvp``: the dipoles and their
derivatives along every parameter), the loss and its cotangent with respect
to every trial's dipole, each part's backward pass (in forward mode, the
cotangent times the derivatives).  The parts' gradients are added in
part order, so a run is reproducible; it differs from one call over all
trials only in that order (~1e-15 relative).

``PointCalls``: the trial dipoles of a batch of points (CMA-ES, grids,
Levenberg-Marquardt) in calls of one point and a few trials each, as
``simulate_dipole`` runs trials on a CPU: a call of few trials skips more
steps without events and stays in the caches.  The main job's
Levenberg-Marquardt batch (HNN's ERP network, 6 points x 8 trials,
hnn-core's drive draws) ran 1.56-1.66x faster in these calls than in one (interleaved
rounds, 2026-12-07, ``benchmarks/README.md``); ``bench_fit_parts.py --points`` (drive
draws from a key, a sine target) 1.00x on the ERP network and 0.99x on the
somato network: one call of many trials is sometimes as fast, never
faster beyond noise.  The cost is the batch width: ``simulate_dipole``'s
48 ERP trials in one call took 1.58x the time of calls of 2 (1.45x the CPU
time per trial, 1.84 cores busy against 1.98; ``benchmarks/README.md``).  Halving a batch of points into two
calls of many trials had run no faster (9 points of 170 ms, 5 + 5 at once:
0.91x).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np

from .._jit import jit
from .._host import calls_at_once
from ..network.simulate import CPU_BATCH
from ..grad.tangents import jvp_along_axes


def part_count(n_trials):
    """Parts to split ``n_trials`` into: the largest count up to
    ``calls_at_once()`` that divides them evenly (equal parts share one
    compiled program); 1 where that is 1."""
    return _largest_divisor(n_trials, calls_at_once())


def trials_per_call(n_trials):
    """Trials of one point per ``PointCalls`` call: the largest count up to
    ``CPU_BATCH`` that divides ``n_trials`` (one compiled program)."""
    return _largest_divisor(n_trials, CPU_BATCH)


def _largest_divisor(n, most):
    """The largest k <= ``most`` that divides n (at least 1)."""
    return max(k for k in range(1, min(most, n) + 1) if n % k == 0)


def point_calls(dipoles, n_trials):
    """``PointCalls`` where calls at once pay (several cores of one CPU
    device), else None (one call of all points fills a GPU)."""
    return PointCalls(dipoles, n_trials) if calls_at_once() > 1 else None


class PointCalls:
    """``dipoles(u, z)`` at each row of ``us`` (m, d): calls of one point and
    ``trials_per_call`` of its trials each, ``calls_at_once()`` of them at
    the same time.  Returns (dipoles (m, n_trials, n_times), overflow of any
    call)."""

    def __init__(self, dipoles, n_trials):
        self.size = trials_per_call(n_trials)
        self._call = jit(dipoles)

    def __call__(self, us, z):
        n = jax.tree_util.tree_leaves(z)[0].shape[0]
        parts = [jax.tree_util.tree_map(lambda a: a[k:k + self.size], z)
                 for k in range(0, n, self.size)]
        work = [(u, p) for u in us for p in parts]
        with ThreadPoolExecutor(calls_at_once(), thread_name_prefix="hnnjax-fit") as pool:
            out = list(pool.map(lambda up: jax.block_until_ready(self._call(*up)), work))
        dpl = jnp.stack([jnp.concatenate([d for d, _ in out[i:i + len(parts)]])
                         for i in range(0, len(out), len(parts))])
        return dpl, any(bool(o) for _, o in out)


class TrialParts:
    """The loss ``head(dipoles(u, z))`` and its gradient with respect to u,
    the trials of ``z`` in ``n_parts`` calls at once.

    ``dipoles(u, z)`` -> (trial dipoles (n, n_times) nAm, overflow flag);
    ``head(dipoles)`` -> (loss, aux); ``forward_mode``: ``dipoles`` is
    differentiated by ``jax.jvp`` (``Objective``'s ``autodiff``)."""

    def __init__(self, dipoles, head, n_parts, forward_mode=False):
        self.n_parts = n_parts
        self._head = jit(jax.value_and_grad(head, has_aux=True), reverse_mode=True)
        if not forward_mode:
            self._forward = jit(lambda u, z: jax.vjp(lambda u_: dipoles(u_, z), u, has_aux=True),
                                reverse_mode=True)
            self._backward = jit(lambda pullback, ct: pullback(ct)[0], reverse_mode=True)
            self._plain = self._forward
            return

        # dipoles, their derivatives (n_params, n, n_times), overflow
        self._forward = jit(lambda u, z: jvp_along_axes(lambda u_: dipoles(u_, z), u, has_aux=True))
        self._backward = jit(lambda tangents, ct: jnp.tensordot(tangents, ct, axes=ct.ndim))

        def plain(u, z):  # one point's loss alone: no derivatives
            dpl, overflow = dipoles(u, z)
            return dpl, None, overflow
        self._plain = jit(plain)

    def __call__(self, u, z, grad=True):
        """((loss, aux), gradient or None, overflow of any part)."""
        n = jax.tree_util.tree_leaves(z)[0].shape[0]
        size = n // self.n_parts
        parts = [jax.tree_util.tree_map(lambda a: a[k * size:(k + 1) * size], z)
                 for k in range(self.n_parts)]
        with ThreadPoolExecutor(self.n_parts, thread_name_prefix="hnnjax-fit") as pool:
            run = self._forward if grad else self._plain
            fwd = list(pool.map(lambda p: jax.block_until_ready(run(u, p)), parts))
            overflow = any(bool(aux) for _, _, aux in fwd)
            (val, aux), ct = self._head(jnp.concatenate([d for d, _, _ in fwd]))
            if not grad or overflow:
                return (val, aux), None, overflow
            grads = list(pool.map(
                lambda k: jax.block_until_ready(
                    self._backward(fwd[k][1], ct[k * size:(k + 1) * size])),
                range(self.n_parts)))
        return (val, aux), np.asarray(sum(grads[1:], grads[0])), overflow
