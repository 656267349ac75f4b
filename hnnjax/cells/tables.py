"""NEURON TABLE semantics: rate functions tabulated on a voltage grid.

NEURON builds ``N+1`` entries at ``v_i = vmin + i·Δ`` (``v`` accumulated by
repeated ``+= Δ``), evaluates the exact formulas there, and looks values up by
linear interpolation, clamped at both ends (spec §3).  Reproducing the tables
(not the formulas) is what makes traces match NEURON.
"""
from __future__ import annotations

from typing import Callable

import equinox as eqx
import jax.numpy as jnp
import numpy as np


class RateTable(eqx.Module):
    """Rows of tabulated quantities sharing one voltage grid."""

    values: jnp.ndarray  # (n_quantities, N+1)
    vmin: float = eqx.field(static=True)
    dv: float = eqx.field(static=True)
    n: int = eqx.field(static=True)

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
        """Interpolated quantities at ``v``, a tuple of arrays shaped like ``v``.

        One scalar gather per quantity: XLA on CPU does these several times
        faster than one gather of rows."""
        xi = (v - self.vmin) * (1.0 / self.dv)
        xi = jnp.clip(xi, 0.0, float(self.n))
        i = jnp.minimum(jnp.floor(xi), self.n - 1).astype(jnp.int32)
        theta = xi - i
        out = []
        for row in self.values.astype(v.dtype):
            lo, hi = row[i], row[i + 1]
            out.append(lo + theta * (hi - lo))
        return tuple(out)
