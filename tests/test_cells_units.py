"""Unit tests of the cell pieces: rates, tables, synapses, geometry, tree solve."""
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hnnjax  # noqa: F401  (enables float64)
from hnnjax.cells.cell_types import cell_types, l5_pyramidal
from hnnjax.cells.channels import HH2, Ar, CaT, nernst_eca
from hnnjax.cells.log64 import log
from hnnjax.cells.morphology import nseg_for_length
from hnnjax.cells.synapses import RECEPTORS
from hnnjax.network.compile import cast_floats
from hnnjax.network import native_solve, tree_solve
from hnnjax.network.tree_solve import hines_solve, hines_solve_forward

FIX = np.load(Path(__file__).parent / "fixtures" / "cells.npz")


def test_nseg_rule():
    assert [nseg_for_length(L) for L in (22.1, 100.0, 102.0, 255.0, 306.0, 680.0)] == [1, 1, 3, 5, 7, 13]


def test_hh2_table_at_grid_points_equals_hand_formula():
    hh = HH2(*(np.ones((1, 1)),) * 4)
    # v = -65 mV is a grid point (vmin -100, Δ = 1): the table holds the exact values
    am = 0.1 * 25.0 / (math.exp(2.5) - 1.0)  # vtrap(25, 10)
    bm = 4.0
    ah, bh = 0.07, 1.0 / (math.exp(3.0) + 1.0)
    minf, mtau, hinf, htau, _, _ = (float(q[0]) for q in hh.table(jnp.array([-65.0])))
    assert minf == pytest.approx(am / (am + bm), rel=1e-12)
    assert mtau == pytest.approx(1.0 / (am + bm), rel=1e-12)  # q10 = 1 at 37 °C
    assert hinf == pytest.approx(ah / (ah + bh), rel=1e-12)
    assert htau == pytest.approx(1.0 / (ah + bh), rel=1e-12)


def test_table_interpolates_linearly_and_clamps():
    ar = Ar(np.ones((1, 1)))
    t = ar.table
    v0 = t.vmin + 10 * t.dv
    lo, hi = np.asarray(t(jnp.array([v0, v0 + t.dv]))[0])
    mid = float(t(jnp.array([v0 + 0.25 * t.dv]))[0][0])
    assert mid == pytest.approx(lo + 0.25 * (hi - lo), rel=1e-12)
    below, above = np.asarray(t(jnp.array([-500.0, 500.0]))[0])
    assert below == pytest.approx(float(t.values[0, 0])) and above == pytest.approx(float(t.values[0, -1]))


def test_cat_and_ar_initial_gates_follow_mod_files():
    v = jnp.full((3, 2), -70.0)
    m, h = CaT(np.ones((3, 1))).init(v, {})
    assert np.all(np.asarray(m) == 0.0) and np.all(np.asarray(h) > 0)
    assert np.all(np.asarray(Ar(np.ones((3, 1))).init(v, {})[0]) == 0.25)


def test_eca_at_rest():
    assert float(nernst_eca(jnp.array(1e-4))) == pytest.approx(132.33, abs=0.01)


@pytest.mark.parametrize("lo,hi", [(1e-300, 1e300), (0.5, 2.0), (100.0, 1e5)])
def test_float64_log_is_within_one_ulp_of_xlas_and_compiles_without_a_scalar_log(lo, hi):
    x = np.exp(np.random.default_rng(0).uniform(np.log(lo), np.log(hi), 200_000))
    fn = jax.jit(log)
    ours, xla = np.asarray(fn(x)), np.asarray(jax.jit(jnp.log)(x))
    assert np.all(np.abs(ours - xla) <= np.spacing(np.abs(xla)))
    assert "log(" not in fn.lower(x).compile().as_text()  # XLA's CPU log: one libm call per element
    special = np.array([0.0, 1e-310, -1.0, np.inf, np.nan, 1.0])
    np.testing.assert_array_equal(fn(special), [-np.inf, -np.inf, np.nan, np.inf, np.nan, 0.0])
    assert jax.grad(log)(3.0) == 1.0 / 3.0
    assert log(jnp.ones(2, jnp.float32)).dtype == jnp.float32


@pytest.mark.parametrize("name,factor", [("ampa", 1.435055183), ("nmda", 1.232399909)])
def test_exp2syn_peak_equals_weight(name, factor):
    syn = RECEPTORS[name]
    assert syn.factor == pytest.approx(factor, rel=1e-8)
    t = np.linspace(0.0, 50.0, 500001)
    g = 0.003 * syn.factor * (np.exp(-t / syn.tau2) - np.exp(-t / syn.tau1))
    assert g.max() == pytest.approx(0.003, rel=1e-8)


@pytest.mark.parametrize("cell", ["L2_pyramidal", "L5_pyramidal", "L2_basket"])
def test_geometry_matches_neuron(cell):
    """Segment areas and ri() against the values NEURON reported for hnn-core's cells."""
    ct = cell_types()[cell]
    sec_rows = np.flatnonzero(FIX["sec_cell_type"] == cell)
    for row in sec_rows:
        name = str(FIX["sec_name"][row])
        segs = np.flatnonzero(FIX["seg_sec_index"] == row)
        nodes = ct.tree.nodes_of(name)
        assert len(nodes) == FIX["sec_nseg"][row] == len(segs)
        np.testing.assert_allclose(ct.tree.area[nodes], FIX["seg_area"][segs], rtol=1e-6)  # NEURON keeps 3-D points in float32
        np.testing.assert_allclose(ct.tree.r_parent[nodes], FIX["seg_ri"][segs], rtol=1e-6)
        end = ct.tree.section_index == ct.section_names.index(name)
        end_node = np.flatnonzero(end)[-1]
        assert ct.tree.r_parent[end_node] == pytest.approx(FIX["sec_ri_end"][row], rel=1e-6)


def test_ar_gradient_matches_neuron():
    ct = l5_pyramidal()
    rows = np.flatnonzero(FIX["sec_cell_type"][FIX["seg_sec_index"]] == "L5_pyramidal")
    names = list(FIX["seg_param_names"])
    by_sec = {}
    for r in rows:
        by_sec.setdefault(str(FIX["sec_name"][FIX["seg_sec_index"][r]]), []).append(
            FIX["seg_params"][r, names.index("gbar_ar")])
    gbar = ct.channels[-1].gbar[:, 0]
    for sec, vals in by_sec.items():
        np.testing.assert_allclose(gbar[ct.tree.segments_of(sec)], vals, rtol=1e-9)


def _l5_system(seed=0):
    ct = l5_pyramidal()
    tree = ct.tree
    rng = np.random.default_rng(seed)
    n, cells = tree.n_nodes, 3
    parent = np.where(tree.parent < 0, 0, tree.parent)
    inv_r = np.where(tree.parent < 0, 0.0, 1.0 / np.where(tree.r_parent > 0, tree.r_parent, 1.0))
    diag = np.zeros((n, cells)) + inv_r[:, None]
    np.add.at(diag, parent[1:], inv_r[1:, None])
    diag += (tree.area > 0)[:, None] * rng.uniform(0.1, 5.0, (n, cells))  # C/dt + g
    rhs = rng.normal(size=(n, cells))
    return tree, parent, inv_r, diag, rhs


# every strategy (Pallas run on CPU; the C kernel where a compiler builds it, test_native_solve.py)
ORDERED = ("loop",) + ("native",) * native_solve.compiler()[1] + ("unrolled", "pallas_interpret")


def _solve(strategy, tree, parent, inv_r, diag, rhs):
    order, par = tuple(range(tree.n_nodes)), tuple(int(p) for p in parent)
    return hines_solve(strategy, order, par, jnp.asarray(-inv_r[:, None]), diag, rhs)


@pytest.mark.parametrize("strategy", ORDERED)
def test_tree_solve_matches_dense_solve(strategy):
    tree, parent, inv_r, diag, rhs = _l5_system()
    x = np.asarray(_solve(strategy, tree, parent, inv_r, jnp.asarray(diag), jnp.asarray(rhs)))
    for c in range(diag.shape[1]):
        M = np.diag(diag[:, c])
        for i in range(1, tree.n_nodes):
            M[i, parent[i]] = M[parent[i], i] = -inv_r[i]
        np.testing.assert_allclose(x[:, c], np.linalg.solve(M, rhs[:, c]), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_tree_solve_strategies_are_bitwise_equal(dtype):
    """The C kernel, unrolled rows and the Pallas kernel do the loop's
    arithmetic in its order: the same bits, vmapped over trials, in both
    precisions."""
    tree, parent, inv_r, diag, rhs = _l5_system()
    diag, rhs = jnp.stack([diag, 2 * diag], dtype=dtype), jnp.stack([rhs, rhs[::-1]], dtype=dtype)
    run = lambda s: np.asarray(jax.jit(jax.vmap(
        lambda d, b: _solve(s, tree, parent, inv_r.astype(dtype), d, b)))(diag, rhs))
    want = run("loop")
    assert want.dtype == dtype and np.all(np.isfinite(want))
    for strategy in ORDERED[1:]:
        np.testing.assert_array_equal(run(strategy), want, err_msg=strategy)


@pytest.mark.parametrize("strategy", ORDERED)
def test_tree_solve_gradient_equals_autodiff_through_the_loops(strategy):
    """The solve's reverse mode (one more tree solve with the same strategy)
    gives the cotangents of diag, rhs and the off-diagonals that autodiff
    through the elimination loops gives, also vmapped over trials with shared
    off-diagonals."""
    tree, parent, inv_r, diag, rhs = _l5_system(2)
    order, par = tuple(range(tree.n_nodes)), tuple(int(p) for p in parent)
    off = jnp.asarray(-inv_r[:, None])
    diag, rhs = jnp.stack([diag, 1.5 * diag]), jnp.stack([rhs, -rhs[::-1]])  # two trials
    probe = jnp.asarray(np.random.default_rng(3).normal(size=diag.shape))

    def loss(solve):
        def f(off, diag, rhs):
            x = jax.vmap(solve, in_axes=(None, 0, 0))(off, diag, rhs)
            return jnp.sum(jnp.sin(x) * probe)
        return f

    plain = lambda o, d, b: tree_solve._loop(order, par, o, d, b)  # no custom VJP
    custom = lambda o, d, b: hines_solve(strategy, order, par, o, d, b)
    want = jax.grad(loss(plain), argnums=(0, 1, 2))(off, diag, rhs)
    got = jax.jit(jax.grad(loss(custom), argnums=(0, 1, 2)))(off, diag, rhs)
    for name, w, g in zip(("off", "diag", "rhs"), want, got):
        assert g.shape == w.shape, name
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12 * float(jnp.abs(w).max()),
                                   err_msg=name)


@pytest.mark.parametrize("strategy", ORDERED)
@pytest.mark.parametrize("moved", ["off", "all"])
def test_tree_solve_forward_mode_equals_autodiff_through_the_loops(strategy, moved):
    """The forward-mode solve's tangent (one more tree solve) is the one
    autodiff through the elimination loops gives, vmapped over trials with
    shared off-diagonals, with every input moving or only the off-diagonals
    (the others' zero tangents skip their work)."""
    tree, parent, inv_r, diag, rhs = _l5_system(2)
    order, par = tuple(range(tree.n_nodes)), tuple(int(p) for p in parent)
    off = jnp.asarray(-inv_r[:, None])
    diag, rhs = jnp.stack([diag, 1.5 * diag]), jnp.stack([rhs, -rhs[::-1]])  # two trials
    rng = np.random.default_rng(4)
    tangents = [jnp.asarray(rng.normal(size=a.shape)) * (moved in (name, "all"))
                for name, a in (("off", off), ("diag", diag), ("rhs", rhs))]

    def run(solve):
        f = lambda o, d, b: jax.vmap(solve, in_axes=(None, 0, 0))(o, d, b)
        primals = (off, diag, rhs)
        if moved == "all":
            return jax.jvp(f, primals, tuple(tangents))
        g = lambda o: f(o, diag, rhs)  # diag, rhs held: symbolic zero tangents
        return jax.jvp(g, (off,), (tangents[0],))

    want_x, want_dx = jax.jit(lambda: run(lambda o, d, b: tree_solve._loop(order, par, o, d, b)))()
    forward = lambda o, d, b: hines_solve_forward(strategy, order, par, o, d, b)
    got_x, got_dx = jax.jit(lambda: run(forward))()
    np.testing.assert_allclose(got_x, want_x, rtol=1e-12)
    assert float(jnp.abs(want_dx).max()) > 0
    np.testing.assert_allclose(got_dx, want_dx, rtol=1e-9,
                               atol=1e-12 * float(jnp.abs(want_dx).max()))


def test_zero_area_nodes_conserve_current():
    """With rhs = 0 at zero-area nodes, the axial currents into them sum to 0."""
    tree, parent, inv_r, diag, rhs = _l5_system(1)
    zero = tree.area == 0
    rhs[zero] = 0.0
    x = np.asarray(_solve("unrolled", tree, parent, inv_r, jnp.asarray(diag), jnp.asarray(rhs)))
    flow = inv_r[:, None] * (x[parent] - x)  # into node from its parent
    net_in = flow.copy()
    np.add.at(net_in, parent[1:], -flow[1:])
    np.testing.assert_allclose(net_in[zero], 0.0, atol=1e-9 * np.abs(flow).max())


def test_uniform_voltage_gives_zero_dipole():
    for ct in cell_types().values():
        assert abs(ct.tree.dipole_weight.sum()) < 1e-9


def test_float32_cast_keeps_integer_indices():
    ct = l5_pyramidal()
    cast = cast_floats((ct.channels[0], np.arange(3)), np.float32)
    assert cast[0].gnabar.dtype == jnp.float32 and cast[1].dtype.kind == "i"


@pytest.mark.parametrize("nodes", ["l5", "tiny"])
def test_pallas_solve_gives_the_loops_bits_for_per_column_off_diagonals_and_tiny_trees(nodes):
    """The Pallas strategy's other paths: an off-diagonal of its own per
    column (not one shared column) and trees of at most ``FUSED_MAX_NODES``
    nodes (unrolled rows, no kernel)."""
    tree, parent, inv_r, diag, rhs = _l5_system()
    order = tuple(range(tree.n_nodes))
    if nodes == "tiny":
        order, parent = order[:tree_solve.FUSED_MAX_NODES], parent[:tree_solve.FUSED_MAX_NODES]
        inv_r, diag, rhs = (a[:len(order)] for a in (inv_r, diag, rhs))
    off = -inv_r[:, None] * np.random.default_rng(5).uniform(0.5, 2.0, diag.shape)
    par = tuple(int(p) for p in parent)
    run = lambda s: np.asarray(jax.jit(lambda o, d, b: hines_solve(s, order, par, o, d, b))(
        off, diag, rhs))
    want = run("loop")
    assert np.all(np.isfinite(want))
    np.testing.assert_array_equal(run("pallas_interpret"), want)
