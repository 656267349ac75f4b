"""Stream compaction of the chunks due at a step, as interchangeable strategies.

``first_due(strategy, chunk_group, fired, size)`` lists, in increasing order,
the first ``size`` chunks ``i`` whose group fired (``fired[chunk_group[i]]``),
filled with ``len(chunk_group)``, and counts all of them.  Every strategy
returns the same integers.

- ``"xla"``: ``jnp.nonzero``: the CPU's (a few thunks), but on a GPU XLA
  makes it a prefix sum of reduce-windows and slices, a scatter and a count,
  8 kernels per step (``benchmarks/count_gpu_kernels.py``);
- ``"pallas"``: one Pallas (Triton) kernel for every trial, one program
  per trial: the gather of the flags, the prefix sum in registers and the
  scattered writes of the listed indices (the GPU default, with the tree
  solve ``"pallas"``);
  ``"pallas_interpret"`` runs the same kernel on CPU, for testing.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def for_solver(solver):
    """The compaction that goes with a tree-solve strategy: the Pallas kernel
    with the Pallas solve (a GPU program), else ``"xla"``."""
    return solver if solver in ("pallas", "pallas_interpret") else "xla"


def _xla(chunk_group, fired, size):
    active = fired.reshape(-1)[chunk_group]
    return jnp.nonzero(active, size=size, fill_value=chunk_group.shape[0])[0], active.sum()


def _pallas(chunk_group, fired, size, interpret=False):
    from jax.experimental import pallas as pl
    from jax.experimental.pallas import triton as plgpu

    n = chunk_group.shape[0]
    lanes, slots = pl.next_power_of_2(n), pl.next_power_of_2(size)  # Triton's ranges

    def kernel(group_ref, fired_ref, idx_ref, count_ref):
        i = lax.iota(np.int32, lanes)
        live = i < n
        g = plgpu.load(group_ref.at[pl.ds(0, lanes)], mask=live, other=0)
        active = plgpu.load(fired_ref.at[g], mask=live, other=False) & live
        pos = jnp.cumsum(active.astype(np.int32))  # 1-based slot of each active chunk
        count = jnp.sum(active.astype(np.int32))
        listed = active & (pos <= size)
        # the lanes that write nothing point past the list (a GPU masks them;
        # interpret mode's scatter drops them), so no two writes collide
        plgpu.store(idx_ref.at[jnp.where(listed, pos - 1, size)], i, mask=listed)
        k = lax.iota(np.int32, slots)
        empty = (k >= count) & (k < size)
        plgpu.store(idx_ref.at[jnp.where(empty, k, size)], jnp.full(slots, n, np.int32), mask=empty)
        count_ref[...] = jnp.full((1,), count, np.int32)

    idx, count = pl.pallas_call(
        kernel, out_shape=(jax.ShapeDtypeStruct((size,), np.int32), jax.ShapeDtypeStruct((1,), np.int32)),
        interpret=interpret, name="first_due_chunks", compiler_params=plgpu.CompilerParams(num_warps=4),
    )(chunk_group.astype(np.int32), fired.reshape(-1))
    return idx, count[0]


_IMPLS = {"xla": _xla, "pallas": _pallas, "pallas_interpret": functools.partial(_pallas, interpret=True)}


def first_due(strategy, chunk_group, fired, size):
    """The first ``size`` chunks (indices into ``chunk_group``, (n_chunks,)
    int) whose group is true in ``fired`` (bool, any shape, indexed flat),
    in order and filled with ``n_chunks``; and how many are due."""
    return _IMPLS[strategy](chunk_group, fired, size)
