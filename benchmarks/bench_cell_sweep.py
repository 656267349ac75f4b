"""``BatchSimulate`` sweeping a cell conductance (hnn-core's cell edits in
``set_params``): the sets in one compiled run, each trial with its own
channel parameters, against one run per set (how sets whose cells differ
ran before 2026-12-07), timed interleaved round after round in one process.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_cell_sweep.py [--sets 8] [--tstop 170] [--rounds 3]

The sweep sets the L5 pyramidal soma's hh2 gkbar; the network is
``neymotin_2020_model()`` with the ERP drives, 1 trial per set, float64.
Prints the median seconds of each plan, their ratio, and the largest
dipole difference between the two (the same runs: 0).
"""
import argparse
import itertools
import os
import pickle
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).parent))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", type=int, default=8, help="parameter sets (gkbar values)")
    p.add_argument("--tstop", type=float, default=170.0, help="ms")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    args = p.parse_args(argv)

    import numpy as np

    from _hlo import machine
    import hnnjax as hnn
    from hnnjax import batch_simulate
    from hnnjax.batch_simulate import BatchSimulate

    print(f"machine: {machine()}")
    net = hnn.neymotin_2020_model()
    hnn.add_erp_drives_to_jones_model(net)

    def set_params(values, net):
        net.cell_types["L5_pyramidal"]["cell_object"].sections["soma"].mechs["hh2"]["gkbar_hh2"] = \
            values["gkbar"]

    grid = {"gkbar": list(np.linspace(0.005, 0.02, args.sets))}
    batched = batch_simulate._cells_fingerprint
    counter = itertools.count()

    def one_per_set(net):  # a fingerprint of its own for every set: one run per set
        return pickle.dumps((batched(net), next(counter)))

    def run(plan):
        batch_simulate._cells_fingerprint = batched if plan == "one run" else one_per_set
        try:
            bs = BatchSimulate(set_params=set_params, net=net, tstop=args.tstop)
            start = time.perf_counter()
            out = bs.run(grid, combinations=False, verbose=False)["simulated_data"][0]
            return time.perf_counter() - start, np.array([r["dpl"][0].data["agg"] for r in out])
        finally:
            batch_simulate._cells_fingerprint = batched

    plans = ("one run", "one run per set")
    dipoles = {plan: run(plan)[1] for plan in plans}  # warm-up: compiles
    times = {plan: [] for plan in plans}
    for r in range(args.rounds):
        for plan in plans:
            times[plan].append(run(plan)[0])
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()),
              flush=True)
    med = {plan: statistics.median(t) for plan, t in times.items()}
    diff = float(np.abs(dipoles[plans[0]] - dipoles[plans[1]]).max())
    print(f"\n# {args.sets} sets x 1 trial of {args.tstop:g} ms, float64, median of {args.rounds} "
          "interleaved rounds")
    print("| plan | s | s per set | speed-up |")
    print("|---|---|---|---|")
    for plan in plans:
        print(f"| {plan} | {med[plan]:.2f} | {med[plan] / args.sets:.3f} | "
              f"{med[plans[1]] / med[plan]:.2f}x |")
    print(f"largest dipole difference between the plans: {diff:.1e} nAm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
