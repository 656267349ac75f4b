"""The step as a GPU would compile it, checked without a GPU: the batched
forward and the gradient's step lowered for CUDA (``lowering_platforms``) on
this CPU-only install.  One while loop in the forward (the time scan), none
in the step or its reverse mode, each tree solve one Pallas kernel call (but
the tiny trees', fused with their neighbours) and the forward's listing of due
network-event chunks one more, no matrix products; and the Pallas kernel
(interpret mode) gives the loop solve's bits in a whole network run."""
import dataclasses
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hnnjax as hnn
from hnnjax.grad import model
from hnnjax.grad.delivery import ContinuousDelivery
from hnnjax.network.compile import compile_network, drive_events
from hnnjax.network.grid import run
from hnnjax.network.integrate import initial_carry, make_step
from hnnjax.network.kernel import carries_currents, init_type_state
from hnnjax.network.simulate import instantiate_drives
from hnnjax.network.tree_solve import FUSED_MAX_NODES

TSTOP, DT = 10.0, 0.025
KERNEL = "__gpu$xla.gpu.triton"


def _net():
    net = hnn.jones_2009_model(mesh_shape=(2, 2))
    hnn.add_erp_drives_to_jones_model(net)
    return net


def _forward(net, solver, dtype=np.float32, n_trials=2):
    arrays, drive_tab, _, _, n_steps = compile_network(net, TSTOP, DT, dtype, solver=solver)
    events = drive_events(drive_tab, instantiate_drives(net, TSTOP, n_trials), DT, n_steps, dtype)
    fn = jax.jit(lambda ev: jax.vmap(run, in_axes=(None, 0, None, None))(arrays, ev, n_steps, DT))
    # the kernel solves and one kernel listing the due chunks (``compaction``)
    return fn, events, _kernel_solves(arrays.types) + (arrays.compaction == "pallas")


def _kernel_solves(types):
    """The cell types whose tree solve is a Pallas kernel: those of more than
    ``FUSED_MAX_NODES`` nodes (the basket cells' are unrolled rows)."""
    n = sum(ta.n_nodes > FUSED_MAX_NODES for ta in types)
    assert 0 < n < len(types)  # both kinds in the network under test
    return n


def _counts(text):
    return {k: text.count(k) for k in ("stablehlo.while", KERNEL, "dot_general")}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batched_forward_lowers_for_cuda_to_one_loop_and_kernel_solves(dtype):
    fn, events, n_kernels = _forward(_net(), "pallas", dtype)
    counts = _counts(fn.trace(events).lower(lowering_platforms=("cuda",)).as_text())
    assert counts == {"stablehlo.while": 1, KERNEL: n_kernels, "dot_general": 0}, counts


def test_gradient_step_lowers_for_cuda_without_loops_or_matrix_products():
    net = _net()
    gn, _, theta, n_steps = model.build(net, TSTOP, DT, np.float32, solver="pallas")
    theta = jnp.asarray(theta, jnp.float32)
    z = model.draw_z(gn, jax.random.PRNGKey(0), jnp.float32)
    ev_step, *ev = model.drive_events(gn, theta, z, DT, TSTOP)
    ptr = jnp.searchsorted(ev_step, jnp.arange(n_steps + 1))
    delivery = ContinuousDelivery(gn, ptr, *ev, DT)
    step = make_step(gn.types, delivery, gn.threshold, gn.dipole_layers, DT)
    carry = initial_carry(gn.types, delivery, gn.threshold)

    def voltages(states):  # every type's new voltages (and the dipoles)
        new, (_, dip, _) = step({**carry, "types": states}, 7)
        return dip, tuple(s["v"] for s in new["types"])

    def vjp(states):
        out, back = jax.vjp(voltages, states)
        return back(jax.tree_util.tree_map(jnp.ones_like, out))

    text = jax.jit(vjp).trace(carry["types"]).lower(lowering_platforms=("cuda",)).as_text()
    counts = _counts(text)
    # each kernel solve once forward and once in reverse (λ = M⁻¹ x̄)
    assert counts == {"stablehlo.while": 0, KERNEL: 2 * _kernel_solves(gn.types),
                      "dot_general": 0}, counts


def test_loop_solve_would_put_loops_in_the_step():
    """The guard above can fail: with the fori_loop solve the step has loops."""
    fn, events, _ = _forward(_net(), "loop")
    assert _counts(fn.trace(events).lower(lowering_platforms=("cuda",)).as_text())[
        "stablehlo.while"] > 1


def test_pallas_kernel_gives_the_loop_solves_bits_in_a_network_run():
    net = _net()
    outs = {}
    for solver in ("loop", "pallas_interpret"):
        fn, events, _ = _forward(net, solver, np.float64, n_trials=1)
        outs[solver] = jax.device_get(fn(events))
    spikes, dip = outs["loop"][0], outs["loop"][1]
    assert np.isfinite(dip).all() and np.abs(dip).max() > 0
    np.testing.assert_array_equal(outs["pallas_interpret"][0], spikes)
    np.testing.assert_array_equal(outs["pallas_interpret"][1], dip)


def test_currents_carried_from_the_gate_kernel_give_step_threes_results():
    """The GPU program computes the next step's channel currents after the
    gates and carries them (``kernel.carries_currents``: the pyramidal cells',
    not in the gradient model).  With every type's carried, on a network whose
    cells spike, with the L5 calcium mechanisms, float64: the spikes of
    computing them at step 3, and dipoles, somatic voltages and cai within
    1e-12 of their peaks (the same operations in other fusions: on this CPU
    the L5 results differ after ~5 ms in the last bits, 2.5e-15 of the
    dipole's peak)."""
    assert carries_currents("pallas", 65) and carries_currents("pallas_interpret", FUSED_MAX_NODES + 1)
    assert not carries_currents("pallas", FUSED_MAX_NODES)  # the basket cells' trees
    assert not carries_currents("native", 65) and not carries_currents("loop", 65)
    net = hnn.jones_2009_model(mesh_shape=(2, 2))
    w = {name: 0.02 for name in net.cell_types}
    net.add_evoked_drive("early", mu=2.0, sigma=0.5, numspikes=1, weights_ampa=w, location="proximal",
                         synaptic_delays={name: 0.1 for name in w}, event_seed=3)
    tstop = 15.0
    arrays, drive_tab, _, _, n_steps = compile_network(net, tstop, DT, np.float64, record_vsec="soma",
                                                       record_ca="soma", solver="loop")
    assert any(ta.has_calcium for ta in arrays.types)
    gpu = [ta.carry_currents for ta in compile_network(net, tstop, DT, np.float64, solver="pallas")[0].types]
    assert gpu == [ta.n_nodes > FUSED_MAX_NODES for ta in arrays.types] and any(gpu) and not all(gpu)
    assert not any(ta.carry_currents for ta in model.build(net, tstop, solver="pallas")[0].types)
    events = drive_events(drive_tab, instantiate_drives(net, tstop, 2), DT, n_steps, np.float64)
    outs = {}
    for carry in (False, True):
        a = dataclasses.replace(arrays, types=tuple(dataclasses.replace(ta, carry_currents=carry)
                                                    for ta in arrays.types))
        assert all(("cur" in init_type_state(ta)) == carry for ta in a.types)
        outs[carry] = jax.device_get(jax.jit(
            lambda ev: jax.vmap(run, in_axes=(None, 0, None, None))(a, ev, n_steps, DT))(events))
    (spikes, dip, traces, overflow), got = outs[False], outs[True]
    assert spikes.sum(axis=(1, 2)).min() > 5 and np.abs(dip).max() > 0
    assert any("ca" in t and t["ca"].size for t in traces)
    np.testing.assert_array_equal(got[0], spikes)
    np.testing.assert_array_equal(got[3], overflow)
    for x, y in zip(jax.tree_util.tree_leaves(got[1:3]), jax.tree_util.tree_leaves((dip, traces))):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-12 * np.abs(y).max())


def test_network_events_scatter_integers_into_the_connection_slots_chunks_can_fill():
    """The step's one colliding scatter adds fixed-point integers (exact in any
    order: no sort where a GPU keeps scatters deterministic, atomics instead)
    into capacity x chunk_width connection slots: no row clear in it, and
    slots no chunk fills point past the buffer (mode drop)."""
    from hnnjax.network.grid import GridDelivery
    arrays, drive_tab, _, _, n_steps = compile_network(_net(), TSTOP, DT, np.float64)
    events = drive_events(drive_tab, instantiate_drives(_net(), TSTOP, 1), DT, n_steps, np.float64)
    delivery = GridDelivery(arrays, jax.tree_util.tree_map(lambda x: x[0], events))
    carry = delivery.init(jnp.zeros(sum(t.n_cells for t in arrays.types)))
    assert carry["pending"].dtype == np.int64
    jaxpr = jax.make_jaxpr(lambda p, r: delivery._schedule(p, r, 7))(carry["pending"], carry["ring"])
    adds = [e for e in jaxpr.eqns if e.primitive.name == "scatter-add"
            and e.invars[2].aval.shape == (arrays.capacity * arrays.chunk_width,)]
    assert len(adds) == 1 and adds[0].invars[2].aval.dtype == np.int64
    assert "FILL_OR_DROP" in str(adds[0].params["mode"])
    assert not [e for e in jaxpr.eqns if e.primitive.name == "scatter-add"
                and jnp.issubdtype(e.invars[2].aval.dtype, jnp.floating)]
    ring = carry["ring"].at[7].set(True)  # every cell spikes at step 7
    pending, overflow = delivery._schedule(carry["pending"] + 1, ring, 7)
    assert not overflow
    n_rows = arrays.block + 1
    np.testing.assert_array_equal(pending[6 % n_rows], 0)  # the row read at step 6, cleared
    conns = np.zeros_like(np.asarray(pending)) + 1  # every block-0 connection, by hand
    q0 = np.isin(np.arange(len(arrays.conn_dst)), np.concatenate([
        np.arange(s, s + k) for g, s, k in zip(np.asarray(arrays.chunk_group),
                                              np.asarray(arrays.chunk_start),
                                              np.asarray(arrays.chunk_count))
        if g < ring.shape[1]]))
    assert q0.sum() > 100  # connections to deliver
    np.add.at(conns, ((7 + np.asarray(arrays.conn_rem)[q0]) % n_rows, np.asarray(arrays.conn_dst)[q0]),
              np.asarray(arrays.conn_w_fixed)[q0])
    conns[6 % n_rows] = 0
    np.testing.assert_array_equal(pending, conns)


def _float_scatter_adds(text):
    """(unique_indices, line) of each scatter in lowered StableHLO whose
    combiner adds floating-point values."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        if "stablehlo.scatter" in line:
            body = " ".join(lines[i + 1:i + 4])
            if "stablehlo.add" in body and ("tensor<f32>" in body or "tensor<f64>" in body):
                found.append(("unique_indices = true" in line, line))
    return found


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batched_forward_for_cuda_has_no_colliding_float_scatter(dtype):
    """Every floating-point scatter-add of the CUDA-lowered forward has unique
    indices, so XLA's deterministic GPU mode (hnnjax's default) sorts none."""
    fn, events, _ = _forward(_net(), "pallas", dtype)
    found = _float_scatter_adds(fn.trace(events).lower(lowering_platforms=("cuda",)).as_text())
    assert found and all(unique for unique, _ in found), [line for unique, line in found if not unique]


def test_colliding_float_scatter_would_be_caught():
    """The check above can fail: a float scatter-add onto repeated indices."""
    f = jax.jit(lambda x, i: jnp.zeros(4, x.dtype).at[i].add(x))
    text = f.trace(jnp.ones(3), jnp.array([0, 0, 1])).lower(lowering_platforms=("cuda",)).as_text()
    assert [unique for unique, _ in _float_scatter_adds(text)] == [False]


@pytest.mark.parametrize("user_flags, expected", [
    (None, "--xla_gpu_deterministic_ops=true"),
    ("--xla_gpu_deterministic_ops=false", "--xla_gpu_deterministic_ops=false"),
])
def test_gpu_scatter_determinism_flag(user_flags, expected):
    """Colliding network-event scatters sum in a fixed order on a GPU: importing
    hnnjax switches XLA's deterministic mode on, unless the user chose."""
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    if user_flags:
        env["XLA_FLAGS"] = user_flags
    out = subprocess.run([sys.executable, "-c", "import os, hnnjax; print(os.environ['XLA_FLAGS'])"],
                         env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert out == expected


def _triton_memory_ops(solver_kernel_text):
    return [line.split("=", 1)[-1].strip() for line in solver_kernel_text.splitlines()
            if "tt.load" in line or "tt.store" in line]


def _kernel_ir(cols, off_cols=1):
    """The Triton IR of one tree solve (a chain of 4 nodes) over ``cols``
    columns, lowered for CUDA; the off-diagonal (4, ``off_cols``)."""
    from jax._src.lib import triton
    from jax._src.lib.mlir import ir

    from hnnjax.network.tree_solve import hines_solve
    order, parent = (0, 1, 2, 3), (0, 0, 1, 2)
    fn = jax.jit(lambda o, d, b: hines_solve("pallas", order, parent, o, d, b))
    module = fn.trace(jnp.zeros((4, off_cols)), jnp.ones((4, cols)), jnp.ones((4, cols))).lower(
        lowering_platforms=("cuda",)).compiler_ir()
    calls = [op for op in module.body.operations[0].regions[0].blocks[0].operations
             if op.name == "stablehlo.custom_call"]
    assert len(calls) == 1
    with ir.Context() as ctx:
        triton.dialect.register_dialect(ctx)
        return str(ir.Module.parse(ir.StringAttr(calls[0].attributes["mhlo.backend_config"]["ir"])
                                   .value_bytes))


def _masked(op):  # tt.load %ptr, %mask, %other / tt.store %ptr, %value, %mask
    return op.split(":")[0].count("%") == 3


@pytest.mark.parametrize("off_cols", [1, 70])
def test_pallas_kernel_masks_the_columns_past_the_array(off_cols):
    """Triton does not bound a block's loads and stores: the last block of a
    solve whose columns are no multiple of the block (70 of 128 here) must
    mask them, or it reads and writes past the array (NaN on a real GPU).  An
    off-diagonal shared by the columns is one column read whole: its 3
    loads (the root has none) are of one element each, in bounds."""
    ops = _triton_memory_ops(_kernel_ir(70, off_cols))
    assert sum(op.startswith("tt.store") for op in ops) == 4, ops  # the 4 rows of x
    column = [op for op in ops if "tensor<1x128x" in op]
    assert column and all(_masked(op) for op in column), ops
    shared = [op for op in ops if op not in column]
    assert len(shared) == (3 if off_cols == 1 else 0), ops
    assert all(op.startswith("tt.load") and "tensor<1x1x" in op and not _masked(op)
               for op in shared), ops


def test_import_after_a_started_gpu_backend_warns(monkeypatch):
    """hnnjax imported after JAX started a GPU backend cannot switch the
    deterministic scatter on; it says so (a CPU backend needs nothing)."""
    from jax._src import xla_bridge

    class Backend:
        def __init__(self, platform):
            self.platform = platform

    monkeypatch.setattr(xla_bridge, "backends_are_initialized", lambda: True)
    monkeypatch.setattr(xla_bridge, "backends", lambda: {"cuda": Backend("gpu")})
    with pytest.warns(UserWarning, match="deterministic scatter is off"):
        hnn._warn_if_gpu_started()
    monkeypatch.setattr(xla_bridge, "backends", lambda: {"cpu": Backend("cpu")})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hnn._warn_if_gpu_started()
