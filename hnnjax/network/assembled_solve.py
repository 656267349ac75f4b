"""Step 3's matrix assembly and step 4's tree solve in one Pallas kernel.

On a GPU a thousand-trial step is bound by memory traffic.  Assembled by
XLA, a pyramidal cell type's diagonal and right-hand side are written out,
read by the solve kernel, whose ΔV is written out and read again for
V^{n+1} = V^n + ΔV: six per-node arrays a step.  Here one kernel reads the
voltages, the carried channel currents (``kernel.carries_currents``) and
the synaptic conductances, assembles the system in registers, solves it
(``tree_solve.rows_solve``) and writes V^{n+1}.  The arithmetic is
``kernel.type_step``'s, operation for operation and in its order (the
synapse and child sums over ``RowSums``' own index tables, their padding's
zeros added too): op by op it gives the same bits
(``tests/test_assembled_solve.py``).  Compiled, a compiler may contract a
multiply and an add into one fused multiply-add inside the kernel where
the same operations sat in two kernels (XLA's CPU compiler does): results
may differ in the last bits.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .tree_solve import rows_solve


class Assembly(NamedTuple):
    """One cell type's static plan of the assembled solve: the index tables
    of its synapse and child sums (``row_sums.RowSums``': the same lists, in
    the same order, padded with the number of rows summed over, a zero) and
    its constant columns, whose values the kernel holds as literals
    (loaded, every row is one more memory access for Triton's coalescing
    pass to relate to the rest of the kernel, a compile time quadratic in
    them)."""

    syn_node: tuple  # node of each synapse site (``syn_v``)
    seg_syn: tuple  # (n_seg, k) synapse sites of each segment (``seg_syn``)
    child_sum: tuple  # (n_nodes, k') children of each node (``child_sum``)
    inv_r: tuple  # (n_nodes,) µS to the parent (0 for the root)
    sum_inv_r: tuple  # (n_nodes,) µS, Σ over all neighbours
    area_f: tuple  # (n_seg,) 1e-2·area: mA/cm² -> nA
    cap: tuple  # (n_seg,) nF
    syn_e: tuple  # (n_sites,) mV

    @classmethod
    def of(cls, syn_v, seg_syn, child_sum, inv_r, sum_inv_r, area_f, cap, syn_e):
        """From the type's ``RowSums`` (index tables still NumPy) and constants."""
        table = lambda rs: tuple(tuple(int(j) for j in row) for row in np.asarray(rs.index))
        flat = lambda a: tuple(float(x) for x in np.ravel(a))
        return cls(tuple(int(i) for i in np.asarray(syn_v.index)[:, 0]), table(seg_syn), table(child_sum),
                   *map(flat, (inv_r, sum_inv_r, area_f, cap, syn_e)))

    def constants(self, dtype, dt):
        """The constant columns' rows at ``dtype``; cap/dt (µS) as XLA
        computes ``cap / dt`` for a constant dt: times its reciprocal."""
        c = lambda a: np.asarray(a, np.float64).astype(dtype)
        return c(self.inv_r), c(self.sum_inv_r), c(self.area_f), c(self.cap) * (c(1.0) / c(dt)), c(self.syn_e)


def _row_sum(rows, items, zero):
    """``RowSums``' sum of one output row: its items in order, the padding
    (index ``len(rows)``) as zeros."""
    picked = [zero if j == len(rows) else rows[j] for j in items]
    out = picked[0]
    for x in picked[1:]:
        out = out + x
    return out


def assemble_rows(order, parent, plan, const, v, i_dens, g_dens, g_syn, i_clamp, zero):
    """ΔV from rows (one per node, segment or synapse site) of V, the
    channel currents (mA/cm², S/cm²), the synaptic conductances (µS) and
    the clamp current (nA; None: no clamp), ``plan`` the ``Assembly`` and
    ``const`` its constant columns' rows (``Assembly.constants``):
    ``kernel.type_step``'s assembly and solve, row by row."""
    inv_r, sum_inv_r, area_f, cap_dt, syn_e = const
    n, n_seg = len(order), len(plan.seg_syn)
    i_syn = [g_syn[k] * (v[node] - syn_e[k]) for k, node in enumerate(plan.syn_node)]
    i_seg, g_seg = [], []
    for s, sites in enumerate(plan.seg_syn):
        i = area_f[s] * i_dens[s] + _row_sum(i_syn, sites, zero)
        i_seg.append(i if i_clamp is None else i - i_clamp[s])
        g_seg.append(area_f[s] * g_dens[s] + _row_sum(g_syn, sites, zero))
    flow = [inv_r[r] * (v[parent[r]] - v[r]) for r in range(n)]
    rhs, diag = [], []
    for r in range(n):
        axial = flow[r] - _row_sum(flow, plan.child_sum[r], zero)
        rhs.append(axial - (i_seg[r] if r < n_seg else zero))
        diag.append(sum_inv_r[r] + (cap_dt[r] + g_seg[r] if r < n_seg else zero))
    return rows_solve(order, parent, [-o for o in inv_r], diag, rhs)


def assembled_solve(ta, v, i_dens, g_dens, g_syn, i_clamp, dt, interpret=False):
    """V^{n+1} (n_nodes, n_cells) of one cell type: ``kernel.type_step``'s
    assembly and solve in one Pallas (Triton) kernel, one thread per cell
    column (trial and cell under ``vmap``), planned by ``ta.assembly``.
    ``i_clamp``: (n_seg, n_cells) nA, or None where the type has no clamp."""
    from jax.experimental import pallas as pl
    from jax.experimental.pallas import triton as plgpu

    n, plan = ta.n_nodes, ta.assembly
    cols, dtype = v.shape[1], v.dtype
    block = min(128, pl.next_power_of_2(cols))
    const = plan.constants(dtype, dt)
    columns = [v, i_dens, g_dens, g_syn] + ([] if i_clamp is None else [i_clamp])

    def kernel(*refs):
        col_refs, out_ref = refs[:-1], refs[-1]
        # Triton does not bound a block's accesses: columns past ``cols`` are
        # masked, read as zeros (a positive diagonal) and never written
        ok = (pl.program_id(0) * block + lax.iota(np.int32, block) < cols)[None, :]
        load = lambda ref, i: plgpu.load(ref.at[pl.ds(i, 1)], mask=ok, other=0.0)
        v_r, i_r, g_r, gs_r, *clamp = [[load(ref, i) for i in range(ref.shape[0])] for ref in col_refs]
        dv = assemble_rows(ta.tree_order, ta.tree_parent, plan, const, v_r, i_r, g_r, gs_r,
                           clamp[0] if clamp else None, jnp.zeros((1, block), dtype))
        for i in range(n):
            plgpu.store(out_ref.at[pl.ds(i, 1)], v_r[i] + dv[i], mask=ok)

    spec = lambda rows: pl.BlockSpec((rows, block), lambda j: (0, j))
    return pl.pallas_call(
        kernel, out_shape=jax.ShapeDtypeStruct((n, cols), dtype), grid=(pl.cdiv(cols, block),),
        in_specs=[spec(a.shape[0]) for a in columns], out_specs=spec(n), interpret=interpret, name="assembled_solve",
        compiler_params=plgpu.CompilerParams(num_warps=4))(*columns)
