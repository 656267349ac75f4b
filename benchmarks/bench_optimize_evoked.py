#!/usr/bin/env python
"""optimize_evoked: hnnjax vs hnn-core on the same call.

    python benchmarks/bench_optimize_evoked.py [--drives evprox1] [--maxiter 12]
                                               [--hnn-core-python PY] [--skip-hnn-core]

The call of hnn-core's old example: the ERP network (``jones_2009_model``
with ``add_erp_drives_to_jones_model``, 170 ms, one trial) fitted to the
yes-trial S1 ERP shipped with hnnjax, scaled by 3000 and smoothed over 30 ms,
``maxiter`` simulations per step, the drives in ``--drives``.  Each library
runs in its own process and simulates its own initial dipole first (not
timed); the fit is timed with hnnjax's compile included.  Prints the
seconds, the simulations each ran, the seconds per simulation, the RMSE
(nAm) over 0-170 ms before and after (each library's own fitted network,
simulated once more), and the ratio of the times.  The two do not take the
same steps (hnn-core 0.6.1's COBYLA binds every parameter to the last one's
range; ``hnnjax/optimization/optimize_evoked.py``).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _script_result import REPO, add_hnn_core_args, both_libraries, script_result  # noqa: E402

os.environ["OPENBLAS_NUM_THREADS"] = "1"

RUN = r'''
import contextlib, io, json, sys, time, warnings
warnings.simplefilter("ignore")
lib, drives, maxiter, target_file = sys.argv[1:5]
if lib == "hnn_core":
    from hnn_core import jones_2009_model, read_dipole, simulate_dipole
    from hnn_core.dipole import _rmse as rmse
    from hnn_core.network_models import add_erp_drives_to_jones_model
    from hnn_core.optimization import optimize_evoked
else:
    from hnnjax import jones_2009_model, read_dipole, simulate_dipole
    from hnnjax.network_models import add_erp_drives_to_jones_model
    from hnnjax.optimization import optimize_evoked
    from hnnjax.optimization.objective_functions import dipole_rmse as rmse


def average(net):
    return simulate_dipole(net, tstop=170.0, n_trials=1)[0].scale(3000.0).smooth(30.0)


target = read_dipole(target_file)
net = jones_2009_model()
add_erp_drives_to_jones_model(net)
initial = average(net)
log = io.StringIO()
start = time.perf_counter()
with contextlib.redirect_stdout(log):
    fitted, sims = optimize_evoked(net, 170.0, 1, target, initial, maxiter=int(maxiter),
                                   scale_factor=3000.0, smooth_window_len=30.0,
                                   which_drives=drives.split(","), return_rmse=True)
seconds = time.perf_counter() - start
print("RESULT " + json.dumps({"seconds": seconds, "sims": len(sims),
                              "before": float(rmse(initial, target, tstop=170.0)),
                              "after": float(rmse(average(fitted), target, tstop=170.0))}))
'''


def run(python, lib, args):
    target = os.path.join(REPO, "hnnjax", "data", "meg", "yes_trial_S1_ERP_all_avg.txt")
    return script_result(python, RUN, lib, args.drives, args.maxiter, target)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drives", default="evprox1", help="comma-separated evoked drives to fit")
    ap.add_argument("--maxiter", type=int, default=12, help="simulations per step (>= 12)")
    add_hnn_core_args(ap)
    args = ap.parse_args()
    from _hlo import machine

    print(f"# bench_optimize_evoked: {machine()}; drives {args.drives}, maxiter {args.maxiter}, "
          f"ERP network, 170 ms, 1 trial; load average {os.getloadavg()[0]:.2f}", flush=True)
    results = both_libraries(args, lambda python, lib: run(python, lib, args))
    print("| library | fit s | simulations | s per simulation | RMSE before -> after (nAm) |")
    print("|---|---|---|---|---|")
    for lib, res in results.items():
        print(f"| {lib} | {res['seconds']:.1f} | {res['sims']} | {res['seconds'] / res['sims']:.2f} "
              f"| {res['before']:.3f} -> {res['after']:.3f} |")
    if "hnn-core" in results:
        ref, mine = results["hnn-core"], results["hnnjax"]
        print(f"ratio hnn-core / hnnjax per simulation: "
              f"{ref['seconds'] / ref['sims'] / (mine['seconds'] / mine['sims']):.1f}x (hnnjax's "
              f"compile included, hnn-core on one process); load average "
              f"{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
