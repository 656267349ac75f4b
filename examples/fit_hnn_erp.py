"""Refine an HNN hand fit of a real S1 ERP, or fit the ERP from a generic start.

Two of HNN's tutorial ERPs, each with the parameter file HNN ships for it
(``--data``):

* ``yes``: the average S1 dipole of "yes" (detected) trials of a tactile
  detection task (``yes_trial_S1_ERP_all_avg.txt``, nAm, 0-170 ms) and
  ``ERPYes100Trials.param``, HNN's published hand fit of it;
* ``supra``: the S1 response to a suprathreshold stimulus (``S1_SupraT.txt``)
  and ``ERPYesSupraT.param``, HNN's suprathreshold variant of that file (the
  same network; other evoked latencies and much larger weights; 20 ms
  smoothing).  No fit of this waveform is published: the file is the start.

The network is HNN's ``neymotin_2020_model`` (hnn-core's ``jones_2009_model``)
built from the file, with

* ``--start hand``: all the drives that parameter file defines (evdist1,
  evprox1, evprox2 and a Poisson drive whose weights are all zero);
* ``--start canonical``: the canonical ERP drives of
  ``add_erp_drives_to_jones_model`` instead.

The loss is the RMSE between the target and the trial-averaged dipole,
smoothed and scaled as the parameter file says (``dipole_smooth_win``,
``dipole_scalefctr``; ``settings_from_params``).  The fit runs the stages
chosen on the command line: CMA-ES over the parameter box
(``--generations``), Adam steps on the gradient (``--n-steps``), then
Levenberg-Marquardt (``--refine``), all on ``--n-trials`` trials whose drive
draws are fresh normals (``draws='key'``), held fixed over the fit (with
``--resample``, the Adam steps each draw new ones).  ``--validate`` scores
each Adam step's point on as many held-out trials and returns the point best
there (early stopping; ``GradientDescent(validate=True)``).  With
``--trials-per-average 8`` the loss is the mean over disjoint 8-trial
averages, the expected score of an 8-trial average as the yardstick takes it
(its trial-to-trial variance counts), rather than the loss of one average of
all ``--n-trials``.  ``--switch-on NAME=VALUE`` lets the fit move a weight
onto pyramidal cells that the parameter file leaves at zero (e.g.
``evprox2.weights_nmda.L2_pyramidal``), starting at VALUE: the differentiable
model leaves zero-weight connections out.  ``--grid NAME=V1,V2,...`` first
scores each candidate value of a parameter of these drives (any of them, a
weight onto basket cells included) on the objective and goes on from the
best; NAME joins the fitted parameters.  A gradient cannot cross the jumps
where a population starts or stops spiking; a grid can.

Honest score: the fitted network re-simulated with the NEURON-faithful
``simulate_dipole`` on 8 trials with hnn-core's seeds -- trials the fit never
saw -- smoothed and scaled the same way; the start and the file's own drives
are scored the same way.  The scores, the objective, each stage's losses,
simulations and wall time, and the fitted values go to
``<out>/fit_<data>_<start>[_resample][_avg<K>][_validated][_on<N>][_grid<N>][_resumed[N]].json``, and a figure of the
target with those averages and of the objective per step beside it (``.png``).

The runs in ``benchmarks/README.md`` (2-core CPU)::

    OPENBLAS_NUM_THREADS=1 python examples/fit_hnn_erp.py --data yes --start hand \
        --n-trials 8 --n-steps 12 --lr 0.05 --refine 0
    OPENBLAS_NUM_THREADS=1 python examples/fit_hnn_erp.py --data yes --start hand \
        --n-trials 8 --n-steps 16 --lr 0.02 --refine 0 \
        --resume hnnjax_out/fit_hnn_erp/fit_yes_hand.json  # a --lr 0.02 run's JSON
    OPENBLAS_NUM_THREADS=1 python examples/fit_hnn_erp.py --data yes --start canonical \
        --n-trials 1 --generations 6 --n-steps 6 --refine 1
    OPENBLAS_NUM_THREADS=1 python examples/fit_hnn_erp.py --data supra --start hand \
        --n-trials 4 --n-steps 8 --lr 0.05 --refine 0
"""
import argparse
import json
import math
import os
import re

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

DATA = {"yes": ("yes_trial_S1_ERP_all_avg.txt", "ERPYes100Trials"),  # shipped with hnnjax
        "supra": ("S1_SupraT.txt", "ERPYesSupraT")}
DRIVES = ("evdist1", "evprox1", "evprox2")


def drive_params(net, off=None):
    """Every parameter of the example's drives but those in ``off`` (default:
    those switched off in ``net``, whose connections the model leaves out)."""
    from hnnjax.fit import expand_names
    from hnnjax.grad.model import drive_parameters, switched_off
    off = switched_off(net) if off is None else off
    return expand_names([f"{d}.*" for d in DRIVES], drive_parameters(net)[0], off)


def pyramidal_params(net, off=None):
    """Each drive's mu and sigma and its weights and synaptic delays onto
    pyramidal cells (20 parameters for these three drives): the dipole is the
    pyramidal cells' current, so these set the latency, width and size of
    each deflection.  Left out: everything onto basket cells (whole
    populations start or stop spiking: jumps no gradient sees; ``--grid``
    adds one), and the parameters in ``off`` (default: those switched off
    in ``net``)."""
    return [n for n in drive_params(net, off)
            if n.split(".")[1] in ("mu", "sigma") or n.endswith("_pyramidal")]


def bounds_around(net, names, tstop):
    """mu within 20 ms of its start, sigma in 0.5-20 ms; the rest positive."""
    from hnnjax.grad.model import drive_parameters
    all_names, values = drive_parameters(net)
    out = {}
    for n in names:
        v, kind = float(values[all_names.index(n)]), n.split(".")[1]
        if kind == "mu":
            out[n] = (max(0.0, v - 20.0), min(tstop, v + 20.0))
        elif kind == "sigma":
            out[n] = (0.5, 20.0)
    return out


def build(start, params):
    import hnnjax as hnn
    from hnnjax.network_models import add_erp_drives_to_jones_model
    net = hnn.neymotin_2020_model(params, add_drives_from_params=start == "hand")
    return net if start == "hand" else add_erp_drives_to_jones_model(net)


def read_fit(path, option, ap, data, start=None):
    """The JSON an earlier run of this script wrote, checked to be a fit of
    ``data`` (and of ``start``, where given); otherwise an ``ap`` error that
    names ``option``."""
    try:
        with open(path) as f:
            fit = json.load(f)
        fit["values"], fit["start"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        ap.error(f"{option} {path}: not a JSON this script wrote ({err!r})")
    fit_data = fit.get("data", "yes")  # written before --data existed: the yes-trial ERP
    if fit_data != data or start not in (None, fit["start"]):
        ap.error(f"{option} {path}: a fit of --data {fit_data} --start {fit['start']}, not of --data "
                 f"{data}{f' --start {start}' if start else ''}")
    return fit


def set_fitted(net, values):
    """``net`` (built for the fit's start) with a fit's ``values`` set."""
    from hnnjax.fit import set_drive_parameter
    for name, value in values.items():
        set_drive_parameter(net, name, value)
    return net


def switch_on(net, pairs, ap):
    """Set each ``NAME=VALUE`` of ``--switch-on``: a weight onto pyramidal
    cells of the fitted drives that the parameter file leaves at zero (so the
    model leaves its connections out and a fit cannot move it), started at
    VALUE > 0 µS so the fit can; otherwise an ``ap`` error naming it."""
    from hnnjax.fit import set_drive_parameter
    from hnnjax.grad.model import switched_off
    off = switched_off(net)
    can = [n for n in pyramidal_params(net, off=()) if n in off and ".weights_" in n]
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            value = float(value)
        except ValueError:
            value = float("nan")
        if name not in can or not value > 0:
            ap.error(f"--switch-on {pair}: expected NAME=VALUE with VALUE > 0 (µS) and NAME a weight "
                     f"onto pyramidal cells that is zero here, one of {can}")
        set_drive_parameter(net, name, value)


def grid_points(net, pairs, ap, option="--grid", form="NAME=V1,V2,..."):
    """``--grid``'s ``NAME=V1,V2,...`` pairs as ``Grid`` points {name: values};
    NAME is a parameter of the fitted drives whose connections the model
    keeps (nonzero), each given once; otherwise an ``ap`` error naming
    ``option``, the pair and the ``form`` it takes."""
    can = drive_params(net)
    points = {}
    for pair in pairs:
        name, _, values = pair.partition("=")
        try:
            values = [float(v) for v in values.split(",")]
        except ValueError:
            values = []
        if name not in can or name in points or not values or not all(map(math.isfinite, values)):
            ap.error(f"{option} {pair}: expected {form} with finite values and NAME, given once, "
                     f"a parameter of the drives {', '.join(DRIVES)} that is not zero here, one of {can}")
        points[name] = values
    return points


def output_name(args):
    """``fit_<data>_<start>[_resample][_avg<K>][_validated][_on<N>][_grid<N>].json``;
    a resumed run adds ``_resumed``, and resuming a resumed fit counts on
    (``_resumed2``, ...), so a run never overwrites the JSON it started from."""
    base = (f"fit_{args.data}_{args.start}{'_resample' * args.resample}"
            f"{f'_avg{args.trials_per_average}' if args.trials_per_average else ''}"
            f"{'_validated' * args.validate}{f'_on{len(args.switch_on)}' if args.switch_on else ''}"
            f"{f'_grid{len(args.grid)}' if args.grid else ''}")
    if not args.resume:
        return base + ".json"
    done = re.search(r"_resumed(\d*)$", os.path.splitext(os.path.basename(args.resume))[0])
    n = 1 + (int(done.group(1) or 1) if done else 0)
    return f"{base}_resumed{n if n > 1 else ''}.json"


def plot(path, target, curves, stages, n_trials, returned, trials_per_average=None):
    """Left: the target (name, times ms, nAm) and the faithful trial averages
    (``curves``: (label, ``FaithfulScore``, line style) triples), RMSE in the
    legend; right: the objective at each recorded point of each stage
    (``stages``: the JSON's list of dicts with ``stage`` and ``history``, and
    ``validation``: held-out losses of the last points) and the objective of the
    point the fit returned (nAm); ``trials_per_average``: the objective's
    averages, as ``fit_drives`` takes it."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    import numpy as np
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True,
                                  gridspec_kw=dict(width_ratios=[2, 1]))
    name, t, v = target
    ax.plot(t, v, color="k", lw=2, label=f"MEG target ({name})")
    for label, score, style in curves:
        d = score.dipole
        ax.plot(d.times, d.data["agg"], **style, label=f"{label} ({score.rmse:.2f} nAm)")
    ax.axhline(0, color="0.85", lw=0.8, zorder=0)
    ax.set_xlim(0, t[-1])
    ax.set_xlabel("Time (ms)")
    ax.set_ylabel("Dipole (nAm)")
    sc = curves[0][1]
    ax.set_title(f"Faithful {sc.n_trials}-trial averages, hnn-core's seeds (smoothed "
                 f"{sc.smooth_window or 0:g} ms, scale {sc.scale:g}); RMSE in the legend", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    start = 0
    for stage in stages:  # a Grid stage: the loss of each of its candidates
        grid = "grid_losses" in stage
        losses = stage["grid_losses"] if grid else stage["history"]
        x = np.arange(start, start + len(losses))
        names = list(stage["grid_points"]) if grid else []
        line, = ax2.plot(x, losses, marker="o" if grid else ".", ls="none" if grid else "-",
                         label="\n".join([stage["stage"] + " candidates:" * grid] + names))
        for xi, loss, row in zip(x, losses, zip(*(stage["grid_points"][n] for n in names))):
            ax2.annotate(", ".join(f"{v:.4g}" for v in row), (xi, loss), xytext=(0, 5),
                         textcoords="offset points", ha="center", fontsize=7)
        if stage.get("validation"):  # aligned with the last points of the history
            ax2.plot(x[len(x) - len(stage["validation"]):], stage["validation"], marker="x", ls="--",
                     color=line.get_color(), label=f"{stage['stage']}, held-out trials")
        start += len(losses)
    ax2.axhline(returned, color="0.4", ls="--", lw=1, label=f"returned point ({returned:.3f})")
    ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_xlim(-0.5, max(start, 1) - 0.5)
    ax2.margins(y=0.1)  # room for the grid candidates' values above their markers
    ax2.set_xlabel("Recorded point" + (" (Grid: each candidate)" if any(
        "grid_losses" in st for st in stages) else " (Adam: step)"))
    ax2.set_ylabel("Objective RMSE (nAm)")
    held = "\n(x: as many held-out trials)" if any(st.get("validation") for st in stages) else ""
    averages = f",\nmean of {n_trials // trials_per_average} averages of {trials_per_average}" \
        if trials_per_average and trials_per_average < n_trials else ""
    ax2.set_title(f"Objective: differentiable model, its own {n_trials} trial{'s' * (n_trials > 1)}"
                  f"{averages}{held}", fontsize=9)
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", choices=tuple(DATA), default="yes",
                    help="yes: yes_trial_S1_ERP_all_avg.txt from ERPYes100Trials.param; "
                         "supra: S1_SupraT.txt from ERPYesSupraT.param")
    ap.add_argument("--start", choices=("hand", "canonical"), default="hand")
    ap.add_argument("--param-file", default=None,
                    help="HNN parameter file (default: the shipped one --data names)")
    ap.add_argument("--n-trials", type=int, default=2)
    ap.add_argument("--generations", type=int, default=0, help="CMA-ES generations")
    ap.add_argument("--popsize", type=int, default=None, help="CMA-ES population")
    ap.add_argument("--cma-sigma", type=float, default=0.5, help="CMA-ES initial step")
    ap.add_argument("--n-steps", type=int, default=8, help="Adam steps")
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--resample", action="store_true",
                    help="each Adam step on fresh drive draws (stochastic gradient of the "
                         "expected loss) instead of the same --n-trials draws throughout")
    ap.add_argument("--validate", action="store_true",
                    help="score each Adam step's point on --n-trials held-out trials and return the "
                         "point best there (early stopping)")
    ap.add_argument("--trials-per-average", type=int, default=None, metavar="K",
                    help="fit the mean loss of the --n-trials / K disjoint K-trial averages (the "
                         "expected score of a K-trial average, e.g. 8 as the faithful yardstick) "
                         "instead of the loss of the average of all --n-trials")
    ap.add_argument("--refine", type=int, default=3, help="Levenberg-Marquardt steps")
    ap.add_argument("--resume", default=None, metavar="FIT_JSON",
                    help="start from the fitted values in a JSON this script wrote (same --data and "
                         "--start; the parameter box stays the one around the file's drives)")
    ap.add_argument("--switch-on", action="append", default=[], metavar="NAME=VALUE",
                    help="fit also this weight onto pyramidal cells, which the parameter file leaves "
                         "at zero, starting at VALUE µS (e.g. evprox2.weights_nmda.L2_pyramidal=0.1); "
                         "repeatable")
    ap.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2,...",
                    help="before the other stages, score these values of a parameter of the drives (a "
                         "weight onto basket cells too, e.g. evprox1.weights_ampa.L5_basket=0.075,0.1,0.2) "
                         "on the objective and go on from the best; NAME joins the fitted parameters; "
                         "repeatable (all combinations)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join("hnnjax_out", "fit_hnn_erp"),
                    help="output folder (default ./hnnjax_out/fit_hnn_erp)")
    args = ap.parse_args(argv)

    import jax
    import optax
    from hnnjax.fit import (CMAES, GradientDescent, Grid, LevenbergMarquardt, faithful_score,
                            fit_drives, settings_from_params)
    from hnnjax import read_waveform, use_compilation_cache
    from hnnjax.io.params import params_path, read_params

    use_compilation_cache()  # compiled programs kept for later runs (~/.cache/hnnjax/xla)
    target_name, param_name = DATA[args.data]
    p = read_params(args.param_file or params_path(param_name))
    settings = settings_from_params(p)
    net = build(args.start, p)
    box = bounds_around(net, pyramidal_params(net), settings["tstop"])
    resumed = {}  # values of the fit resumed, this run's own on top: the JSON holds every value set
    if args.resume:
        resumed = read_fit(args.resume, "--resume", ap, args.data, args.start)["values"]
        set_fitted(net, resumed)
    switch_on(net, args.switch_on, ap)
    points = grid_points(net, args.grid, ap)
    names = pyramidal_params(net)
    names += [n for n in points if n not in names]
    key = jax.random.PRNGKey(args.seed)
    stages = [Grid(points=points, batch=1)] if points else []
    if args.generations:
        stages.append(CMAES(generations=args.generations, population=args.popsize,
                            sigma=args.cma_sigma, seed=args.seed))
    if args.n_steps:
        stages.append(GradientDescent(n_steps=args.n_steps, optimizer=optax.adam(args.lr), key=key,
                                      resample=args.resample, validate=args.validate))
    if args.refine:
        stages.append(LevenbergMarquardt(max_steps=args.refine))
    res = fit_drives(net, target_name, names, n_trials=args.n_trials, **settings, draws="key", key=key,
                     trials_per_average=args.trials_per_average, bounds=box, stages=stages)
    tgt = read_waveform(target_name)
    kw = dict(tstop=settings["tstop"], dt=settings["dt"], smooth_window=settings["smooth_window"],
              scale=settings["scale"], progress=True)
    hand = faithful_score(build("hand", p), (tgt.times, tgt.data["agg"]), **kw)
    start = hand if args.start == "hand" and not (args.resume or args.switch_on) else \
        faithful_score(net, (tgt.times, tgt.data["agg"]), **kw)
    out = dict(data=args.data, target=target_name, start=args.start, args=vars(args), params=names, wall_s=res.wall_s,
               objective_start=res.loss_history[0], objective=res.loss,
               faithful_rmse=res.score.rmse, start_faithful_rmse=start.rmse,
               hand_fit_faithful_rmse=hand.rmse,
               stages=[dict(stage=r.stage, history=r.history, n_simulations=r.n_simulations,
                            wall_s=r.wall_s, **r.info) for r in res.stages], values={**resumed, **res.values})
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, output_name(args))
    curves = [(f"{param_name} drives", hand, dict(color="tab:orange"))]
    if start is not hand:
        how = [o for o, on in (("--resume", args.resume), ("--switch-on", args.switch_on)) if on]
        curves.append(("start" + f" ({', '.join(how)})" * bool(how), start, dict(color="0.5", ls=":")))
    curves.append(("fit", res.score, dict(color="tab:blue")))
    out["figure"] = os.path.splitext(path)[0] + ".png"
    plot(out["figure"], (target_name, tgt.times, tgt.data["agg"]), curves, out["stages"], args.n_trials,
         res.loss, args.trials_per_average)
    with open(path, "w") as f:
        json.dump(out, f, indent=1, default=lambda a: a.tolist())  # NumPy values in stage records
    print(f"objective {out['objective_start']:.3f} -> {res.loss:.3f} nAm "
          f"({args.n_trials} trials); faithful, 8 trials: start {start.rmse:.3f}, fit "
          f"{res.score.rmse:.3f}, {param_name} drives {hand.rmse:.3f} nAm; fit + score {res.wall_s:.0f} s "
          f"-> {path}, {out['figure']}")


if __name__ == "__main__":
    main()
