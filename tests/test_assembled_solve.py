"""The GPU step's matrix assembly inside the solve kernel
(``network/assembled_solve.py``): ``kernel.type_step``'s arithmetic, which
types use it, the network's results, and the kernel's masked accesses."""
import dataclasses
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hnnjax as hnn
from hnnjax.grad import model
from hnnjax.network.assembled_solve import Assembly, assemble_rows, assembled_solve
from hnnjax.network.compile import compile_network, drive_events
from hnnjax.network.grid import run
from hnnjax.network.kernel import init_type_state, type_step
from hnnjax.network.row_sums import RowSums
from hnnjax.network.simulate import instantiate_drives
from hnnjax.network.tree_solve import FUSED_MAX_NODES

DT = 0.025


def _net(bias=True):
    """A 2x2 Jones network whose cells spike within 15 ms; L5 clamped."""
    net = hnn.jones_2009_model(mesh_shape=(2, 2))
    w = {name: 0.02 for name in net.cell_types}
    net.add_evoked_drive("early", mu=2.0, sigma=0.5, numspikes=1, weights_ampa=w, location="proximal",
                         synaptic_delays={name: 0.1 for name in w}, event_seed=3)
    if bias:
        net.add_tonic_bias(cell_type="L5_pyramidal", amplitude=0.5, t0=1.0, tstop=12.0)
    return net


def _state(ta, seed):
    """A perturbed state with synaptic conductances, and an increment."""
    rng = np.random.default_rng(seed)
    st = jax.tree_util.tree_map(lambda x: x * (1 + 0.1 * rng.standard_normal(x.shape)),
                                init_type_state(ta))
    st["A"] = jnp.asarray(rng.random(st["A"].shape) * 1e-3)
    st["B"] = jnp.asarray(rng.random(st["B"].shape) * 2e-3)
    return st, jnp.asarray(rng.random(st["A"].shape) * 1e-3)


def test_assembled_rows_do_type_steps_arithmetic():
    """Op by op (no compiler between them to contract a multiply-add), the
    rows' assembly and solve give ``type_step``'s V^{n+1} bit for bit, with
    and without the clamp: the same operations in the same order."""
    arrays = compile_network(_net(), 15.0, DT, np.float64, solver="pallas_interpret")[0]
    fused = [ta for ta in arrays.types if ta.assembly is not None]
    assert len(fused) == 2 and sum(ta.clamp_on.shape[0] for ta in fused) == 1
    for k, ta in enumerate(fused):
        st, inc = _state(ta, k)
        for t_mid in (0.5, 5.0):  # the clamp off, then on
            with jax.disable_jit():
                want = type_step(dataclasses.replace(ta, assembly=None, solver="unrolled"),
                                 st, inc, inc, t_mid, DT)["v"]
                rows = lambda x: [x[i:i + 1] for i in range(x.shape[0])]
                on = (ta.clamp_on[:, 0] <= t_mid) & (t_mid < ta.clamp_on[:, 1])
                clamp = jnp.sum(jnp.where(on[:, None, None], ta.clamp_amp, 0.0), axis=0)
                got = assemble_rows(ta.tree_order, ta.tree_parent, ta.assembly,
                                    ta.assembly.constants(np.float64, DT),
                                    rows(st["v"]), rows(st["cur"]["i"]), rows(st["cur"]["g"]),
                                    rows((st["B"] + inc) - (st["A"] + inc)),
                                    rows(clamp) if ta.clamp_on.shape[0] else None,
                                    jnp.zeros((1, ta.n_cells)))
            np.testing.assert_array_equal(st["v"] + jnp.concatenate(got), want)
            assert np.abs(want - st["v"]).max() > 1e-3  # the step moved the voltages


def test_which_types_assemble_in_the_solve_kernel():
    """The pyramidal cells' steps with a Pallas solve, in the simulation
    only, and not where a recording reads the assembly's parts."""
    net = _net()
    flags = lambda solver, **kw: [ta.assembly is not None for ta in
                                  compile_network(net, 15.0, DT, np.float64, solver=solver, **kw)[0].types]
    big = [ta.n_nodes > FUSED_MAX_NODES for ta in compile_network(net, 15.0, DT, np.float64)[0].types]
    assert flags("pallas") == flags("pallas_interpret") == big and any(big) and not all(big)
    assert not any(flags("loop")) and not any(flags("unrolled"))
    assert not any(flags("pallas", record_isec="soma"))
    assert not any(ta.assembly for ta in model.build(net, 15.0, solver="pallas")[0].types)
    net.add_electrode_array("shank", [(0.0, 0.0, 100.0)])
    assert not any(flags("pallas"))


def test_fused_step_gives_the_unfused_results_in_a_network_run():
    """Spikes equal; dipoles, somatic voltages and cai within 1e-12 of their
    peaks.  Compiled, the fused kernel is one XLA computation on this CPU
    (interpret mode), and its multiply-adds may contract otherwise than
    across the unfused kernels: last-bit differences (6e-15 of the dipole's
    peak at 30 ms)."""
    net = _net()
    tstop = 15.0
    arrays, drive_tab, _, _, n_steps = compile_network(net, tstop, DT, np.float64, record_vsec="soma",
                                                       record_ca="soma", solver="pallas_interpret")
    events = drive_events(drive_tab, instantiate_drives(net, tstop, 2), DT, n_steps, np.float64)
    outs = {}
    for fused in (False, True):
        a = dataclasses.replace(arrays, types=tuple(
            dataclasses.replace(ta, assembly=ta.assembly if fused else None) for ta in arrays.types))
        outs[fused] = jax.device_get(jax.jit(
            lambda ev: jax.vmap(run, in_axes=(None, 0, None, None))(a, ev, n_steps, DT))(events))
    (spikes, dip, traces, overflow), got = outs[False], outs[True]
    assert spikes.sum(axis=(1, 2)).min() > 5 and np.abs(dip).max() > 0
    np.testing.assert_array_equal(got[0], spikes)
    np.testing.assert_array_equal(got[3], overflow)
    for x, y in zip(jax.tree_util.tree_leaves(got[1:3]), jax.tree_util.tree_leaves((dip, traces))):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-12 * np.abs(y).max())


def _chain(n_cells):
    """A 4-node chain of 3 segments and its end node, 2 synapse sites."""
    syn_node, nodes = [0, 2], [1, 2, 3]
    plan = Assembly.of(syn_v=RowSums.of_pairs([0, 1], syn_node, 2, 4), seg_syn=RowSums.of_pairs(syn_node, [0, 1], 3, 2),
                       child_sum=RowSums.of_pairs([0, 1, 2], nodes, 4, 4), inv_r=(0.0, 1.0, 2.0, 3.0),
                       sum_inv_r=(1.0, 3.0, 5.0, 3.0), area_f=(1.0, 1.0, 1.0), cap=(0.1, 0.1, 0.1),
                       syn_e=(0.0, -80.0))
    return SimpleNamespace(n_nodes=4, n_seg=3, n_cells=n_cells, tree_order=(0, 1, 2, 3), tree_parent=(0, 0, 1, 2),
                           assembly=plan)


@pytest.mark.parametrize("clamp", [False, True])
def test_assembled_kernel_masks_the_columns_past_the_array(clamp):
    """As the tree solve's kernel: on a GPU the last block's columns past the
    array (70 of 128 here) are masked, every per-column load and store; the
    constant columns are single elements."""
    from jax._src.lib import triton
    from jax._src.lib.mlir import ir

    ta, cols = _chain(70), 70
    z = lambda rows: jnp.zeros((rows, cols), jnp.float32)
    fn = jax.jit(lambda v, i, g, gs, c: assembled_solve(ta, v, i, g, gs, c if clamp else None, DT))
    module = fn.trace(z(4), z(3), z(3), z(2), z(3)).lower(lowering_platforms=("cuda",)).compiler_ir()
    calls = [op for op in module.body.operations[0].regions[0].blocks[0].operations
             if op.name == "stablehlo.custom_call"]
    assert len(calls) == 1
    with ir.Context() as ctx:
        triton.dialect.register_dialect(ctx)
        text = str(ir.Module.parse(ir.StringAttr(calls[0].attributes["mhlo.backend_config"]["ir"])
                                   .value_bytes))
    ops = [line.split("=", 1)[-1].strip() for line in text.splitlines() if "tt.load" in line or "tt.store" in line]
    # V^{n+1} written; v, i, g, g_syn (and the clamp) read (Pallas's store also
    # reads the old value, unused); the constants are literals, not loads
    assert all("tensor<1x128x" in op for op in ops), ops
    assert sum(op.startswith("tt.store") for op in ops) == 4, ops
    assert sum(op.startswith("tt.load") for op in ops) >= 4 + 3 + 3 + 2 + 3 * clamp, ops
    assert all(op.split(":")[0].count("%") == 3 for op in ops), ops


def test_assembled_kernel_solves_the_chain():
    """In interpret mode the kernel's V^{n+1} solves the assembled system
    (a dense check: M (V^{n+1} - V) = rhs)."""
    ta, cols = _chain(5), 5
    rng = np.random.default_rng(1)
    v, i, g, gs, c = (jnp.asarray(rng.standard_normal((r, cols))) for r in (4, 3, 3, 2, 3))
    got = assembled_solve(ta, v, i, g, gs, c, DT, interpret=True)
    plan, par = ta.assembly, np.array(ta.tree_parent)
    inv_r, syn, syn_e = np.array(plan.inv_r), np.array(plan.syn_node), np.array(plan.syn_e)[:, None]
    i_syn = gs * (v[syn] - syn_e)
    i_seg = i + jnp.zeros_like(i).at[syn].add(i_syn) - c
    g_seg = g + jnp.zeros_like(g).at[syn].add(gs)
    flow = inv_r[:, None] * (v[par] - v)
    rhs = flow - jnp.zeros_like(flow).at[par[1:]].add(flow[1:]) - jnp.pad(i_seg, ((0, 1), (0, 0)))
    m = np.diag(np.array(plan.sum_inv_r) + np.pad(np.array(plan.cap) / DT, (0, 1)))
    for r in range(1, 4):
        m[r, par[r]] = m[par[r], r] = -inv_r[r]
    for col in range(cols):
        mc = m + np.diag(np.pad(np.asarray(g_seg[:, col]), (0, 1)))
        np.testing.assert_allclose(mc @ np.asarray(got[:, col] - v[:, col]), rhs[:, col], rtol=1e-10,
                                   atol=1e-10)
