"""hnnjax: the HNN neocortical column model (hnn-core) in JAX.

float64 is enabled (``jax_enable_x64``) because validation against NEURON
needs it; pass ``dtype='float32'`` to the simulators for speed.  On GPUs,
XLA's deterministic scatter is switched on (``XLA_FLAGS``), see below.

The public names are imported on first use, so that ``import hnnjax`` and
``hnnjax --help`` do not pay for importing JAX, MNE or matplotlib.
"""
import importlib
import importlib.util
import os
import sys

__version__ = "0.1.0"


def _warn_if_gpu_started():
    """Warn when JAX started a GPU backend before hnnjax was imported: the
    backend has read ``XLA_FLAGS`` already, so the deterministic mode set
    below does not apply to it."""
    try:
        from jax._src import xla_bridge
        started = xla_bridge.backends_are_initialized() and any(
            b.platform in ("gpu", "cuda", "rocm") for b in xla_bridge.backends().values())
    except (ImportError, AttributeError):  # a JAX without these internals: nothing to tell
        return
    if started:
        import warnings
        warnings.warn("hnnjax was imported after JAX started its GPU backend, so XLA's deterministic "
                      "scatter is off: the differentiable model's event sums (and gradients) vary in their "
                      "last bits from run to run.  Import hnnjax before using JAX, or set XLA_FLAGS="
                      "--xla_gpu_deterministic_ops=true (=false to silence this).",
                      UserWarning, stacklevel=3)


# The differentiable model scatter-adds events into synapses (forward and
# reverse mode); XLA's GPU scatter adds colliding updates atomically, in a
# varying order.  Its deterministic mode sums them in a fixed order, so a seed
# gives the same gradient bits run after run (read when the backend starts; a
# user's own setting of the flag wins).  The faithful model's network events
# are integer sums, exact in any order (``network.compile.fixed_point_weights``).
if "xla_gpu_deterministic_ops" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_gpu_deterministic_ops=true").strip()
    if "jax" in sys.modules:
        _warn_if_gpu_started()

if "jax" in sys.modules:  # too late for the environment variable
    sys.modules["jax"].config.update("jax_enable_x64", True)
else:  # read by JAX when it is first imported, by any hnnjax module
    os.environ["JAX_ENABLE_X64"] = "True"

_PUBLIC = {  # name -> module that defines it
    "Dipole": ".dipole", "average_dipoles": ".dipole",
    "read_dipole": ".dipole", "read_waveform": ".dipole",
    "Params": ".io.params", "read_params": ".io.params",
    "CellResponse": ".network.cell_response",
    "read_spikes": ".network.cell_response",
    "Network": ".network.network", "pick_connection": ".network.network",
    "convert_to_json": ".io.network_config", "dict_to_network": ".io.network_config",
    "network_to_dict": ".io.network_config",
    "read_network_configuration": ".io.network_config",
    "write_network_configuration": ".io.network_config",
    "simulate_dipole": ".network.simulate",
    "add_erp_drives_to_jones_model": ".network_models", "calcium_model": ".network_models",
    "jones_2009_model": ".network_models", "law_2021_model": ".network_models",
    "neymotin_2020_model": ".network_models",
    "JoblibBackend": ".parallel_backends", "MPIBackend": ".parallel_backends",
    "pyramidal": ".cells_default", "basket": ".cells_default", "Cell": ".cells.cell",
    "use_compilation_cache": ".compilation_cache",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f"{__name__}.{name}")  # hnnjax.viz etc., as hnn-core has them
    else:
        raise AttributeError(f"module 'hnnjax' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))
