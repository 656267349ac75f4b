"""A fit's objective on one CPU device: its trials in one compiled call against
split into parts run at once (``hnnjax/fit/parts.py``), interleaved.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_fit_parts.py [--tstop 170] [--trials 4] [--params 3]
                                                                [--repeats 2] [--points N]
                                                                [--network somato|erp]

``Objective`` on ``somato_model()``, or with ``--network erp`` on HNN's hand
fit of the yes-trial ERP (``ERPYes100Trials.param``, the main job's
network: three evoked drives and a Poisson drive); ``--params``: names, or
the first N of the ``bench_grad.py`` parameters; its sine target, smoothed
RMSE; ``autodiff`` 'auto'; float64.  Rows: ``value_and_grad`` and one point's
loss (a new point each time, so no cache answers), each timed as a user's
fit sees it, after a warm-up that compiles every call and runs one steady
gradient (from whose time ``Objective`` decides how to run a loss).  "one
call" is the objective with its trial parts switched off: its loss then
reuses the compiled gradient after gradients under ``REUSE_GRADIENT_S``
(10 s), else a compiled forward, as ``Objective`` does.  ``--points N``
times instead the residuals of N points (a Levenberg-Marquardt step's batch:
``Objective.residuals``) in one call against ``PointCalls`` (calls of one
point and up to 2 trials, two at once).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"
sys.path.insert(0, str(Path(__file__).parent))

from _interleaved import log  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tstop", type=float, default=170.0, help="window, ms")
    p.add_argument("--trials", type=int, default=4)
    p.add_argument("--params", default="3",
                   help="fitted parameters: the first N (1-6) of bench_grad.py's, or names, comma separated")
    p.add_argument("--repeats", type=int, default=2, help="interleaved rounds (median)")
    p.add_argument("--network", choices=("somato", "erp"), default="somato",
                   help="somato_model() or HNN's ERP hand fit (the main job's network)")
    p.add_argument("--points", type=int, default=0,
                   help="time the residuals of this many points instead (0: the gradient and loss rows)")
    args = p.parse_args(argv)

    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    from _hlo import machine
    from bench_grad import MORE_PARAMS, PARAMS
    from hnnjax.fit import Objective
    from hnnjax.network_models import somato_model
    from hnnjax.workflows.somato import hand_fit_network

    times = np.arange(0.0, args.tstop + 0.0125, 0.025)
    target = (times, 0.05 * np.sin(times / 20.0) * 1e3)
    params = (PARAMS + MORE_PARAMS)[:int(args.params)] if args.params.isdigit() else args.params.split(",")
    objs = {}
    for mode in ("one call", "parts at once"):
        net = somato_model() if args.network == "somato" else hand_fit_network()
        objs[mode] = Objective(net, target, params,
                               n_trials=args.trials, tstop=args.tstop, progress=False)
        objs[mode]._build()
        if mode == "one call":
            objs[mode]._compiled.update(parts=None, points=None)
    if args.points:
        return _points(objs, args, params)
    parts = objs["parts at once"]._compiled["parts"]
    split = f"{parts.n_parts} parts" if parts else "1 part"
    u0 = objs["one call"].u0
    log(f"compiling ({args.trials} trials, {args.tstop:g} ms, {split})")
    first = {}
    for mode, obj in objs.items():
        t0 = time.perf_counter()
        obj.value_and_grad(u0)  # compiles
        obj.value_and_grad(u0 + 1e-3)  # steady: Objective decides how to run a loss from its time
        obj.loss(u0 + 2e-3)  # compiles a forward where Objective wants one
        first[mode] = time.perf_counter() - t0
    same = {}
    res = {m: obj.value_and_grad(u0) for m, obj in objs.items()}
    same["value_and_grad"] = (res["one call"][0] == res["parts at once"][0],
                              float(np.max(np.abs(res["one call"][1] - res["parts at once"][1]))
                                    / np.max(np.abs(res["one call"][1]))))
    loss = {m: obj.loss(u0 + 3e-3) for m, obj in objs.items()}
    same["loss"] = (loss["one call"] == loss["parts at once"],
                    abs(loss["one call"] - loss["parts at once"]) / abs(loss["one call"]))
    t = {(row, m): [] for row in same for m in objs}
    for r in range(args.repeats):
        for m, obj in objs.items():
            u = u0 + 1e-4 * (r + 1)
            t0 = time.perf_counter()
            obj.value_and_grad(u)
            t["value_and_grad", m].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            obj.loss(u + 5e-3)
            t["loss", m].append(time.perf_counter() - t0)
        log(f"round {r + 1}/{args.repeats} done")
    print(f"# bench_fit_parts: {machine()}; {args.network} network, {args.trials} trials of "
          f"{args.tstop:g} ms, float64, "
          f"{len(params)} parameters ({objs['one call'].autodiff} mode), {split} at once; "
          f"median of {args.repeats} interleaved rounds")
    print("| call | one call s | parts at once s | one / parts (range) | loss bit-equal | max rel. diff |")
    print("|---|---|---|---|---|---|")
    for row, (equal, rel) in same.items():
        one, at_once = (t[row, m] for m in objs)
        ratios = [x / y for x, y in zip(one, at_once)]  # per round: the host's drifts cancel
        print(f"| {row} | {statistics.median(one):.2f} | {statistics.median(at_once):.2f} | "
              f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) | "
              f"{'yes' if equal else 'no'} | {rel:.1e} |")
    print("max rel. diff: gradient entries (of the largest), loss; first calls "
          "(compiles, then a steady gradient): "
          + ", ".join(f"{m} {s:.1f} s" for m, s in first.items()))


def _points(objs, args, params):
    """The residuals of ``args.points`` points in one call against PointCalls."""
    import numpy as np
    from _hlo import machine

    u0 = objs["one call"].u0
    us = u0 + 0.3 * np.random.default_rng(0).standard_normal((args.points, u0.size))
    at_once = objs["parts at once"]._compiled["points"]
    log(f"compiling ({args.points} points x {args.trials} trials, {args.tstop:g} ms)")
    res = {m: obj.residuals(us) for m, obj in objs.items()}  # compiles
    ref = res["one call"]
    rel = float(np.max(np.abs(res["parts at once"] - ref)) / np.max(np.abs(ref)))
    t = {m: [] for m in objs}
    for r in range(args.repeats):
        for m, obj in objs.items():
            t0 = time.perf_counter()
            obj.residuals(us + 1e-4 * (r + 1))
            t[m].append(time.perf_counter() - t0)
        log(f"round {r + 1}/{args.repeats} done")
    print(f"# bench_fit_parts --points: {machine()}; {args.network} network, {args.points} points x "
          f"{args.trials} trials of "
          f"{args.tstop:g} ms, float64, {len(params)} parameters; calls of 1 point x {at_once.size} "
          f"trials, 2 at once; median of {args.repeats} interleaved rounds")
    print("| call | one call s | point calls s | one / point calls (range) | max diff / peak |")
    print("|---|---|---|---|---|")
    ratios = [x / y for x, y in zip(t["one call"], t["parts at once"])]
    print(f"| residuals | {statistics.median(t['one call']):.2f} | {statistics.median(t['parts at once']):.2f} | "
          f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) | {rel:.1e} |")


if __name__ == "__main__":
    main()
