"""The tree solve as a C kernel called through XLA's FFI (the CPU default).

As a ``lax.fori_loop`` the solve is ~1,900 tiny XLA work items per network
step. ``hines.c`` runs the same arithmetic in the same order in one call per
cell type, so its results are bitwise equal to the loop's
(``tests/test_native_solve.py``): on the somato network the float64 batch-1
step runs 1.07-1.18x faster and the forward compiles up to 1.8 s sooner
(``benchmarks/README.md``, ``bench_step.py``).

The kernel is built at first use with the system's C compiler (``$CC``, else
``cc``) against the FFI header that ships with jaxlib, into
``$XDG_CACHE_HOME/hnnjax/native`` (``~/.cache/hnnjax/native``; a temporary
folder where that cannot be written), keyed by the source, the header, the
compiler and the flags, so a later process only loads it. Where no compiler
works, :func:`available` warns once and the CPU default is the loop solve.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .._cache_folders import make_private, user_cache

TARGET = "hnnjax_hines"
ENV = "HNNJAX_NATIVE_CACHE"  # the folder of built kernels, if not the default
SOURCE = Path(__file__).with_name("hines.c")
# a*b + c fused into an FMA as XLA fuses it: the loop solve's bits (hines.c)
FLAGS = ("-O3", "-shared", "-fPIC", "-ffp-contract=fast", "-fno-fast-math", "-std=c11")

_lock = threading.Lock()
_state = {}  # "ok": bool once tried; "lib": the loaded library (kept alive)


def _folder():
    try:
        return make_private(os.environ.get(ENV) or user_cache("native"))
    except OSError:
        return Path(tempfile.mkdtemp(prefix="hnnjax-native-"))


def compiler():
    """The C compiler to build with (``$CC``, else ``cc``) and whether it is on PATH."""
    cc = os.environ.get("CC") or "cc"
    return cc, shutil.which(cc) is not None


def _build():
    """The path of the built library; raises RuntimeError saying why not."""
    cc, found = compiler()
    if not found:
        raise RuntimeError(f"no C compiler {cc!r} on PATH (set $CC)")
    include = Path(jax.ffi.include_dir())
    header = include / "xla" / "ffi" / "api" / "c_api.h"
    try:
        version = subprocess.run([cc, "--version"], capture_output=True, text=True,
                                 timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as err:
        raise RuntimeError(f"cannot run {cc!r}: {err}") from None
    key = hashlib.sha256()
    for part in (SOURCE.read_bytes(), header.read_bytes(), version.encode(), " ".join(FLAGS).encode()):
        key.update(part)
    folder = _folder()
    lib = folder / f"hines-{key.hexdigest()[:16]}.so"
    if lib.exists():
        return lib
    tmp = folder / f".{lib.name}.{os.getpid()}.{threading.get_ident()}"
    cmd = [cc, *FLAGS, f"-I{include}", str(SOURCE), "-o", str(tmp)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as err:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err}") from None
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr.strip()[-2000:]}")
    os.replace(tmp, lib)  # atomic: processes building at once each get a whole file
    return lib


def available():
    """Whether the kernel is built, loaded and registered with XLA (built at
    the first call); warns once, naming the reason, where it cannot be."""
    with _lock:
        if "ok" not in _state:
            try:
                lib = ctypes.cdll.LoadLibrary(str(_build()))
                jax.ffi.register_ffi_target(TARGET, jax.ffi.pycapsule(lib.hnnjax_hines),
                                            platform="cpu")
                _state.update(ok=True, lib=lib)
            except (RuntimeError, OSError) as err:
                _state["ok"] = False
                warnings.warn(f"hnnjax: the C tree solve is not available, so CPU runs use the "
                              f"slower loop solve (same results): {err}", RuntimeWarning,
                              stacklevel=2)
        return _state["ok"]


def solve(order, parent, off, diag, rhs):
    """x = M⁻¹ rhs for ``tree_solve.hines_solve`` (same arguments), one FFI call."""
    if not available():
        raise RuntimeError("solver='native' needs the C tree solve, which could not be built "
                           "(see the warning above); use solver='loop'")
    n = len(order)
    shape = jnp.broadcast_shapes(diag.shape, rhs.shape)
    dt = jnp.result_type(diag, rhs, off)
    cols = int(np.prod(shape[1:], dtype=int))
    d2 = jnp.broadcast_to(diag, shape).reshape(n, cols).astype(dt)
    b2 = jnp.broadcast_to(rhs, shape).reshape(n, cols).astype(dt)
    off = jnp.asarray(off)
    if all(k == 1 for k in off.shape[1:]):  # one value per node (inv_r): not broadcast to cells
        o2 = jnp.reshape(off, (n, 1)).astype(dt)
    else:
        o2 = jnp.broadcast_to(off, shape).reshape(n, cols).astype(dt)
    out = jax.ShapeDtypeStruct((n, cols), dt)
    x, _ = jax.ffi.ffi_call(TARGET, (out, out), vmap_method="broadcast_all")(
        np.asarray(order, np.int32), np.asarray(parent, np.int32), o2, d2, b2)
    return x.reshape(shape)
