"""Idle steps' network-event work skipped (``skip_idle``, the default on one
CPU device) against always done, in one interleaved run.

Somato network (four evoked drives), each program compiled both ways:

* the faithful forward, ``simulate.py``'s ``_run_trials`` (``grid.run``
  vmapped over a named trial axis), at each ``--configs`` entry
  (dtype:batch), ``--tstop`` ms;
* the differentiable model's loss and its value-and-gradient (the
  ``bench_grad.py`` loss), ``--grad-trials`` trials of ``--grad-tstop`` ms.

Each row says whether both give bit-identical outputs, and the share of
steps that had network events due (faithful rows: in any trial of the batch).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_skip_idle.py [--tstop 170] [--repeats 3]
"""
import functools
import os
import sys
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"
sys.path.insert(0, str(Path(__file__).parent))

from _interleaved import forward_inputs, log, parser, timed  # noqa: E402

MODES = (False, True)


def due_share(arrays, spikes):
    """Share of steps where some trial of the batch has a network chunk due,
    from the run's spikes (n_trials, n_steps, n_cells)."""
    import numpy as np
    spikes = np.asarray(spikes)
    live = np.asarray(arrays.group_live)
    due = np.zeros(spikes.shape[1], bool)
    for q in range(arrays.n_blocks):
        shift = q * arrays.block
        if shift < spikes.shape[1]:
            due[shift:] |= (spikes[:, :spikes.shape[1] - shift] & live[q]).any(axis=(0, 2))
    return due.mean()


def main(argv=None):
    args = parser(__doc__, "float64:1,float64:8,float32:1,float32:8", 170.0, 2).parse_args(argv)

    import jax

    jax.config.update("jax_enable_x64", True)
    from _hlo import machine
    from bench_grad import somato_loss
    from hnnjax._jit import jit
    from hnnjax.fit import trial_draws
    from hnnjax.network.grid import run
    from hnnjax.network_models import somato_model

    dt = 0.025
    net = somato_model()
    rows, shares = [], {}  # rows: (name, trials per call, {skip: compiled}, args)
    for dtype, batch, arrays, events, n_steps in forward_inputs(net, args, dt):
        log(f"compiling the faithful forward, {dtype}, batch {batch} (both ways)")
        fns = {}
        for skip in MODES:
            one = functools.partial(run, skip_idle=skip, batch_axis="trials")
            fns[skip] = jit(lambda a, e, one=one: jax.vmap(one, in_axes=(None, 0, None, None),
                                                         axis_name="trials")(a, e, n_steps, dt)
                            ).lower(arrays, events).compile()
        name = f"forward {dtype} batch {batch}, {args.tstop:g} ms"
        shares[name] = f"{100 * due_share(arrays, fns[True](arrays, events)[0]):.1f} %"
        rows.append((name, batch, fns, (arrays, events)))

    label = f"{args.grad_trials} trials, {args.grad_tstop:g} ms"
    log("compiling the differentiable loss and its gradient (both ways)")
    loss, grad = {}, {}
    for skip in MODES:
        fn, th, gn = somato_loss(net, args.grad_tstop, skip_idle=skip)
        z = trial_draws(net, gn, args.grad_trials, args.grad_tstop, "key", jax.random.PRNGKey(0))
        loss[skip] = jit(fn).lower(th, z).compile()
        grad[skip] = jit(jax.value_and_grad(fn)).lower(th, z).compile()
    rows.append((f"differentiable loss, {label}", args.grad_trials, loss, (th, z)))
    rows.append((f"its value and gradient, {label}", args.grad_trials, grad, (th, z)))

    per_trial, same = timed(rows, MODES, args.repeats)

    print(f"# bench_skip_idle: {machine()}; median of {args.repeats} interleaved rounds")
    print("| workload | steps with events due | always s/trial | skip idle s/trial | always / skip | "
          "bit-identical |")
    print("|---|---|---|---|---|---|")
    for name, *_ in rows:
        always, skip = per_trial[name, False], per_trial[name, True]
        print(f"| {name} | {shares.get(name, '')} | {always:.3f} | {skip:.3f} | {always / skip:.2f}x | "
              f"{'yes' if same[name] else 'no'} |")


if __name__ == "__main__":
    main()
