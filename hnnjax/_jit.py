"""``jit``: ``jax.jit`` with the XLA options every hnnjax compiled call uses.

XLA's CPU backend asks LLVM for 256-bit vectors by default.  A network step is
elementwise work over (trials x cells x segments); with 512-bit vectors
(AVX-512, where the CPU has it; elsewhere LLVM keeps the widest it has) the
somato forward runs 1.05-1.09x faster, the differentiable loss 1.08x, on a
2-core AMD EPYC (``benchmarks/bench_vector_width.py``); its gradient gains
nothing.  The float64 forward gives the same bits (``tests/test_jit_forward.py``),
so the NEURON fixtures hold; sums in float32 and in the gradient may change
order (1e-15 relative in float64).  Other backends ignore the option.
"""
from __future__ import annotations

import jax

COMPILER_OPTIONS = {"xla_cpu_prefer_vector_width": 512}


def jit(fun=None, **jit_kwargs):
    """``jax.jit(fun, **jit_kwargs)`` compiled with ``COMPILER_OPTIONS``;
    usable as a decorator with or without arguments."""
    if fun is None:
        return lambda f: jit(f, **jit_kwargs)
    return jax.jit(fun, compiler_options=COMPILER_OPTIONS, **jit_kwargs)
