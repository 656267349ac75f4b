"""A float64 natural log that XLA's CPU backend vectorizes.

XLA compiles a float64 ``log`` for CPU into a scalar call per element (~3 ns;
its ``exp`` is vectorized, ~1 ns), and the Ca reversal potential's log over
every L5 pyramidal segment was ~5 % of a float64 somato step's work, on the
critical path at one trial: with this log that step ran 1.14-1.19x faster,
0.98-1.13x at 2-4 trials (``benchmarks/README.md``).  This is fdlibm's
reduction, x = 2^k (1 + f) with sqrt(2)/2 <= 1 + f < sqrt(2), and its
polynomial in s = f / (2 + f), written in array operations (~1 ns): under
1 ulp from the exact log, and 1 ulp off XLA's for some inputs
(``tests/test_cells_units.py``).  float32, and other platforms, keep
``jnp.log``: theirs is vectorized already.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

# fdlibm's e_log.c constants: ln 2 split in two, and the remez coefficients of
# (log(1 + f) - f + f^2 / 2) / s^3 ... in powers of s^2
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LG = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
       2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
       1.479819860511658591e-01)
_MIN_NORMAL = 2.0 ** -1022


@jax.custom_jvp
def log(x):
    """Natural log: of a float64 array compiled for CPU, the vectorized one
    below; else (other dtypes, other platforms) ``jnp.log``."""
    if x.dtype != jnp.float64:
        return jnp.log(x)
    return lax.platform_dependent(x, cpu=_log_f64, default=jnp.log)


def _log_f64(x):
    """0 and subnormal numbers give -inf (as XLA's CPU ``log``, which reads
    them as 0), negative numbers and NaN give NaN, +inf gives +inf."""
    u = lax.bitcast_convert_type(x, jnp.uint64)
    # shift the mantissa's range to [sqrt(2)/2, sqrt(2)) with k counting the octaves
    hi = (u >> 32) + jnp.uint64(0x3FF00000 - 0x3FE6A09E)
    k = (hi >> 20).astype(jnp.int64) - 0x3FF
    hi = (hi & jnp.uint64(0x000FFFFF)) + jnp.uint64(0x3FE6A09E)
    m = lax.bitcast_convert_type((hi << 32) | (u & jnp.uint64(0xFFFFFFFF)), jnp.float64)
    f = m - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG[1] + w * (_LG[3] + w * _LG[5]))
    t2 = z * (_LG[0] + w * (_LG[2] + w * (_LG[4] + w * _LG[6])))
    dk = k.astype(jnp.float64)
    out = s * (hfsq + (t2 + t1)) + dk * _LN2_LO - hfsq + f + dk * _LN2_HI
    special = jnp.where((x >= 0.0) & (x < _MIN_NORMAL), -jnp.inf,
                        jnp.where(x == jnp.inf, jnp.inf, jnp.nan))
    return jnp.where((x >= _MIN_NORMAL) & (x < jnp.inf), out, special)


@log.defjvp
def _log_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return log(x), dx / x
