"""hnnjax: the HNN neocortical column model (hnn-core) in JAX.

float64 is enabled on import (``jax_enable_x64``) because validation against
NEURON needs it; pass ``dtype='float32'`` to the simulators for speed.
"""
import jax

jax.config.update("jax_enable_x64", True)

from .dipole import Dipole, average_dipoles, read_dipole, read_waveform  # noqa: E402
from .io.network_config import (  # noqa: E402
    convert_to_json, dict_to_network, network_to_dict, read_network_configuration,
    write_network_configuration)
from .io.params import Params, read_params  # noqa: E402
from .network.cell_response import CellResponse, read_spikes  # noqa: E402
from .network.network import Network, pick_connection  # noqa: E402
from .network.simulate import simulate_dipole  # noqa: E402
from .network_models import (  # noqa: E402
    add_erp_drives_to_jones_model, jones_2009_model, neymotin_2020_model)
from .parallel_backends import JoblibBackend, MPIBackend  # noqa: E402

__version__ = "0.1.0"
