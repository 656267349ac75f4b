#!/usr/bin/env python
"""Side-by-side benchmark: hnn-core (NEURON) vs hnnjax on the somatosensory
(N20) network with the four evoked drives of hnn-core's somatosensory
example, ``tstop = 170 ms``, ``dt = 0.025 ms``.

    python benchmarks/bench_somato.py [--hnn-core-python PATH] [--quick]
        [--batches 1,8,32] [--at-once 1,2] [--repeats N] [--trials N] [--paired ROUNDS]
        [--paired-e2e ROUNDS]
        [--gpu-batches 1,100,1000,4000] [--json PATH]

Everything runs with ``OPENBLAS_NUM_THREADS=1``.  Stages (in this order, one
at a time):

1. hnn-core, in a subprocess (``benchmarks/_hnn_core_timing.py`` run by the
   python given with ``--hnn-core-python``, or by this python if it can import
   ``hnn_core``): 1 trial on one core (median of ``--repeats`` after a short
   warm-up) and ``--trials`` trials with ``JoblibBackend(n_jobs=2)``.
2. hnnjax, the jitted batch call itself (``compile_network`` +
   ``drive_events`` on the host, untimed; then
   ``_run_trials`` -- the vmapped, jitted kernel that ``run_batch`` calls --
   timed with ``block_until_ready``): for each dtype and batch size the first
   call (compile + run) and then steady calls (median).  compile = first -
   median steady.  With ``--paired ROUNDS``, then ROUNDS rounds of one
   hnn-core trial (a fresh process's second) followed by one call of float64 batch 1
   and of each dtype's best row: the target ratios read per round, so a host
   whose speed drifts between stages 1 and 2 does not bias them.
3. hnnjax end to end: ``simulate_dipole(net, tstop=170., n_trials=--trials)``
   in a fresh python process, its wall time and peak RSS; then the same in a
   second fresh process that reads the first one's compiled programs back
   (``use_compilation_cache`` on an empty temporary folder in both).  With
   ``--paired-e2e ROUNDS``, then ROUNDS rounds of hnn-core's ``--trials``
   trials with ``JoblibBackend`` followed by the same fresh-process run
   (no compilation cache): the end-to-end ratio read per round.
4. accuracy: float32 vs float64 dipoles of the same trials (the largest batch
   of stage 2), relative RMS normalised by the float64 RMS; and hnnjax float64
   vs hnn-core on trial 0 (same drive seeds) as a check that both simulate the
   same network.
5. on a GPU (``jax.devices()[0].platform == 'gpu'``): float32 batches of
   ``--gpu-batches`` trials, chunked when device memory is short.

See benchmarks/README.md for what each row means.
"""
import argparse
import datetime
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

os.environ["OPENBLAS_NUM_THREADS"] = "1"

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
TSTOP, DT = 170.0, 0.025
JSON_TAG = {"hnn_core": "HNN_CORE_TIMING_JSON ", "e2e": "HNNJAX_E2E_JSON "}


def log(msg):
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"[{time.strftime('%H:%M:%S')} load {load}] {msg}", file=sys.stderr, flush=True)


def _ints(text):
    return [int(x) for x in text.split(",") if x.strip()]


def _last_tagged_json(text, tag):
    for line in reversed(text.splitlines()):
        if line.startswith(tag):
            return json.loads(line[len(tag):])
    return None


def _maxrss_mib(usage):
    return usage.ru_maxrss / 1024.0  # Linux: KiB


# --------------------------------------------------------------------------
# machine
# --------------------------------------------------------------------------

def source_hash():
    """sha1 of hnnjax's .py sources: the working tree may change while this runs."""
    import hashlib
    h = hashlib.sha1()
    root = os.path.join(REPO, "hnnjax")
    for d, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(".py"):
                h.update(os.path.relpath(os.path.join(d, f), root).encode())
                with open(os.path.join(d, f), "rb") as fh:
                    h.update(fh.read())
    return h.hexdigest()[:12]


def machine_info():
    import jax
    import numpy as np
    from _hlo import cpu_model

    cpu = cpu_model()
    mem_gib = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem_gib = int(line.split()[1]) / 2**20
    except OSError:
        pass
    try:
        import jaxlib
        jaxlib_version = jaxlib.__version__
    except Exception:  # noqa: BLE001
        jaxlib_version = "?"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, capture_output=True, text=True).stdout.split("\n")
        dirty = [x[3:] for x in dirty if x.strip()]
        commit = commit + (f"+dirty({', '.join(dirty)})" if dirty else "")
    except OSError:
        commit = "?"
    import hnnjax
    return dict(
        date=datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        cpu_model=cpu, cpu_count=os.cpu_count(), cpu_affinity=len(os.sched_getaffinity(0)),
        mem_gib=mem_gib, python=sys.version.split()[0], numpy=np.__version__,
        jax=jax.__version__, jaxlib=jaxlib_version, hnnjax=hnnjax.__version__,
        hnnjax_commit=commit, devices=[str(d) for d in jax.devices()],
        platform=jax.devices()[0].platform,
        openblas_num_threads=os.environ.get("OPENBLAS_NUM_THREADS"),
        xla_flags=os.environ.get("XLA_FLAGS", ""))


# --------------------------------------------------------------------------
# 1. hnn-core
# --------------------------------------------------------------------------

def find_hnn_core_python(given):
    if given:
        if not (os.path.isfile(given) and os.access(given, os.X_OK)):
            return None, f"--hnn-core-python {given!r} is not an executable file"
        probe = subprocess.run([given, "-c", "import hnn_core, neuron"], capture_output=True,
                               text=True)
        if probe.returncode != 0:
            err = (probe.stderr.strip().splitlines() or ["?"])[-1]
            return None, f"{given} cannot import hnn_core/neuron ({err})"
        return given, None
    import importlib.util
    if importlib.util.find_spec("hnn_core") is not None:
        return sys.executable, None
    return None, ("hnn_core is not importable by this python and no --hnn-core-python "
                  "was given (e.g. --hnn-core-python /work/venv-ref/bin/python)")


def run_hnn_core(py, trials, repeats, n_jobs, timeout, extra=()):
    cmd = [py, os.path.join(HERE, "_hnn_core_timing.py"), "--trials", str(trials),
           "--repeats", str(repeats), "--n-jobs", str(n_jobs), *extra]
    log("hnn-core: " + " ".join(cmd))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    t0 = time.perf_counter()
    try:
        # its stderr (progress, NEURON messages) goes straight to ours
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return dict(skipped=f"timed out after {timeout} s")
    res = _last_tagged_json(proc.stdout, JSON_TAG["hnn_core"])
    if proc.returncode != 0 or res is None:
        tail = proc.stdout.strip().splitlines()[-5:] + ["(see its stderr above)"]
        return dict(skipped=f"failed (exit {proc.returncode}): " + " | ".join(tail))
    res["stage_wall_s"] = time.perf_counter() - t0
    res["python_path"] = py
    return res


# --------------------------------------------------------------------------
# 2. hnnjax: the jitted batch call
# --------------------------------------------------------------------------

def _timed_call(fn):
    """(wall s, process CPU s, result) of fn() with the result on the host side
    ready (block_until_ready)."""
    import jax
    c0, t0 = time.process_time(), time.perf_counter()
    out = jax.block_until_ready(fn())
    return time.perf_counter() - t0, time.process_time() - c0, out


def _dipoles_nAm(dip, n_steps, n_pyr):
    """Raw kernel dipoles (trials, n_steps, [L2, L5]) in fA·m -> (trials,
    n_steps + 1, [agg, L2, L5]) in nA·m, as ``simulate_dipole`` returns them
    (t = 0 row, baseline renormalisation, 1e-6)."""
    import numpy as np
    from hnnjax.network.simulate import baseline_renormalize
    dip = np.asarray(dip, dtype=np.float64)
    times = np.arange(n_steps + 1) * DT
    out = np.zeros((dip.shape[0], n_steps + 1, 3))
    for k in range(dip.shape[0]):
        raw = np.zeros((n_steps + 1, 2))
        raw[1:] = dip[k]
        l2, l5 = baseline_renormalize(times, raw[:, 0], raw[:, 1], n_pyr)
        out[k] = np.stack([l2 + l5, l2, l5], axis=1) * 1e-6
    return out


def bench_batches(net, batches, repeats, max_steady_s, at_once=(1,), dtypes=("float64", "float32")):
    """Time ``_run_trials`` per dtype, batch size and number of calls run at
    once (``at_once``: each of its own trials, from its own thread, as
    ``run_events`` runs them on one CPU device), and one trial in two parts
    of its cells (``split.run_trial``, what ``run_events`` runs for a lone
    trial where ``split_plan`` allows); returns the per-config results, the
    dipoles of the largest single-call batch per dtype, and each config's
    timed call by (dtype, batch, calls[, "parts"])."""
    from concurrent.futures import ThreadPoolExecutor

    import jax
    import numpy as np
    from hnnjax.network import split
    from hnnjax.network.compile import compile_network, drive_events
    from hnnjax.network.simulate import _run_trials, _take, instantiate_drives, split_plan

    n_max = max(batches)
    spikes = instantiate_drives(net, TSTOP, n_max * max(at_once))
    n_pyr = net.mesh_shape[0] * net.mesh_shape[1]
    results, dipoles, calls = [], {}, {}
    pool = ThreadPoolExecutor(max(at_once))

    def timed(name, call, overflowed):
        log(f"{name}: first call (compile + run)")
        first, first_cpu, out = _timed_call(call)
        walls, cpus = [], []
        while len(walls) < repeats and (not walls or sum(walls) < max_steady_s):
            w, c, out = _timed_call(call)
            walls.append(w)
            cpus.append(c)
            log(f"{name}: steady {w:.2f} s")
        if overflowed(out):
            raise RuntimeError("connection-chunk capacity overflowed: timings are of a wrong run")
        steady = statistics.median(walls)
        return out, dict(first_s=first, first_cpu_s=first_cpu, steady_walls_s=walls, steady_s=steady,
                         compile_s=first - steady, cpu_per_wall=sum(cpus) / sum(walls))

    for dtype in dtypes:
        np_dtype = np.dtype(dtype).type
        t0 = time.perf_counter()
        arrays, drive_tab, _layout, _rec, n_steps = compile_network(net, TSTOP, DT, np_dtype)
        all_events = drive_events(drive_tab, spikes, DT, n_steps, np_dtype)
        host_s = time.perf_counter() - t0
        for b in sorted(batches):
            for k in sorted(at_once):
                parts = [_take(all_events, np.arange(i * b, (i + 1) * b)) for i in range(k)]
                run = lambda ev, arrays=arrays, n_steps=n_steps: jax.block_until_ready(  # noqa: E731
                    _run_trials(arrays, ev, n_steps, float(DT)))
                call = lambda run=run, parts=parts: list(pool.map(run, parts))  # noqa: E731
                calls[(dtype, b, k)] = call
                name = f"hnnjax {dtype} batch {b}" + (f" x{k} at once" if k > 1 else "")
                out, c = timed(name, call, lambda out: any(np.any(np.asarray(o[3])) for o in out))
                results.append(dict(c, dtype=dtype, batch=b, calls=k, per_trial_s=c["steady_s"] / (b * k),
                                    trials_per_s=b * k / c["steady_s"], host_prep_s=host_s))
                if b == n_max and k == 1:
                    dipoles[dtype] = _dipoles_nAm(out[0][1], n_steps, n_pyr)
                del out
        plan = split_plan(arrays, 1, n_steps) if 1 in batches else None
        if plan:
            one = _take(all_events, np.arange(1))
            call = lambda arrays=arrays, one=one, n_steps=n_steps: split.run_trial(  # noqa: E731
                arrays, one, n_steps, DT, plan)
            calls[(dtype, 1, 1, "parts")] = call
            _, c = timed(f"hnnjax {dtype} batch 1 in 2 parts", call,
                         lambda out, cap=arrays.capacity: out[1].capacity != cap)
            results.append(dict(c, dtype=dtype, batch=1, calls=1, parts=2, per_trial_s=c["steady_s"],
                                trials_per_s=1 / c["steady_s"], host_prep_s=host_s))
    return results, dipoles, calls


def paired_rounds(py, calls, rows, rounds):
    """hnn-core's single trial and hnnjax's ``rows`` ((name, key of ``calls``,
    target ratio); one call may serve two names) timed alternately, ``rounds``
    times: each round is an hnn-core process
    (warm-up, then two trials: the second is timed, as a process's first
    trial ran slower in some runs) and then one call of each row, so every ratio
    compares runs a minute apart, whatever the host's drift."""
    out = []
    for i in range(rounds):
        hc = run_hnn_core(py, 0, 2, 1, timeout=3600, extra=("--skip-joblib", "--no-dipole"))
        if "skipped" in hc:
            return dict(skipped="hnn-core " + hc["skipped"])
        rnd = dict(hnn_core_s=hc["single"]["walls_s"][-1], rows={})
        for name, key, _ in rows:
            wall, _, _ = _timed_call(calls[key])
            rnd["rows"][name] = wall / (key[1] * key[2])
        log(f"paired round {i + 1}/{rounds}: hnn-core {rnd['hnn_core_s']:.2f} s; " + "; ".join(
            f"{k} {v:.2f} s/trial" for k, v in rnd["rows"].items()))
        out.append(rnd)
    return dict(rounds=out, targets={name: t for name, _, t in rows})


def paired_e2e_rounds(py, trials, n_jobs, rounds):
    """hnn-core's ``trials`` trials with ``JoblibBackend(n_jobs)`` (a fresh
    process: warm-up, then the timed run) and hnnjax's end to end in a fresh
    process (compile included, no compilation cache), alternately, ``rounds``
    times: the end-to-end ratio of runs a minute apart."""
    out = []
    for i in range(rounds):
        hc = run_hnn_core(py, trials, 0, n_jobs, timeout=3600, extra=("--no-dipole",))
        if "skipped" in hc or "skipped" in hc["joblib"]:
            return dict(skipped="hnn-core " + hc.get("skipped", hc["joblib"].get("skipped", "")))
        e = run_e2e(trials, "float64", 3600, "off")
        if "skipped" in e:
            return dict(skipped="hnnjax end to end " + e["skipped"])
        out.append(dict(hnn_core_s=hc["joblib"]["total_s"], hnnjax_s=e["simulate_s"]))
        log(f"paired end-to-end round {i + 1}/{rounds}: hnn-core {out[-1]['hnn_core_s']:.2f} s; "
            f"hnnjax {out[-1]['hnnjax_s']:.2f} s")
    return dict(rounds=out, n_trials=trials, n_jobs=n_jobs)


def rel_rms(test, ref):
    import numpy as np
    return float(np.sqrt(np.mean((test - ref) ** 2)) / np.sqrt(np.mean(ref ** 2)))


def accuracy(dipoles, hnn_core_res):
    import numpy as np
    acc = {}
    if "float64" in dipoles and "float32" in dipoles:
        d64, d32 = dipoles["float64"], dipoles["float32"]
        acc["f32_vs_f64"] = dict(n_trials=int(d64.shape[0]))
        for i, comp in enumerate(("agg", "L2", "L5")):
            per_trial = [rel_rms(d32[k, :, i], d64[k, :, i]) for k in range(d64.shape[0])]
            acc["f32_vs_f64"][comp] = dict(pooled=rel_rms(d32[..., i], d64[..., i]),
                                           worst_trial=max(per_trial))
    ref = (hnn_core_res or {}).get("dipole_trial0")
    if ref is not None and "float64" in dipoles:
        d64 = dipoles["float64"][0]
        acc["f64_vs_hnn_core_trial0"] = {}
        for i, comp in enumerate(("agg", "L2", "L5")):
            r = np.asarray(ref[comp])
            if r.shape[0] != d64.shape[0]:
                acc["f64_vs_hnn_core_trial0"] = dict(
                    skipped=f"sample counts differ ({r.shape[0]} vs {d64.shape[0]})")
                break
            acc["f64_vs_hnn_core_trial0"][comp] = rel_rms(d64[:, i], r)
    return acc


# --------------------------------------------------------------------------
# 3. hnnjax end to end, fresh process
# --------------------------------------------------------------------------

def e2e_child(n_trials, dtype, cache):
    """Runs in the fresh subprocess: import, build, simulate_dipole."""
    t_proc = time.perf_counter()
    import hnnjax
    from hnnjax.network_models import somato_model
    t_import = time.perf_counter() - t_proc
    hnnjax.use_compilation_cache(cache)
    net = somato_model()
    c0, t0 = time.process_time(), time.perf_counter()
    dpls = hnnjax.simulate_dipole(net, tstop=TSTOP, n_trials=n_trials, dtype=dtype)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    assert len(dpls) == n_trials
    print(JSON_TAG["e2e"] + json.dumps(dict(
        n_trials=n_trials, dtype=dtype, simulate_s=wall, cpu_s=cpu, import_s=t_import,
        process_s=time.perf_counter() - t_proc,
        maxrss_mib=_maxrss_mib(resource.getrusage(resource.RUSAGE_SELF)))), flush=True)


def run_e2e(n_trials, dtype, timeout, cache):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
    env["OPENBLAS_NUM_THREADS"] = "1"
    cmd = [sys.executable, os.path.abspath(__file__), "--e2e-child", str(n_trials),
           "--e2e-dtype", dtype, "--e2e-cache", cache]
    time_v = shutil.which("time")  # GNU time, for its "Maximum resident set size"
    if time_v and subprocess.run([time_v, "-v", "true"], capture_output=True).returncode == 0:
        cmd = [time_v, "-v"] + cmd
    log("hnnjax end to end: " + " ".join(cmd))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                              cwd=REPO)
    except subprocess.TimeoutExpired:
        return dict(skipped=f"timed out after {timeout} s")
    res = _last_tagged_json(proc.stdout, JSON_TAG["e2e"])
    if proc.returncode != 0 or res is None:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return dict(skipped=f"failed (exit {proc.returncode}): " + " | ".join(tail))
    res["outer_wall_s"] = time.perf_counter() - t0
    for line in proc.stderr.splitlines():
        if "Maximum resident set size" in line:
            res["time_v_maxrss_mib"] = int(line.split(":")[1]) / 1024.0
    return res


# --------------------------------------------------------------------------
# 5. GPU
# --------------------------------------------------------------------------

def bench_gpu(net, batches, repeats, chunk):
    """float32 batches on the default device; on RESOURCE_EXHAUSTED the batch
    is split into chunks (halved until it fits, like simulate_dipole's
    batch_size)."""
    import jax
    import numpy as np
    from hnnjax.network.compile import compile_network, drive_events
    from hnnjax.network.simulate import _run_trials, _take, instantiate_drives

    dev = jax.devices()[0]
    n_max = max(batches)
    log(f"GPU: drive events for {n_max} trials (host)")
    spikes = instantiate_drives(net, TSTOP, n_max)
    arrays, drive_tab, _l, _r, n_steps = compile_network(net, TSTOP, DT, np.float32)
    all_events = drive_events(drive_tab, spikes, DT, n_steps, np.float32)
    out = []
    fits = None  # largest chunk known to fit after an out-of-memory error
    for b in sorted(batches):
        size = min(b, chunk or b, fits or b)
        while True:
            try:
                chunks = [_take(all_events, np.arange(i, min(i + size, b)))
                          for i in range(0, b, size)]

                def call():
                    res = None
                    for ev in chunks:
                        res = jax.block_until_ready(_run_trials(arrays, ev, n_steps, float(DT)))
                    return res[1]
                log(f"GPU float32 batch {b} (chunks of {size}): first call")
                first, _, r = _timed_call(call)
                del r
                walls = []
                for _ in range(repeats):
                    w, _, r = _timed_call(call)
                    del r
                    walls.append(w)
                break
            except Exception as exc:  # noqa: BLE001
                if "RESOURCE_EXHAUSTED" not in str(exc) and "out of memory" not in str(exc).lower():
                    raise
                if size == 1:
                    raise
                size = fits = max(1, size // 2)
                log(f"GPU batch {b}: out of memory, chunks of {size}")
        stats = dev.memory_stats() or {}
        peak = stats.get("peak_bytes_in_use")
        steady = statistics.median(walls)
        out.append(dict(batch=b, chunk=size, first_s=first, steady_s=steady,
                        compile_s=first - steady, per_trial_s=steady / b,
                        trials_per_s=b / steady, peak_bytes=peak,
                        bytes_per_trial=(peak / size) if peak else None))
    return dict(device=str(dev), device_kind=getattr(dev, "device_kind", "?"), batches=out)


# --------------------------------------------------------------------------
# table
# --------------------------------------------------------------------------

def _fmt(x, nd=2):
    if x is None:
        return "n/a"
    if isinstance(x, float):
        if abs(x) >= 100:
            return f"{x:.0f}"
        if abs(x) >= 1e-2 or x == 0:
            return f"{x:.{nd}f}"
        return f"{x:.2e}"
    return str(x)


def build_table(r):
    m = r["machine"]
    rows = []  # (label, value, detail)
    sec = lambda title: rows.append((f"-- {title}", "", ""))  # noqa: E731
    add = lambda label, value, detail="": rows.append(("  " + label, value, detail))  # noqa: E731

    hc = r.get("hnn_core") or {}
    sec(f"hnn-core {hc.get('hnn_core_version', '')} / NEURON {hc.get('neuron_version', '')}"
        .rstrip(" /"))
    if "skipped" in hc:
        add("hnn-core", "skipped", hc["skipped"])
    else:
        s = hc["single"]
        add("1 trial, 1 core: s/trial", _fmt(s["median_s"]),
            f"median of {len(s['walls_s'])} ({', '.join(_fmt(w) for w in s['walls_s'])}); "
            f"cpu/wall {_fmt(s['cpu_per_wall'])}; warm-up (tstop 10) {_fmt(hc['warmup_s'])} s")
        j = hc.get("joblib", {})
        if "skipped" in j:
            add("JoblibBackend", "skipped", j["skipped"])
        else:
            add(f"{j['n_trials']} trials, JoblibBackend(n_jobs={j['n_jobs']}): total s",
                _fmt(j["total_s"]), "one run, worker start-up included")
            add(f"{j['n_trials']} trials, {j['n_jobs']} jobs: s/trial | trials/s",
                f"{_fmt(j['per_trial_s'])} | {_fmt(1 / j['per_trial_s'], 3)}")

    sec("hnnjax, jitted batch call (_run_trials, host prep excluded; xK: K calls at once)")
    for c in r["hnnjax"]["batches"]:
        k = c.get("calls", 1)
        add(f"{c['dtype']} batch {c['batch']:>3}{f' x{k}' if k > 1 else ''}"
            f"{' in 2 parts' if c.get('parts') else ''}: s/trial | trials/s",
            f"{_fmt(c['per_trial_s'])} | {_fmt(c['trials_per_s'], 3)}",
            f"call {_fmt(c['steady_s'])} s (median of {len(c['steady_walls_s'])}); "
            f"compile {_fmt(c['compile_s'])} s (first {_fmt(c['first_s'])} s); "
            f"cpu/wall {_fmt(c['cpu_per_wall'])}")

    p = r.get("paired") or {}
    if p.get("rounds"):
        sec("paired rounds: one hnn-core trial, then one call of each hnnjax row (s/trial)")
        for i, rnd in enumerate(p["rounds"]):
            add(f"round {i + 1}: hnn-core | " + " | ".join(rnd["rows"]),
                " | ".join(_fmt(v) for v in [rnd["hnn_core_s"], *rnd["rows"].values()]))

    e = r["hnnjax"].get("e2e") or {}
    sec("hnnjax end to end, fresh process (simulate_dipole, compile included)")
    if "skipped" in e:
        add("simulate_dipole", "skipped", e["skipped"])
    elif e:
        add(f"simulate_dipole(n_trials={e['n_trials']}, {e['dtype']}): s",
            _fmt(e["simulate_s"]),
            f"{_fmt(e['simulate_s'] / e['n_trials'])} s/trial, "
            f"{_fmt(e['n_trials'] / e['simulate_s'], 3)} trials/s; cpu/wall "
            f"{_fmt(e['cpu_s'] / e['simulate_s'])}; process {_fmt(e['outer_wall_s'])} s "
            f"(import {_fmt(e['import_s'])} s)")
        add("peak RSS of that process: MiB", _fmt(e["maxrss_mib"]),
            "ru_maxrss" + (f"; /usr/bin/time -v {_fmt(e['time_v_maxrss_mib'])} MiB"
                           if "time_v_maxrss_mib" in e else ""))
    pe = r.get("paired_e2e") or {}
    if pe.get("rounds"):
        for i, rnd in enumerate(pe["rounds"]):
            add(f"paired round {i + 1}: hnn-core {pe['n_trials']} trials {pe['n_jobs']} jobs | "
                "hnnjax end to end: s", f"{_fmt(rnd['hnn_core_s'])} | {_fmt(rnd['hnnjax_s'])}",
                "fresh processes, one after the other")
    again = r["hnnjax"].get("e2e_again") or {}
    if again and "skipped" not in again:
        add("the same, second process (compiled programs read back): s",
            _fmt(again["simulate_s"]),
            f"{_fmt(again['simulate_s'] / again['n_trials'])} s/trial; use_compilation_cache; "
            f"process {_fmt(again['outer_wall_s'])} s")

    acc = r.get("accuracy") or {}
    sec("accuracy (relative RMS of the difference, / RMS of the reference)")
    a = acc.get("f32_vs_f64")
    if a:
        for comp in ("agg", "L2", "L5"):
            add(f"float32 vs float64, {comp}", _fmt(a[comp]["pooled"]),
                f"{a['n_trials']} trials pooled; worst trial {_fmt(a[comp]['worst_trial'])}")
    h = acc.get("f64_vs_hnn_core_trial0")
    if h:
        if "skipped" in h:
            add("hnnjax f64 vs hnn-core, trial 0", "skipped", h["skipped"])
        else:
            add("hnnjax f64 vs hnn-core, trial 0 (agg | L2 | L5)",
                " | ".join(_fmt(h[c], 3) for c in ("agg", "L2", "L5")),
                "same network/seeds check (not a target)")

    sec("ratios (target)")
    for k in r["ratios"]:
        add(k["name"], _fmt(k["value"]), f"target {k['target']}: "
            + ("n/a" if k["pass"] is None else ("PASS" if k["pass"] else "FAIL"))
            + (f"; {k['note']}" if k.get("note") else ""))

    g = r.get("gpu") or {}
    sec("GPU (float32)")
    if "skipped" in g:
        add("GPU", "skipped", g["skipped"])
    else:
        for b in g["batches"]:
            add(f"batch {b['batch']:>5}: trials/s | MiB/trial",
                f"{_fmt(b['trials_per_s'], 3)} | "
                + (_fmt(b["bytes_per_trial"] / 2**20) if b["bytes_per_trial"] else "n/a"),
                f"{_fmt(b['per_trial_s'], 4)} s/trial; chunks of {b['chunk']}; compile "
                f"{_fmt(b['compile_s'])} s; {g['device_kind']}")

    w0 = max(len(x[0]) for x in rows if not x[0].startswith("--"))
    w1 = max(len(x[1]) for x in rows)
    head = [
        "hnnjax somato benchmark: N20 network + 4 evoked drives, tstop 170 ms, dt 0.025 ms",
        f"date {m['date']}; {m['cpu_model']}, {m['cpu_count']} cores "
        f"({m['cpu_affinity']} usable), {_fmt(m['mem_gib'], 1)} GiB RAM",
        f"python {m['python']}, numpy {m['numpy']}, jax {m['jax']} (jaxlib {m['jaxlib']}), "
        f"devices {', '.join(m['devices'])}; hnnjax {m['hnnjax']} @ {m['hnnjax_commit']}; "
        f"OPENBLAS_NUM_THREADS={m['openblas_num_threads']}",
        f"load average at start {' '.join(_fmt(x) for x in r['load_start'])}, "
        f"at end {' '.join(_fmt(x) for x in r['load_end'])}; benchmark wall "
        f"{_fmt(r['total_wall_s'] / 60, 1)} min; args: {r['argv']}",
        f"hnnjax sources sha1 {r['source_sha1_start']}"
        + ("" if r["source_sha1_end"] == r["source_sha1_start"] else
           f" -> {r['source_sha1_end']} (WARNING: hnnjax/ changed during the run; "
           "stages may have run different code)"),
        "",
        f"{'quantity':<{w0}}  {'value':>{w1}}  detail",
    ]
    body = []
    for label, value, detail in rows:
        body.append(f"{label:<{w0}}  {value:>{w1}}  {detail}".rstrip() if value or detail
                    else label)
    return "\n".join(head + body)


def compute_ratios(r):
    hc = r.get("hnn_core") or {}
    by = {(c["dtype"], c["batch"]): c for c in r["hnnjax"]["batches"]
          if c.get("calls", 1) == 1 and not c.get("parts")}
    lone = {c["dtype"]: c for c in r["hnnjax"]["batches"] if c.get("parts")}
    e = r["hnnjax"].get("e2e") or {}
    out = []

    def ratio(name, num, den, target, ok, note=""):
        v = (num / den) if (num is not None and den) else None
        out.append({"name": name, "value": v, "target": target,
                    "pass": None if v is None or ok is None else bool(ok(v)), "note": note})
    single = hc.get("single", {}).get("median_s") if "skipped" not in hc else None
    b1 = by.get(("float64", 1), {}).get("per_trial_s")
    if "float64" in lone:  # a lone trial runs in parts: the target is theirs
        ratio("hnn-core 1 core / hnnjax f64 batch 1, one call (s/trial)", single, b1, "-", None)
        ratio("hnn-core 1 core / hnnjax f64 batch 1 in 2 parts (s/trial)", single,
              lone["float64"]["per_trial_s"], ">= 10", lambda v: v >= 10)
    else:
        ratio("hnn-core 1 core / hnnjax f64 batch 1 (s/trial)", single, b1, ">= 10",
              lambda v: v >= 10)
    j = hc.get("joblib", {}) if "skipped" not in hc else {}
    j_total = j.get("total_s")
    note = ""
    if j and e and "skipped" not in e and "skipped" not in j and j["n_trials"] != e["n_trials"]:
        note, j_total = "trial counts differ", None
    ratio(f"hnn-core {j.get('n_trials', '?')} trials 2 jobs / hnnjax end to end",
          j_total, e.get("simulate_s") if "skipped" not in e else None, ">= 5",
          lambda v: v >= 5, note)
    for b in sorted({b for _, b in by}):
        f64 = by.get(("float64", b), {}).get("per_trial_s")
        f32 = by.get(("float32", b), {}).get("per_trial_s")
        ratio(f"float64 / float32 s/trial, batch {b}", f64, f32, ">= 1.5", lambda v: v >= 1.5)
    best64 = min((c["per_trial_s"] for c in r["hnnjax"]["batches"] if c["dtype"] == "float64"),
                  default=None)
    best32 = min((c["per_trial_s"] for c in r["hnnjax"]["batches"] if c["dtype"] == "float32"),
                 default=None)
    ratio("hnn-core 1 core / hnnjax f64 best batch and calls at once (s/trial)", single, best64,
          ">= 15", lambda v: v >= 15)
    ratio("hnn-core 1 core / hnnjax f32 best batch and calls at once (s/trial)", single, best32,
          ">= 25", lambda v: v >= 25)
    ratio("float64 / float32 s/trial, best batch and calls at once of each", best64, best32,
          ">= 1.5", lambda v: v >= 1.5)

    def per_round(name, per, target):
        med = statistics.median(per)
        out.append({"name": f"paired: {name}", "value": med,
                    "target": "-" if target is None else f">= {target}",
                    "pass": None if target is None else bool(med >= target),
                    "note": f"median of {len(per)} rounds, range {_fmt(min(per))}-{_fmt(max(per))}"})
    paired = r.get("paired") or {}
    rounds = paired.get("rounds") or []
    for row, target in (paired.get("targets") or {}).items() if rounds else ():
        per_round(f"hnn-core 1 core / hnnjax {row} (s/trial)",
                  [rnd["hnn_core_s"] / rnd["rows"][row] for rnd in rounds], target)
    pe = r.get("paired_e2e") or {}
    if pe.get("rounds"):
        per_round(f"hnn-core {pe['n_trials']} trials {pe['n_jobs']} jobs / hnnjax end to end",
                  [rnd["hnn_core_s"] / rnd["hnnjax_s"] for rnd in pe["rounds"]], 5)
    comp = [c["compile_s"] for c in by.values()]
    c1 = [c["compile_s"] for c in by.values() if c["batch"] == min(b for _, b in by)]
    out.append({"name": "compile time, smallest batch, max over dtypes: s",
                "value": max(c1) if c1 else None, "target": "< 20 s",
                "pass": bool(max(c1) < 20) if c1 else None,
                "note": (f"all configs max {_fmt(max(comp))} s (first - steady: noisy "
                         "for large batches)") if comp else ""})
    return out


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description="hnn-core vs hnnjax somato benchmark")
    ap.add_argument("--hnn-core-python", help="python with hnn_core + NEURON "
                    "(default: this python if it can import hnn_core, else skipped)")
    ap.add_argument("--quick", action="store_true",
                    help="small run: batches 1,4; 4 trials; 2 repeats")
    ap.add_argument("--batches", help="hnnjax batch sizes (default 1,8,32; --quick 1,4)")
    ap.add_argument("--at-once", help="calls of each batch run at once, as simulate_dipole runs "
                    "them on one CPU device (default: 1 and its calls_at_once(), e.g. 1,2)")
    ap.add_argument("--repeats", type=int, help="steady calls per config and hnn-core "
                    "single-trial runs (median; default 3, --quick 2)")
    ap.add_argument("--max-steady-seconds", type=float, default=60.0,
                    help="stop repeating a config's steady calls once they add up to this "
                         "(at least one steady call is always made; default 60)")
    ap.add_argument("--trials", type=int, help="trials of the hnn-core joblib run and of the "
                    "hnnjax end-to-end run (default 25, --quick 4)")
    ap.add_argument("--n-jobs", type=int, default=2, help="hnn-core JoblibBackend n_jobs")
    ap.add_argument("--gpu-batches", default="1,100,1000,4000",
                    help="float32 batch sizes on a GPU (default 1,100,1000,4000)")
    ap.add_argument("--gpu-chunk", type=int, help="start with chunks of this many trials")
    ap.add_argument("--paired", type=int, default=0, metavar="ROUNDS",
                    help="after the batch table, ROUNDS rounds of one hnn-core trial then one call "
                         "of float64 batch 1 and of each dtype's best row, alternated; the target "
                         "ratios are then also read per round (median, range)")
    ap.add_argument("--paired-e2e", type=int, default=0, metavar="ROUNDS",
                    help="after the end-to-end stage, ROUNDS rounds of hnn-core's --trials trials "
                         "with JoblibBackend then hnnjax's end to end, alternated; the end-to-end "
                         "ratio is then also read per round (median, range)")
    ap.add_argument("--skip-hnn-core", action="store_true")
    ap.add_argument("--skip-e2e", action="store_true")
    ap.add_argument("--json", help="also write the results (and the table) to this file")
    ap.add_argument("--e2e-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--e2e-dtype", default="float64", help=argparse.SUPPRESS)
    ap.add_argument("--e2e-cache", default="off", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.e2e_child:
        return e2e_child(args.e2e_child, args.e2e_dtype, args.e2e_cache)

    batches = _ints(args.batches) if args.batches else ([1, 4] if args.quick else [1, 8, 32])
    repeats = args.repeats or (2 if args.quick else 3)
    trials = args.trials or (4 if args.quick else 25)
    t_start = time.perf_counter()
    r = dict(argv=" ".join(sys.argv[1:]), load_start=list(os.getloadavg()),
             source_sha1_start=source_hash())
    log(f"load average at start: {r['load_start']}")

    import jax  # noqa: F401  (after OPENBLAS_NUM_THREADS)
    import hnnjax  # noqa: F401  (enables x64)
    from hnnjax.network_models import somato_model
    r["machine"] = machine_info()

    # 1. hnn-core
    if args.skip_hnn_core:
        r["hnn_core"] = dict(skipped="--skip-hnn-core")
    else:
        py, why = find_hnn_core_python(args.hnn_core_python)
        if py is None:
            r["hnn_core"] = dict(skipped=why)
        else:
            r["hnn_core"] = run_hnn_core(py, trials, repeats, args.n_jobs,
                                         timeout=3600)
    if "skipped" in r["hnn_core"]:
        log("hnn-core skipped: " + r["hnn_core"]["skipped"])

    # 2. hnnjax jitted batch call
    net = somato_model()
    from hnnjax._host import calls_at_once
    at_once = _ints(args.at_once) if args.at_once else sorted({1, calls_at_once()})
    configs, dipoles, calls = bench_batches(net, batches, repeats, args.max_steady_seconds, at_once)
    r["hnnjax"] = dict(batches=configs)
    if args.paired and "skipped" not in r["hnn_core"]:
        best = {d: min((c for c in configs if c["dtype"] == d), key=lambda c: c["per_trial_s"])
                for d in ("float64", "float32")}
        lone = ("float64", 1, 1, "parts")
        rows = ([("float64 batch 1 in 2 parts", lone, 10)] if lone in calls else []) + [
            ("float64 batch 1", ("float64", 1, 1), None if lone in calls else 10)] + [
            (f"{d} best (batch {c['batch']} x{c['calls']})", (d, c["batch"], c["calls"]), t)
            for (d, c), t in zip(best.items(), (15, 25))]
        r["paired"] = paired_rounds(r["hnn_core"]["python_path"], calls, rows, args.paired)
    else:
        r["paired"] = dict(skipped="--paired 0" if not args.paired else "no hnn-core")
    del calls
    r["accuracy"] = accuracy(dipoles, r["hnn_core"])
    r["hnn_core"].pop("dipole_trial0", None)
    del dipoles
    r["hnnjax"]["bench_process_maxrss_mib"] = _maxrss_mib(
        resource.getrusage(resource.RUSAGE_SELF))

    # 3. end to end in a fresh process
    if args.skip_e2e:
        r["hnnjax"]["e2e"] = r["hnnjax"]["e2e_again"] = dict(skipped="--skip-e2e")
    else:
        with tempfile.TemporaryDirectory(prefix="bench-somato-xla-") as cache:
            r["hnnjax"]["e2e"] = run_e2e(trials, "float64", 3600, cache)
            r["hnnjax"]["e2e_again"] = run_e2e(trials, "float64", 3600, cache)
    if args.paired_e2e and "skipped" not in r["hnn_core"]:
        r["paired_e2e"] = paired_e2e_rounds(r["hnn_core"]["python_path"], trials, args.n_jobs,
                                            args.paired_e2e)
    elif args.paired_e2e:
        r["paired_e2e"] = dict(skipped="no hnn-core")

    # 5. GPU
    if jax.devices()[0].platform == "gpu":
        r["gpu"] = bench_gpu(somato_model(), _ints(args.gpu_batches), repeats, args.gpu_chunk)
    else:
        r["gpu"] = dict(skipped=f"no GPU present (jax platform "
                                f"'{jax.devices()[0].platform}')")

    r["ratios"] = compute_ratios(r)
    r["load_end"] = list(os.getloadavg())
    r["source_sha1_end"] = source_hash()
    r["total_wall_s"] = time.perf_counter() - t_start
    table = build_table(r)
    r["table"] = table
    print(table, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=1)
        log(f"wrote {args.json}")


if __name__ == "__main__":
    main()
