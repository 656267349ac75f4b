"""What the interleaved A/B benchmarks share (``bench_vector_width.py``,
``bench_skip_idle.py``): their options, the somato workloads' inputs, and the
timing of every program of every row, round after round (median), with
whether the row's programs give the same bits."""
import argparse
import statistics
import sys
import time


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def parser(doc, configs, grad_tstop, grad_trials):
    """The options: faithful forward window and rows, differentiable rows, rounds."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tstop", type=float, default=170.0, help="faithful forward window, ms")
    p.add_argument("--configs", default=configs, help="faithful forward rows, dtype:batch")
    p.add_argument("--grad-tstop", type=float, default=grad_tstop, help="differentiable rows' window, ms")
    p.add_argument("--grad-trials", type=int, default=grad_trials)
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds (median)")
    return p


def forward_inputs(net, args, dt=0.025):
    """Per ``--configs`` entry: (dtype name, batch, network arrays, the batch's
    drive events, steps), hnn-core's first trials."""
    import numpy as np

    from hnnjax.network.compile import compile_network, drive_events
    from hnnjax.network.simulate import _take, instantiate_drives

    configs = [(c.split(":")[0], int(c.split(":")[1])) for c in args.configs.split(",")]
    spikes = instantiate_drives(net, args.tstop, max(b for _, b in configs))
    for dtype, batch in configs:
        arrays, drive_tab, _, _, n_steps = compile_network(net, args.tstop, dt, np.dtype(dtype).type)
        events = _take(drive_events(drive_tab, spikes, dt, n_steps, np.dtype(dtype).type), np.arange(batch))
        yield dtype, batch, arrays, events, n_steps


def identical(a, b):
    import jax
    import numpy as np
    return all(np.array_equal(x, y) for x, y in
               zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))


def timed(rows, modes, repeats):
    """``rows``: (name, trials per call, {mode: compiled}, args).  Returns
    the median seconds per trial of each (name, mode), interleaved over
    ``repeats`` rounds, and per name whether the modes' outputs are identical."""
    import jax
    same = {name: identical(*(jax.device_get(fns[m](*a)) for m in modes)) for name, _, fns, a in rows}
    times_s = {(name, m): [] for name, *_ in rows for m in modes}
    for r in range(repeats):
        for name, _, fns, a in rows:
            for m in modes:
                t0 = time.perf_counter()
                jax.block_until_ready(fns[m](*a))
                times_s[name, m].append(time.perf_counter() - t0)
        log(f"round {r + 1}/{repeats} done")
    per_trial = {(name, m): statistics.median(times_s[name, m]) / n for name, n, *_ in rows for m in modes}
    return per_trial, same
