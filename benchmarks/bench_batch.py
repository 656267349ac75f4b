#!/usr/bin/env python
"""BatchSimulate: hnnjax vs hnn-core on the same parameter sweep.

    python benchmarks/bench_batch.py [--sets 16] [--mesh 3] [--tstop 170] [--skip-hnn-core]

The sweep is hnn-core 0.6.1's ``plot_batch_simulate.py``: one proximal evoked
drive (mu 40 ms) added by ``set_params``, its basket and pyramidal AMPA
weights taken together from ``np.logspace(-4, -1, sets)``
(``combinations=False``), one trial per set, on ``neymotin_2020_model`` with
a ``mesh x mesh`` grid.  Each library runs in its own process (hnn-core with
``n_jobs=1``: one NEURON simulation per set; hnnjax: every set in the trial
axis of its compiled calls, compile included), wall-clock seconds of
``BatchSimulate.run``.  Prints seconds per set for both and their ratio, and
the largest difference of the aggregate dipoles (nAm) between the two.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _script_result import add_hnn_core_args, script_result  # noqa: E402

os.environ["OPENBLAS_NUM_THREADS"] = "1"

RUN = r'''
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
lib, sets, mesh, tstop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
if lib == "hnn_core":
    from hnn_core import neymotin_2020_model
    from hnn_core.batch_simulate import BatchSimulate
else:
    from hnnjax import neymotin_2020_model
    from hnnjax.batch_simulate import BatchSimulate


def set_params(param_values, net):
    w_b, w_p = param_values["weight_basket"], param_values["weight_pyr"]
    net.add_evoked_drive("evprox", mu=40, sigma=5, numspikes=1, location="proximal",
                         weights_ampa={"L2_basket": w_b, "L2_pyramidal": w_p,
                                       "L5_basket": w_b, "L5_pyramidal": w_p},
                         synaptic_delays={"L2_basket": 0.1, "L2_pyramidal": 0.1,
                                          "L5_basket": 1., "L5_pyramidal": 1.})


grid = {"weight_basket": np.logspace(-4, -1, sets), "weight_pyr": np.logspace(-4, -1, sets)}
batch = BatchSimulate(set_params, net=neymotin_2020_model(mesh_shape=(mesh, mesh)), tstop=tstop)
start = time.perf_counter()
res = batch.run(grid, combinations=False, n_jobs=1, verbose=False)
seconds = time.perf_counter() - start
agg = [r["dpl"][0].data["agg"].tolist() for b in res["simulated_data"] for r in b]
print("RESULT " + json.dumps({"seconds": seconds, "agg": agg}))
'''


def run(python, lib, args):
    return script_result(python, RUN, lib, args.sets, args.mesh, args.tstop)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", type=int, default=16, help="parameter sets in the sweep")
    ap.add_argument("--mesh", type=int, default=3, help="pyramidal cells per grid side")
    ap.add_argument("--tstop", type=float, default=170.0, help="ms")
    add_hnn_core_args(ap)
    args = ap.parse_args()
    print(f"sweep: {args.sets} sets, {args.mesh}x{args.mesh} mesh, {args.tstop:g} ms, 1 trial "
          f"each; load average {os.getloadavg()[0]:.2f}", flush=True)
    jax_res = run(sys.executable, "hnnjax", args)
    print(f"hnnjax:   {jax_res['seconds']:.1f} s ({jax_res['seconds'] / args.sets:.2f} s per set, "
          "compile included)", flush=True)
    if args.skip_hnn_core:
        return
    ref = run(args.hnn_core_python, "hnn_core", args)
    print(f"hnn-core: {ref['seconds']:.1f} s ({ref['seconds'] / args.sets:.2f} s per set)")
    print(f"ratio hnn-core / hnnjax: {ref['seconds'] / jax_res['seconds']:.1f}x")
    diff = max(max(abs(a - b) for a, b in zip(x, y)) for x, y in zip(jax_res["agg"], ref["agg"]))
    peak = max(max(abs(a) for a in y) for y in ref["agg"])
    print(f"largest aggregate dipole difference: {diff:.3g} nAm (largest |dipole| {peak:.3g} nAm); "
          f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
