#!/usr/bin/env python
"""Time hnn-core (NEURON) on the somatosensory benchmark network.

Run by ``benchmarks/bench_somato.py`` with a python that has ``hnn_core``
(e.g. ``/work/venv-ref/bin/python``); it can also be run by hand::

    OPENBLAS_NUM_THREADS=1 /work/venv-ref/bin/python benchmarks/_hnn_core_timing.py \
        --trials 25 --repeats 3 --n-jobs 2

It only calls hnn-core's public API: ``neymotin_2020_model`` with hnn-core's
own ``param/N20.json`` plus the four synchronous evoked drives of hnn-core
0.6.1's somatosensory example (the same arguments as
``hnnjax.network_models.add_somato_drives_to_jones_model``), then
``simulate_dipole(net, tstop=170)``:

1. a short warm-up run (``tstop=10``: loads the NEURON mechanisms once),
2. ``--repeats`` single-trial runs in this process (NEURON is single
   threaded: one core), each on a freshly built network,
3. one ``--trials``-trial run under ``JoblibBackend(n_jobs=--n-jobs)``
   (wall time includes joblib's worker start-up, as a user sees it).

The result is printed as one line ``HNN_CORE_TIMING_JSON {...}`` (other
output of hnn-core/NEURON may come before it).
"""
import argparse
import json
import os
import statistics
import sys
import time

os.environ["OPENBLAS_NUM_THREADS"] = "1"

TSTOP = 170.0
DT = 0.025
_PROX_DELAYS = {"L2_basket": 0.1, "L2_pyramidal": 0.1, "L5_basket": 1.0, "L5_pyramidal": 1.0}
_DIST_DELAYS = {"L2_basket": 0.1, "L2_pyramidal": 0.1, "L5_pyramidal": 0.1}
_COMMON = dict(numspikes=1, n_drive_cells=1, cell_specific=False)
# (name, keyword arguments of Network.add_evoked_drive), in the example's order
SOMATO_DRIVES = [
    ("evprox1", dict(
        mu=21.0, sigma=4.0, location="proximal", synaptic_delays=_PROX_DELAYS,
        weights_ampa={"L2_basket": 0.0036, "L2_pyramidal": 0.0039, "L5_basket": 0.0019,
                      "L5_pyramidal": 0.0020},
        weights_nmda={"L2_basket": 0.0029, "L2_pyramidal": 0.0005, "L5_basket": 0.0030,
                      "L5_pyramidal": 0.0019},
        event_seed=276)),
    ("evprox2", dict(
        mu=134.0, sigma=4.5, location="proximal", synaptic_delays=_PROX_DELAYS,
        weights_ampa={"L2_basket": 0.003, "L2_pyramidal": 0.0039, "L5_basket": 0.004,
                      "L5_pyramidal": 0.0020},
        weights_nmda={"L2_basket": 0.001, "L2_pyramidal": 0.0005, "L5_basket": 0.002,
                      "L5_pyramidal": 0.0020},
        event_seed=276)),
    ("evdist1", dict(
        mu=32.0, sigma=2.5, location="distal", synaptic_delays=_DIST_DELAYS,
        weights_ampa={"L2_basket": 0.0043, "L2_pyramidal": 0.0032, "L5_pyramidal": 0.0009},
        weights_nmda={"L2_basket": 0.0029, "L2_pyramidal": 0.0051, "L5_pyramidal": 0.0010},
        event_seed=277)),
    ("evdist2", dict(
        mu=84.0, sigma=4.5, location="distal", synaptic_delays=_DIST_DELAYS,
        weights_ampa={"L2_basket": 0.0041, "L2_pyramidal": 0.0019, "L5_pyramidal": 0.0018},
        weights_nmda={"L2_basket": 0.0032, "L2_pyramidal": 0.0018, "L5_pyramidal": 0.0017},
        event_seed=275)),
]


def build_net():
    import hnn_core
    from hnn_core import neymotin_2020_model

    params = os.path.join(os.path.dirname(hnn_core.__file__), "param", "N20.json")
    net = neymotin_2020_model(params=params)
    for name, kwargs in SOMATO_DRIVES:
        net.add_evoked_drive(name, **kwargs, **_COMMON)
    return net


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--trials", type=int, default=25, help="trials of the joblib run")
    ap.add_argument("--repeats", type=int, default=3, help="single-trial runs (median)")
    ap.add_argument("--n-jobs", type=int, default=2, help="JoblibBackend(n_jobs=...)")
    ap.add_argument("--skip-joblib", action="store_true")
    ap.add_argument("--no-dipole", action="store_true", help="do not return the trial-0 dipole")
    args = ap.parse_args()

    import hnn_core
    import neuron
    from hnn_core import JoblibBackend, simulate_dipole

    out = dict(hnn_core_version=hnn_core.__version__, neuron_version=neuron.__version__,
               python=sys.version.split()[0], tstop=TSTOP, dt=DT,
               load_start=list(os.getloadavg()))

    t0 = time.perf_counter()
    simulate_dipole(build_net(), tstop=10.0, dt=DT, n_trials=1, verbose=False)
    out["warmup_s"] = time.perf_counter() - t0

    walls, cpus = [], []
    for _ in range(args.repeats):
        net = build_net()
        c0, t0 = time.process_time(), time.perf_counter()
        dpls = simulate_dipole(net, tstop=TSTOP, dt=DT, n_trials=1, verbose=False)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        print(f"hnn-core single trial: {walls[-1]:.2f} s", file=sys.stderr, flush=True)
    if walls:
        out["single"] = dict(walls_s=walls, cpu_s=cpus, median_s=statistics.median(walls),
                             cpu_per_wall=sum(cpus) / sum(walls))
    if walls and not args.no_dipole:
        out["dipole_trial0"] = {k: [float(x) for x in dpls[0].data[k]] for k in ("agg", "L2", "L5")}
        out["dipole_times"] = [float(dpls[0].times[0]), float(dpls[0].times[-1]),
                               len(dpls[0].times)]

    if args.skip_joblib:
        out["joblib"] = dict(skipped="--skip-joblib")
    else:
        try:
            import joblib  # hnn-core silently runs serially without it
        except ImportError:
            out["joblib"] = dict(skipped="joblib is not installed in this python "
                                         "(hnn-core would fall back to 1 job)")
        else:
            net = build_net()
            t0 = time.perf_counter()
            with JoblibBackend(n_jobs=args.n_jobs):
                dpls = simulate_dipole(net, tstop=TSTOP, dt=DT, n_trials=args.trials,
                                       verbose=False)
            wall = time.perf_counter() - t0
            assert len(dpls) == args.trials
            out["joblib"] = dict(n_jobs=args.n_jobs, n_trials=args.trials, total_s=wall,
                                 per_trial_s=wall / args.trials,
                                 joblib_version=joblib.__version__)
            print(f"hnn-core {args.trials} trials, {args.n_jobs} jobs: {wall:.1f} s",
                  file=sys.stderr, flush=True)
    out["load_end"] = list(os.getloadavg())
    print("HNN_CORE_TIMING_JSON " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
