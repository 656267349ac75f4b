"""Idle steps' network-event work skipped (``skip_idle``, the default on one
CPU device) against always done, in one interleaved run.

Somato network (four evoked drives), each program compiled both ways:

* the faithful forward, ``simulate.py``'s ``_run_trials`` (``grid.run``
  vmapped over a named trial axis), at each ``--configs`` entry
  (dtype:batch), ``--tstop`` ms;
* the differentiable model's loss and its value-and-gradient (the
  ``bench_grad.py`` loss), ``--grad-trials`` trials of ``--grad-tstop`` ms.

Each row says whether both give bit-identical outputs, and the share of
steps that had network events due (faithful rows: in any trial of the batch).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_skip_idle.py [--tstop 170] [--repeats 3]
"""
import argparse
import functools
import os
import statistics
import sys
import time
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"
sys.path.insert(0, str(Path(__file__).parent))

from bench_vector_width import identical, log  # noqa: E402

MODES = (False, True)


def due_share(arrays, spikes):
    """Share of steps where some trial of the batch has a network chunk due,
    from the run's spikes (n_trials, n_steps, n_cells)."""
    import numpy as np
    spikes = np.asarray(spikes)
    live = np.asarray(arrays.group_live)
    due = np.zeros(spikes.shape[1], bool)
    for q in range(arrays.n_blocks):
        shift = q * arrays.block
        if shift < spikes.shape[1]:
            due[shift:] |= (spikes[:, :spikes.shape[1] - shift] & live[q]).any(axis=(0, 2))
    return due.mean()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tstop", type=float, default=170.0, help="faithful forward window, ms")
    p.add_argument("--configs", default="float64:1,float64:8,float32:1,float32:8",
                   help="faithful forward rows, dtype:batch")
    p.add_argument("--grad-tstop", type=float, default=170.0, help="differentiable rows' window, ms")
    p.add_argument("--grad-trials", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds (median)")
    args = p.parse_args(argv)

    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    from _hlo import machine
    from bench_grad import somato_loss
    from hnnjax._jit import jit
    from hnnjax.fit import trial_draws
    from hnnjax.network.compile import compile_network, drive_events
    from hnnjax.network.grid import run
    from hnnjax.network.simulate import _take, instantiate_drives
    from hnnjax.network_models import somato_model

    dt = 0.025
    net = somato_model()
    rows = []  # (name, trials per call, {skip: compiled}, args, share of steps with events due)
    configs = [(c.split(":")[0], int(c.split(":")[1])) for c in args.configs.split(",")]
    spikes = instantiate_drives(net, args.tstop, max(b for _, b in configs))
    for dtype, batch in configs:
        log(f"compiling the faithful forward, {dtype}, batch {batch} (both ways)")
        arrays, drive_tab, _, _, n_steps = compile_network(net, args.tstop, dt, np.dtype(dtype).type)
        events = _take(drive_events(drive_tab, spikes, dt, n_steps, np.dtype(dtype).type), np.arange(batch))
        fns = {}
        for skip in MODES:
            one = functools.partial(run, skip_idle=skip, batch_axis="trials")
            fns[skip] = jit(lambda a, e, one=one: jax.vmap(one, in_axes=(None, 0, None, None),
                                                         axis_name="trials")(a, e, n_steps, dt)
                            ).lower(arrays, events).compile()
        share = due_share(arrays, fns[True](arrays, events)[0])
        rows.append((f"forward {dtype} batch {batch}, {args.tstop:g} ms", batch, fns, (arrays, events),
                     f"{100 * share:.1f} %"))

    label = f"{args.grad_trials} trials, {args.grad_tstop:g} ms"
    log("compiling the differentiable loss and its gradient (both ways)")
    loss, grad = {}, {}
    for skip in MODES:
        fn, th, gn = somato_loss(net, args.grad_tstop, skip_idle=skip)
        z = trial_draws(net, gn, args.grad_trials, args.grad_tstop, "key", jax.random.PRNGKey(0))
        loss[skip] = jit(fn).lower(th, z).compile()
        grad[skip] = jit(jax.value_and_grad(fn)).lower(th, z).compile()
    rows.append((f"differentiable loss, {label}", args.grad_trials, loss, (th, z), ""))
    rows.append((f"its value and gradient, {label}", args.grad_trials, grad, (th, z), ""))

    same = {name: identical(*(jax.device_get(fns[s](*a)) for s in MODES)) for name, _, fns, a, _ in rows}
    times_s = {(name, s): [] for name, *_ in rows for s in MODES}
    for r in range(args.repeats):
        for name, _, fns, a, _ in rows:
            for s in MODES:
                t0 = time.perf_counter()
                jax.block_until_ready(fns[s](*a))
                times_s[name, s].append(time.perf_counter() - t0)
        log(f"round {r + 1}/{args.repeats} done")

    print(f"# bench_skip_idle: {machine()}; median of {args.repeats} interleaved rounds")
    print("| workload | steps with events due | always s/trial | skip idle s/trial | always / skip | "
          "bit-identical |")
    print("|---|---|---|---|---|---|")
    for name, n, _, _, share in rows:
        m = {s: statistics.median(times_s[name, s]) / n for s in MODES}
        print(f"| {name} | {share} | {m[False]:.3f} | {m[True]:.3f} | {m[False] / m[True]:.2f}x | "
              f"{'yes' if same[name] else 'no'} |")


if __name__ == "__main__":
    main()
