#!/usr/bin/env python
"""Where a gradient of the somato dipole loss spends its time, per loop of the
checkpointed scan (CPU), from a profile of one run.

    OPENBLAS_NUM_THREADS=1 python benchmarks/profile_grad.py [--tstop 10] [--trials 1]

The loss is ``bench_grad.py``'s without its 20 ms smoothing (a short window
keeps the trace under the profiler's million events; the gradient's loops are
the same).  Both the forward and the value-and-gradient are compiled as the
fits compile them and run once under ``jax.profiler.trace``; every thunk's own
time is attributed to the ``while`` loops that contain it in the compiled
HLO: the gradient's forward pass (the chunk states saved), the backward's
chunk re-runs (each step's state saved), and its per-step reverse loop, split
into the step re-run forward (``rematted_computation``) and the transpose.
Thunk times add up over both cores, so they exceed the wall time.
"""
import argparse
import collections
import glob
import gzip
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def loop_of(hlo_text):
    """Instruction name -> the chain of ``while`` instructions around it."""
    from _hlo import _computations
    comps, _ = _computations(hlo_text)
    owner, caller = {}, {}
    for comp, lines in comps.items():
        for line in lines:
            m = re.match(r"\s+(?:ROOT )?%?([\w.\-]+) = ", line)
            if not m:
                continue
            owner[m.group(1)] = comp
            for called in re.findall(r"(?:body|condition|calls|to_apply)=%?([\w.\-]+)", line):
                caller.setdefault(called, m.group(1))
            for group in re.findall(r"branch_computations=\{([^}]*)\}", line):
                for called in re.findall(r"%?([\w.\-]+)", group):
                    caller.setdefault(called, m.group(1))

    def chain(name):
        loops, comp = [], owner.get(name)
        while comp in caller:
            inst = caller[comp]
            if inst.startswith("while"):
                loops.append(inst)
            comp = owner.get(inst)
        return tuple(reversed(loops))
    return {name: chain(name) for name in owner}


def thunk_times(fn, args, hlo_text, module):
    """Own time (µs) and count of every thunk of one traced call, keyed by
    (loop chain, re-run or not), and the first time each chain was seen."""
    import jax
    rerun = {m.group(1) for m in re.finditer(r'\n\s+(?:ROOT )?%([\w.\-]+) = [^\n]*op_name="[^"]*'
                                              r'rematted_computation', hlo_text)}
    loops = loop_of(hlo_text)
    with tempfile.TemporaryDirectory() as d:
        with jax.profiler.trace(d, create_perfetto_trace=True):
            jax.block_until_ready(fn(*args))
        path = glob.glob(os.path.join(d, "**", "*perfetto_trace.json.gz"), recursive=True)[0]
        with gzip.open(path) as f:
            trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    if len(events) >= 1_000_000:
        print("warning: the trace reached the profiler's 1,000,000 events; shorten --tstop")
    time_us, count, first = collections.Counter(), collections.Counter(), {}
    for e in events:
        a = e.get("args", {})
        op = a.get("hlo_op")
        if e.get("ph") != "X" or module not in a.get("hlo_module", "") or not op \
                or op.startswith(("while", "conditional", "cond")):
            continue
        key = (loops.get(op, ()), op in rerun)
        time_us[key] += e["dur"]
        count[key] += 1
        first.setdefault(key[0], e["ts"])
    return time_us, count, first


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tstop", type=float, default=10.0, help="ms (default 10)")
    p.add_argument("--trials", type=int, default=1)
    args = p.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

    import jax

    from _hlo import columns, machine
    from bench_grad import somato_loss
    from hnnjax._jit import jit
    from hnnjax.fit import trial_draws
    from hnnjax.network_models import somato_model

    net = somato_model()
    loss_z, th, gn = somato_loss(net, args.tstop, smooth=False)
    z = trial_draws(net, gn, args.trials, args.tstop, "key", jax.random.PRNGKey(0))

    def loss(th):
        return loss_z(th, z)

    print(f"machine: {machine()}; somato network, {args.tstop:g} ms, {args.trials} trial(s), float64",
          flush=True)
    print("compiling the loss and its gradient ...", flush=True)
    fwd = jit(loss).lower(th).compile()
    grad = jit(jax.value_and_grad(loss), reverse_mode=True).lower(th).compile()
    walls = {"forward": [], "gradient": []}
    jax.block_until_ready((fwd(th), grad(th)))
    for _ in range(3):  # interleaved
        for name, f in (("forward", fwd), ("gradient", grad)):
            t0 = time.perf_counter()
            jax.block_until_ready(f(th))
            walls[name].append(time.perf_counter() - t0)
    walls = {k: statistics.median(v) for k, v in walls.items()}
    f_us, f_n, _ = thunk_times(fwd, (th,), fwd.as_text(), "jit_loss")
    g_us, g_n, first = thunk_times(grad, (th,), grad.as_text(), "jit_loss")
    fwd_total = sum(f_us.values())

    # The gradient's two outermost loops in the order they ran: the forward
    # pass, then the backward; the backward's inner loops: re-run, reverse.
    top = sorted({c[0] for c, _ in g_us if len(c) == 2},
                 key=lambda c: min(t for k, t in first.items() if k and k[0] == c))
    labels = {}
    if len(top) == 2:
        labels[(top[0],)] = "forward pass: between chunks"
        inner = sorted({c for c, _ in g_us if len(c) == 2 and c[0] == top[1]}, key=first.get)
        labels[(top[1],)] = "backward: between chunks"
        for c, name in zip(inner, ("backward: chunk re-run, step states saved",
                                   "backward: per-step reverse")):
            labels[c] = name
        for c in {c for c, _ in g_us if len(c) == 2 and c[0] == top[0]}:
            labels[c] = "forward pass, chunk states saved"
    n_steps = round(args.tstop / 0.025)  # dipole_fn's default dt
    rows = [["part", "thunk ms", "/ forward", "thunks per step"]]
    merged = collections.Counter()
    merged_n = collections.Counter()
    for (chain, rematted), us in g_us.items():
        label = labels.get(chain, "other loops" if chain else "outside the loops")
        if label == "backward: per-step reverse":
            label += ", step re-run" if rematted else ", transpose"
        merged[label] += us
        merged_n[label] += g_n[(chain, rematted)]
    for label, us in sorted(merged.items(), key=lambda kv: -kv[1]):
        rows.append([label, f"{us / 1e3:.1f}", f"{us / fwd_total:.2f}", f"{merged_n[label] / n_steps:.0f}"])
    rows.append(["gradient, all", f"{sum(g_us.values()) / 1e3:.1f}",
                 f"{sum(g_us.values()) / fwd_total:.2f}", f"{sum(g_n.values()) / n_steps:.0f}"])
    rows.append(["forward (the loss alone), all", f"{fwd_total / 1e3:.1f}", "1.00",
                 f"{sum(f_n.values()) / n_steps:.0f}"])
    print(columns(rows))
    print(f"wall: forward {walls['forward']:.3f} s, gradient {walls['gradient']:.3f} s "
          f"({walls['gradient'] / walls['forward']:.2f} forwards; medians of 3 interleaved runs)")


if __name__ == "__main__":
    main()
