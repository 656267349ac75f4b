"""A fit's compiled calls split into equal parts run at the same time, one per
core on one CPU device (``calls_at_once``): one compiled call keeps about one
core busy (``benchmarks/bench_fit_parts.py``).

``TrialParts``: one point's loss and gradient, its trials in parts.  The loss
depends on all trials through their average, so the gradient goes in three
steps: each part's forward pass (``jax.vjp``: its trial dipoles and what its
backward pass needs), the loss and its cotangent with respect to every
trial's dipole, each part's backward pass.  The parts' gradients are added in
part order, so a run is reproducible; it differs from one call over all
trials only in that order (~1e-16 relative).

``rows_at_once``: a batch of points (CMA-ES, grids, Levenberg-Marquardt), its
points in parts; each point's result is the same as in one call.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import jax
import numpy as np

from .._jit import jit
from ..network.simulate import calls_at_once


def part_count(n_trials):
    """Parts to split ``n_trials`` into: the largest count up to
    ``calls_at_once()`` that divides them evenly (equal parts share one
    compiled program); 1 where that is 1."""
    return max(k for k in range(1, min(calls_at_once(), n_trials) + 1) if n_trials % k == 0)


class TrialParts:
    """The loss ``head(dipoles(u, z))`` and its gradient with respect to u,
    the trials of ``z`` in ``n_parts`` calls at once.

    ``dipoles(u, z)`` -> (trial dipoles (n, n_times) nAm, overflow flag);
    ``head(dipoles)`` -> (loss, aux)."""

    def __init__(self, dipoles, head, n_parts):
        self.n_parts = n_parts
        self._forward = jit(lambda u, z: jax.vjp(lambda u_: dipoles(u_, z), u, has_aux=True))
        self._backward = jit(lambda pullback, ct: pullback(ct)[0])
        self._head = jit(jax.value_and_grad(head, has_aux=True))

    def __call__(self, u, z, grad=True):
        """((loss, aux), gradient or None, overflow of any part)."""
        n = jax.tree_util.tree_leaves(z)[0].shape[0]
        size = n // self.n_parts
        parts = [jax.tree_util.tree_map(lambda a: a[k * size:(k + 1) * size], z)
                 for k in range(self.n_parts)]
        with ThreadPoolExecutor(self.n_parts, thread_name_prefix="hnnjax-fit") as pool:
            fwd = list(pool.map(lambda p: jax.block_until_ready(self._forward(u, p)), parts))
            overflow = any(bool(aux) for _, _, aux in fwd)
            (val, aux), ct = self._head(jax.numpy.concatenate([d for d, _, _ in fwd]))
            if not grad or overflow:
                return (val, aux), None, overflow
            grads = list(pool.map(
                lambda k: jax.block_until_ready(
                    self._backward(fwd[k][1], ct[k * size:(k + 1) * size])),
                range(self.n_parts)))
        total = grads[0]
        for g in grads[1:]:
            total = total + g
        return (val, aux), np.asarray(total), overflow


def row_parts(m):
    """Parts for a batch of ``m`` points: the most, up to ``calls_at_once()``,
    whose padding to equal parts adds at most a quarter of ``m`` points (two
    parts at once run ~1.4x the points per second of one call, so a padded
    3 points as 2 + 2 would run slower than one call of 3)."""
    return next((k for k in range(min(calls_at_once(), m), 1, -1)
                 if k * -(-m // k) - m <= m / 4), 1)


def rows_at_once(fn, us, z):
    """``fn(us, z)`` -> (per-point results, overflow), the points (rows of
    ``us``) in ``row_parts`` equal parts at once; a part short of rows is
    padded with copies of the last."""
    m = us.shape[0]
    n_parts = row_parts(m)
    if n_parts == 1:
        return fn(us, z)
    size = -(-m // n_parts)
    padded = jax.numpy.concatenate([us, jax.numpy.repeat(us[-1:], n_parts * size - m, axis=0)])
    with ThreadPoolExecutor(n_parts, thread_name_prefix="hnnjax-fit") as pool:
        outs = list(pool.map(lambda k: jax.block_until_ready(fn(padded[k * size:(k + 1) * size], z)),
                             range(n_parts)))
    res = jax.numpy.concatenate([r for r, _ in outs])[:m]
    return res, any(bool(o) for _, o in outs)
