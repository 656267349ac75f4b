"""Parameter optimization with hnn-core's API: ``Optimizer``, the older
``optimize_evoked`` and the text report ``generate_opt_history_table``."""
from .general_optimization import Optimizer
from .history_table import generate_opt_history_table
from .optimize_evoked import optimize_evoked

__all__ = ["Optimizer", "generate_opt_history_table", "optimize_evoked"]
