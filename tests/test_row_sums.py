"""Static row sums: the forward is the plain gather sum, and reverse mode is
a gather over the inverse lists (no scatter), equal to autodiff's transpose."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hnnjax.network import row_sums
from hnnjax.network.row_sums import RowSums


@pytest.mark.parametrize("n_out, n_in, n_pairs", [(5, 7, 12), (6, 6, 5), (4, 4, 4)])
def test_row_sums_and_their_reverse_mode_match_the_dense_matrix(n_out, n_in, n_pairs):
    rng = np.random.default_rng(n_pairs)
    out_rows, in_rows = rng.integers(0, n_out, n_pairs), rng.integers(0, n_in, n_pairs)
    rs = RowSums.of_pairs(out_rows, in_rows, n_out, n_in)
    m = np.zeros((n_out, n_in))
    np.add.at(m, (out_rows, in_rows), 1.0)
    x = jnp.asarray(rng.normal(size=(n_in, 3)))
    ct = jnp.asarray(rng.normal(size=(n_out, 3)))
    np.testing.assert_allclose(rs(x), m @ x, rtol=1e-14, atol=1e-14)
    grad = jax.jit(jax.vmap(jax.grad(lambda x: jnp.sum(rs(x) * ct))))(jnp.stack([x, 2 * x]))
    np.testing.assert_allclose(grad, np.stack([m.T @ ct] * 2), rtol=1e-14, atol=1e-14)
    plain = jax.grad(lambda x: jnp.sum(row_sums._sums(x, rs.index, rs.padded[0]) * ct))(x)
    np.testing.assert_allclose(grad[0], plain, rtol=1e-14, atol=1e-14)


def test_reverse_mode_has_no_scatter():
    rs = RowSums.of_pairs(np.array([0, 0, 2]), np.array([1, 3, 3]), 3, 4)
    hlo = jax.jit(jax.grad(lambda x: jnp.sum(rs(x) ** 2))).lower(jnp.ones((4, 2))).as_text()
    assert "gather" in hlo and "scatter" not in hlo
