"""Where one L5 pyramidal step goes on CPU: the cell type's step alone
(``kernel.type_step``, 100 cells x 55 segments, float64, batch 1), timed
against variants in one interleaved run (process CPU time per step).

Variants: ``rows`` looks up all quantities of a table with one gather of
rows; ``promise`` declares the gathers in bounds.  Two ablations give wrong
numbers on purpose and only measure a cost: ``no-gather`` replaces the
table look-ups by arithmetic on the index, ``no-exp`` the ``cnexp`` gate
update by a forward-Euler one.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_type_step.py [--steps 400] [--repeats 7]
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args(argv)

    import jax
    import jax.numpy as jnp
    import numpy as np

    from _hlo import machine
    from hnnjax.cells import channels, tables
    from hnnjax.network import kernel
    from hnnjax.network.compile import compile_network
    from hnnjax.network_models import somato_model

    arrays, *_ = compile_network(somato_model(), 170.0, 0.025, np.float64)
    ta = next(t for t in arrays.types if t.has_calcium)

    def index(table, v):
        xi = jnp.clip((v - table.vmin) * (1.0 / table.dv), 0.0, float(table.n))
        i = jnp.minimum(jnp.floor(xi), table.n - 1).astype(jnp.int32)
        return i, xi - i

    def rows(table, v):
        i, theta = index(table, v)
        tab = table.values.astype(v.dtype).T
        lo, hi = tab[i], tab[i + 1]
        return tuple(lo[..., q] + theta * (hi[..., q] - lo[..., q]) for q in range(tab.shape[1]))

    def promise(table, v):
        i, theta = index(table, v)
        out = []
        for row in table.values.astype(v.dtype):
            lo, hi = row.at[i].get(mode="promise_in_bounds"), row.at[i + 1].get(mode="promise_in_bounds")
            out.append(lo + theta * (hi - lo))
        return tuple(out)

    def no_gather(table, v):
        i, theta = index(table, v)
        return tuple(0.5 + 0.01 * row[0] + 1e-3 * theta for row in table.values.astype(v.dtype))

    def euler(x, xinf, tau, dt):
        return x + (dt / tau) * (xinf - x)

    def compiled(patch=None):
        """The step scanned ``--steps`` times, traced and compiled with ``patch`` applied."""
        saved = tables.RateTable.__call__, channels.cnexp
        if patch == "no-exp":
            channels.cnexp = euler
        elif patch:
            tables.RateTable.__call__ = {"rows": rows, "promise": promise, "no-gather": no_gather}[patch]

        def go(ta):
            st = kernel.init_type_state(ta)
            z = jnp.zeros_like(st["A"])
            body = lambda s, n: (kernel.type_step(ta, s, z, z, (n + 0.5) * 0.025, 0.025), None)
            return jax.lax.scan(body, st, jnp.arange(args.steps))[0]["v"]
        try:
            return jax.jit(go).lower(ta).compile()
        finally:
            tables.RateTable.__call__, channels.cnexp = saved

    variants = {name: compiled(None if name == "as built" else name)
                for name in ("as built", "rows", "promise", "no-gather", "no-exp")}
    times = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, fn in variants.items():
            t0 = time.process_time()
            fn(ta).block_until_ready()
            times[name].append(1e6 * (time.process_time() - t0) / args.steps)
    base = statistics.median(times["as built"])
    print(f"L5 pyramidal type step: {ta.n_cells} cells x {ta.n_seg} segments, float64, "
          f"median of {args.repeats} x {args.steps} steps; {machine()}")
    print(f"{'variant':12s} {'CPU µs/step':>12s} {'/ as built':>11s}")
    for name, ts in times.items():
        print(f"{name:12s} {statistics.median(ts):12.1f} {statistics.median(ts) / base:11.2f}")


if __name__ == "__main__":
    main()
