"""``jit``: ``jax.jit`` with the XLA options every hnnjax compiled call uses.

XLA's CPU backend asks LLVM for 256-bit vectors by default.  A network step is
elementwise work over (trials x cells x segments); with 512-bit vectors
(AVX-512, where the CPU has it; elsewhere LLVM keeps the widest it has) the
somato forward runs 1.05-1.09x faster, the differentiable loss 1.08x, on a
2-core AMD EPYC (``benchmarks/bench_vector_width.py``); its gradient gains
nothing.  The float64 forward gives the same bits (``tests/test_jit_forward.py``),
so the NEURON fixtures hold; sums in float32 and in the gradient may change
order (1e-15 relative in float64).  Other backends ignore the option.

On a GPU, XLA double-buffers while loops: it runs two steps per iteration, so
a carried state whose old value is still read after its new one is written
alternates between two buffers instead of being copied first.  Compiled for
an H100 (``benchmarks/count_gpu_kernels.py``), the somato step drops from 49
to 43 kernels at 1,000 trials and from 39 to 35 at 1 (no GPU has timed it
yet).  The CPU backend ignores the option (the same program).

Reverse-mode programs (a gradient, ``jax.vjp``'s forward and backward) also
ask XLA's CPU copy insertion for its region analysis: the checkpointed scan's
backward saves each step's carry while the step replaces it, and without the
analysis XLA copies every state array first (~40 copies per step).  With it
the somato gradient ran 1.05-1.09x faster at 40 ms (2 trials; at 170 ms the
host's noise hid any difference), with the same bits and memory plan; plain
forwards ran 0.91x, so they keep the default.
"""
from __future__ import annotations

import jax

COMPILER_OPTIONS = {"xla_cpu_prefer_vector_width": 512,
                    "xla_gpu_enable_while_loop_double_buffering": True}
REVERSE_MODE_OPTIONS = dict(COMPILER_OPTIONS, xla_cpu_copy_insertion_use_region_analysis=True)


def jit(fun=None, *, reverse_mode=False, **jit_kwargs):
    """``jax.jit(fun, **jit_kwargs)`` compiled with ``COMPILER_OPTIONS``
    (``REVERSE_MODE_OPTIONS`` where ``fun`` runs reverse mode); usable as a
    decorator with or without arguments."""
    if fun is None:
        return lambda f: jit(f, reverse_mode=reverse_mode, **jit_kwargs)
    options = REVERSE_MODE_OPTIONS if reverse_mode else COMPILER_OPTIONS
    return jax.jit(fun, compiler_options=options, **jit_kwargs)
