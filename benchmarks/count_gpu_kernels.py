#!/usr/bin/env python
"""Kernels and memory traffic per time step of the batched forward, compiled for a GPU without one.

XLA compiles for a GPU described by a target config (deviceless compilation):

    JAX_SKIP_CUDA_CONSTRAINTS_CHECK=1 python benchmarks/count_gpu_kernels.py \\
        [--spec benchmarks/gpu_specs/h100_sxm.txtpb] [--trials 1,100,1000] [--dtypes float32] [--top N]

The somatosensory network (``somato_model``), 170 ms, dt 0.025 ms, the tree
solve ``"pallas"`` (the GPU default), compiled as ``bench_gpu.py`` compiles
its table's rows; ``_hlo.thunks_per_step`` counts the compiled program's
kernels and ``_hlo.traffic_by_kernel`` estimates their memory traffic (``--top``
lists the largest).  At the spec's ``memory_bandwidth`` that traffic takes the
"floor" time of the run, which a step of many trials (memory-bound) cannot
beat.  It needs JAX's CUDA plugin of the installed jax version, best in a
virtual environment of its own (on a machine without a GPU the plugin makes
every JAX program of its environment log a failed CUDA start):

    python -m venv --system-site-packages /tmp/cuda-aot
    /tmp/cuda-aot/bin/pip install jax-cuda13-plugin==$JAX jax-cuda13-pjrt==$JAX

``JAX_SKIP_CUDA_CONSTRAINTS_CHECK=1`` lets the plugin load without cuDNN,
which compiling does not need.  Without the plugin it says so and exits 0.
The counts are the compiler's for this spec: a real card's compile
(``bench_gpu.py``) may fuse differently where its properties differ.

``--ptxas PATH`` (``ptxas`` of the ``nvidia-cuda-nvcc`` wheel,
``nvidia/cu13/bin/ptxas``) assembles the Pallas kernels' PTX as XLA dumps it
and prints each kernel's registers and spills per thread: a spilled register
is memory traffic the estimate does not count, and a kernel of many
registers runs few threads per multiprocessor.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_gpu import _batched, _ints  # noqa: E402  (stdlib imports only until called)

SPEC = Path(__file__).parent / "gpu_specs" / "h100_sxm.txtpb"


PALLAS_KERNELS = ("hines_solve", "assembled_solve", "first_due_chunks")  # their ``pallas_call`` names


def _ptxas_report(ptxas, folder):
    """Registers and spills of the Pallas kernels whose PTX XLA dumped in
    ``folder`` since the last call (each file removed once read)."""
    out = []
    for path in sorted(folder.glob("*.ptx")):
        text = path.read_text()
        entry = re.search(r"\.entry (\w+)", text)
        name = entry.group(1) if entry else ""
        if name.startswith(PALLAS_KERNELS):
            arch = re.search(r"\.target (sm_\w+)", text).group(1)
            info = subprocess.run([str(ptxas), "-v", f"-arch={arch}", "-o", os.devnull, str(path)],
                                  capture_output=True, text=True).stderr
            regs = re.search(r"Used (\d+) registers", info)
            spill = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", info)
            out.append(f"{name} {regs.group(1) if regs else '?'} registers, spills "
                       + (f"{spill.group(1)} B stored / {spill.group(2)} B loaded" if spill else "?"))
        path.unlink()
    return "; ".join(out) or "none found"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", type=Path, default=SPEC, help="GpuTargetConfigProto text (default H100)")
    p.add_argument("--trials", type=_ints, default=[1, 100, 1000], help="batches (trials per call)")
    p.add_argument("--dtypes", default="float32,float64", help="comma-separated: float32, float64")
    p.add_argument("--tstop", type=float, default=170.0, help="ms")
    p.add_argument("--top", type=int, default=0,
                   help="after the table, list each row's N kernels that move the most bytes")
    p.add_argument("--ptxas", type=Path, help="ptxas: report the Pallas kernels' registers and spills")
    args = p.parse_args(argv)
    dtypes = args.dtypes.split(",")
    if not set(dtypes) <= {"float32", "float64"}:
        p.error(f"--dtypes takes float32 and/or float64; got {args.dtypes!r}")
    if not args.spec.is_file():
        p.error(f"--spec: no file {args.spec}")
    if args.ptxas and not os.access(args.ptxas, os.X_OK):
        p.error(f"--ptxas: no executable {args.ptxas}")
    os.environ.setdefault("JAX_SKIP_CUDA_CONSTRAINTS_CHECK", "1")
    dump = tempfile.TemporaryDirectory(prefix="count_gpu_kernels_") if args.ptxas else None
    if dump:  # before JAX reads its flags
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_dump_to={dump.name}".strip()
    import jax
    import numpy as np
    from jax.experimental import topologies

    import hnnjax  # noqa: F401  (float64; XLA's deterministic GPU scatters, before a backend starts)

    try:
        device = topologies.get_topology_desc("aot", "cuda", topology="1x1x1",
                                              target_config=args.spec.read_text()).devices[0]
    except Exception as e:  # no CUDA plugin, or one that cannot compile without a GPU
        print(f"count_gpu_kernels: cannot compile for CUDA here ({type(e).__name__}: "
              f"{str(e).splitlines()[0]}); see this script's docstring for the plugin.")
        return 0
    from _hlo import machine, short_shape, thunks_per_step, traffic_by_kernel
    from hnnjax.network.compile import compile_network, drive_events
    from hnnjax.network.simulate import _take, instantiate_drives
    from hnnjax.network_models import somato_model

    dt, net = 0.025, somato_model()
    spikes = instantiate_drives(net, args.tstop, 1)
    sharding = jax.sharding.SingleDeviceSharding(device)
    print(f"# count_gpu_kernels: {machine()}; compiled for {args.spec.name} "
          f"(no GPU: deviceless); somato network, {args.tstop:g} ms, dt {dt} ms, tree solve 'pallas'")
    bandwidth = float(re.search(r"memory_bandwidth:\s*(\d+)", args.spec.read_text()).group(1))
    print(f"# est. traffic: each kernel reads its operands and writes its result once; floor: the run's "
          f"traffic at the spec's {bandwidth / 1e12:.2f} TB/s")
    print("| dtype | trials | kernels/step | est. MB/step | floor s | compile s |")
    print("|---|---|---|---|---|---|", flush=True)
    listings = []
    for name in dtypes:
        dtype = np.dtype(name)
        arrays, tab, _, _, n_steps = compile_network(net, args.tstop, dt, dtype, solver="pallas")
        events = drive_events(tab, spikes, dt, n_steps, dtype)
        fn = _batched(arrays, n_steps, dt)
        for b in args.trials:
            shapes = jax.tree.map(lambda a: jax.ShapeDtypeStruct(
                np.shape(a), np.asarray(a).dtype, sharding=sharding), _take(events, np.zeros(b, int)))
            t = time.perf_counter()
            text = fn.trace(shapes).lower(lowering_platforms=("cuda",)).compile().as_text()
            compile_s = time.perf_counter() - t
            kernels = traffic_by_kernel(text, n_steps)
            traffic = sum(mb for mb, _ in kernels.values())
            print(f"| {name} | {b} | {thunks_per_step(text, n_steps):.0f} | {traffic / 1e6:.1f} | "
                  f"{traffic * n_steps / bandwidth:.2f} | {compile_s:.1f} |", flush=True)
            if dump:
                listings.append(f"\n{name}, {b} trials: Pallas kernels (ptxas -v), per thread: "
                                + _ptxas_report(args.ptxas, Path(dump.name)))
            if args.top > 0:
                listings.append(f"\n{name}, {b} trials: the {args.top} kernels that move the most bytes, MB/step\n"
                                + "\n".join(f"  {mb / 1e6:9.1f}  {k:40s} {short_shape(shape)}"
                                            for k, (mb, shape) in list(kernels.items())[:args.top]))
    if listings:
        print("\n".join(listings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
