"""How ``simulate_dipole`` should split trials on one CPU device: two calls at
once (one per core, as ``run_events`` runs them) of B trials each, for several
B, timed interleaved round after round in one process (somato network, 170 ms).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_batch_plan.py [--batches 4,2,1] [--rounds 5]

Prints per dtype and batch the median s/trial and how many times faster it is
than the first batch listed (``CPU_BATCH`` in ``hnnjax/network/simulate.py``
is chosen from it).
"""
import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).parent))

from _interleaved import forward_inputs, log  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", default="4,2,1", help="trials per call (two calls at once)")
    p.add_argument("--dtypes", default="float32,float64")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    args = p.parse_args(argv)
    batches = [int(b) for b in args.batches.split(",")]

    import jax
    import numpy as np

    from _hlo import columns, machine
    from hnnjax.network.simulate import _run_trials, _take
    from hnnjax.network_models import somato_model

    print(f"machine: {machine()}")
    pool = ThreadPoolExecutor(2)
    rows = [["dtype", "trials per call", "s/trial (median)", "rounds", "speed vs first"]]
    configs = ",".join(f"{d}:{2 * b}" for d in args.dtypes.split(",") for b in batches)
    plans = {}  # (dtype, batch) -> two calls of `batch` trials at once, hnn-core's first trials
    for dtype, n, arrays, events, n_steps in forward_inputs(
            somato_model(), argparse.Namespace(configs=configs, tstop=170.0)):
        b = n // 2
        halves = [_take(events, np.arange(k * b, (k + 1) * b)) for k in range(2)]
        fn = _run_trials.trace(arrays, halves[0], n_steps, 0.025).lower().compile()
        plans[dtype, b] = lambda fn=fn, arrays=arrays, halves=halves: list(pool.map(
            lambda ev: jax.block_until_ready(fn(arrays, ev)), halves))
        plans[dtype, b]()  # warm-up
    per_trial = {key: [] for key in plans}
    for r in range(args.rounds):
        for (dtype, b), two_calls in plans.items():
            t = time.perf_counter()
            two_calls()
            per_trial[dtype, b].append((time.perf_counter() - t) / (2 * b))
        log(f"round {r + 1}/{args.rounds} done")
    for (dtype, b), times in per_trial.items():
        first = statistics.median(per_trial[dtype, batches[0]])
        med = statistics.median(times)
        rows.append([dtype, f"{b} x2", f"{med:.3f}", " ".join(f"{x:.2f}" for x in times),
                     f"{first / med:.2f}x"])
    print(columns(rows))


if __name__ == "__main__":
    main()
