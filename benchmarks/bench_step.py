"""The tree-solve strategies on CPU, whole step: thunks per step, compile
time and run time of the batched forward and of a gradient, one run, A/B
interleaved.  Decides ``tree_solve.strategy``'s CPU default.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_step.py [--tstop 170] [--grad-tstop 50]
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tstop", type=float, default=170.0, help="forward window (ms)")
    p.add_argument("--grad-tstop", type=float, default=50.0, help="gradient window (ms)")
    p.add_argument("--batches", default="1,8")
    p.add_argument("--grad-trials", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--solvers", default="loop,native,unrolled")
    args = p.parse_args(argv)

    import jax
    import jax.numpy as jnp
    import numpy as np

    import hnnjax  # noqa: F401
    from _hlo import machine, thunks_per_step
    from hnnjax.fit.forward import trial_draws
    from hnnjax.grad import model
    from hnnjax.network.compile import compile_network, drive_events
    from hnnjax.network.grid import run
    from hnnjax.network.simulate import _take, instantiate_drives
    from hnnjax.network_models import somato_model

    solvers, batches = args.solvers.split(","), [int(b) for b in args.batches.split(",")]
    net, dt = somato_model(), 0.025
    calls = []
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    for solver in solvers:
        arrays, tab, _, _, n = compile_network(net, args.tstop, dt, np.float64, solver=solver)
        events = drive_events(tab, instantiate_drives(net, args.tstop, max(batches)), dt, n,
                              np.float64)
        for b in batches:
            fn = jax.jit(lambda ev, a=arrays, n=n: jax.vmap(run, in_axes=(None, 0, None, None))(
                a, ev, n, dt))
            ev = _take(events, np.arange(b))
            t = time.perf_counter()
            compiled = fn.trace(ev).lower().compile()
            compile_s = time.perf_counter() - t
            calls.append((f"forward batch {b}", solver, b, compiled, (ev,), compile_s, n))
        gn, _, theta, ng = model.build(net, args.grad_tstop, dt, solver=solver)
        z = trial_draws(net, gn, args.grad_trials, args.grad_tstop, "key", jax.random.PRNGKey(0))

        def loss(th, gn=gn, ng=ng):
            dip = jax.vmap(lambda zz: model.run(gn, th, zz, ng, dt)[0])(z)
            return jnp.sum(jnp.mean(dip, axis=0) ** 2) * 1e-12
        g = jax.jit(jax.grad(loss))
        th = jnp.asarray(theta)
        t = time.perf_counter()
        compiled = g.trace(th).lower().compile()
        calls.append((f"gradient {args.grad_trials} trials", solver, args.grad_trials, compiled,
                      (th,), time.perf_counter() - t, ng))
    times = [[] for _ in calls]
    for c in calls:
        jax.block_until_ready(c[3](*c[4]))  # warm-up
    for _ in range(args.repeats):  # interleaved: A, B, A, B, ...
        for c, ts in zip(calls, times):
            t = time.perf_counter()
            jax.block_until_ready(c[3](*c[4]))
            ts.append(time.perf_counter() - t)
            log(f"{c[0]} {c[1]}: {ts[-1]:.2f} s")
    print(f"# bench_step: {machine()}")
    print(f"# forward {args.tstop} ms, gradient {args.grad_tstop} ms, somato network, float64, "
          f"median of {args.repeats} interleaved runs")
    print("| workload | solver | thunks/step | compile s | s/trial | vs " + solvers[0] + " |")
    print("|---|---|---|---|---|---|")
    base = {}
    for (name, solver, b, compiled, _, comp, n_steps), ts in zip(calls, times):
        per = statistics.median(ts) / b
        base.setdefault(name, per)
        print(f"| {name} | {solver} | {thunks_per_step(compiled.as_text(), n_steps):.0f} | {comp:.1f} | "
              f"{per:.3f} | {base[name] / per:.2f}x |")


if __name__ == "__main__":
    main()
