#!/usr/bin/env python
"""Fitting the somatosensory network's drives to a real MEG ERP: hnn-core's
``Optimizer`` (COBYLA, NEURON) vs hnnjax's gradient fit (``fit_drives``).

    python benchmarks/bench_fit.py --hnn-core-python /work/venv-ref/bin/python \\
        [--max-iter 8] [--n-trials 1] [--n-steps 8] [--lr 0.1] [--params ...] \\
        [--hnnjax-json out/fit_somato_meg.json] [--json bench_fit.json]

Both sides fit the same thing: ``somato_model()`` (hnn-core:
``neymotin_2020_model(N20.json)`` plus the same four evoked drives), the
parameters of ``examples/fit_somato_meg.py`` (default: the 4 drives' mu, sigma
and AMPA/NMDA weights onto L2/L5 pyramidal cells) in the same box, to
``yes_trial_S1_ERP_all_avg.txt`` over 0-170 ms, ``--n-trials`` trials per
objective, each trial smoothed by 20 ms, the average scaled by its
least-squares factor, RMSE in nAm.

* **hnn-core**: ``hnn_core.optimization.Optimizer(net, tstop=170,
  constraints, set_params, initial_params, solver='cobyla',
  obj_fun=<objective>, max_iter=--max-iter)`` run in a subprocess by the
  ``--hnn-core-python`` interpreter (this file in worker mode).  Two things
  are ours, both through the Optimizer's documented hooks:

  - ``obj_fun``: hnn-core's built-in ``'dipole_rmse'`` takes a fixed
    ``scale_factor``; to optimise the same objective as the gradient fit we
    pass a function with the built-in's signature that runs hnn-core's
    ``simulate_dipole``, smooths each trial, averages, fits the
    least-squares scale and returns the RMSE against the target interpolated
    on the simulation's 0.025 ms grid (what ``fit_drives`` computes).
  - units: hnn-core's COBYLA starts with ``rhobeg=0.1`` in the raw units of
    the constraints, i.e. 0.1 ms for a latency but 20-50x a synaptic weight.
    The Optimizer therefore sees every parameter mapped onto [0, 1] over its
    box (``set_params`` maps back and clips), so its first steps are 10 % of
    each range.

  One objective call = ``--n-trials`` NEURON simulations.
* **hnnjax**: ``fit_drives`` with Adam, ``--n-steps`` value-and-gradient
  evaluations (each = ``--n-trials`` forward + reverse passes of the
  differentiable model, roughly 4-5 forward simulations' worth of work) plus
  one final forward pass.  Run here, or read from ``--hnnjax-json`` (the JSON
  of ``examples/fit_somato_meg.py``, refused if its settings differ).
* **common yardstick**: both final parameter sets (and the start) are
  re-simulated with hnnjax's NEURON-faithful ``simulate_dipole``
  (``--eval-trials`` trials, hnn-core's drive seeds) and scored the same way
  on the target's own time points.

Everything runs one stage at a time with ``OPENBLAS_NUM_THREADS=1``; wall
times include compiling (hnnjax) and NEURON start-up (hnn-core).
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
TSTOP, DT, SMOOTH = 170.0, 0.025, 20.0
TAG = "HNN_CORE_FIT_JSON "


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# worker: runs under the hnn-core python (imports hnn_core only, never hnnjax)
# --------------------------------------------------------------------------

def hnn_core_worker(cfg_path):
    import numpy as np

    sys.path.insert(0, HERE)
    from _hnn_core_timing import _COMMON, SOMATO_DRIVES  # the somato drives, hnn-core API

    import hnn_core
    from hnn_core import average_dipoles, neymotin_2020_model, simulate_dipole
    from hnn_core.optimization import Optimizer

    with open(cfg_path) as f:
        cfg = json.load(f)
    names, lo, hi = cfg["params"], np.array(cfg["lo"]), np.array(cfg["hi"])
    tgt_t, tgt_v = np.array(cfg["target_t"]), np.array(cfg["target_v"])
    n_trials, smooth = cfg["n_trials"], cfg["smooth_ms"]

    def physical(u):
        """[0, 1] box coordinates -> parameter values (clipped into the box)."""
        return lo + np.clip(np.asarray(u, float), 0.0, 1.0) * (hi - lo)

    def set_params(net, params):
        vals = dict(zip(names, physical([params[n] for n in names])))
        for drive, kwargs in SOMATO_DRIVES:
            kw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in kwargs.items()}
            for name, v in vals.items():
                d, key, *ct = name.split(".")
                if d != drive:
                    continue
                if key in ("mu", "sigma"):
                    kw[key] = float(v)
                elif key == "synaptic_delays":
                    if not isinstance(kw[key], dict):
                        cts = set(kw.get("weights_ampa") or {}) | set(kw.get("weights_nmda") or {})
                        kw[key] = {c: kw[key] for c in cts}
                    kw[key][ct[0]] = float(v)
                else:
                    kw[key][ct[0]] = float(v)
            net.add_evoked_drive(drive, **kw, **_COMMON)

    calls = []

    def objective(initial_net, initial_params, set_params, predicted_params, update_params,
                  obj_values, tstop, obj_fun_kwargs, best=None):
        # same signature and bookkeeping as hnn-core's _rmse_evoked (non-batch case)
        t0 = time.perf_counter()
        params = update_params(initial_params, predicted_params)
        net = initial_net.copy()
        set_params(net, params)
        dpls = simulate_dipole(net, tstop=tstop, dt=DT, n_trials=n_trials, verbose=False)
        for d in dpls:
            d.smooth(smooth)
        avg = average_dipoles(dpls)
        sim = np.asarray(avg.data["agg"])
        tgt = np.interp(avg.times, tgt_t, tgt_v)
        s = float(np.dot(sim, tgt) / np.dot(sim, sim))
        obj = float(np.sqrt(np.mean((s * sim - tgt) ** 2)))
        if best is not None and obj < best["obj"]:
            best["obj"] = obj
            best["params"] = np.array(predicted_params, float).copy()
        obj_values.append(obj)
        calls.append(dict(obj=obj, scale=s, wall_s=time.perf_counter() - t0))
        print(f"hnn-core objective call {len(calls)}: RMSE {obj:.3f} nAm "
              f"({calls[-1]['wall_s']:.1f} s)", file=sys.stderr, flush=True)
        return obj

    u0 = (np.array(cfg["start"]) - lo) / (hi - lo)
    constraints = {n: (0.0, 1.0) for n in names}
    initial = {n: float(u) for n, u in zip(names, u0)}
    base = os.path.join(os.path.dirname(hnn_core.__file__), "param", "N20.json")
    net = neymotin_2020_model(params=base)
    t0 = time.perf_counter()
    opt = Optimizer(net, tstop=cfg.get("tstop", TSTOP), constraints=constraints, set_params=set_params,
                    initial_params=initial, solver="cobyla", obj_fun=objective,
                    max_iter=cfg["max_iter"])
    opt.fit(target=None)
    wall = time.perf_counter() - t0
    best_u = np.asarray(opt.opt_params_, float)
    out = dict(hnn_core_version=hnn_core.__version__, wall_s=wall, n_calls=len(calls),
               n_simulations=len(calls) * n_trials, calls=calls,
               best_rmse_nAm=min(c["obj"] for c in calls),
               values=dict(zip(names, physical(best_u).tolist())),
               load_end=list(os.getloadavg()))
    print(TAG + json.dumps(out), flush=True)


# --------------------------------------------------------------------------
# driver: runs under the hnnjax python
# --------------------------------------------------------------------------

def _example():
    sys.path.insert(0, os.path.join(REPO, "examples"))
    import fit_somato_meg
    return fit_somato_meg


def run_hnn_core(py, cfg):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(cfg, f)
        path = f.name
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    t0 = time.perf_counter()
    proc = subprocess.run([py, os.path.abspath(__file__), "--_hnn-core-worker", path],
                          stdout=subprocess.PIPE, stderr=None, text=True, env=env)
    wall = time.perf_counter() - t0
    os.unlink(path)
    res = None
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(TAG):
            res = json.loads(line[len(TAG):])
            break
    if proc.returncode != 0 or res is None:
        raise SystemExit(f"hnn-core worker failed (rc {proc.returncode}):\n{proc.stdout[-3000:]}")
    res["process_wall_s"] = wall
    return res


def evaluate(ex, values, n_trials, tgt_t, tgt_v):
    """Faithful hnnjax re-simulation of somato_model() with ``values`` set."""
    from hnnjax.fit import set_drive_parameter
    from hnnjax.network_models import somato_model
    net = somato_model()
    for n, v in (values or {}).items():
        set_drive_parameter(net, n, v)
    avg, wall = ex.faithful_average(net, n_trials, SMOOTH)
    rmse, scale, _ = ex.on_target_grid(avg.times, avg.data["agg"], tgt_t, tgt_v)
    return dict(rmse_nAm=rmse, scale=scale, wall_s=wall, n_trials=n_trials)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--_hnn-core-worker":
        return hnn_core_worker(sys.argv[2])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hnn-core-python", default=None,
                    help="a python that imports hnn_core and neuron (default: this one, if it can)")
    ap.add_argument("--max-iter", type=int, default=8, help="hnn-core COBYLA objective calls")
    ap.add_argument("--n-trials", type=int, default=1, help="trials per objective (both sides)")
    ap.add_argument("--n-steps", type=int, default=8, help="hnnjax Adam steps")
    ap.add_argument("--lr", type=float, default=0.1, help="hnnjax Adam learning rate")
    ap.add_argument("--draws", choices=("hnn-core", "key"), default="hnn-core",
                    help="hnnjax fit's drive draws: hnn-core's seeds (the trials hnn-core's "
                         "Optimizer simulates; default) or standard normals from --seed")
    ap.add_argument("--seed", type=int, default=0, help="hnnjax fit's drive-draw key (--draws key)")
    ap.add_argument("--params", default=None, help="comma-separated names (example's default)")
    ap.add_argument("--target", default=None, help="target waveform (example's default)")
    ap.add_argument("--eval-trials", type=int, default=3, help="trials of the common yardstick")
    ap.add_argument("--hnnjax-json", default=None,
                    help="reuse the hnnjax fit of examples/fit_somato_meg.py --out (its JSON)")
    ap.add_argument("--skip-hnn-core", action="store_true")
    ap.add_argument("--json", default=None, help="write every number here")
    args = ap.parse_args()

    ex = _example()
    from hnnjax.network_models import somato_model
    target = args.target or ex.DEFAULT_TARGET
    tgt_t, tgt_v = ex.load_target(target)
    patterns = [p.strip() for p in args.params.split(",") if p.strip()] if args.params \
        else ex.default_params()
    names, start = ex.resolve_params(somato_model(), patterns)
    bounds = ex.default_bounds(start)
    out = dict(target=os.path.abspath(target), params=names, n_trials=args.n_trials,
               load_start=list(os.getloadavg()), nproc=os.cpu_count())

    # 1. hnn-core
    py = args.hnn_core_python or sys.executable
    if args.skip_hnn_core:
        out["hnn_core"] = dict(skipped="--skip-hnn-core")
    else:
        pt, pv = ex.padded(tgt_t, tgt_v)
        cfg = dict(params=names, start=[start[n] for n in names],
                   lo=[bounds[n][0] for n in names], hi=[bounds[n][1] for n in names],
                   target_t=pt.tolist(), target_v=pv.tolist(), n_trials=args.n_trials,
                   smooth_ms=SMOOTH, max_iter=args.max_iter)
        max_iter = max(args.max_iter, len(names) + 2)
        if max_iter != args.max_iter:
            log(f"--max-iter {args.max_iter} raised to {max_iter}: scipy's COBYLA needs at least "
                "n_params + 2 objective calls (its first linear model)")
        cfg["max_iter"] = max_iter
        log(f"hnn-core Optimizer (COBYLA, max_iter={max_iter}, {len(names)} parameters, "
            f"{args.n_trials} trial(s)) under {py}")
        out["hnn_core"] = run_hnn_core(py, cfg)
        log(f"hnn-core: {out['hnn_core']['n_calls']} calls in {out['hnn_core']['wall_s']:.1f} s, "
            f"best RMSE {out['hnn_core']['best_rmse_nAm']:.3f} nAm")

    # 2. hnnjax
    if args.hnnjax_json:
        with open(args.hnnjax_json) as f:
            fit = {"draws": "key", **json.load(f)["fit"]}  # runs before --draws used a key
        mismatch = {k: (fit[k], want) for k, want in
                    (("params", names), ("n_trials", args.n_trials), ("smooth_ms", SMOOTH),
                     ("draws", args.draws),
                     ("bounds", {n: list(bounds[n]) for n in names}))
                    if fit[k] != want}
        if mismatch:
            raise SystemExit(f"--hnnjax-json was run with other settings: {mismatch}")
        fit["source"] = os.path.abspath(args.hnnjax_json)
        log(f"hnnjax fit read from {args.hnnjax_json}")
    else:
        _, fit = ex.run_fit(patterns, n_trials=args.n_trials, n_steps=args.n_steps, lr=args.lr,
                            seed=args.seed, target=ex.padded(tgt_t, tgt_v), draws=args.draws)
    out["hnnjax"] = fit

    # 3. common yardstick: hnnjax's faithful simulator, hnn-core's drive seeds
    log(f"faithful re-simulation of start and both fits ({args.eval_trials} trials each)")
    out["eval"] = {"start": evaluate(ex, None, args.eval_trials, tgt_t, tgt_v),
                   "hnnjax": evaluate(ex, fit["values"], args.eval_trials, tgt_t, tgt_v)}
    if "values" in out["hnn_core"]:
        out["eval"]["hnn_core"] = evaluate(ex, out["hnn_core"]["values"], args.eval_trials,
                                           tgt_t, tgt_v)
    out["load_end"] = list(os.getloadavg())

    table = render(out, args)
    out["table"] = table
    print(table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


def render(out, args):
    hc, hj, ev = out["hnn_core"], out["hnnjax"], out["eval"]
    nt = out["n_trials"]
    rows = [("", "hnn-core COBYLA", "hnnjax gradient (Adam)")]
    if "skipped" in hc:
        hc_cells = ["skipped"] * 7
    else:
        hc_cells = [f"{hc['n_calls']} objective calls", f"{hc['n_simulations']}",
                    f"{hc['calls'][0]['obj']:.2f}", f"{hc['best_rmse_nAm']:.2f}",
                    f"{ev['hnn_core']['rmse_nAm']:.2f}", f"{hc['wall_s']:.0f}",
                    f"{hc['wall_s'] / hc['n_calls']:.1f}"]
    hj_sims = f"{hj['n_gradient_evals'] * nt} grad + {hj['n_forward_evals'] * nt} fwd"
    hj_cells = [f"{hj['n_gradient_evals']} value+grad, {hj['n_forward_evals']} fwd", hj_sims,
                f"{hj['loss_history'][0]:.2f}", f"{min(hj['loss_history']):.2f}"
                f" (final {hj['loss_history'][-1]:.2f})",
                f"{ev['hnnjax']['rmse_nAm']:.2f}", f"{hj['wall_s']:.0f}",
                f"{hj['wall_s'] / (hj['n_gradient_evals'] + hj['n_forward_evals']):.1f}"]
    labels = ["budget", f"trial simulations ({nt}/call)", "start RMSE, own objective (nAm)",
              "best RMSE, own objective (nAm)",
              f"final params, faithful re-sim RMSE ({args.eval_trials} tr)",
              "wall time of the fit (s)", "s per objective call"]
    rows += list(zip(labels, hc_cells, hj_cells))
    w0 = max(len(r[0]) for r in rows) + 2
    w1 = max(len(r[1]) for r in rows) + 2
    lines = [f"Drive fit to {os.path.basename(out['target'])}: {len(out['params'])} parameters, "
             f"{nt} trial(s)/objective, smooth {SMOOTH:g} ms, least-squares scale",
             f"start (somato_model()), faithful re-sim RMSE ({args.eval_trials} trials): "
             f"{ev['start']['rmse_nAm']:.2f} nAm",
             f"machine: {out['nproc']} cores; load average start "
             f"{out['load_start'][0]:.1f}, end {out['load_end'][0]:.1f}"]
    if hj.get("source"):
        lines.append(f"hnnjax fit read from {hj['source']}")
    lines.append("")
    for r in rows:
        lines.append(f"{r[0]:<{w0}}{r[1]:<{w1}}{r[2]}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
