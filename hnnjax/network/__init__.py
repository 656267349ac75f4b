"""network"""
from .connectivity import pick_connection  # noqa: F401  (hnn-core: hnn_core.network.pick_connection)
