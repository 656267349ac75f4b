"""The C tree solve (``network/native_solve.py``): built once per folder, the
loop solve's bits under any vmap, and a warned fallback without a compiler."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hnnjax.network import native_solve, tree_solve
from hnnjax.network.compile import compile_network
from hnnjax.network_models import neymotin_2020_model

pytestmark = pytest.mark.skipif(not native_solve.compiler()[1],
                                reason="no C compiler: the loop solve is the CPU default here")


def _tree(n=23, seed=0):
    rng = np.random.default_rng(seed)
    parent = (0,) + tuple(int(rng.integers(0, i)) for i in range(1, n))
    return tuple(range(n)), parent, rng


def test_cpu_default_is_the_native_solve():
    assert native_solve.available()
    assert tree_solve.strategy(platform="cpu") == "native"
    net = neymotin_2020_model(mesh_shape=(2, 2))
    arrays = compile_network(net, 5.0, 0.025, np.float64)[0]
    assert {ta.solver for ta in arrays.types} == {"native"}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bitwise_equal_to_the_loop_under_vmaps(dtype):
    """Shared or per-cell off-diagonals, one or two vmapped axes, leading
    axes only on some arguments: the loop's bits each time."""
    order, parent, rng = _tree()
    n = len(order)
    off_node = jnp.asarray(-rng.uniform(0.1, 1.0, (n, 1)), dtype)
    off_cell = jnp.asarray(-rng.uniform(0.1, 1.0, (3, n, 7)), dtype)
    diag = jnp.asarray(rng.uniform(4.0, 9.0, (2, 3, n, 7)), dtype)
    rhs = jnp.asarray(rng.normal(size=(2, 3, n, 7)), dtype)

    def run(strategy):
        solve = lambda o, d, b: tree_solve.hines_solve(strategy, order, parent, o, d, b)
        one = jax.jit(jax.vmap(solve, in_axes=(None, 0, 0)))(off_node, diag[0], rhs[0])
        cells = jax.jit(jax.vmap(solve))(off_cell, diag[1], rhs[1])
        nested = jax.jit(jax.vmap(jax.vmap(solve, in_axes=(0, 0, None)), in_axes=(None, 0, 0)))(
            off_cell, diag, rhs[:, 0])
        return one, cells, nested

    for got, want in zip(run("native"), run("loop")):
        assert got.dtype == dtype and np.all(np.isfinite(want))
        np.testing.assert_array_equal(got, want)


def test_built_once_per_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(native_solve.ENV, str(tmp_path))
    lib = native_solve._build()
    assert lib.parent == tmp_path and lib.suffix == ".so"
    stamp = lib.stat().st_mtime_ns
    assert native_solve._build() == lib and lib.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [lib.name]  # no temporary file left


def test_without_a_compiler_warns_and_falls_back_to_the_loop(tmp_path, monkeypatch):
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    monkeypatch.setenv(native_solve.ENV, str(tmp_path))
    monkeypatch.setattr(native_solve, "_state", {})
    with pytest.warns(RuntimeWarning, match="slower loop solve.*no C compiler .*no-such-cc"):
        assert tree_solve.strategy(platform="cpu") == "loop"
    assert tree_solve.strategy(platform="cpu") == "loop"  # tried once, warned once
    order, parent, _ = _tree(3)
    with pytest.raises(RuntimeError, match="solver='native' needs the C tree solve"):
        native_solve.solve(order, parent, -jnp.ones((3, 1)), jnp.ones((3, 2)), jnp.ones((3, 2)))


def test_a_compile_error_is_reported(tmp_path, monkeypatch):
    bad = tmp_path / "hines.c"
    bad.write_text("this is not C\n")
    monkeypatch.setattr(native_solve, "SOURCE", bad)
    monkeypatch.setenv(native_solve.ENV, str(tmp_path / "out"))
    with pytest.raises(RuntimeError, match="failed:"):
        native_solve._build()
    assert list((tmp_path / "out").iterdir()) == []
