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
    from hnnjax.network.compile import compile_network
    from hnnjax.network.simulate import _run_trials, _take, prepare_events
    from hnnjax.network_models import somato_model

    print(f"machine: {machine()}")
    pool = ThreadPoolExecutor(2)
    rows = [["dtype", "trials per call", "s/trial (median)", "rounds", "speed vs first"]]
    for dtype in args.dtypes.split(","):
        net = somato_model()
        arrays, tab, _, _, n_steps = compile_network(net, 170.0, 0.025, np.dtype(dtype).type)
        _, events = prepare_events(net, tab, 170.0, 0.025, n_steps, 2 * max(batches),
                                   np.dtype(dtype).type)
        compiled = {b: _run_trials.trace(arrays, _take(events, np.arange(b)), n_steps, 0.025)
                    .lower().compile() for b in batches}

        def two_calls(b):
            parts = [_take(events, np.arange(k * b, (k + 1) * b)) for k in range(2)]
            list(pool.map(lambda ev: jax.block_until_ready(compiled[b](arrays, ev)), parts))

        per_trial = {b: [] for b in batches}
        for b in batches:  # warm-up
            two_calls(b)
        for r in range(args.rounds):
            for b in batches:
                t = time.perf_counter()
                two_calls(b)
                per_trial[b].append((time.perf_counter() - t) / (2 * b))
            print(f"[{time.strftime('%H:%M:%S')}] {dtype} round {r + 1}/{args.rounds}", file=sys.stderr,
                  flush=True)
        first = statistics.median(per_trial[batches[0]])
        for b in batches:
            med = statistics.median(per_trial[b])
            rows.append([dtype, f"{b} x2", f"{med:.3f}", " ".join(f"{x:.2f}" for x in per_trial[b]),
                         f"{first / med:.2f}x"])
    print(columns(rows))


if __name__ == "__main__":
    main()
