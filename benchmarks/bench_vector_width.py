"""LLVM's preferred vector width on CPU, 256 bits (XLA's default) against 512
(``hnnjax._jit.COMPILER_OPTIONS``, what every hnnjax compiled call uses), in one interleaved run.

Somato network (four evoked drives), the same compiled programs twice, one
per ``xla_cpu_prefer_vector_width``:

* the faithful forward, ``simulate.py``'s ``_run_trials``, at each
  ``--configs`` entry (dtype:batch), ``--tstop`` ms;
* the differentiable model's loss and its value-and-gradient (the
  ``bench_grad.py`` loss), ``--grad-trials`` trials of ``--grad-tstop`` ms.

Each row says whether the two widths give bit-identical outputs.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_vector_width.py [--tstop 170] [--repeats 3]
"""
import os
import sys
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"
sys.path.insert(0, str(Path(__file__).parent))

from _interleaved import forward_inputs, log, parser, timed  # noqa: E402

WIDTHS = (256, 512)


def compiled_pair(fun, args, **jit_kwargs):
    """``fun`` jitted and compiled once per vector width."""
    import jax
    lowered = jax.jit(fun, **jit_kwargs).lower(*args)
    return {w: lowered.compile(compiler_options={"xla_cpu_prefer_vector_width": w}) for w in WIDTHS}


def main(argv=None):
    args = parser(__doc__, "float64:1,float64:8,float32:8", 30.0, 4).parse_args(argv)

    import jax

    jax.config.update("jax_enable_x64", True)
    from _hlo import machine
    from bench_grad import somato_loss
    from hnnjax.fit import trial_draws
    from hnnjax.network.simulate import _run_trials
    from hnnjax.network_models import somato_model

    dt = 0.025
    net = somato_model()
    rows = []  # (name, trials per call, {width: compiled}, args)
    for dtype, batch, arrays, events, n_steps in forward_inputs(net, args, dt):
        log(f"compiling the faithful forward, {dtype}, batch {batch} (both widths)")
        fns = compiled_pair(_run_trials.__wrapped__, (arrays, events, n_steps, dt), static_argnums=(2, 3))
        rows.append((f"forward {dtype} batch {batch}, {args.tstop:g} ms", batch, fns, (arrays, events)))

    loss, th, gn = somato_loss(net, args.grad_tstop)
    z = trial_draws(net, gn, args.grad_trials, args.grad_tstop, "key", jax.random.PRNGKey(0))
    label = f"{args.grad_trials} trials, {args.grad_tstop:g} ms"
    log("compiling the differentiable loss and its gradient (both widths)")
    rows.append((f"differentiable loss, {label}", args.grad_trials, compiled_pair(loss, (th, z)), (th, z)))
    rows.append((f"its value and gradient, {label}", args.grad_trials,
                 compiled_pair(jax.value_and_grad(loss), (th, z)), (th, z)))

    per_trial, same = timed(rows, WIDTHS, args.repeats)

    print(f"# bench_vector_width: {machine()}; median of {args.repeats} interleaved rounds")
    print("| workload | 256-bit s/trial | 512-bit s/trial | 256 / 512 | bit-identical |")
    print("|---|---|---|---|---|")
    for name, *_ in rows:
        m = {w: per_trial[name, w] for w in WIDTHS}
        print(f"| {name} | {m[256]:.3f} | {m[512]:.3f} | {m[256] / m[512]:.2f}x | "
              f"{'yes' if same[name] else 'no'} |")


if __name__ == "__main__":
    main()
