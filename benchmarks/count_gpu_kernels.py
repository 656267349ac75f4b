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
"""
import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_gpu import _batched, _ints  # noqa: E402  (stdlib imports only until called)

SPEC = Path(__file__).parent / "gpu_specs" / "h100_sxm.txtpb"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", type=Path, default=SPEC, help="GpuTargetConfigProto text (default H100)")
    p.add_argument("--trials", type=_ints, default=[1, 100, 1000], help="batches (trials per call)")
    p.add_argument("--dtypes", default="float32,float64", help="comma-separated: float32, float64")
    p.add_argument("--tstop", type=float, default=170.0, help="ms")
    p.add_argument("--top", type=int, default=0,
                   help="after the table, list each row's N kernels that move the most bytes")
    args = p.parse_args(argv)
    dtypes = args.dtypes.split(",")
    if not set(dtypes) <= {"float32", "float64"}:
        p.error(f"--dtypes takes float32 and/or float64; got {args.dtypes!r}")
    if not args.spec.is_file():
        p.error(f"--spec: no file {args.spec}")
    os.environ.setdefault("JAX_SKIP_CUDA_CONSTRAINTS_CHECK", "1")
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
            if args.top > 0:
                listings.append(f"\n{name}, {b} trials: the {args.top} kernels that move the most bytes, MB/step\n"
                                + "\n".join(f"  {mb / 1e6:9.1f}  {k:40s} {short_shape(shape)}"
                                            for k, (mb, shape) in list(kernels.items())[:args.top]))
    if listings:
        print("\n".join(listings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
