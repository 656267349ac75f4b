#!/usr/bin/env python
"""HNN's yes-trial ERP refined from HNN's hand fit: hnn-core's own ``Optimizer``
(COBYLA and its Bayesian solver, NEURON) against hnnjax's gradient fit, at
equal wall time.

    python benchmarks/bench_fit.py --hnnjax-json hnnjax_out/fit_hnn_erp/fit_yes_hand.json \\
        [--budget-s S] [--solvers cobyla,bayesian] [--json bench_fit.json]

The fit is issue 15's (a), as ``examples/fit_hnn_erp.py --data yes --start hand``
runs it: ``jones_2009_model(read_params('ERPYes100Trials.param'),
add_drives_from_params=True)``, the 20 drive parameters of
``pyramidal_params`` (each evoked drive's mu, sigma, and weights and delays
onto pyramidal cells), target ``yes_trial_S1_ERP_all_avg.txt`` over 0-170 ms,
smoothing 30 ms and scale 3000 as the parameter file says.

* **hnnjax**: the example's JSON (``--hnnjax-json``): its stages, wall time
  and fitted values.  Its wall time is the budget unless ``--budget-s`` says
  otherwise.
* **hnn-core**: ``hnn_core.optimization.Optimizer(net, tstop=170,
  constraints, set_params, initial_params, solver=...)`` and
  ``fit(target=Dipole, n_trials=1, scale_factor=3000, smooth_window_len=30)``,
  i.e. its built-in ``'dipole_rmse'`` objective, run under ``--hnn-core-python``
  (this file in worker mode, importing hnn-core only).  Each solver runs in
  its own process, both at once (one core each: hnn-core simulates one trial
  on one core).  Ours, through the Optimizer's documented hooks:

  - ``set_params`` writes the 20 values into the drives' dynamics and their
    connections' ``A_weight``/``A_delay`` (AMPA and NMDA share a delay);
  - every parameter is given to the Optimizer on [0, 1] over its box (COBYLA
    starts with steps of 0.1 in the constraints' units: 0.1 ms on a latency
    but many times a synaptic weight); the box is the hnnjax fit's for mu
    (start +-20 ms) and sigma (0.5-20 ms), and 0-4x the start for weights and
    0.1 ms to start + 5 ms for delays (the hnnjax fit bounds those below only);
  - ``obj_fun`` is hnn-core's built-in evoked RMSE behind a wall-time guard:
    a call that would end past the budget is not started, and the best
    parameters seen so far are the result (what both solvers return).

* **common yardstick**: the start and every result re-simulated with hnnjax's
  NEURON-faithful ``simulate_dipole`` with hnn-core's seeds
  (``bench_yardstick.block_scores``): trials 0-7, as ``fit.faithful_score``
  scores, RMSE on the 0.025 ms grid and at the target's own samples (where
  hnn-core reports 5.38 nAm for the hand fit), and ``--wide-trials`` trials
  on the grid.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ["OPENBLAS_NUM_THREADS"] = "1"

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TAG = "HNN_CORE_FIT_JSON "


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# worker: runs under the hnn-core python (imports hnn_core only, never hnnjax)
# --------------------------------------------------------------------------

class BudgetSpent(Exception):
    """The next objective call would end past the wall-time budget."""


def hnn_core_worker(cfg_path):
    import numpy as np

    import hnn_core
    from hnn_core import jones_2009_model, read_dipole, read_params
    from hnn_core.optimization import Optimizer
    from hnn_core.optimization.objective_functions import _rmse_evoked

    with open(cfg_path) as f:
        cfg = json.load(f)
    names, lo, hi = cfg["params"], np.array(cfg["lo"]), np.array(cfg["hi"])
    np.random.seed(cfg["seed"])  # hnn-core's Bayesian solver samples with np.random

    def physical(u):
        """[0, 1] box coordinates -> parameter values (clipped into the box)."""
        return lo + np.clip(np.asarray(u, float), 0.0, 1.0) * (hi - lo)

    def set_params(net, params):
        for name, v in zip(names, physical([params[n] for n in names])):
            drive, kind, *cell = name.split(".")
            if kind in ("mu", "sigma"):
                net.external_drives[drive]["dynamics"][kind] = float(v)
                continue
            receptors = {"weights_ampa": ("ampa",), "weights_nmda": ("nmda",),
                         "synaptic_delays": ("ampa", "nmda")}[kind]
            key = "A_delay" if kind == "synaptic_delays" else "A_weight"
            for conn in net.connectivity:
                if (conn["src_type"] == drive and conn["target_type"] == cell[0]
                        and conn["receptor"] in receptors):
                    conn["nc_dict"][key] = float(v)

    calls, t_start = [], [None]

    def objective(**kw):
        elapsed = time.perf_counter() - t_start[0]
        mean = np.mean([c["wall_s"] for c in calls]) if calls else 0.0
        if elapsed + mean > cfg["budget_s"]:
            raise BudgetSpent
        t0 = time.perf_counter()
        obj = float(_rmse_evoked(**kw))
        calls.append(dict(obj=obj, wall_s=time.perf_counter() - t0,
                          u=np.asarray(kw["predicted_params"], float).tolist()))
        print(f"hnn-core {cfg['solver']} call {len(calls)}: RMSE {obj:.3f} nAm "
              f"({calls[-1]['wall_s']:.1f} s, {time.perf_counter() - t_start[0]:.0f} s)",
              file=sys.stderr, flush=True)
        return obj

    net = jones_2009_model(read_params(cfg["param_file"]), add_drives_from_params=True)
    target = read_dipole(cfg["target"])
    u0 = (np.array(cfg["start"]) - lo) / (hi - lo)
    opt = Optimizer(net, tstop=cfg["tstop"], constraints={n: (0.0, 1.0) for n in names},
                    set_params=set_params, initial_params=dict(zip(names, u0.tolist())),
                    solver=cfg["solver"], obj_fun=objective, max_iter=cfg["max_iter"])
    t_start[0] = time.perf_counter()
    stopped = False
    try:
        opt.fit(target=target, n_trials=1, scale_factor=cfg["scale"],
                smooth_window_len=cfg["smooth_window"])
    except BudgetSpent:
        stopped = True
    wall = time.perf_counter() - t_start[0]
    best = min(calls, key=lambda c: c["obj"])
    out = dict(hnn_core_version=hnn_core.__version__, solver=cfg["solver"], wall_s=wall,
               stopped_by_budget=stopped, n_calls=len(calls), calls=calls,
               best_rmse_nAm=best["obj"], values=dict(zip(names, physical(best["u"]).tolist())))
    print(TAG + json.dumps(out), flush=True)


# --------------------------------------------------------------------------
# driver: runs under the hnnjax python
# --------------------------------------------------------------------------

def _example():
    sys.path.insert(0, os.path.join(REPO, "examples"))
    import fit_hnn_erp
    return fit_hnn_erp


def start_hnn_core(py, cfg):
    """One solver in its own process; returns (process, config path)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(cfg, f)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen([py, os.path.abspath(__file__), "--_hnn-core-worker", f.name],
                            stdout=subprocess.PIPE, stderr=None, text=True, env=env)
    return proc, f.name


def finish_hnn_core(proc, path):
    stdout, _ = proc.communicate()
    os.unlink(path)
    for line in reversed(stdout.splitlines()):
        if line.startswith(TAG):
            return json.loads(line[len(TAG):])
    raise SystemExit(f"hnn-core worker failed (rc {proc.returncode}):\n{stdout[-3000:]}")


def box(ex, net, names, tstop):
    """The hnnjax fit's bounds for mu and sigma; a finite box for the rest."""
    from hnnjax.grad.model import drive_parameters
    all_names, values = drive_parameters(net)
    start = {n: float(values[all_names.index(n)]) for n in names}
    out = dict(ex.bounds_around(net, names, tstop))
    for n in names:
        if "weights" in n:
            out[n] = (0.0, 4.0 * start[n])
        elif "synaptic_delays" in n:
            out[n] = (0.1, start[n] + 5.0)
    return start, out


def yardstick(ex, p, values, settings, target, wide_trials):
    """Faithful RMSEs of the hand-fit network with ``values`` written into
    its drives: hnn-core's trials 0-7 (the yardstick) on the grid and at the
    target's samples, and ``wide_trials`` trials (the same first 8 and more:
    how much of a score is the draw of 8) on the grid, from one simulation."""
    from bench_yardstick import block_scores
    from hnnjax.fit import set_drive_parameter
    net = ex.build("hand", p)
    for n, v in (values or {}).items():
        set_drive_parameter(net, n, v)
    scores, _ = block_scores(net, settings, target, max(1, wide_trials // 8))
    out = dict(grid_rmse_nAm=scores[0][0], target_rmse_nAm=scores[0][1])
    if wide_trials:
        out["wide_grid_rmse_nAm"] = scores[-1][0]
    return out


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--_hnn-core-worker":
        return hnn_core_worker(sys.argv[2])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hnnjax-json", required=True,
                    help="JSON of examples/fit_hnn_erp.py --data yes --start hand (the hnnjax fit)")
    ap.add_argument("--budget-s", type=float, default=None,
                    help="wall-time budget of each hnn-core solver, s (default: the hnnjax fit's)")
    ap.add_argument("--solvers", default="cobyla,bayesian")
    ap.add_argument("--hnn-core-python", default=sys.executable,
                    help="a python that imports hnn_core, neuron and scikit-learn (default: this one)")
    ap.add_argument("--seed", type=int, default=0, help="np.random seed of the Bayesian solver")
    ap.add_argument("--wide-trials", type=int, default=32,
                    help="also score every result on this many faithful trials, a multiple of 8 (0: don't)")
    ap.add_argument("--json", default=None, help="write every number here")
    args = ap.parse_args()
    if args.wide_trials < 0 or args.wide_trials % 8:
        ap.error(f"--wide-trials must be 0 or a positive multiple of 8, got {args.wide_trials}")

    ex = _example()
    from hnnjax import read_waveform
    from hnnjax.fit import settings_from_params
    from hnnjax.io.params import params_path, read_params

    with open(args.hnnjax_json) as f:
        hj = json.load(f)
    if (hj.get("data", "yes"), hj["start"]) != ("yes", "hand"):
        raise SystemExit("--hnnjax-json: this benchmark compares the fit of --data yes --start hand")
    target_name, param_name = ex.DATA["yes"]
    param_file = hj["args"]["param_file"] or str(params_path(param_name))
    p = read_params(param_file)
    settings = settings_from_params(p)
    net = ex.build("hand", p)
    names = ex.pyramidal_params(net)
    if names != hj["params"]:
        raise SystemExit("--hnnjax-json fitted other parameters than pyramidal_params()")
    start, bounds = box(ex, net, names, settings["tstop"])
    budget = args.budget_s or hj["wall_s"]
    target_path = os.path.join(REPO, "hnnjax", "data", "meg", target_name)
    tgt = read_waveform(target_path)
    target = (tgt.times, tgt.data["agg"])
    out = dict(params=names, budget_s=budget, hnnjax=dict(json=os.path.abspath(args.hnnjax_json),
                                                         wall_s=hj["wall_s"], stages=hj["stages"],
                                                         values=hj["values"]),
               load_start=list(os.getloadavg()), nproc=os.cpu_count(), hnn_core={})

    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    procs = {}
    for solver in solvers:
        cfg = dict(params=names, start=[start[n] for n in names], lo=[bounds[n][0] for n in names],
                   hi=[bounds[n][1] for n in names], param_file=param_file, target=target_path,
                   tstop=settings["tstop"], scale=settings["scale"],
                   smooth_window=settings["smooth_window"], solver=solver, budget_s=budget,
                   max_iter=10_000, seed=args.seed)
        log(f"hnn-core Optimizer solver={solver!r}: {len(names)} parameters, 1 trial per call, "
            f"budget {budget:.0f} s")
        procs[solver] = start_hnn_core(args.hnn_core_python, cfg)
    for solver, (proc, path) in procs.items():
        out["hnn_core"][solver] = finish_hnn_core(proc, path)
        r = out["hnn_core"][solver]
        log(f"hnn-core {solver}: {r['n_calls']} calls in {r['wall_s']:.0f} s, best own "
            f"objective {r['best_rmse_nAm']:.3f} nAm")
    out["load_end"] = list(os.getloadavg())

    log(f"faithful re-simulation of the start and each result (8 and {args.wide_trials} trials)")
    out["eval"] = {"start (hand fit)": yardstick(ex, p, None, settings, target, args.wide_trials),
                   "hnnjax gradient": yardstick(ex, p, hj["values"], settings, target,
                                                    args.wide_trials)}
    for solver, r in out["hnn_core"].items():
        out["eval"][f"hnn-core {solver}"] = yardstick(ex, p, r["values"], settings, target,
                                                          args.wide_trials)
    out["wide_trials"] = args.wide_trials
    out["table"] = render(out)
    print(out["table"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


def render(out):
    from _hlo import columns
    ev, wide = out["eval"], out["wide_trials"]
    head = ["run", "evaluations", "wall s", "8 trials, grid", "8 trials, target samples"]
    rows = [head + ([f"{wide} trials, grid"] if wide else [])]

    def scores(e):
        return [f"{e['grid_rmse_nAm']:.3f}", f"{e['target_rmse_nAm']:.3f}"] + (
            [f"{e['wide_grid_rmse_nAm']:.3f}"] if wide else [])

    rows.append(["start (hand fit)", "", ""] + scores(ev["start (hand fit)"]))
    hj = out["hnnjax"]
    what = ", ".join(f"{st['stage']}: {st['n_simulations']} trial sims" for st in hj["stages"])
    rows.append(["hnnjax gradient", what, f"{hj['wall_s']:.0f}"] + scores(ev["hnnjax gradient"]))
    for solver, r in out["hnn_core"].items():
        rows.append([f"hnn-core {solver}", f"{r['n_calls']} calls of 1 trial", f"{r['wall_s']:.0f}"]
                    + scores(ev[f"hnn-core {solver}"]))
    title = (f"HNN yes-trial ERP from the hand fit, {len(out['params'])} parameters, budget "
             f"{out['budget_s']:.0f} s per optimizer; faithful RMSE, nAm; machine: {out['nproc']} "
             f"cores, load average start {out['load_start'][0]:.1f}, end {out['load_end'][0]:.1f}")
    return f"{title}\n\n{columns(rows)}"


if __name__ == "__main__":
    main()
