#!/usr/bin/env python
"""Cost of a gradient of the somato dipole loss (issue 5), in one run.

    python benchmarks/bench_grad.py [--trials 1,25] [--time-trials 1] [--repeats 2] [--split]
                                    [--forward-mode [--directions]] [--params 3]

The loss is ``fit_drives``' objective: RMSE between the trial-averaged,
20 ms-smoothed aggregate dipole of the differentiable model (``somato_model()``,
170 ms) and a target, as a function of ``--params`` drive parameters (3; a
reverse-mode gradient costs the same for any number), compiled as the fits
compile it (``hnnjax._jit.jit``, the reverse-mode options for the gradient).  For
each trial count in ``--trials`` it compiles the forward loss and its
value-and-gradient and prints XLA's memory plan (``compiled.memory_analysis()``: the temporary
buffers the call needs, i.e. the peak beyond its inputs and outputs).  For
``--time-trials`` it also runs both (median of ``--repeats`` after a warm-up)
and prints the gradient/forward time ratio and the process's peak RSS, e.g.
``--trials 25 --time-trials 25 --repeats 0`` measures the 25-trial gradient's
memory once.  ``--split`` also times the two halves of reverse mode apart
for the timed row: ``jax.vjp``'s forward (the loss and the chunk states the
checkpointed scan saves) and its backward (each chunk run forward again,
then each step re-run and transposed).  ``--forward-mode`` also times, in the
same rounds, the value and gradient by forward mode (``model.forward_mode``:
one tangent per parameter, no checkpoints; ``Objective(autodiff='forward')``)
and prints its memory plan and its largest difference from reverse mode;
``--directions`` also times forward mode along only the first 1, 2, ...
of the parameters, so the run shows what the primal and each tangent cost.
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
from hnnjax.grad.tangents import jvp_along_axes  # noqa: E402
from hnnjax.network_models import somato_model  # noqa: E402

PARAMS = ["evprox1.mu", "evprox1.sigma", "evdist1.mu"]
MORE_PARAMS = ["evdist1.sigma", "evprox2.mu", "evprox2.sigma"]  # --params above 3


def somato_loss(net, tstop, skip_idle=None, smooth=True, forward_mode=False, n_params=3, gn=None):
    """The benchmarked loss of the first ``n_params`` of ``PARAMS`` +
    ``MORE_PARAMS`` against a fixed sine target, its starting point and the
    differentiable model (for ``trial_draws``); ``skip_idle``,
    ``forward_mode``, ``gn`` (a model already built) as in ``dipole_fn``;
    ``smooth=False``: without the 20 ms smoothing (windows shorter than it)."""
    fn, gn, names, theta0, times = dipole_fn(net, tstop, gn=gn, skip_idle=skip_idle,
                                             forward_mode=forward_mode)
    idx = np.array([names.index(n) for n in (PARAMS + MORE_PARAMS)[:n_params]])
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
    ap.add_argument("--forward-mode", action="store_true",
                    help="also time the gradient by forward mode (timed row)")
    ap.add_argument("--directions", action="store_true",
                    help="with --forward-mode: also time it along the first 1 .. params-1 parameters")
    ap.add_argument("--params", type=int, default=3, choices=range(1, 7), metavar="1..6",
                    help="drive parameters differentiated (default 3)")
    args = ap.parse_args()
    if args.directions and not args.forward_mode:
        ap.error("--directions needs --forward-mode")
    counts = sorted({int(x) for x in args.trials.split(",")} | {args.time_trials})

    net = somato_model()
    loss, th, gn = somato_loss(net, 170.0, n_params=args.params)
    fwd, vg = jit(loss), jit(jax.value_and_grad(loss), reverse_mode=True)
    if args.forward_mode:
        loss_fm = somato_loss(net, 170.0, forward_mode=True, n_params=args.params, gn=gn)[0]
        vg_fm = jit(lambda th, z: jvp_along_axes(lambda t: loss_fm(t, z), th))
        fewer = {k: jit(lambda th, z, k=k: jvp_along_axes(lambda t: loss_fm(th.at[:k].set(t), z),
                                                          th[:k]))
                 for k in range(1, args.params) if args.directions}
    vjp_fwd = jit(lambda th, z: jax.vjp(lambda t: loss(t, z), th), reverse_mode=True)
    vjp_bwd = jit(lambda pull: pull(jnp.ones((), th.dtype)), reverse_mode=True)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"jax {jax.__version__} on {jax.devices()[0].platform}; somato network, 170 ms, float64, "
          f"{args.params} parameter(s)")
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
            calls = {"forward": c_fwd, "gradient": c_grad}
            if args.forward_mode:
                t0 = time.perf_counter()
                calls["forward mode"] = vg_fm.lower(th, z).compile()
                fm_compile = time.perf_counter() - t0
                for k, f in fewer.items():
                    calls[k] = f.lower(th, z).compile()
            if args.repeats:  # warm-up (compiled ahead already)
                jax.block_until_ready([c(th, z) for c in calls.values()])
            times, outs = {k: [] for k in calls}, {}
            for _ in range(max(args.repeats, 1)):  # interleaved
                for k, c in calls.items():
                    t0 = time.perf_counter()
                    outs[k] = jax.block_until_ready(c(th, z))
                    times[k].append(time.perf_counter() - t0)
            med = {k: statistics.median(v) for k, v in times.items()}
            f, g = med["forward"], med["gradient"]
            timing = f"{f:7.1f}  {g:7.1f}  {g / f:8.2f}"
            if args.forward_mode:
                g_rev, g_fm = np.asarray(outs["gradient"][1]), np.asarray(outs["forward mode"][1])
                fm = med["forward mode"]
                fm_mem = calls["forward mode"].memory_analysis().temp_size_in_bytes / 2**30
                forward_mode_row = (
                    f"forward mode (timed row): gradient {fm:.1f} s ({fm / f:.2f} forwards; reverse "
                    f"mode {g / f:.2f}), temp {fm_mem:.3f} GiB, compile {fm_compile:.1f} s; largest "
                    f"difference from reverse mode {np.abs(g_fm - g_rev).max() / np.abs(g_rev).max():.1e}"
                    f" of its largest entry")
                for k in fewer:
                    forward_mode_row += (f"\nforward mode along the first {k} parameter(s): "
                                         f"{med[k]:.1f} s ({med[k] / f:.2f} forwards)")
            if args.split:
                split = _split(vjp_fwd, vjp_bwd, th, z, args.repeats, f)
        print(f"{n:6d}  {g_mem:13.2f}  {f_mem:12.3f}  {t_compile:14.1f}  {timing}", flush=True)
    if args.split:
        print(split)
    if args.forward_mode:
        print(forward_mode_row)
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
