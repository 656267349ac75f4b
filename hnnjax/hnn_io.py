"""hnn-core's ``hnn_core.hnn_io`` module path: network configurations."""
from .io.network_config import (dict_to_network, network_to_dict,  # noqa: F401
                                read_network_configuration, write_network_configuration)
