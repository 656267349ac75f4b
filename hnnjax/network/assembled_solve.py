"""Step 3's matrix assembly and step 4's tree solve in one Pallas kernel.

On a GPU a thousand-trial step is bound by memory traffic.  Assembled by
XLA, a pyramidal cell type's diagonal and right-hand side are written out,
read by the solve kernel, whose ΔV is written out and read again for
V^{n+1} = V^n + ΔV: six per-node arrays a step.  Here one kernel reads the
voltages, the carried channel currents (``kernel.carries_currents``) and
the synaptic conductances, assembles the system in registers, solves it
(``tree_solve.rows_solve``) and writes V^{n+1}.  The arithmetic is
``kernel.type_step``'s, operation for operation and in its order (the
synapse and child sums over the same ascending lists, their padding's
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
    """One cell type's static plan of the assembled solve: its synapses'
    nodes and its constant columns, whose values the kernel holds as
    literals (loaded, every row is one more memory access for Triton's
    coalescing pass to relate to the rest of the kernel, a compile time
    quadratic in them)."""

    syn_node: tuple  # node of each synapse site (``kernel.TypeArrays.syn_v``'s pairs)
    inv_r: tuple  # (n_nodes,) µS to the parent (0 for the root)
    sum_inv_r: tuple  # (n_nodes,) µS, Σ over all neighbours
    area_f: tuple  # (n_seg,) 1e-2·area: mA/cm² -> nA
    cap: tuple  # (n_seg,) nF
    syn_e: tuple  # (n_sites,) mV

    @classmethod
    def of(cls, syn_node, inv_r, sum_inv_r, area_f, cap, syn_e):
        flat = lambda a: tuple(float(x) for x in np.ravel(a))
        return cls(tuple(int(i) for i in syn_node), *map(flat, (inv_r, sum_inv_r, area_f, cap, syn_e)))

    def constants(self, dtype, dt):
        """The constant columns' rows at ``dtype``; cap/dt (µS) as XLA
        computes ``cap / dt`` for a constant dt: times its reciprocal."""
        c = lambda a: np.asarray(a, np.float64).astype(dtype)
        return c(self.inv_r), c(self.sum_inv_r), c(self.area_f), c(self.cap) * (c(1.0) / c(dt)), c(self.syn_e)


def _padded(owner, n_owners):
    """Items (positions in ``owner``; None: owned by none) of each owner,
    ascending, padded with None to the longest list: ``row_sums.RowSums``'
    summation order."""
    lists = [[] for _ in range(n_owners)]
    for item, o in enumerate(owner):
        if o is not None:
            lists[o].append(item)
    width = max(1, max(map(len, lists)))
    return [items + [None] * (width - len(items)) for items in lists]


def _row_sum(rows, items, zero):
    """``RowSums``' sum of one output row: its items in order, pads as zeros."""
    picked = [zero if j is None else rows[j] for j in items]
    out = picked[0]
    for x in picked[1:]:
        out = out + x
    return out


def assemble_rows(order, parent, syn_node, n_seg, const, v, i_dens, g_dens, g_syn, i_clamp, zero):
    """ΔV from rows (one per node, segment or synapse site) of V, the
    channel currents (mA/cm², S/cm²), the synaptic conductances (µS) and
    the clamp current (nA; None: no clamp), ``const`` the constant columns'
    rows (``Assembly.constants``): ``kernel.type_step``'s assembly and
    solve, row by row."""
    inv_r, sum_inv_r, area_f, cap_dt, syn_e = const
    n = len(order)
    i_syn = [g_syn[k] * (v[syn_node[k]] - syn_e[k]) for k in range(len(syn_node))]
    seg_lists = _padded(syn_node, n_seg)
    i_seg, g_seg = [], []
    for s in range(n_seg):
        i = area_f[s] * i_dens[s] + _row_sum(i_syn, seg_lists[s], zero)
        i_seg.append(i if i_clamp is None else i - i_clamp[s])
        g_seg.append(area_f[s] * g_dens[s] + _row_sum(g_syn, seg_lists[s], zero))
    flow = [inv_r[r] * (v[parent[r]] - v[r]) for r in range(n)]
    children = _padded([parent[r] if parent[r] != r else None for r in range(n)], n)
    rhs, diag = [], []
    for r in range(n):
        axial = flow[r] - _row_sum(flow, children[r], zero)
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

    n, n_seg, plan = ta.n_nodes, ta.n_seg, ta.assembly
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
        dv = assemble_rows(ta.tree_order, ta.tree_parent, plan.syn_node, n_seg, const, v_r, i_r, g_r,
                           gs_r, clamp[0] if clamp else None, jnp.zeros((1, block), dtype))
        for i in range(n):
            plgpu.store(out_ref.at[pl.ds(i, 1)], v_r[i] + dv[i], mask=ok)

    spec = lambda rows: pl.BlockSpec((rows, block), lambda j: (0, j))
    return pl.pallas_call(
        kernel, out_shape=jax.ShapeDtypeStruct((n, cols), dtype), grid=(pl.cdiv(cols, block),),
        in_specs=[spec(a.shape[0]) for a in columns], out_specs=spec(n), interpret=interpret, name="assembled_solve",
        compiler_params=plgpu.CompilerParams(num_warps=4))(*columns)
