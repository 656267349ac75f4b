#!/usr/bin/env python
"""How much of an 8-trial faithful score is the draw of its 8 trials.

HNN and hnn-core judge a fit of an ERP by the RMSE of an 8-trial average;
hnnjax's yardstick (``fit.faithful_score``) takes hnn-core's trials 0-7.
This re-simulates HNN's hand fit of the yes-trial ERP (``ERPYes100Trials.param``)
and each fit given (JSONs of ``examples/fit_hnn_erp.py --data yes``) on
``--blocks`` x 8 trials with hnn-core's seeds, from its trial
``--first-trial`` on (NEURON-faithful ``simulate_dipole``), and prints the
RMSE against the target of each block of 8 trials and of all of them
together, on the 0.025 ms grid and at the
target's own samples, smoothed and scaled as the parameter file says; what
the smoothing alone costs (the target scored against itself smoothed) and
what it forbids (the best score of any average within the target's range); and
where the average of all trials departs from the target: its mean residual
in each 10 ms window; and the differentiable model (what a fit descends) on
trials 0-7, to tell the model's distance from the draw's (from trial 0 only).
Trials no fit or choice has seen (``--first-trial 32``) tell a fit's expected
8-trial score.  ``--variant NAME=V[,NAME=V...]`` also scores the last fit
with those values changed: a faithful scan around it, on the trials given.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_yardstick.py \\
        [--fit-json hnnjax_out/fit_hnn_erp/fit_yes_hand.json ...] [--blocks 4] [--first-trial 0] \\
        [--variant evdist1.weights_nmda.L5_pyramidal=0.055 ...] [--json F]
"""
import argparse
import copy
import json
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def block_scores(net, settings, target, n_blocks, first_trial):
    """([(grid RMSE, target-sample RMSE) nAm for each block of 8 trials] + the
    same for all ``8 * n_blocks`` trials, [mean residual (nAm) of all trials'
    average in each 10 ms window]); trial k draws as hnn-core's trial
    ``first_trial + k``.  The grid RMSE is ``fit.score_trials``'s, the
    yardstick's."""
    import numpy as np
    from hnnjax import simulate_dipole
    from hnnjax.fit import score_trials

    dpls = simulate_dipole(net, tstop=settings["tstop"], dt=settings["dt"], n_trials=8 * n_blocks,
                           verbose=False, progress=True, first_trial=first_trial)

    def rmse(trials):
        score = score_trials(trials, target, smooth_window=settings["smooth_window"],
                             scale=settings["scale"])
        times, sim = score.dipole.times, score.dipole.data["agg"]
        at = np.interp(target[0], times, sim) - target[1]
        return score.rmse, float(np.sqrt(np.mean(at ** 2))), times, sim - np.interp(times, *target)

    scores = [rmse(dpls[8 * b:8 * b + 8]) for b in range(n_blocks)] + [rmse(dpls)]
    times, grid = scores[-1][2:]
    window = np.minimum(times // 10, (settings["tstop"] - 1e-9) // 10).astype(int)
    residual = [float(grid[window == w].mean()) for w in range(window.max() + 1)]
    return [sc[:2] for sc in scores], residual


def differentiable_score(net, names, settings, target_name):
    """RMSE (nAm, grid) of the differentiable model (``fit.Objective``) on
    hnn-core's trials 0-7, the yardstick's draws: how far the model a fit
    descends is from the faithful one where both see the same drive times."""
    from hnnjax.fit import Objective

    obj = Objective(net, target_name, names, n_trials=8, draws="hnn-core", progress=False, **settings)
    return obj.loss(obj.u0)


def on_grid(target, settings):
    """The simulation's times (ms) and the target interpolated onto them (nAm)."""
    import numpy as np

    times = np.arange(round(settings["tstop"] / settings["dt"]) + 1) * settings["dt"]
    return times, np.interp(times, *target)


def smoothing_floor(target, settings):
    """RMSE (nAm) of the target against itself smoothed as a simulation is
    (``Dipole.smooth``: Hamming, zero-padded at both ends), on the grid: what
    a model whose trial average equals the target would score."""
    import numpy as np
    from hnnjax.dipole import Dipole

    times, exact = on_grid(target, settings)
    smoothed = Dipole(times, {"agg": exact.copy()})
    if settings["smooth_window"]:
        smoothed.smooth(settings["smooth_window"])
    return float(np.sqrt(np.mean((smoothed.data["agg"] - exact) ** 2)))


def best_smoothed(target, settings, limit, knot_ms=2.0):
    """The lowest RMSE (nAm, grid) any trial average within +-``limit`` nAm
    (piecewise linear, knots every ``knot_ms``) can score once smoothed as a
    simulation is: what the smoothing itself forbids (bounded least squares).
    Unbounded, a deconvolution reaches ~0 with wild amplitudes."""
    import numpy as np
    from scipy.optimize import lsq_linear
    from hnnjax.utils import smooth_waveform

    times, exact = on_grid(target, settings)
    knots = np.arange(0.0, settings["tstop"] + knot_ms / 2, knot_ms)
    hats = np.array([np.interp(times, knots, row) for row in np.eye(len(knots))]).T
    if settings["smooth_window"]:
        hats = np.column_stack([smooth_waveform(h, settings["smooth_window"], 1e3 / settings["dt"])
                                for h in hats.T])
    fit = lsq_linear(hats, exact, bounds=(-limit, limit))
    return float(np.sqrt(np.mean((hats @ fit.x - exact) ** 2)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fit-json", nargs="*", default=[],
                    help="JSONs of examples/fit_hnn_erp.py --data yes (their fitted values)")
    ap.add_argument("--blocks", type=int, default=4, help="blocks of 8 trials (default 4)")
    ap.add_argument("--first-trial", type=int, default=0,
                    help="hnn-core's trial the first block starts at (default 0: the yardstick's trials "
                         "0-7 first)")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=V[,NAME=V...]",
                    help="also score the last --fit-json's network (without one, the hand fit's) with "
                         "these drive parameters set to these values; repeatable")
    ap.add_argument("--json", default=None, help="write every number here")
    args = ap.parse_args()
    if args.blocks < 1:
        ap.error(f"--blocks must be >= 1, got {args.blocks}")
    if args.first_trial < 0:
        ap.error(f"--first-trial must be >= 0, got {args.first_trial}")
    first = args.first_trial

    sys.path.insert(0, os.path.join(REPO, "examples"))
    import fit_hnn_erp as ex
    import numpy as np
    from _hlo import columns, machine
    from hnnjax import read_waveform
    from hnnjax.fit import settings_from_params
    from hnnjax.io.params import params_path, read_params

    target_name, param_name = ex.DATA["yes"]
    p = read_params(params_path(param_name))
    settings = settings_from_params(p)
    tgt = read_waveform(target_name)
    target = (tgt.times, tgt.data["agg"])
    runs = {"hand fit (ERPYes100Trials)": ex.build("hand", p)}
    for path in args.fit_json:
        fit = ex.read_fit(path, "--fit-json", ap, "yes")
        name = f"fitted from {fit['start']} ({os.path.basename(path)})"
        if name in runs:  # two fits written under the same file name: tell them apart by folder
            name = f"fitted from {fit['start']} ({path})"
        if name in runs:
            ap.error(f"--fit-json {path} is given twice")
        runs[name] = ex.set_fitted(ex.build(fit["start"], p), fit["values"])
    base_name, base = next(reversed(runs.items()))
    for variant in args.variant:  # checked before anything runs
        values = ex.grid_points(base, variant.split(","), ap, "--variant", "NAME=V")
        if f"{base_name} with {variant}" in runs:
            ap.error(f"--variant {variant} is given twice")
        runs[f"{base_name} with {variant}"] = ex.set_fitted(copy.deepcopy(base), {
            n: v for n, (v,) in values.items()})
    out, diff = {}, {}
    for name, net in runs.items():
        print(f"{name}: {8 * args.blocks} faithful trials"
              + ", then 8 of the differentiable model" * (first == 0), file=sys.stderr, flush=True)
        out[name] = block_scores(net, settings, target, args.blocks, first)
        if first == 0:
            diff[name] = differentiable_score(net, ex.pyramidal_params(net), settings, target_name)

    heads = [f"trials {first + 8 * b}-{first + 8 * b + 7}" for b in range(args.blocks)] + [
        f"all {8 * args.blocks}"]
    rows = [["run", "RMSE at"] + heads]
    for name, (sc, _) in out.items():
        rows.append([name, "0.025 ms grid"] + [f"{g:.3f}" for g, _ in sc])
        rows.append(["", "target samples"] + [f"{t:.3f}" for _, t in sc])
        if name in diff:
            rows.append(["", "grid, differentiable model"] + [f"{diff[name]:.3f}"] + [""] * args.blocks)
    print(f"faithful RMSE (nAm) of 8-trial averages against {target_name}, smoothing "
          f"{settings['smooth_window']:g} ms, scale {settings['scale']:g}; {machine()}\n")
    print(columns(rows))
    floor = smoothing_floor(target, settings)
    print(f"\nthe target against itself smoothed as the simulations are: {floor:.3f} nAm (grid)")
    limit = float(np.max(np.abs(target[1])))
    best = best_smoothed(target, settings, limit)
    print(f"the best any average within +-{limit:.0f} nAm (the target's largest |value|) scores once "
          f"smoothed: {best:.3f} nAm (grid)")
    n_win = len(next(iter(out.values()))[1])
    rows = [["ms"] + list(out)] + [[f"{10 * w}-{min(10 * w + 10, settings['tstop']):g}"]
                                   + [f"{res[w]:+.1f}" for _, res in out.values()] for w in range(n_win)]
    print(f"\nmean residual (nAm) of the {8 * args.blocks}-trial average, model - target, per 10 ms\n")
    print(columns(rows))
    if args.json:
        scores = {name: dict(grid_and_target_rmse_nAm=sc, residual_per_10ms_nAm=res,
                             differentiable_trials_0_7_nAm=diff.get(name))
                  for name, (sc, res) in out.items()}
        with open(args.json, "w") as f:
            json.dump(dict(blocks=args.blocks, first_trial=first, machine=machine(),
                           smoothing_floor_nAm=floor, best_smoothed_nAm=dict(limit_nAm=limit, rmse_nAm=best),
                           runs=scores), f, indent=1)


if __name__ == "__main__":
    main()
