"""One XLA compilation cache for a test run, shared by its worker processes.

Many tests compile the same programs (the same small networks, through new
closures that JAX's in-memory cache cannot recognise); JAX's persistent cache,
keyed by the compiled program itself, turns each repeat into a file read.  The
cache lives in a fresh temporary folder made by the run's first process and
removed at its end, so no run sees programs compiled by an earlier one or by
another checkout.  Subprocesses that tests start (the CLI, some of them killed
on purpose) do not use it: a process killed while writing an entry would leave
it cut short.  Nor do they use the ``hnnjax`` command's own cache in the home
folder (``HNNJAX_COMPILE_CACHE=off``), which a test run must not fill; the C
tree solve is built into the run's folder too (``HNNJAX_NATIVE_CACHE``).
"""
import os
import shutil
import tempfile

from hnnjax.compilation_cache import ENV as HNNJAX_CACHE_ENV, OFF
from hnnjax.network.native_solve import ENV as NATIVE_ENV

CACHE_ENV = "HNNJAX_TEST_XLA_CACHE"  # set by the first process, inherited by xdist workers
MIN_COMPILE_S = 0.5  # cache compiles at least this long: the rest are cheaper to redo


def pytest_configure(config):
    import jax

    if not hasattr(config, "workerinput"):  # the controller, or a run without workers
        config._xla_cache = tempfile.mkdtemp(prefix="hnnjax-test-xla-cache-")
        os.environ[CACHE_ENV] = config._xla_cache
    os.environ[HNNJAX_CACHE_ENV] = OFF  # inherited by the subprocesses tests start
    os.environ[NATIVE_ENV] = os.path.join(os.environ[CACHE_ENV], "native")  # the C tree solve
    jax.config.update("jax_compilation_cache_dir", os.environ[CACHE_ENV])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_S)


def pytest_unconfigure(config):
    cache = getattr(config, "_xla_cache", None)
    if cache is not None:
        shutil.rmtree(cache, ignore_errors=True)
