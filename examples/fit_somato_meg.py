"""Fit the somatosensory network's evoked drives to an MEG ERP with gradients.

The target is HNN's tutorial ERP, the average S1 dipole of "yes" (detected)
trials of a tactile detection task (``hnnjax/data/meg/
yes_trial_S1_ERP_all_avg.txt``, nAm, 0-170 ms).  The model is
:func:`hnnjax.network_models.somato_model`: the N20 network with its four
synchronous evoked drives (evprox1, evdist1, evdist2, evprox2).

1. ``hnnjax.fit.fit_drives`` fits the drives with Adam on the
   differentiable model (continuous-time events): each step is one gradient of
   the RMSE between the trial-averaged dipole -- smoothed with a 20 ms Hamming
   window and scaled by the least-squares factor (``scale='fit'``) -- and the
   target.  The trials' drive draws are fixed over the fit: by default those
   of hnn-core's seeds (``draws='hnn-core'``), i.e. the trials the faithful
   ``simulate_dipole`` and hnn-core run, so the fitted network is judged below
   on the draws it was fitted on (``--draws key --seed N`` for other draws).
2. Yardsticks, all on the target's own 0-170 ms time grid:

   * HNN's published hand-tuned fit of the same data (``ERPYes100Trials.param``),
     simulated with hnnjax's NEURON-faithful ``simulate_dipole``
     (``neymotin_2020_model(read_params(path), add_drives_from_params=True)``),
     smoothed by the file's ``dipole_smooth_win`` and scaled by its
     ``dipole_scalefctr``, as HNN does;
   * the starting point (``somato_model()`` as shipped) and the fitted network
     (``result.net``), both re-simulated with the faithful simulator, smoothed
     by 20 ms and scaled by their least-squares factor.

3. A figure (``<out>/fit_somato_meg.png``) and every number
   (``<out>/fit_somato_meg.json``).

Fitted parameters (``--params``, comma separated; ``'evprox1.*'`` means all of
a drive's).  The default is the four drives' ``mu`` and ``sigma`` and their
AMPA and NMDA weights onto L2 and L5 pyramidal cells (24 parameters):

* ``mu``/``sigma`` set the latency and width of each deflection, which is what
  differs most between the N20 response the drives were tuned for and this ERP;
* the dipole *is* the pyramidal cells' current, so the weights onto pyramidal
  cells set the size and sign balance of each deflection directly;
* left out: weights onto basket cells (they act through inhibition, and small
  changes make whole populations start or stop spiking -- the jumps the
  gradient cannot see) and synaptic delays (redundant with ``mu``).

With 24 parameters ``fit_drives`` takes reverse mode, whose gradient costs
the same for any number of them (for up to 5 it takes forward mode, cheaper
there, whose cost grows with each parameter).  Bounds: ``mu`` within +-30 ms of its start (inside 0-170 ms),
``sigma`` in 0.5-20 ms, weights in 0-max(0.02, 5 w0) uS.

On a 2-core CPU a gradient on one 170 ms trial takes about 6 s; 25 steps on
one trial, compiling and the faithful re-simulations included, took 3 min
10 s on 2026-12-07 (AMD EPYC family-26 host; fitted RMSE 16.2 nAm faithful
against the hand fit's 6.7 on 3 trials)::

    OPENBLAS_NUM_THREADS=1 python examples/fit_somato_meg.py --n-trials 1 --n-steps 25 --lr 0.15

Options: ``--help``.
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_TARGET = os.path.join(REPO, "hnnjax", "data", "meg", "yes_trial_S1_ERP_all_avg.txt")
DRIVES = ("evprox1", "evdist1", "evdist2", "evprox2")
TSTOP, DT, SMOOTH = 170.0, 0.025, 20.0


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def default_params():
    """mu, sigma and AMPA/NMDA weights onto L2/L5 pyramidal cells of the 4 drives."""
    names = []
    for d in DRIVES:
        names += [f"{d}.mu", f"{d}.sigma"]
    for d in DRIVES:
        for rec in ("ampa", "nmda"):
            for ct in ("L2_pyramidal", "L5_pyramidal"):
                names.append(f"{d}.weights_{rec}.{ct}")
    return names


def resolve_params(net, patterns):
    """Names (``fit_drives`` syntax, patterns expanded) and their current values."""
    from hnnjax.fit import expand_names
    from hnnjax.grad.model import drive_parameters, switched_off
    all_names, values = drive_parameters(net)
    names = expand_names(patterns, all_names, switched_off(net))
    return names, {n: float(values[all_names.index(n)]) for n in names}


def default_bounds(start, tstop=TSTOP):
    """Box for every fitted parameter."""
    out = {}
    for name, v in start.items():
        kind = name.split(".")[1]
        if kind == "mu":
            out[name] = (max(0.0, v - 30.0), min(tstop, v + 30.0))
        elif kind == "sigma":
            out[name] = (0.5, 20.0)
        elif kind == "synaptic_delays":
            out[name] = (0.0, 10.0)
        else:
            out[name] = (0.0, max(0.02, 5.0 * v))
    return out


def load_target(path):
    """(times ms, nAm) of the target, checked to cover 0-TSTOP."""
    from hnnjax import read_waveform
    dpl = read_waveform(path)
    t, v = np.asarray(dpl.times, float), np.asarray(dpl.data["agg"], float)
    if t[0] > DT or t[-1] < TSTOP - 2.0:
        raise SystemExit(f"target {path} spans {t[0]:g}-{t[-1]:g} ms; it must cover 0-{TSTOP:g} ms")
    return t, v


def padded(tgt_t, tgt_v, tstop=TSTOP):
    """The target held at its last value up to ``tstop``: the MEG file ends at
    169.83 ms and fit_drives wants the target to reach its own tstop (170 ms,
    HNN's).  Only the last 0.17 ms of the 0.025 ms grid use the held value."""
    if tgt_t[-1] >= tstop:
        return tgt_t, tgt_v
    return np.append(tgt_t, tstop), np.append(tgt_v, tgt_v[-1])


def on_target_grid(times, sim, tgt_t, tgt_v, scale="fit"):
    """RMSE (nAm) of ``scale * sim`` against the target, on the target's own
    time points within 0-TSTOP; ``scale='fit'`` uses the least-squares factor.
    Returns (rmse, scale, sim on the target grid, unscaled)."""
    keep = tgt_t <= TSTOP + 1e-9
    s = np.interp(tgt_t[keep], times, sim)
    if scale == "fit":
        scale = float(np.dot(s, tgt_v[keep]) / np.dot(s, s))
    return float(np.sqrt(np.mean((scale * s - tgt_v[keep]) ** 2))), float(scale), s


def faithful_average(net, n_trials, smooth, scale=None):
    """Trial average of hnnjax's NEURON-faithful simulate_dipole, each trial
    smoothed (and scaled, if given) first, as HNN does.  Returns (Dipole, s)."""
    from hnnjax import average_dipoles, simulate_dipole
    t0 = time.perf_counter()
    dpls = simulate_dipole(net, tstop=TSTOP, dt=DT, n_trials=n_trials)
    for d in dpls:
        d.smooth(smooth)
        if scale is not None:
            d.scale(scale)
    return average_dipoles(dpls), time.perf_counter() - t0


def hand_fit(path, n_trials, tgt_t, tgt_v):
    """HNN's hand-tuned fit: the param file's network and drives, smoothed by
    its dipole_smooth_win and scaled by its dipole_scalefctr."""
    from hnnjax import neymotin_2020_model, read_params
    params = read_params(path)
    smooth = float(params["dipole_smooth_win"])
    scale = float(params["dipole_scalefctr"])
    net = neymotin_2020_model(params, add_drives_from_params=True)
    avg, wall = faithful_average(net, n_trials, smooth, scale)
    rmse, _, _ = on_target_grid(avg.times, avg.data["agg"], tgt_t, tgt_v, scale=1.0)
    log(f"hand fit: {n_trials} trials in {wall:.1f} s, RMSE {rmse:.2f} nAm")
    return dict(path=path, n_trials=n_trials, smooth_ms=smooth, scale=scale, rmse_nAm=rmse,
                wall_s=wall, times=avg.times.tolist(), agg=avg.data["agg"].tolist())


def run_fit(patterns, *, n_trials, n_steps, lr, seed, target, draws="hnn-core", progress=True):
    """The gradient fit of somato_model()'s drives; returns (result, info dict)."""
    import jax
    import optax

    from hnnjax.fit import fit_drives
    from hnnjax.network_models import somato_model
    net = somato_model()
    names, start = resolve_params(net, patterns)
    bounds = default_bounds(start)
    log(f"fitting {len(names)} parameters, {n_trials} trial(s), {n_steps} Adam steps (lr {lr})")
    t0 = time.perf_counter()
    result = fit_drives(net, target, names, n_trials=n_trials, tstop=TSTOP, dt=DT,
                        smooth_window=SMOOTH, scale="fit", loss="rmse",
                        optimizer=optax.adam(lr), n_steps=n_steps,
                        key=jax.random.PRNGKey(seed), draws=draws, bounds=bounds,
                        progress=progress)
    wall = time.perf_counter() - t0
    log(f"fit: {wall:.1f} s, loss {result.loss_history[0]:.3f} -> {result.loss_history[-1]:.3f} nAm")
    info = dict(params=names, start=start, bounds={k: list(v) for k, v in bounds.items()},
                values=result.values, loss_history=result.loss_history, scale=result.scale,
                n_trials=n_trials, n_steps=n_steps, lr=lr, seed=seed, draws=draws, smooth_ms=SMOOTH,
                wall_s=wall,
                # each step is one value-and-gradient over n_trials; plus one final forward
                n_gradient_evals=n_steps, n_forward_evals=1)
    return result, info


def plot(path, tgt, hand, init, fit_grad, fit_faithful, history):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True,
                                  gridspec_kw=dict(width_ratios=[2, 1]))
    ax.plot(tgt[0], tgt[1], color="k", lw=2, label="MEG target (yes trials, S1)")
    ax.plot(hand["times"], hand["agg"], color="tab:orange",
            label=f"HNN hand fit, {os.path.basename(hand['path'])} ({hand['rmse_nAm']:.1f} nAm)")
    ax.plot(*init[:2], color="0.6", ls=":", label=f"somato_model() start ({init[2]:.1f} nAm)")
    ax.plot(*fit_grad[:2], color="tab:blue",
            label=f"gradient fit, differentiable model ({fit_grad[2]:.1f} nAm)")
    ax.plot(*fit_faithful[:2], color="tab:green", ls="--",
            label=f"gradient fit, faithful re-simulation ({fit_faithful[2]:.1f} nAm)")
    ax.axhline(0, color="0.85", lw=0.8, zorder=0)
    ax.set_xlim(0, TSTOP)
    ax.set_xlabel("Time (ms)")
    ax.set_ylabel("Dipole (nAm)")
    ax.set_title("Aggregate dipole vs MEG ERP (RMSE in legend)")
    ax.legend(fontsize=8, loc="upper left")
    ax2.plot(np.arange(len(history)), history, marker="o", color="tab:blue")
    ax2.set_xlabel("Adam step")
    ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_ylabel("RMSE, smoothed & LS-scaled (nAm)")
    ax2.set_title("Loss (differentiable model)")
    ax2.grid(alpha=0.3)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(out, json_path=""):
    """The printed summary, from the JSON this script writes."""
    fit, st, ff, hand = out["fit"], out["start_faithful"], out["fitted_faithful"], out["hand_fit"]
    row = lambda label, r, s, w: f"{label:46s}{r:11.2f}{s:10.1f}{w:10.1f}"
    lines = [
        f"\nTarget: {out['target']} (0-{out['tstop']:g} ms, RMSE on its {out['n_target_points']} "
        f"time points; its RMS, i.e. the RMSE of a flat zero line: {out['target_rms_nAm']:.2f} nAm)",
        f"Fitted {len(fit['params'])} parameters, {fit['n_trials']} trial(s), {fit['n_steps']} Adam "
        f"steps (lr {fit['lr']}), smooth {fit['smooth_ms']:g} ms, least-squares scale",
        f"{'':46s}{'RMSE (nAm)':>11s}{'scale':>10s}{'wall (s)':>10s}",
        row("start: somato_model(), faithful", st["rmse_nAm"], st["scale"], st["wall_s"]),
        row("gradient fit, differentiable model", fit["rmse_nAm"], fit["scale"], fit["wall_s"]),
        row("gradient fit (result.net), faithful", ff["rmse_nAm"], ff["scale"], ff["wall_s"])]
    lines.append(row(f"HNN hand fit ({os.path.basename(hand['path'])}), faithful"[:46],
                     hand["rmse_nAm"], hand["scale"], hand["wall_s"]))
    lines.append(f"(faithful rows: {st['n_trials']} trials of hnnjax.simulate_dipole; the hand fit "
                 "uses its file's smoothing and scale; 'wall' of the gradient fit includes compiling)")
    if min(st["scale"], fit["scale"], ff["scale"]) < 0:
        lines.append("note: a negative least-squares scale means the simulated waveform is "
                     "anti-correlated with the target (the fit is of the sign-flipped dipole)")
    lines.append(f"loss history: {', '.join(f'{x:.2f}' for x in fit['loss_history'])}")
    lines.append(f"total wall time {out['total_wall_s']:.1f} s; figure {out.get('figure')}; "
                 f"numbers {json_path}")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Gradient fit of somato_model()'s drives to an MEG ERP.")
    ap.add_argument("--n-trials", type=int, default=1, help="trials averaged in the fit (default 1)")
    ap.add_argument("--n-steps", type=int, default=10, help="Adam steps (default 10)")
    ap.add_argument("--lr", type=float, default=0.1,
                    help="Adam learning rate on the unconstrained parameters (default 0.1)")
    ap.add_argument("--draws", choices=("hnn-core", "key"), default="hnn-core",
                    help="the fit's drive draws: hnn-core's seeds, i.e. the trials simulate_dipole "
                         "runs (default), or standard normals from --seed")
    ap.add_argument("--seed", type=int, default=0, help="key of the fit's drive draws (--draws key)")
    ap.add_argument("--params", default=None,
                    help="comma-separated parameter names (default: the 4 drives' mu, sigma and "
                         "AMPA/NMDA weights onto L2/L5 pyramidal cells)")
    ap.add_argument("--target", default=DEFAULT_TARGET, help="waveform file: time (ms), nAm")
    ap.add_argument("--hand-params", default=None,
                    help="HNN's hand-tuned .param file for this ERP (default: the copy shipped "
                         "with hnnjax, hnnjax/data/params/ERPYes100Trials.param)")
    ap.add_argument("--eval-trials", type=int, default=3,
                    help="trials of each faithful simulation (hand fit, start, fitted; default 3)")
    ap.add_argument("--out", default="fit_somato_meg", help="output folder (figure and JSON)")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    if args.n_trials < 1 or args.n_steps < 1 or args.eval_trials < 1:
        ap.error("--n-trials, --n-steps and --eval-trials must be >= 1")
    if args.hand_params is None:
        from hnnjax.io.params import params_path
        args.hand_params = str(params_path("ERPYes100Trials"))
    elif not os.path.isfile(args.hand_params):
        ap.error(f"--hand-params: no file {args.hand_params!r}")
    os.makedirs(args.out, exist_ok=True)
    t_all = time.perf_counter()

    from hnnjax import use_compilation_cache
    from hnnjax.network_models import somato_model
    use_compilation_cache()  # compiled programs kept for later runs (~/.cache/hnnjax/xla)
    tgt_t, tgt_v = load_target(args.target)
    patterns = [p.strip() for p in args.params.split(",") if p.strip()] if args.params \
        else default_params()

    result, info = run_fit(patterns, n_trials=args.n_trials, n_steps=args.n_steps, lr=args.lr,
                           seed=args.seed, target=padded(tgt_t, tgt_v), draws=args.draws,
                           progress=not args.no_progress)
    out = dict(target=os.path.abspath(args.target), tstop=TSTOP, dt=DT, fit=info)
    json_path = os.path.join(args.out, "fit_somato_meg.json")

    def dump():
        with open(json_path, "w") as f:
            json.dump(out, f, indent=1)
    dump()  # the fit is the expensive part: keep it even if what follows fails

    d = result.dipole
    fit_rmse, _, _ = on_target_grid(d.times, d.data["agg"], tgt_t, tgt_v, scale=1.0)
    info["rmse_nAm"] = fit_rmse  # already smoothed and scaled by result.scale

    log(f"faithful re-simulation of the fitted network ({args.eval_trials} trials)")
    avg, wall = faithful_average(result.net, args.eval_trials, SMOOTH)
    ff_rmse, ff_scale, _ = on_target_grid(avg.times, avg.data["agg"], tgt_t, tgt_v)
    out["fitted_faithful"] = dict(rmse_nAm=ff_rmse, scale=ff_scale, n_trials=args.eval_trials,
                                  wall_s=wall)
    fit_faithful = (avg.times, ff_scale * avg.data["agg"], ff_rmse)

    log(f"faithful simulation of the starting network ({args.eval_trials} trials)")
    avg0, wall0 = faithful_average(somato_model(), args.eval_trials, SMOOTH)
    s_rmse, s_scale, _ = on_target_grid(avg0.times, avg0.data["agg"], tgt_t, tgt_v)
    out["start_faithful"] = dict(rmse_nAm=s_rmse, scale=s_scale, n_trials=args.eval_trials,
                                 wall_s=wall0)

    hand = hand_fit(args.hand_params, args.eval_trials, tgt_t, tgt_v)
    out["hand_fit"] = {k: v for k, v in hand.items() if k not in ("times", "agg")}
    out["total_wall_s"] = time.perf_counter() - t_all
    out["load_end"] = list(os.getloadavg())
    dump()

    fig_path = os.path.join(args.out, "fit_somato_meg.png")
    plot(fig_path, (tgt_t, tgt_v), hand, (avg0.times, s_scale * avg0.data["agg"], s_rmse),
         (d.times, d.data["agg"], fit_rmse), fit_faithful, result.loss_history)

    out["figure"] = fig_path
    out["target_rms_nAm"] = float(np.sqrt(np.mean(tgt_v[tgt_t <= TSTOP + 1e-9] ** 2)))
    out["n_target_points"] = int(np.sum(tgt_t <= TSTOP + 1e-9))
    dump()
    print(report(out, json_path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
