"""``TrialParts``: one point's loss and gradient with its trials split into
equal parts, the parts' compiled calls run at the same time, one per core on
one CPU device (``calls_at_once``): one compiled call keeps about one core
busy (``benchmarks/bench_fit_parts.py``).

The loss depends on all trials through their average, so the gradient goes
in three steps: each part's forward pass (``jax.vjp``: its trial dipoles and what its
backward pass needs; in forward mode ``jax.jvp``: the dipoles and their
derivatives along every parameter), the loss and its cotangent with respect
to every trial's dipole, each part's backward pass (in forward mode, the
cotangent times the derivatives).  The parts' gradients are added in
part order, so a run is reproducible; it differs from one call over all
trials only in that order (~1e-15 relative).

A batch of points (CMA-ES, grids, Levenberg-Marquardt) stays one call: split
into parts it ran no faster (9 points of 170 ms, 5 + 5 at once: 0.91x), nor
in calls of one point and two trials, two at once (HNN's ERP network, 6
points x 8 trials: 1.00x; 9 points x 1 trial: 1.00x; the somato network
0.99x; 2026-12-07, ``benchmarks/README.md``).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np

from .._jit import jit
from .._host import calls_at_once
from ..grad.tangents import jvp_along_axes


def part_count(n_trials):
    """Parts to split ``n_trials`` into: the largest count up to
    ``calls_at_once()`` that divides them evenly (equal parts share one
    compiled program); 1 where that is 1."""
    return max(k for k in range(1, min(calls_at_once(), n_trials) + 1) if n_trials % k == 0)


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
