"""hnn-core's ``hnn_core.cell_response`` module path."""
from .network.cell_response import CellResponse, read_spikes  # noqa: F401
