"""Batched trials on a GPU: trials/s, kernels per step, peak memory, and
agreement with the CPU.  One command, about 5 min on one H100/H200:

    python benchmarks/bench_gpu.py

The somatosensory network (``somato_model``), 170 ms, dt 0.025 ms; float32
at 1 / 100 / 1,000 / 4,000 trials and float64 at 1,000, each one compiled
vmapped call (chunked only if the device runs out of memory).  Without a GPU
it says so and exits 0; ``--platform cpu`` runs the same code on the CPU
(use small ``--trials`` and ``--tstop``: a smoke test).  Each row also says
whether every call gave the same bits of the dipoles and spike counts (network events are scatter-adds with
colliding indices: on a GPU set ``XLA_FLAGS=--xla_gpu_deterministic_ops=true``
if they differ).
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def _ints(text):
    return [int(x) for x in text.split(",") if x]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--platform", default="gpu", help="gpu (default) or cpu (smoke test)")
    p.add_argument("--trials", type=_ints, default=[1, 100, 1000, 4000], help="float32 batches")
    p.add_argument("--f64-trials", type=_ints, default=[1000], help="float64 batches")
    p.add_argument("--tstop", type=float, default=170.0, help="ms")
    p.add_argument("--repeats", type=int, default=2, help="steady calls per batch (median)")
    p.add_argument("--check-trials", type=int, default=8,
                   help="trials compared with the CPU (trial-averaged dipole)")
    args = p.parse_args(argv)

    import jax
    try:
        device = jax.devices(args.platform)[0]
    except RuntimeError:
        print(f"bench_gpu: no {args.platform} device here ({jax.devices()}); nothing to measure.")
        return 0
    import numpy as np

    import hnnjax  # noqa: F401  (float64)
    from _hlo import machine, thunks_per_step
    from hnnjax.network.compile import compile_network, drive_events
    from hnnjax.network.grid import run
    from hnnjax.network.simulate import _take, instantiate_drives
    from hnnjax.network.tree_solve import strategy
    from hnnjax.network_models import somato_model

    dt, tstop = 0.025, args.tstop
    net = somato_model()
    n_max = max(args.trials + args.f64_trials + [args.check_trials])
    t0 = time.perf_counter()
    spikes = instantiate_drives(net, tstop, n_max)
    host_s = time.perf_counter() - t0
    prep = {}
    for dtype in (np.float32, np.float64):
        arrays, tab, _, _, n_steps = compile_network(net, tstop, dt, dtype,
                                                     solver=strategy(platform=device.platform))
        t = time.perf_counter()
        prep[dtype] = (arrays, drive_events(tab, spikes, dt, n_steps, dtype))
        host_s += (time.perf_counter() - t) / 2  # one dtype's events
    log(f"host preparation of {n_max} trials: {host_s:.2f} s")

    def batch_fn(arrays):
        return jax.jit(lambda ev: jax.vmap(run, in_axes=(None, 0, None, None))(
            arrays, ev, n_steps, dt)[:2])

    rows, dipoles = [], {}
    for dtype, counts in ((np.float32, args.trials), (np.float64, args.f64_trials)):
        arrays, events = prep[dtype]
        fn = batch_fn(arrays)
        for b in counts:
            ev = jax.device_put(_take(events, np.arange(b)), device)
            log(f"{np.dtype(dtype).name} {b} trials: compiling…")
            t = time.perf_counter()
            compiled = fn.trace(ev).lower().compile()
            compile_s = time.perf_counter() - t
            kernels = thunks_per_step(compiled.as_text(), n_steps)
            walls, outs = [], []
            for _ in range(args.repeats + 1):  # the first call is a warm-up
                t = time.perf_counter()
                out = jax.block_until_ready(compiled(ev))
                walls.append(time.perf_counter() - t)
                outs.append(jax.device_get((out[1], out[0].sum(axis=1))))  # dipoles, spike counts
            same = all(np.array_equal(a, b) for o in outs[1:] for a, b in zip(o, outs[0]))
            steady = statistics.median(walls[1:])
            stats = device.memory_stats() or {}
            rows.append((np.dtype(dtype).name, b, b / steady, steady, compile_s, kernels,
                         stats.get("peak_bytes_in_use", float("nan")) / 2**30,
                         "yes" if same else "NO"))
            log(f"  {steady:.2f} s ({b / steady:.1f} trials/s)")
            if b >= args.check_trials:
                dipoles[np.dtype(dtype).name] = np.asarray(out[1][:args.check_trials]).mean(0)

    log(f"CPU float64 reference, {args.check_trials} trials…")
    cpu = jax.devices("cpu")[0]
    arrays, events = prep[np.float64]
    with jax.default_device(cpu):
        ref = np.asarray(jax.jit(lambda ev: jax.vmap(run, in_axes=(None, 0, None, None))(
            arrays, ev, n_steps, dt)[1])(_take(events, np.arange(args.check_trials)))).mean(0)

    print(f"# bench_gpu: {machine()}; device {device.device_kind}")
    print(f"# somato network, {tstop} ms, dt {dt} ms; host preparation of {n_max} trials "
          f"(drive times + events): {host_s:.2f} s")
    print("| dtype | trials | trials/s | s per call | compile s | kernels/step | peak GiB | "
          "same bits every call |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.2f} | {r[4]:.1f} | {r[5]:.0f} | {r[6]:.2f} "
              f"| {r[7]} |")
    scale = np.abs(ref).max()
    for name, dip in dipoles.items():
        err = np.abs(dip - ref).max() / scale
        print(f"# {name} on {device.platform} vs float64 on cpu, {args.check_trials}-trial "
              f"average dipole: max |difference| / max |dipole| = {err:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
