"""NEURON TABLE semantics: rate functions tabulated on a voltage grid.

NEURON builds ``N+1`` entries at ``v_i = vmin + i·Δ`` (``v`` accumulated by
repeated ``+= Δ``), evaluates the exact formulas there, and looks values up by
linear interpolation, clamped at both ends (spec §3).  Reproducing the tables
(not the formulas) is what makes traces match NEURON.
"""
from __future__ import annotations

from functools import partial
from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


class RateTable(eqx.Module):
    """Rows of tabulated quantities sharing one voltage grid.

    ``forward_mode``: the look-up's tangent is each quantity's slope on its
    interval times the voltage's tangent, the slope computed once and shared
    by every tangent (``jax.jvp`` along several directions at once), where
    JAX's own rule carries each tangent through the clip and the
    interpolation (a 4-trial somato forward-mode gradient of 3 parameters
    ran 1.05x faster, ``benchmarks/README.md``).  The values are the same
    bits either way; a tangent of the table itself (the models' tables are
    constants) is carried too."""

    values: jnp.ndarray  # (n_quantities, N+1)
    vmin: float = eqx.field(static=True)
    dv: float = eqx.field(static=True)
    n: int = eqx.field(static=True)
    forward_mode: bool = eqx.field(static=True, default=False)

    @classmethod
    def build(cls, fn: Callable[[float], tuple], vmin: float, vmax: float, n: int):
        dv = (vmax - vmin) / n
        v = vmin
        rows = []
        for _ in range(n + 1):
            rows.append(fn(v))
            v += dv
        return cls(values=np.asarray(rows, dtype=np.float64).T, vmin=vmin, dv=dv, n=n)

    def __call__(self, v):
        """Interpolated quantities at ``v``, a tuple of arrays shaped like ``v``."""
        values = jnp.asarray(self.values, v.dtype)
        if self.forward_mode:
            return _lookup_slope_tangent(self.vmin, self.dv, self.n, values, v)
        return _lookup(self.vmin, self.dv, self.n, values, v)[0]


def _lookup(vmin, dv, n, values, v):
    """The interpolated quantities at ``v`` and their slopes' pieces: the
    rows' ``lo``, ``hi`` and whether ``v`` lies inside the grid.

    Two scalar gathers per quantity, ``row[:-1]`` and ``row[1:]`` at one
    unsigned index (``lo``, ``hi``): XLA on CPU does these several times
    faster than one gather of rows, and shares the index work between them
    (1.10x the float32 batch-8 somato step, 1.03x float64, against
    ``row[i]``, ``row[i + 1]`` with a signed index; same bits)."""
    xi = (v - vmin) * (1.0 / dv)
    inside = (xi >= 0.0) & (xi <= float(n))
    xi = jnp.clip(xi, 0.0, float(n))
    lower = jnp.minimum(jnp.floor(xi), n - 1)
    i = lower.astype(jnp.uint32)
    theta = xi - lower
    rows = [_ends(row, i) for row in values]
    return tuple(lo + theta * (hi - lo) for lo, hi in rows), rows, inside, i, theta


def _ends(row, i):
    return row[:-1].at[i].get(mode="promise_in_bounds"), row[1:].at[i].get(mode="promise_in_bounds")


def _lookup_at(row, i, theta):
    lo, hi = _ends(row, i)
    return lo + theta * (hi - lo)


@partial(jax.custom_jvp, nondiff_argnums=(0, 1, 2))
def _lookup_slope_tangent(vmin, dv, n, values, v):
    return _lookup(vmin, dv, n, values, v)[0]


def _lookup_jvp(vmin, dv, n, primals, tangents):
    values, v = primals
    d_values, d_v = tangents
    out, rows, inside, i, theta = _lookup(vmin, dv, n, values, v)
    zero = jax.custom_derivatives.SymbolicZero
    terms = [[] for _ in out]
    if not isinstance(d_v, zero):
        # d/dv of lo + ((v - vmin)/dv - lower)·(hi - lo), zero where v is clipped
        for t, (lo, hi) in zip(terms, rows):
            t.append(jnp.where(inside, (hi - lo) * (1.0 / dv), 0.0) * d_v)
    if not isinstance(d_values, zero):  # the models' tables are constants; for completeness
        for t, row in zip(terms, d_values):
            t.append(_lookup_at(row, i, theta))
    return out, tuple(sum(t[1:], t[0]) if t else jnp.zeros_like(o) for t, o in zip(terms, out))


_lookup_slope_tangent.defjvp(_lookup_jvp, symbolic_zeros=True)
