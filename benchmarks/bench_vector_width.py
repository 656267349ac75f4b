"""LLVM's preferred vector width on CPU, 256 bits (XLA's default) against 512
(``hnnjax._jit.COMPILER_OPTIONS``, what every hnnjax compiled call uses), in one interleaved run.

Somato network (four evoked drives), the same compiled programs twice, one
per ``xla_cpu_prefer_vector_width``:

* the faithful forward, ``simulate.py``'s ``_run_trials``, at each
  ``--configs`` entry (dtype:batch), ``--tstop`` ms;
* the differentiable model's loss and its value-and-gradient (the
  ``bench_grad.py`` loss), ``--grad-trials`` trials of ``--grad-tstop`` ms.

Each row says whether the two widths give bit-identical outputs.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_vector_width.py [--tstop 170] [--repeats 3]
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"
sys.path.insert(0, str(Path(__file__).parent))

WIDTHS = (256, 512)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def compiled_pair(fun, args, **jit_kwargs):
    """``fun`` jitted and compiled once per vector width."""
    import jax
    lowered = jax.jit(fun, **jit_kwargs).lower(*args)
    return {w: lowered.compile(compiler_options={"xla_cpu_prefer_vector_width": w}) for w in WIDTHS}


def identical(a, b):
    import jax
    import numpy as np
    return all(np.array_equal(x, y) for x, y in
               zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tstop", type=float, default=170.0, help="faithful forward window, ms")
    p.add_argument("--configs", default="float64:1,float64:8,float32:8",
                   help="faithful forward rows, dtype:batch")
    p.add_argument("--grad-tstop", type=float, default=30.0, help="differentiable rows' window, ms")
    p.add_argument("--grad-trials", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds (median)")
    args = p.parse_args(argv)

    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    from _hlo import machine
    from bench_grad import somato_loss
    from hnnjax.fit import trial_draws
    from hnnjax.network.compile import compile_network, drive_events
    from hnnjax.network.simulate import _run_trials, _take, instantiate_drives
    from hnnjax.network_models import somato_model

    dt = 0.025
    net = somato_model()
    rows = []  # (name, trials per call, {width: compiled}, args)
    configs = [(c.split(":")[0], int(c.split(":")[1])) for c in args.configs.split(",")]
    spikes = instantiate_drives(net, args.tstop, max(b for _, b in configs))
    for dtype, batch in configs:
        log(f"compiling the faithful forward, {dtype}, batch {batch} (both widths)")
        arrays, drive_tab, _, _, n_steps = compile_network(net, args.tstop, dt, np.dtype(dtype).type)
        events = _take(drive_events(drive_tab, spikes, dt, n_steps, np.dtype(dtype).type), np.arange(batch))
        fns = compiled_pair(_run_trials.__wrapped__, (arrays, events, n_steps, dt), static_argnums=(2, 3))
        rows.append((f"forward {dtype} batch {batch}, {args.tstop:g} ms", batch, fns, (arrays, events)))

    loss, th, gn = somato_loss(net, args.grad_tstop)
    z = trial_draws(net, gn, args.grad_trials, args.grad_tstop, "key", jax.random.PRNGKey(0))
    label = f"{args.grad_trials} trials, {args.grad_tstop:g} ms"
    log("compiling the differentiable loss and its gradient (both widths)")
    rows.append((f"differentiable loss, {label}", args.grad_trials, compiled_pair(loss, (th, z)), (th, z)))
    rows.append((f"its value and gradient, {label}", args.grad_trials,
                 compiled_pair(jax.value_and_grad(loss), (th, z)), (th, z)))

    same = {name: identical(*(jax.device_get(fns[w](*a)) for w in WIDTHS)) for name, _, fns, a in rows}
    times_s = {(name, w): [] for name, *_ in rows for w in WIDTHS}
    for r in range(args.repeats):
        for name, _, fns, a in rows:
            for w in WIDTHS:
                t0 = time.perf_counter()
                jax.block_until_ready(fns[w](*a))
                times_s[name, w].append(time.perf_counter() - t0)
        log(f"round {r + 1}/{args.repeats} done")

    print(f"# bench_vector_width: {machine()}; median of {args.repeats} interleaved rounds")
    print("| workload | 256-bit s/trial | 512-bit s/trial | 256 / 512 | bit-identical |")
    print("|---|---|---|---|---|")
    for name, n, *_ in rows:
        m = {w: statistics.median(times_s[name, w]) / n for w in WIDTHS}
        print(f"| {name} | {m[256]:.3f} | {m[512]:.3f} | {m[256] / m[512]:.2f}x | "
              f"{'yes' if same[name] else 'no'} |")


if __name__ == "__main__":
    main()
