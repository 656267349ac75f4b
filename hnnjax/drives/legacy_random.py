"""NumPy's legacy ``RandomState(seed)`` draws for many seeds at once.

hnn-core seeds one ``RandomState`` per drive cell and trial, and reseeding a
Mersenne Twister (624 words) costs more than the few draws each cell makes:
~1.3 µs per cell, 1,045 cells per trial for HNN's ERP file.  Output k < 227
of a freshly seeded MT19937 depends only on seeding words k, k + 1 and
k + 397, so the first outputs of every seed are computed together by a
small jitted kernel on the CPU (0.1 µs per seed).  Doubles and Gaussians
(Marsaglia's polar method) follow NumPy's legacy C code operation for
operation, as do exponentials built from them (-log(1 - u)); logarithms go
through ``log`` here, i.e. ``math.log``, the C library's ``log`` that code
calls.  So each draw is bit-identical to
``RandomState``'s; a seed whose draws need more outputs than were computed
is flagged, and the caller draws it with ``RandomState`` itself.
"""
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .._jit import jit

MAX_DRAWS = 112  # doubles of 2 outputs each; outputs k < 227 come from the seeding words alone
_CHUNK = 8192  # seeds per kernel call (one compile per draw bucket)
_MULT = np.uint32(1812433253)  # MT19937's seeding multiplier


@jit(static_argnums=1)
def _kernel(seeds, n_draws):
    """The first ``n_draws`` legacy doubles of MT19937 seeded with each uint32
    seed, shape (n_draws, len(seeds)).  Exact in any float arithmetic: the
    53-bit integer is scaled by powers of two."""
    n_words = 2 * n_draws

    def rec(x, pos):  # seeding word pos -> pos + 1
        return _MULT * (x ^ (x >> 30)) + (pos + np.uint32(1)), x

    x, low = lax.scan(rec, seeds, jnp.arange(n_words + 1, dtype=jnp.uint32))
    x = lax.fori_loop(np.uint32(n_words + 1), np.uint32(397), lambda p, x: rec(x, p)[0], x)
    _, high = lax.scan(rec, x, jnp.arange(397, 397 + n_words, dtype=jnp.uint32))
    y = (low[:-1] & np.uint32(0x80000000)) | (low[1:] & np.uint32(0x7FFFFFFF))
    w = high ^ (y >> 1) ^ jnp.where((y & 1) == 1, np.uint32(0x9908B0DF), np.uint32(0))
    w = w ^ (w >> 11)  # tempering
    w = w ^ ((w << 7) & np.uint32(0x9D2C5680))
    w = w ^ ((w << 15) & np.uint32(0xEFC60000))
    w = w ^ (w >> 18)
    a, b = (w[0::2] >> 5).astype(jnp.float64), (w[1::2] >> 6).astype(jnp.float64)
    return (a * 67108864.0 + b) / 9007199254740992.0


def uniforms(seeds, n):
    """(n, len(seeds)) doubles in [0, 1): the first ``n`` legacy
    ``random_sample`` draws of ``RandomState(seed)`` for each seed in
    [0, 2**32 - 1], draw-major; n <= MAX_DRAWS."""
    if not 0 < n <= MAX_DRAWS:
        raise ValueError(f"n must lie in [1, {MAX_DRAWS}] draws; got {n}")
    seeds = np.asarray(seeds, dtype=np.int64).ravel()
    if seeds.size and (seeds.min() < 0 or seeds.max() > 2**32 - 1):
        raise ValueError("seeds must lie in [0, 2**32 - 1] (NumPy RandomState)")
    bucket = min(MAX_DRAWS, 1 << max(4, (n - 1).bit_length()))  # few compiled shapes
    padded = np.zeros(-(-seeds.size // _CHUNK) * _CHUNK, np.uint32)
    padded[:seeds.size] = seeds
    cpu = jax.devices("cpu")[0]
    out = np.empty((n, padded.size))
    for a in range(0, padded.size, _CHUNK):
        u = np.asarray(_kernel(jax.device_put(padded[a:a + _CHUNK], cpu), bucket))
        if u.dtype != np.float64:
            raise RuntimeError("legacy draws need float64: jax_enable_x64 was switched off "
                               "after importing hnnjax")
        out[:, a:a + _CHUNK] = u[:n]
    return out[:, :seeds.size]


def log(x):
    """Elementwise natural log by the C library (``math.log``), as NumPy's
    legacy distributions compute it (``np.log`` may differ in the last bit)."""
    x = np.asarray(x, dtype=float)
    return np.fromiter(map(math.log, x.ravel().tolist()), float, x.size).reshape(x.shape)


def gaussians(seeds, n, extra_attempts=6):
    """Standard normals: the first ``n`` legacy ``standard_normal`` draws of
    each seed, (n, len(seeds)), and a bool mask of the seeds drawn here.

    Each polar-method attempt takes two doubles and is accepted with
    probability pi/4; an accepted one gives two values (the second is cached
    for the next call).  ``extra_attempts`` rejections are allowed per seed
    beyond the ceil(n / 2) needed; seeds that reject more are flagged False
    (their columns are NaN)."""
    n_pairs = -(-n // 2)
    attempts = min(n_pairs + extra_attempts, MAX_DRAWS // 2)
    seeds = np.asarray(seeds).ravel()
    out = np.full((2 * n_pairs, seeds.size), np.nan)
    if n_pairs > attempts:
        return out[:n], np.zeros(seeds.size, bool)
    u = uniforms(seeds, 2 * attempts)
    x1 = 2.0 * u[0::2] - 1.0
    x2 = 2.0 * u[1::2] - 1.0
    r2 = x1 * x1 + x2 * x2
    accept = (r2 < 1.0) & (r2 != 0.0)
    rank = np.cumsum(accept, axis=0)  # accepted attempts so far, per seed
    ok = rank[-1] >= n_pairs
    cols = np.flatnonzero(ok)
    for j in range(n_pairs):  # the (j + 1)-th accepted attempt of each seed
        k = np.argmax(accept & (rank == j + 1), axis=0)[cols]
        r = r2[k, cols]
        f = np.sqrt(-2.0 * log(r) / r)
        out[2 * j, cols] = f * x2[k, cols]  # returned first
        out[2 * j + 1, cols] = f * x1[k, cols]  # the cached one
    return out[:n], ok
