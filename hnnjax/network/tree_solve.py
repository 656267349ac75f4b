"""Backward-Euler tree solve (Hines elimination) as interchangeable strategies.

The system of one cell type is ``M x = rhs`` with ``M = diag(d) + off`` on
the (child, parent) pairs, symmetric, one column per cell (and per trial
under ``vmap``).  Every strategy performs the same arithmetic in the same
order: elimination leaves-to-root over the static ``order``, then
substitution root-to-leaves; results are bitwise equal across strategies
(where the compiler keeps IEEE mul/add as written).

- ``"native"``: one call per solve to a C kernel through XLA's FFI
  (``native_solve.py``, built at first use): the CPU default where a C
  compiler works;
- ``"loop"``: ``lax.fori_loop`` over node rows: each iteration is several
  tiny kernels (~1,900 thunks per network step), which a GPU pays as
  launches; on CPU the fastest of the pure-XLA strategies to compile and
  run (``benchmarks/bench_step.py``), and the CPU fallback;
- ``"unrolled"``: the rows unrolled in Python into elementwise work on row
  vectors (~4x fewer thunks, 3-5x the compile time, no faster on CPU);
- ``"pallas"``: one Pallas (Triton) kernel per solve, one thread per column,
  the unrolled rows in registers (the GPU default; on an H200 it gave the
  loop solve's bits, ``benchmarks/bench_gpu.py``); trees of at most
  ``FUSED_MAX_NODES`` nodes as ``"unrolled"``; ``"pallas_interpret"`` runs
  the same kernel on CPU, for testing.

Reverse mode (``hines_solve``) and forward mode (``hines_solve_forward``) are one
more solve with the same strategy (``M`` is symmetric).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import native_solve

STRATEGIES = ("native", "loop", "unrolled", "pallas", "pallas_interpret")


def strategy(name=None, platform=None):
    """The strategy ``name`` (checked), or the platform's default:
    ``"pallas"`` on a GPU, ``"native"`` on CPU where the C kernel builds,
    else ``"loop"``."""
    if name is None:
        platform = platform or jax.default_backend()
        if platform in ("gpu", "cuda", "rocm"):
            return "pallas"
        return "native" if native_solve.available() else "loop"
    if name not in STRATEGIES:
        raise ValueError(f"solver must be one of {STRATEGIES} or None, got {name!r}")
    return name


def _loop(order, parent, off, diag, rhs):
    order_a, parent_a = jnp.asarray(order), jnp.asarray(parent)
    n = len(order)

    def eliminate(k, carry):
        d, b = carry
        i = order_a[n - 1 - k]
        p = parent_a[i]
        f = off[i] / d[i]
        return d.at[p].add(-f * off[i]), b.at[p].add(-f * b[i])

    d, b = lax.fori_loop(0, n - 1, eliminate, (diag, rhs))

    def substitute(k, x):
        i = order_a[k]
        return x.at[i].set((b[i] - off[i] * x[parent_a[i]]) / d[i])

    root = order[0]
    x0 = jnp.zeros_like(b).at[root].set(b[root] / d[root])
    return lax.fori_loop(1, n, substitute, x0)


def rows_solve(order, parent, off, d, b):
    """The Hines arithmetic on Python lists of rows (one entry per node)."""
    d, b = list(d), list(b)
    n = len(order)
    for k in range(n - 1):
        i = order[n - 1 - k]
        p = parent[i]
        f = off[i] / d[i]
        d[p] = d[p] + -f * off[i]
        b[p] = b[p] + -f * b[i]
    x = [None] * n
    x[order[0]] = b[order[0]] / d[order[0]]
    for k in range(1, n):
        i = order[k]
        x[i] = (b[i] - off[i] * x[parent[i]]) / d[i]
    return x


def _unrolled(order, parent, off, diag, rhs):
    rows = lambda a: [a[i] for i in range(len(order))]
    return jnp.stack(rows_solve(order, parent, rows(off), rows(diag), rows(rhs)))


FUSED_MAX_NODES = 3
"""Trees of at most this many nodes (a one-compartment cell and its two end
nodes, e.g. basket cells) are solved by ``"pallas"`` as unrolled rows, which
XLA fuses with the neighbouring elementwise work: a few operations per column,
not worth a kernel launch of their own (one fewer per such type and step at 1
trial, ``benchmarks/count_gpu_kernels.py``; not timed on a GPU)."""


def _pallas(order, parent, off, diag, rhs, interpret=False):
    from jax.experimental import pallas as pl
    from jax.experimental.pallas import triton as plgpu

    n = len(order)
    if n <= FUSED_MAX_NODES:
        return _unrolled(order, parent, off, diag, rhs)
    shape = jnp.broadcast_shapes(diag.shape, rhs.shape)
    cols = int(np.prod(shape[1:], dtype=int))
    dt = jnp.result_type(diag, rhs, off)
    d2 = jnp.broadcast_to(diag, shape).reshape(n, cols).astype(dt)
    b2 = jnp.broadcast_to(rhs, shape).reshape(n, cols).astype(dt)
    block = min(128, pl.next_power_of_2(cols))
    # an off-diagonal shared by every column (one morphology per cell type) is
    # read as one column and broadcast in registers, not written out per step
    shared = all(s == 1 for s in jnp.shape(off)[1:])
    o2 = (jnp.reshape(off, (n, 1)) if shared else
          jnp.broadcast_to(off, (n,) + shape[1:]).reshape(n, cols)).astype(dt)

    def kernel(o_ref, d_ref, b_ref, x_ref):
        # Triton does not bound a block's accesses: the last block's columns
        # past ``cols`` are masked: read as off 0, diag 1, rhs 0 and never written
        ok = (pl.program_id(0) * block + lax.iota(np.int32, block) < cols)[None, :]

        def rows(ref, fill):
            return [plgpu.load(ref.at[pl.ds(i, 1)], mask=ok, other=fill) for i in range(n)]

        off_rows = ([o_ref[pl.ds(i, 1), :] for i in range(n)] if shared else rows(o_ref, 0.0))
        x = rows_solve(order, parent, off_rows, rows(d_ref, 1.0), rows(b_ref, 0.0))
        for i in range(n):
            plgpu.store(x_ref.at[pl.ds(i, 1)], x[i], mask=ok)

    spec = pl.BlockSpec((n, block), lambda j: (0, j))
    o_spec = pl.BlockSpec((n, 1), lambda j: (0, 0)) if shared else spec
    x = pl.pallas_call(kernel, out_shape=jax.ShapeDtypeStruct((n, cols), dt),
                       grid=(pl.cdiv(cols, block),), in_specs=[o_spec, spec, spec],
                       out_specs=spec, interpret=interpret, name="hines_solve",
                       compiler_params=plgpu.CompilerParams(num_warps=4))(o2, d2, b2)
    return x.reshape(shape)


_IMPLS = {"native": native_solve.solve, "loop": _loop, "unrolled": _unrolled, "pallas": _pallas,
          "pallas_interpret": functools.partial(_pallas, interpret=True)}


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2))
def hines_solve(strategy, order, parent, off, diag, rhs):
    """x = M⁻¹ rhs.  ``order``/``parent`` are static tuples of ints (root's
    parent is itself); ``off`` (µS, negative) is the off-diagonal to the
    parent, broadcastable to ``diag``; ``diag``, ``rhs`` are (n_nodes, ...)."""
    return _IMPLS[strategy](order, parent, off, diag, rhs)


def _fwd(strategy, order, parent, off, diag, rhs):
    x = _IMPLS[strategy](order, parent, off, diag, rhs)
    return x, (off, diag, x)


def _bwd(strategy, order, parent, res, x_bar):
    """λ = M⁻¹ x̄; rhs̄ = λ, diaḡ = -λx, off̄ᵢ = -(λᵢ x_parent + λ_parent xᵢ)."""
    off, diag, x = res
    lam = _IMPLS[strategy](order, parent, off, diag, x_bar)
    par = np.asarray(parent)
    child = (par != np.arange(len(par))).reshape((-1,) + (1,) * (x.ndim - 1))
    off_bar = jnp.where(child, -(lam * x[par] + lam[par] * x), 0.0)
    shared = tuple(a for a in range(off.ndim) if off.shape[a] == 1 < off_bar.shape[a])
    return jnp.sum(off_bar, axis=shared, keepdims=True), -lam * x, lam


hines_solve.defvjp(_fwd, _bwd)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1, 2))
def hines_solve_forward(strategy, order, parent, off, diag, rhs):
    """``hines_solve`` for forward mode (``jax.jvp``): ẋ = M⁻¹(ṙhs - Ṁx), one
    more solve per tangent.  JAX cannot transpose that solve (a C kernel),
    so reverse mode uses ``hines_solve``."""
    return _IMPLS[strategy](order, parent, off, diag, rhs)


def _jvp(strategy, order, parent, primals, tangents):
    off, diag, rhs = primals
    d_off, d_diag, d_rhs = tangents
    x = _IMPLS[strategy](order, parent, off, diag, rhs)
    zero = jax.custom_derivatives.SymbolicZero
    b = jnp.zeros_like(x) if isinstance(d_rhs, zero) else d_rhs
    if not isinstance(d_diag, zero):
        b = b - d_diag * x
    if not isinstance(d_off, zero):  # axial conductances: no parameter of hnnjax's models
        par = np.asarray(parent)
        child = (par != np.arange(len(par))).reshape((-1,) + (1,) * (x.ndim - 1))
        d_off = jnp.where(child, d_off, 0.0)
        b = b - d_off * x[par] - jnp.zeros_like(x).at[par].add(d_off * x)
    return x, _IMPLS[strategy](order, parent, off, diag, b)


hines_solve_forward.defjvp(_jvp, symbolic_zeros=True)
