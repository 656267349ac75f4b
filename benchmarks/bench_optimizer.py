#!/usr/bin/env python
"""Optimizer(solver='cma'): hnnjax vs hnn-core on the same CMA-ES fit.

    python benchmarks/bench_optimizer.py [--generations 2] [--popsize 8] [--n-jobs 2]
                                         [--hnn-core-python PY] [--skip-hnn-core]

The fit: hnn-core's ERP network (``jones_2009_model`` with
``add_erp_drives_to_jones_model``, 170 ms, one trial per set) against the
yes-trial S1 ERP shipped with hnnjax, scaled by 3000 and smoothed over 30 ms
as in HNN; ``set_params`` moves the times of evprox1 (20-30 ms) and evdist1
(55-70 ms).  Both libraries run ``Optimizer(solver='cma', max_iter=G)`` with
seed 123, each in its own process: hnn-core's generations through its
``BatchSimulate`` on ``--n-jobs`` joblib processes, hnnjax's as one
``BatchSimulate`` run each, compile included.  Prints the seconds of each
fit and their ratio, the best RMSE (nAm) of each generation for both, and
whether the best parameters are the same.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _script_result import REPO, add_hnn_core_args, both_libraries, script_result  # noqa: E402

os.environ["OPENBLAS_NUM_THREADS"] = "1"

RUN = r'''
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
lib, generations, popsize, n_jobs, target_file = sys.argv[1:6]
if lib == "hnn_core":
    from hnn_core import Dipole, jones_2009_model
    from hnn_core.network_models import add_erp_drives_to_jones_model
    from hnn_core.optimization import Optimizer
else:
    from hnnjax import Dipole, jones_2009_model
    from hnnjax.network_models import add_erp_drives_to_jones_model
    from hnnjax.optimization import Optimizer


def set_params(net, params):
    net.external_drives["evprox1"]["dynamics"]["mu"] = params["evprox1_mu"]
    net.external_drives["evdist1"]["dynamics"]["mu"] = params["evdist1_mu"]


net = jones_2009_model()
add_erp_drives_to_jones_model(net)
data = np.loadtxt(target_file)
opt = Optimizer(net, tstop=170.0, constraints={"evprox1_mu": (20.0, 30.0), "evdist1_mu": (55.0, 70.0)},
                set_params=set_params, solver="cma", max_iter=int(generations))
start = time.perf_counter()
opt.fit(target=Dipole(data[:, 0], data[:, 1]), popsize=int(popsize), n_jobs=int(n_jobs), seed=123,
        tolfun=0.0, scale_factor=3000.0, smooth_window_len=30.0)
seconds = time.perf_counter() - start
print("RESULT " + json.dumps({"seconds": seconds, "obj": [float(v) for v in opt.obj_],
                              "opt": [float(v) for v in opt.opt_params_]}))
'''


def run(python, lib, args):
    target = os.path.join(REPO, "hnnjax", "data", "meg", "yes_trial_S1_ERP_all_avg.txt")
    return script_result(python, RUN, lib, args.generations, args.popsize, args.n_jobs, target)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generations", type=int, default=2, help="CMA-ES generations (max_iter)")
    ap.add_argument("--popsize", type=int, default=8, help="parameter sets per generation")
    ap.add_argument("--n-jobs", type=int, default=2, help="hnn-core's joblib processes")
    add_hnn_core_args(ap, "hnn_core, cma and joblib")
    args = ap.parse_args()
    from _hlo import machine

    sets = args.generations * args.popsize
    print(f"# bench_optimizer: {machine()}; CMA-ES, {args.generations} generation(s) of "
          f"{args.popsize} sets, ERP network, 170 ms, 1 trial per set; load average "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    results = both_libraries(args, lambda python, lib: run(python, lib, args))
    print("| library | fit s | s per set | best RMSE by generation (nAm) | best parameters |")
    print("|---|---|---|---|---|")
    for lib, res in results.items():
        print(f"| {lib} | {res['seconds']:.1f} | {res['seconds'] / sets:.2f} | "
              f"{', '.join(f'{v:.6f}' for v in res['obj'])} | "
              f"{', '.join(f'{v:.4f}' for v in res['opt'])} |")
    if "hnn-core" in results:
        ref, jax_res = results["hnn-core"], results["hnnjax"]
        print(f"ratio hnn-core / hnnjax: {ref['seconds'] / jax_res['seconds']:.1f}x (hnnjax's "
              f"compile included, hnn-core on {args.n_jobs} processes); same best parameters: "
              f"{ref['opt'] == jax_res['opt']}; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
