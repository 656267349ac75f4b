"""Static row sums, ``out[r] = Σ_j x[index[r, j]]``, whose reverse mode is
another static row sum.

The step reads neighbours through fixed indices: each synapse's node
voltage, each segment's synaptic currents, each node's parent voltage and
its children's axial currents.  JAX transposes a gather into a scatter-add,
which XLA runs as a serial loop on CPU that does not vectorise over trials
(a 4-trial gradient ran 1.13x faster without them).  The transpose of a
fixed row sum is a fixed row sum over the inverse lists, so both directions
are gathers: fusible, deterministic, and in a fixed summation order.
Forward mode (``forward_mode``) needs no rule of its own: the tangent of a
gather is the same gather.
"""
from __future__ import annotations

from functools import partial

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


def _padded_lists(owner, item, n_owners, pad):
    """(n_owners, k) table of the items of each owner in ascending order,
    padded with ``pad``, the index of a zero row."""
    owner, item = np.asarray(owner, dtype=np.int64), np.asarray(item, dtype=np.int64)
    counts = np.bincount(owner, minlength=n_owners)
    table = np.full((n_owners, max(1, int(counts.max(initial=0)))), pad)
    order = np.lexsort((item, owner))
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    table[owner[order], rank] = item[order]
    return table


def _sums(x, index, padded):
    xp = jnp.concatenate([x, jnp.zeros((1,) + x.shape[1:], x.dtype)]) if padded else x
    out = xp[index[:, 0]]
    for j in range(1, index.shape[1]):
        out = out + xp[index[:, j]]
    return out


@partial(jax.custom_vjp, nondiff_argnums=(3,))
def _row_sums(x, index, transpose, padded):
    return _sums(x, index, padded[0])


def _row_sums_fwd(x, index, transpose, padded):
    return _sums(x, index, padded[0]), (index, transpose)


def _row_sums_bwd(padded, res, ct):
    index, transpose = res
    return _sums(ct, transpose, padded[1]), None, None


class RowSums(eqx.Module):
    """Rows of ``out`` are sums of rows of ``x`` (n_in, ...) over the pairs
    (out row, x row) it was built from, x rows in ascending order."""

    index: jnp.ndarray  # (n_out, k) int, padded with n_in
    transpose: jnp.ndarray  # (n_in, k') int: the out rows reading each x row, padded with n_out
    padded: tuple = eqx.field(static=True)  # whether index, transpose hold padding
    forward_mode: bool = eqx.field(static=True, default=False)  # plain gathers: jax.jvp's own rule

    @classmethod
    def of_pairs(cls, out_rows, in_rows, n_out, n_in):
        index = _padded_lists(out_rows, in_rows, n_out, n_in)
        transpose = _padded_lists(in_rows, out_rows, n_in, n_out)
        return cls(index=index.astype(np.int32), transpose=transpose.astype(np.int32),
                   padded=(bool((index == n_in).any()), bool((transpose == n_out).any())))

    def __call__(self, x):
        if self.forward_mode:
            return _sums(x, self.index, self.padded[0])
        return _row_sums(x, self.index, self.transpose, self.padded)


_row_sums.defvjp(_row_sums_fwd, _row_sums_bwd)
