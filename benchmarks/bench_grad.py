#!/usr/bin/env python
"""Cost of a gradient of the somato dipole loss (issue 5), in one run.

    python benchmarks/bench_grad.py [--trials 1,25] [--time-trials 1] [--repeats 2] [--split]

The loss is ``fit_drives``' objective: RMSE between the trial-averaged,
20 ms-smoothed aggregate dipole of the differentiable model (``somato_model()``,
170 ms) and a target, as a function of three drive parameters (a gradient
costs the same for any number of parameters), compiled as the fits compile
it (``hnnjax._jit.jit``, the reverse-mode options for the gradient).  For
each trial count in ``--trials`` it compiles the forward loss and its
value-and-gradient and prints XLA's memory plan (``compiled.memory_analysis()``: the temporary
buffers the call needs, i.e. the peak beyond its inputs and outputs).  For
``--time-trials`` it also runs both (median of ``--repeats`` after a warm-up)
and prints the gradient/forward time ratio and the process's peak RSS, e.g.
``--trials 25 --time-trials 25 --repeats 0`` measures the 25-trial gradient's
memory once.  ``--split`` also times the two halves of reverse mode apart
for the timed row: ``jax.vjp``'s forward (the loss and the chunk states the
checkpointed scan saves) and its backward (each chunk run forward again,
then each step re-run and transposed).
"""
import argparse
import os
import platform
import resource
import statistics
import time

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from hnnjax._jit import jit  # noqa: E402
from hnnjax.fit import dipole_fn, hamming_smooth, trial_draws  # noqa: E402
from hnnjax.network_models import somato_model  # noqa: E402

PARAMS = ["evprox1.mu", "evprox1.sigma", "evdist1.mu"]


def somato_loss(net, tstop, skip_idle=None, smooth=True):
    """The benchmarked loss of ``PARAMS`` against a fixed sine target, its
    starting point and the differentiable model (for ``trial_draws``);
    ``skip_idle`` as in ``dipole_fn``; ``smooth=False``: without the 20 ms
    smoothing (windows shorter than it)."""
    fn, gn, names, theta0, times = dipole_fn(net, tstop, skip_idle=skip_idle)
    idx = np.array([names.index(n) for n in PARAMS])
    target = jnp.asarray(0.05 * np.sin(times / 20.0))

    def loss(th, z):
        d, _ = fn(jnp.asarray(theta0).at[idx].set(th), z)
        avg = hamming_smooth(d.mean(0), 20.0, 0.025) if smooth else d.mean(0)
        return jnp.sqrt(jnp.mean((avg - target) ** 2))
    return loss, jnp.asarray(theta0[idx]), gn


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", default="1,25", help="trial counts whose memory plan is printed")
    ap.add_argument("--time-trials", type=int, default=1, help="trial count that is also timed")
    ap.add_argument("--repeats", type=int, default=2,
                    help="timed runs after a warm-up; 0: one run, no warm-up (large trial counts)")
    ap.add_argument("--split", action="store_true",
                    help="also time jax.vjp's forward and backward apart (timed row)")
    args = ap.parse_args()
    counts = sorted({int(x) for x in args.trials.split(",")} | {args.time_trials})

    net = somato_model()
    loss, th, gn = somato_loss(net, 170.0)
    fwd, vg = jit(loss), jit(jax.value_and_grad(loss), reverse_mode=True)
    vjp_fwd = jit(lambda th, z: jax.vjp(lambda t: loss(t, z), th), reverse_mode=True)
    vjp_bwd = jit(lambda pull: pull(jnp.ones((), th.dtype)), reverse_mode=True)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"jax {jax.__version__} on {jax.devices()[0].platform}; somato network, 170 ms, float64")
    print(f"{'trials':>6}  {'grad temp GiB':>13}  {'fwd temp GiB':>12}  {'grad compile s':>14}  "
          f"{'fwd s':>7}  {'grad s':>7}  {'grad/fwd':>8}")
    for n in counts:
        z = trial_draws(net, gn, n, 170.0, "key", jax.random.PRNGKey(0))
        t0 = time.perf_counter()
        c_grad = vg.lower(th, z).compile()
        t_compile = time.perf_counter() - t0
        c_fwd = fwd.lower(th, z).compile()
        g_mem = c_grad.memory_analysis().temp_size_in_bytes / 2**30
        f_mem = c_fwd.memory_analysis().temp_size_in_bytes / 2**30
        timing = ""
        if n == args.time_trials:
            if args.repeats:  # warm-up (compiled ahead already)
                jax.block_until_ready(c_fwd(th, z))
                jax.block_until_ready(c_grad(th, z))
            tf, tg = [], []
            for _ in range(max(args.repeats, 1)):
                t0 = time.perf_counter()
                jax.block_until_ready(c_fwd(th, z))
                tf.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                jax.block_until_ready(c_grad(th, z))
                tg.append(time.perf_counter() - t0)
            f, g = statistics.median(tf), statistics.median(tg)
            timing = f"{f:7.1f}  {g:7.1f}  {g / f:8.2f}"
            if args.split:
                split = _split(vjp_fwd, vjp_bwd, th, z, args.repeats, f)
        print(f"{n:6d}  {g_mem:13.2f}  {f_mem:12.3f}  {t_compile:14.1f}  {timing}", flush=True)
    if args.split:
        print(split)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak RSS of this process: {rss:.2f} GiB (compiles of every row + runs of the timed row)")


def _split(vjp_fwd, vjp_bwd, th, z, repeats, t_fwd):
    """Medians of jax.vjp's forward and backward calls, in s and per forward."""
    if repeats:
        jax.block_until_ready(vjp_bwd(vjp_fwd(th, z)[1]))
    tv, tb = [], []
    for _ in range(max(repeats, 1)):
        t0 = time.perf_counter()
        pull = jax.block_until_ready(vjp_fwd(th, z))[1]
        tv.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        jax.block_until_ready(vjp_bwd(pull))
        tb.append(time.perf_counter() - t0)
    v, b = statistics.median(tv), statistics.median(tb)
    return (f"reverse mode apart (timed row): vjp forward {v:.1f} s ({v / t_fwd:.2f} forwards), "
            f"vjp backward {b:.1f} s ({b / t_fwd:.2f} forwards)")


if __name__ == "__main__":
    main()
