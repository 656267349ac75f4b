"""Batched trials on a GPU: trials/s, kernels per step, peak memory, and
agreement with the CPU, for the forward and the gradient.

    python benchmarks/bench_gpu.py

The somatosensory network (``somato_model``), 170 ms, dt 0.025 ms.  In order:

1. ``--solver-check-ms``: a short float64 window (30 ms: the somato cells
   spike from ~23 ms, so network events are delivered) with the chosen tree
   solve and its listing of due chunks (``"pallas"``: Pallas kernels, the
   pyramidal cells' matrices assembled in theirs) and with the ``fori_loop``
   solve, XLA's assembly and ``jnp.nonzero`` on the device: the same spikes,
   and dipoles equal to the last bits (the compilers may contract a
   multiply-add differently inside one kernel than across two)?
2. ``--grad-ms``: the gradient of a dipole loss through the differentiable
   model (float64, ``--grad-trials``) on the device and on the CPU (loop
   solve): agreement and the device's time.
3. ``--api-trials``: ``simulate_dipole(n_trials=..., dtype='float32')`` end to
   end, as a user calls it (host preparation, transfers, results).
4. The table: float32 at 1 / 100 / 1,000 / 4,000 trials and float64 at
   1,000, each one compiled vmapped call (one warm-up call, then
   ``--repeats`` timed ones), and the float32 trial-averaged dipole against
   float64 on the CPU.
5. ``--step-ab``: float32 at that many trials, three layouts of the
   pyramidal cells' step, calls interleaved: as compiled (channel currents
   carried from the gate kernel, ``kernel.carries_currents``, and the
   matrix assembled in the solve kernel, ``kernel.assembles_in_solve``),
   assembled by XLA, and everything at step 3: which is faster on this
   device; and the program as compiled with the time loop in a CUDA graph
   (``COMMAND_BUFFER``: XLA's command buffers for the loop and its kernels,
   no launch from the host per step).

On one H200 the solver check and the float32 rows of 1 and 1,000 trials
took 2 min (a 1,000-trial call: 20 s), so everything is an estimated ~12 min:
more than one 10-minute device call.  Split it with the flags (each step has one; 0
skips it).  Without a GPU it says so and exits 0; ``--platform cpu`` runs
the same code on the CPU (small ``--trials``, ``--tstop``, ``--grad-ms``:
a smoke test, `tests/test_bench_gpu.py`).  Each row says whether every call gave the same bits of the
dipoles and spike counts: the forward sums network events as integers, exact
in any order (``compile.fixed_point_weights``); the gradient's event sums are
floating-point scatter-adds, summed in a fixed order only in XLA's
deterministic mode, which importing hnnjax switches on unless ``XLA_FLAGS``
already sets ``--xla_gpu_deterministic_ops``.  Rows are printed as they are measured; ``--max-s``
skips the table rows left after that many seconds.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

GRAD_SMOOTH_MS = 10.0  # the gradient check's loss smooths the dipole over this window


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def _ints(text):
    return [int(x) for x in text.split(",") if x]


def _batched(arrays, n_steps, dt):
    """The compiled batched faithful run: events (trials, ...) -> (spikes
    packed 8 cells to a byte, raw dipoles), as ``simulate_dipole`` runs it,
    with the compiler options of every hnnjax call (``_jit``)."""
    import functools

    import jax

    from hnnjax._jit import jit
    from hnnjax.network.grid import run
    one = functools.partial(run, pack_spikes=True)
    return jit(lambda ev: jax.vmap(one, in_axes=(None, 0, None, None))(arrays, ev, n_steps, dt)[:2])


def _step_layout(arrays, carry, assemble=True):
    """``arrays`` with each cell type's channel currents carried where
    ``carry(type_arrays)`` (``kernel.carries_currents``) and, where
    ``assemble`` too, its matrix assembled in the solve kernel as compiled
    (``kernel.assembles_in_solve``: only where the currents are carried)."""
    import dataclasses

    return dataclasses.replace(arrays, types=tuple(
        dataclasses.replace(ta, carry_currents=carry(ta), assembly=ta.assembly if assemble and carry(ta) else None)
        for ta in arrays.types))


def _solver_check(net, solver, device, dt, tstop, n_trials=2):
    """Print whether ``solver`` (its tree solve, assembly and listing of due
    chunks) gives the ``fori_loop`` solve's and ``jnp.nonzero``'s spikes and
    dipoles on ``device`` (float64, ``n_trials`` trials of ``tstop`` ms)."""
    import jax
    import numpy as np

    from hnnjax.network.compile import compile_network, drive_events
    from hnnjax.network.kernel import carries_currents
    from hnnjax.network.simulate import instantiate_drives

    spikes = instantiate_drives(net, tstop, n_trials)
    outs = {}
    for name in dict.fromkeys((solver, "loop")):
        t = time.perf_counter()
        arrays, tab, _, _, n_steps = compile_network(net, tstop, dt, np.float64, solver=name)
        arrays = _step_layout(arrays, lambda ta: carries_currents(solver, ta.n_nodes))  # as the solver's program
        ev = jax.device_put(drive_events(tab, spikes, dt, n_steps, np.float64), device)
        outs[name] = jax.device_get(_batched(arrays, n_steps, dt)(ev))
        log(f"solver check: {name!r} {tstop} ms in {time.perf_counter() - t:.1f} s (compile included)")
    (s_a, d_a), (s_b, d_b) = outs[solver], outs["loop"]
    rel = np.abs(d_a - d_b).max() / max(np.abs(d_b).max(), 1e-300)
    print(f"# solver check, float64, {n_trials} trials of {tstop} ms on {device.platform}: "
          f"{solver!r} vs 'loop': {int(np.unpackbits(s_b).sum())} spikes, identical "
          f"{np.array_equal(s_a, s_b)}, dipoles "
          f"bit-identical {np.array_equal(d_a, d_b)} (max |difference| / max |dipole| {rel:.1e}); "
          f"finite: {np.isfinite(d_a).all()}, {np.isfinite(d_b).all()}",
          flush=True)


def _gradient_check(net, solver, device, dt, tstop, n_trials):
    """Print the gradient of a dipole loss (float64, ``n_trials`` trials of
    ``tstop`` ms, the differentiable model) on ``device`` with ``solver``
    and on the CPU with the loop solve, their agreement and the device's time."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from hnnjax._jit import jit
    from hnnjax.fit import dipole_fn, hamming_smooth, trial_draws
    from hnnjax.grad import model

    params = ["evprox1.mu", "evprox1.sigma", "evprox1.weights_ampa.L5_pyramidal"]
    out = {}
    for where, dev, solve in (("device", device, solver), ("cpu", jax.devices("cpu")[0], "loop")):
        with jax.default_device(dev):
            gn = model.build(net, tstop, dt, solver=solve)[0]
            fn, gn, names, theta0, times = dipole_fn(net, tstop, dt, gn=gn)
            idx = np.array([names.index(n) for n in params])
            z = trial_draws(net, gn, n_trials, tstop, "key", jax.random.PRNGKey(0))
            target = jnp.asarray(0.05 * np.sin(times / 10.0))

            def loss(th):
                d, _ = fn(jnp.asarray(theta0).at[idx].set(th), z)
                return jnp.sqrt(jnp.mean((hamming_smooth(d.mean(0), GRAD_SMOOTH_MS, dt) - target) ** 2))

            vg = jit(jax.value_and_grad(loss), reverse_mode=True)  # compiled as the fits compile it
            th = jnp.asarray(theta0[idx])
            walls = []
            for _ in range(2):  # the first call compiles
                t = time.perf_counter()
                val, g = jax.block_until_ready(vg(th))
                walls.append(time.perf_counter() - t)
            out[where] = (float(val), np.asarray(g), walls)
        log(f"gradient check: {where} ({solve!r}) {walls[0]:.1f} s (compiling), then {walls[1]:.2f} s")
    (va, ga, wa), (vb, gb, _) = out["device"], out["cpu"]
    rel = np.abs(ga - gb).max() / max(np.abs(gb).max(), 1e-300)
    print(f"# gradient check, float64, {n_trials} trials of {tstop} ms, d loss / d ({', '.join(params)}): "
          f"{device.platform} ({solver!r}) {np.array2string(ga, precision=6)} vs cpu ('loop') "
          f"{np.array2string(gb, precision=6)}; "
          f"max |difference| / max |gradient| {rel:.1e}; loss {va:.9g} vs {vb:.9g}; "
          f"finite {np.isfinite(ga).all()}; {device.platform} time {wa[1]:.2f} s "
          f"({wa[0]:.1f} s with compiling)", flush=True)


COMMAND_BUFFER = {"xla_gpu_enable_command_buffer": "FUSION,CUSTOM_CALL,WHILE,CONDITIONAL"}
"""XLA's command buffers (CUDA graphs) for the time loop, its kernels and the
Pallas calls: a compiler option of one program (deviceless compiles accept
it; the CPU ignores it)."""


def _step_ab(arrays, events, n_steps, dt, device, n_trials, rounds=3):
    """Print the seconds per call of ``n_trials`` float32 trials with three
    layouts of the step, calls interleaved: as compiled (``arrays``: on a
    GPU the pyramidal cells' channel currents carried from the gate kernel
    and their matrix assembled in the solve kernel), assembled by XLA, and
    every type's currents at step 3; and as compiled in a CUDA graph
    (``COMMAND_BUFFER``); each against the compiled one.  A variant that
    fails to compile or run is reported and left out."""
    import jax
    import numpy as np

    from hnnjax.network.simulate import _take

    ev = jax.device_put(_take(events, np.arange(n_trials)), device)
    layouts = {"as compiled": (arrays, {}),
               "XLA-assembled": (_step_layout(arrays, lambda ta: ta.carry_currents, assemble=False), {}),
               "step 3": (_step_layout(arrays, lambda ta: False), {}),
               "CUDA graph": (arrays, COMMAND_BUFFER)}
    calls, walls = {}, {}
    for name, (a, options) in layouts.items():
        log(f"step A/B, {name}: compiling…")
        try:
            call = _batched(a, n_steps, dt).trace(ev).lower().compile(compiler_options=options)
            jax.block_until_ready(call(ev))  # warm-up
        except Exception as e:  # noqa: BLE001  (a variant this device or XLA cannot run)
            print(f"# step A/B, {name}: failed ({type(e).__name__}: {str(e).splitlines()[0][:200]})",
                  flush=True)
            continue
        calls[name], walls[name] = call, []
    layouts = [name for name in layouts if name in calls]
    for r in range(rounds):
        for name in (layouts if r % 2 == 0 else layouts[::-1]):
            t = time.perf_counter()
            jax.block_until_ready(calls[name](ev))
            walls[name].append(time.perf_counter() - t)
    med = {name: statistics.median(w) for name, w in walls.items()}
    if "as compiled" not in med:
        return
    base = med["as compiled"]
    print(f"# step A/B, float32, {n_trials} trials, {rounds} interleaved rounds, s per call (/ as compiled): "
          + ", ".join(f"{name} {m:.2f} ({m / base:.3f})" for name, m in med.items()), flush=True)


def _end_to_end(n_trials, tstop, dt):
    """Print the wall time of ``simulate_dipole(n_trials=..., dtype='float32')``
    as a user calls it: twice on one network (the first call compiles)."""
    import numpy as np

    import hnnjax as hnn
    from hnnjax.network_models import somato_model

    net, walls = somato_model(), []
    for _ in range(2):
        t = time.perf_counter()
        dpls = hnn.simulate_dipole(net, tstop=tstop, dt=dt, n_trials=n_trials, dtype="float32",
                                   verbose=False, progress=False)
        walls.append(time.perf_counter() - t)
    peak = np.abs(np.mean([d.data["agg"] for d in dpls], axis=0)).max()
    print(f"# simulate_dipole(somato, tstop={tstop:g}, n_trials={n_trials}, dtype='float32') end to "
          f"end: {walls[1]:.2f} s ({walls[0]:.1f} s with compiling); trial-averaged |dipole| peak "
          f"{peak:.3g} nAm", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--platform", default="gpu", help="gpu (default) or cpu (smoke test)")
    p.add_argument("--trials", type=_ints, default=[1, 100, 1000, 4000], help="float32 batches")
    p.add_argument("--f64-trials", type=_ints, default=[1000], help="float64 batches")
    p.add_argument("--tstop", type=float, default=170.0, help="ms")
    p.add_argument("--repeats", type=int, default=1, help="steady calls per batch (median)")
    p.add_argument("--check-trials", type=int, default=8,
                   help="trials compared with the CPU (trial-averaged dipole)")
    p.add_argument("--solver", default=None,
                   help="tree-solve strategy (default: the platform's, 'pallas' on a GPU)")
    p.add_argument("--solver-check-ms", type=float, default=30.0,
                   help="window (ms) of the solver-vs-loop bits check on the device; 0: skip")
    p.add_argument("--grad-ms", type=float, default=60.0,
                   help="window (ms) of the gradient check (device vs CPU); 0: skip")
    p.add_argument("--grad-trials", type=int, default=2, help="trials of the gradient check")
    p.add_argument("--api-trials", type=int, default=1000,
                   help="simulate_dipole end to end, float32, this many trials; 0: skip")
    p.add_argument("--step-ab", type=int, default=1000,
                   help="trials of the A/B of the step's layouts, float32; 0: skip")
    p.add_argument("--max-s", type=float, default=float("inf"),
                   help="skip the batches left once this many seconds have passed")
    args = p.parse_args(argv)
    if 0 < args.grad_ms <= GRAD_SMOOTH_MS:
        p.error(f"--grad-ms must be 0 (skip) or over {GRAD_SMOOTH_MS:g} ms, the gradient check's smoothing "
                f"window; got {args.grad_ms:g}")
    start = time.perf_counter()

    import jax

    import hnnjax  # noqa: F401  (float64; XLA's deterministic GPU scatters, before the backend starts)
    try:
        device = jax.devices(args.platform)[0]
    except RuntimeError:
        print(f"bench_gpu: no {args.platform} device here ({jax.devices()}); nothing to measure.")
        return 0
    import numpy as np

    from _hlo import bytes_per_step, machine, thunks_per_step
    from hnnjax.network.compile import compile_network, drive_events
    from hnnjax.network.simulate import _take, instantiate_drives
    from hnnjax.network.tree_solve import strategy
    from hnnjax.network_models import somato_model

    dt, tstop = 0.025, args.tstop
    net = somato_model()
    solver = strategy(args.solver, platform=device.platform)
    print(f"# bench_gpu: {machine()}; device {device.device_kind}; tree solve {solver!r}; "
          f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}", flush=True)
    if args.solver_check_ms > 0 and solver != "loop":
        _solver_check(net, solver, device, dt, args.solver_check_ms)
    if args.grad_ms > 0:
        _gradient_check(net, solver, device, dt, args.grad_ms, args.grad_trials)
    if args.api_trials > 0:
        with jax.default_device(device):
            _end_to_end(args.api_trials, tstop, dt)
    n_max = max(args.trials + args.f64_trials + [args.check_trials, args.step_ab])
    t0 = time.perf_counter()
    spikes = instantiate_drives(net, tstop, n_max)
    host_s = time.perf_counter() - t0
    prep = {}
    for dtype in (np.float32, np.float64):
        arrays, tab, _, _, n_steps = compile_network(net, tstop, dt, dtype,
                                                     solver=solver)
        t = time.perf_counter()
        prep[dtype] = (arrays, drive_events(tab, spikes, dt, n_steps, dtype))
        host_s += (time.perf_counter() - t) / 2  # one dtype's events
    print(f"# somato network, {tstop} ms, dt {dt} ms; host preparation of {n_max} trials "
          f"(drive times + events): {host_s:.2f} s", flush=True)
    print("# est. GB/s: the compiled program's estimated memory traffic (_hlo.bytes_per_step) per second "
          "of a call; a step of many trials is bound by it")
    print("| dtype | trials | trials/s | s per call | compile s | kernels/step | est. GB/s | peak GiB so far | "
          "same bits every call |")
    print("|---|---|---|---|---|---|---|---|---|", flush=True)

    dipoles = {}
    for dtype, counts in ((np.float32, args.trials), (np.float64, args.f64_trials)):
        arrays, events = prep[dtype]
        fn = _batched(arrays, n_steps, dt)
        for b in counts:
            if time.perf_counter() - start > args.max_s:
                print(f"| {np.dtype(dtype).name} | {b} | skipped: past --max-s {args.max_s:.0f} s "
                      "| | | | | | |", flush=True)
                continue
            ev = jax.device_put(_take(events, np.arange(b)), device)
            log(f"{np.dtype(dtype).name} {b} trials: compiling…")
            t = time.perf_counter()
            compiled = fn.trace(ev).lower().compile()
            compile_s = time.perf_counter() - t
            text = compiled.as_text()
            kernels, traffic = thunks_per_step(text, n_steps), bytes_per_step(text, n_steps) * n_steps
            walls, outs = [], []
            for _ in range(args.repeats + 1):  # the first call is a warm-up
                t = time.perf_counter()
                out = jax.block_until_ready(compiled(ev))
                walls.append(time.perf_counter() - t)
                outs.append(jax.device_get((out[1], out[0].sum(axis=1))))  # dipoles, spike bytes summed
            same = all(np.array_equal(a, b) for o in outs[1:] for a, b in zip(o, outs[0]))
            steady = statistics.median(walls[1:])
            stats = device.memory_stats() or {}
            peak = stats.get("peak_bytes_in_use", float("nan")) / 2**30
            print(f"| {np.dtype(dtype).name} | {b} | {b / steady:.1f} | {steady:.2f} | "
                  f"{compile_s:.1f} | {kernels:.0f} | {traffic / steady / 1e9:.0f} | {peak:.2f} | "
                  f"{'yes' if same else 'NO'} |",
                  flush=True)
            if 0 < args.check_trials <= b:
                dipoles[np.dtype(dtype).name] = np.asarray(out[1][:args.check_trials]).mean(0)

    if args.step_ab > 0 and time.perf_counter() - start <= args.max_s:
        _step_ab(*prep[np.float32], n_steps, dt, device, args.step_ab)
    if not dipoles:
        return 0
    log(f"CPU float64 reference ('loop' solve), {args.check_trials} trials…")
    cpu = jax.devices("cpu")[0]
    with jax.default_device(cpu):
        arrays = compile_network(net, tstop, dt, np.float64, solver="loop")[0]
        trials = _take(prep[np.float64][1], np.arange(args.check_trials))
        ref = np.asarray(_batched(arrays, n_steps, dt)(trials)[1]).mean(0)
    scale = np.abs(ref).max()
    for name, dip in dipoles.items():
        err = np.abs(dip - ref).max() / scale
        print(f"# {name} on {device.platform} vs float64 on cpu, {args.check_trials}-trial "
              f"average dipole: max |difference| / max |dipole| = {err:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
