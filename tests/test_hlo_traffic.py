"""benchmarks/_hlo.py's traffic estimate on compiled programs whose traffic
is known: an elementwise step, a row written into a big buffer in place, a
look-up in a small table, a conditional."""
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "benchmarks"))
from _hlo import bytes_per_step  # noqa: E402

N, ROWS = 4096, 512


def estimate(step, *carry):
    """Bytes of one step of ``step``'s loop: the program's estimate at 32
    steps less that at 16 (what runs outside the loop cancels), per step."""
    def total(n):
        fn = jax.jit(lambda *c: lax.fori_loop(0, n, step, c))
        return bytes_per_step(fn.lower(*carry).compile().as_text(), 1)
    return (total(32) - total(16)) / 16


def test_an_elementwise_step_reads_its_operands_and_writes_its_result_once():
    x, y = jnp.ones(N, jnp.float32), jnp.ones(N, jnp.float32)

    got = estimate(lambda i, c: (c[0] * 1.5 + c[1], c[1]), x, y)
    assert got == pytest.approx(3 * 4 * N, abs=64)  # reads x and y, writes x


def test_a_row_written_in_place_counts_the_row_not_the_buffer():
    buf, row = jnp.zeros((ROWS, N), jnp.float32), jnp.ones(N, jnp.float32)

    got = estimate(lambda i, c: (lax.dynamic_update_index_in_dim(c[0], c[1] * 2.0, i, 0), c[1]),
                   buf, row)
    assert got == pytest.approx(2 * 4 * N, abs=64)  # the row read and written, not the 8 MiB buffer


def test_a_gather_from_a_small_table_counts_the_table_at_most():
    table, idx = jnp.asarray(np.linspace(0, 1, 64), jnp.float32), jnp.zeros(N, jnp.int32)
    x = jnp.ones(N, jnp.float32)

    got = estimate(lambda i, c: (c[0] + c[1][(c[2] + i) % 64], c[1], c[2]), x, table, idx)
    assert got == pytest.approx(3 * 4 * N + 4 * 64, abs=64)  # x, idx read, x written; the table once


def test_a_conditional_counts_its_costlier_branch():
    x, y = jnp.ones(N, jnp.float32), jnp.ones(N, jnp.float32)

    def step(i, c):
        x = lax.cond(i % 2 == 0, lambda: c[0] * 1.5 + c[1], lambda: c[0])  # reads x and y, or nothing
        return x, c[1]

    assert estimate(step, x, y) == pytest.approx(3 * 4 * N, abs=64)
