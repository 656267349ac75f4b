"""hnn-core's ``hnn_core.params`` module path: parameter files."""
from .io.network_config import convert_to_json  # noqa: F401
from .io.params import Params, read_params  # noqa: F401
