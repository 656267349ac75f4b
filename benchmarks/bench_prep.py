"""Host preparation of many trials: drive spike times (``instantiate_drives``,
hnn-core's per-cell ``RandomState`` streams) and their pre-summed events
(``drive_events``), per trial, against the issue's target of 2 ms per trial,
and the whole preparation of a first ``simulate_dipole(n_trials=1000)``
(the network's arrays, ``compile_network``, once per call, plus every
trial's), against 2 s.

Networks: the somato job (N20, 4 evoked drives of one drive cell each) and
HNN's published ERP fit (``ERPYes100Trials.param``: 3 evoked and 1 Poisson
drive, 1,045 drive cells, each seeded anew per trial).  Spike times are drawn
both ways in one run: one reseeded ``RandomState`` per cell (the old way, now
used for small draws) and all seeds at once (``drives/legacy_random``); the
"cold" column is the first 1000-trial preparation of the process, the network's
arrays and the kernel's compilation included, as a user's first
``simulate_dipole`` sees it.

After the run (``--results``, somato only): ``store_results`` turning
1,000 trials' outputs into ``Dipole`` objects and ``net.cell_response``, the
trials' raw outputs being one simulated float32 trial repeated; and each
trial's spikes read by ``np.nonzero`` of its raster (steps x cells, bool, as
the run returned it before) against ``spike_steps_and_cells`` of the packed
raster it returns now (interleaved, ratio per round).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_prep.py [--n-trials 1000]
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
ERP_PARAM = Path(__file__).resolve().parents[2] / "shared/data/params/ERPYes100Trials.param"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-trials", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--erp-param", type=Path, default=ERP_PARAM, help="HNN's ERPYes100Trials.param")
    p.add_argument("--results", action="store_true", help="also time the results side (one simulated "
                   "trial first: ~10 s)")
    args = p.parse_args(argv)

    import warnings

    import numpy as np

    import hnnjax as hnn
    from _hlo import columns, machine
    from hnnjax.drives.events import drive_trains
    from hnnjax.network.compile import compile_network, drive_events
    from hnnjax.network.simulate import _cell_specific_targets as targets_of
    from hnnjax.network.simulate import instantiate_drives

    nets = {"somato (N20, 4 evoked)": hnn.network_models.somato_model()}
    if args.erp_param.exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            nets["ERPYes100Trials.param"] = hnn.jones_2009_model(hnn.read_params(args.erp_param),
                                                                 add_drives_from_params=True)
    else:
        print(f"skipping the ERP network: {args.erp_param} not found (--erp-param)")
    print(f"host preparation, {args.n_trials} trials of 170 ms, median of {args.repeats}; {machine()}")
    cols = ["network", "drive cells", "network arrays", "per-cell spikes", "spikes", "events", "total",
            "target", "cold total", "target"]
    rows = []
    for name, net in nets.items():
        arrays, old, new, ev = [], [], [], []
        for _ in range(args.repeats):  # A/B interleaved
            ta = time.perf_counter()
            _, tab, _, _, n_steps = compile_network(net, 170.0, 0.025, np.float64, False, False)
            arrays.append(time.perf_counter() - ta)
            t0 = time.perf_counter()
            for d in net.external_drives.values():
                drive_trains(d, range(args.n_trials), net._n_gids, 170.0, targets_of(net).get(d["name"]),
                             vectorize=False)
            t1 = time.perf_counter()
            spikes = instantiate_drives(net, 170.0, args.n_trials)
            t2 = time.perf_counter()
            drive_events(tab, spikes, 0.025, n_steps, np.float64)
            old.append(t1 - t0)
            new.append(t2 - t1)
            ev.append(time.perf_counter() - t2)
        per = {k: 1e3 * statistics.median(v) / args.n_trials for k, v in (("old", old), ("new", new), ("ev", ev))}
        total = per["new"] + per["ev"]
        cold = arrays[0] + new[0] + ev[0]
        cells = sum(d["n_drive_cells"] for d in net.external_drives.values())
        rows.append([name, str(cells), f"{statistics.median(arrays):.3f} s", f"{per['old']:.2f} ms",
                     f"{per['new']:.2f} ms", f"{per['ev']:.2f} ms", f"{total:.2f} ms",
                     "<=2 ms " + ("PASS" if total <= 2.0 else "FAIL"), f"{cold:.2f} s",
                     "<=2 s " + ("PASS" if cold <= 2.0 else "FAIL")])
    print(columns([cols] + rows))
    print("network arrays: compile_network, once per simulate_dipole call (median); per trial: spikes and "
          "events; cold total: the first repeat's network arrays + spikes + events of all trials (includes "
          "compiling the seeding kernel once per process)")
    if args.results:
        results_side(nets["somato (N20, 4 evoked)"], args.n_trials, args.repeats)


def results_side(net, n_trials, repeats):
    """``store_results`` of ``n_trials`` somato trials of 170 ms (one
    simulated float32 trial, repeated) and its spike reading against
    ``np.nonzero`` of unpacked rasters, interleaved."""
    import numpy as np

    from _hlo import columns
    from hnnjax.network.compile import compile_network
    from hnnjax.network.simulate import (_take, prepare_events, run_events, spike_steps_and_cells,
                                         store_results)

    tstop, dt = 170.0, 0.025
    arrays, tab, layout, rec_index, n_steps = compile_network(net, tstop, dt, np.float32, False, False)
    spikes_by_trial, events = prepare_events(net, tab, tstop, dt, n_steps, n_trials, np.float32)
    (packed, dip, rec), _ = run_events(arrays, _take(events, np.arange(1)), n_steps, dt)
    out = (np.repeat(packed, n_trials, axis=0), np.repeat(dip, n_trials, axis=0), rec)
    n_cells = layout.n_cells_total
    rasters = np.unpackbits(out[0], axis=-1, count=n_cells).astype(bool)
    store, old, new = [], [], []
    for _ in range(repeats):
        t = time.perf_counter()
        store_results(net, layout, rec_index, out, spikes_by_trial, tstop, dt, n_steps)
        store.append(time.perf_counter() - t)
        t = time.perf_counter()
        for raster in rasters:
            np.nonzero(raster)
        old.append(time.perf_counter() - t)
        t = time.perf_counter()
        for trial in out[0]:
            spike_steps_and_cells(trial)
        new.append(time.perf_counter() - t)
    ratios = [o / n for o, n in zip(old, new)]
    print(f"\nafter the run: {n_trials} somato trials of 170 ms, float32, each {int(rasters[0].sum())} spikes "
          f"in a {n_steps} x {n_cells} raster ({rasters.nbytes / 1e9:.2f} GB as bool, "
          f"{out[0].nbytes / 1e9:.2f} GB packed); median of {repeats}")
    print(columns([["store_results (Dipoles, cell_response)", "spikes: np.nonzero of bool rasters",
                    "spike_steps_and_cells of packed", "ratio per round"],
                   [f"{statistics.median(store):.2f} s", f"{statistics.median(old):.2f} s",
                    f"{statistics.median(new):.2f} s", " ".join(f"{r:.1f}x" for r in ratios)]]))


if __name__ == "__main__":
    main()
