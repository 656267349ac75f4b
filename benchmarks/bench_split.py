#!/usr/bin/env python
"""One trial in two parts of its cells, each advanced by a thread of its own
(``hnnjax/network/split.py``: what ``simulate_dipole`` runs for a lone trial
on a CPU with 2 cores or more) against the whole network in one call
(``_run_trials``, batch 1), in interleaved rounds.

Rows: the somato network (``--tstop`` ms, float64 and float32) and the ERP
network on smaller meshes (where a second thread stops paying:
``split.MIN_CELLS``).  Each row prints both times per trial, the median of
the per-round ratios (whole / parts) with their range, the first calls
(compile and run), and whether the spikes are identical and how far apart
the dipoles are (relative to their peak).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_split.py [--tstop 170] [--repeats 5]
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

ROWS = ("somato:float64", "somato:float32", "erp10x10:float64", "erp10x10:float32", "erp4x6:float64",
        "erp2x4:float64")


def network(name):
    import hnnjax as hnn
    from hnnjax.network_models import somato_model
    if name == "somato":
        return somato_model()
    net = hnn.neymotin_2020_model(mesh_shape=tuple(int(x) for x in name[3:].split("x")))
    hnn.add_erp_drives_to_jones_model(net)
    return net


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tstop", type=float, default=170.0, help="window, ms")
    p.add_argument("--rows", default=",".join(ROWS),
                   help="network:dtype (somato, or erpAxB: the ERP network on an AxB mesh)")
    p.add_argument("--repeats", type=int, default=5, help="interleaved rounds")
    args = p.parse_args(argv)

    import jax
    import numpy as np
    from _hlo import machine
    from hnnjax.network import split
    from hnnjax.network.compile import compile_network, drive_events
    from hnnjax.network.simulate import _run_trials, _take, instantiate_drives

    dt = 0.025
    rows = []
    for row in args.rows.split(","):
        name, dtype = row.split(":")
        net = network(name)
        arrays, tab, _, _, n_steps = compile_network(net, args.tstop, dt, np.dtype(dtype).type)
        events = _take(drive_events(tab, instantiate_drives(net, args.tstop, 1), dt, n_steps,
                                    np.dtype(dtype).type), np.arange(1))
        plan = split.exchange_plan(arrays, n_steps, cores=2, min_cells=0)
        if not plan:
            log(f"{row}: cannot be split (split.exchange_plan), left out")
            continue
        n_cells = arrays.cell_offsets[1]
        whole = lambda a=arrays, e=events, n=n_steps: jax.device_get(_run_trials(a, e, n, dt))  # noqa: E731
        parts = lambda a=arrays, e=events, n=n_steps, p=plan: split.run_trial(a, e, n, dt, p)[0]  # noqa: E731
        first = {}
        for mode, fn in (("whole", whole), ("parts", parts)):
            log(f"{row}: {mode}, first call (compile + run)")
            t0 = time.perf_counter()
            out = fn()
            first[mode] = (time.perf_counter() - t0, out)
        (w_spk, w_dip, *_), (p_spk, p_dip, _) = first["whole"][1], first["parts"][1]
        same = np.array_equal(np.unpackbits(w_spk, axis=-1)[..., :n_cells],
                              np.unpackbits(p_spk, axis=-1)[..., :n_cells])
        rows.append(dict(row=row, cells=n_cells, block=f"{plan.block}/{plan.lag}", whole=whole, parts=parts,
                         first={m: v[0] for m, v in first.items()}, same=same,
                         spikes=int(np.unpackbits(w_spk).sum()),
                         dip=float(np.abs(p_dip - w_dip).max() / np.abs(w_dip).max()),
                         times={"whole": [], "parts": []}))
    for r in range(args.repeats):
        for row in rows:
            for mode in ("whole", "parts"):
                t0 = time.perf_counter()
                row[mode]()
                row["times"][mode].append(time.perf_counter() - t0)
        log(f"round {r + 1}/{args.repeats} done")

    print(f"machine {machine()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"bench_split.py --tstop {args.tstop:g} --repeats {args.repeats}")
    print(f"one trial of {args.tstop:g} ms (dt {dt} ms): whole network in one call vs two parts of its cells "
          "on two threads (blocks of steps, a part waiting for the other's block lag blocks back); "
          "s per trial, medians of interleaved rounds\n")
    head = (f"{'row':<16} {'cells':>5} {'block/lag':>9} {'whole s':>8} {'parts s':>8} {'whole/parts':>11} "
            f"{'range':>11} {'first whole|parts s':>19} {'spikes':>6} {'same':>5} {'dipole diff/peak':>16}")
    print(head)
    print("-" * len(head))
    for row in rows:
        t = row["times"]
        ratios = [w / q for w, q in zip(t["whole"], t["parts"])]
        print(f"{row['row']:<16} {row['cells']:>5} {row['block']:>9} {statistics.median(t['whole']):>8.3f} "
              f"{statistics.median(t['parts']):>8.3f} {statistics.median(ratios):>10.2f}x "
              f"{min(ratios):>5.2f}-{max(ratios):<5.2f} "
              f"{row['first']['whole']:>9.2f}|{row['first']['parts']:<9.2f} {row['spikes']:>6} "
              f"{str(row['same']):>5} {row['dip']:>16.1e}")


if __name__ == "__main__":
    main()
