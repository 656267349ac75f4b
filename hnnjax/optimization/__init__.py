"""Parameter optimization with hnn-core's API: ``Optimizer`` and the older
``optimize_evoked``."""
from .general_optimization import Optimizer
from .optimize_evoked import optimize_evoked

__all__ = ["Optimizer", "optimize_evoked"]
