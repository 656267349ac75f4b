"""Host preparation of many trials: drive spike times (``instantiate_drives``,
hnn-core's per-cell ``RandomState`` streams) and their pre-summed events
(``drive_events``), per trial, against the issue's target of 2 ms per trial.

Networks: the somato job (N20, 4 evoked drives of one drive cell each) and
HNN's published ERP fit (``ERPYes100Trials.param``: 3 evoked and 1 Poisson
drive, 1,045 drive cells, each reseeded per trial).  The last column is the
floor set by reseeding one ``RandomState`` per drive cell (NumPy's C code),
which reproducing hnn-core's spike times requires.

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
    args = p.parse_args(argv)

    import warnings

    import numpy as np

    import hnnjax as hnn
    from _hlo import machine
    from hnnjax.network.compile import compile_network, drive_events
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
    print(f"{'network':28s} {'drive cells':>11s} {'spikes ms/trial':>15s} {'events ms/trial':>15s} "
          f"{'total ms/trial':>14s} {'target':>7s} {'reseed floor':>12s}")
    rs = np.random.RandomState(0)
    for name, net in nets.items():
        _, tab, _, _, n_steps = compile_network(net, 170.0, 0.025, np.float64, False, False)
        a, b = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            spikes = instantiate_drives(net, 170.0, args.n_trials)
            t1 = time.perf_counter()
            drive_events(tab, spikes, 0.025, n_steps, np.float64)
            a.append(t1 - t0)
            b.append(time.perf_counter() - t1)
        cells = sum(d["n_drive_cells"] for d in net.external_drives.values())
        t0 = time.perf_counter()
        for s in range(cells * 100):
            rs.seed(s)
        floor = (time.perf_counter() - t0) / 100
        sa, sb = 1e3 * statistics.median(a) / args.n_trials, 1e3 * statistics.median(b) / args.n_trials
        ok = "PASS" if sa + sb <= 2.0 else "FAIL"
        print(f"{name:28s} {cells:11d} {sa:15.2f} {sb:15.2f} {sa + sb:14.2f} {'<=2 ' + ok:>7s} "
              f"{1e3 * floor:10.2f}ms")


if __name__ == "__main__":
    main()
