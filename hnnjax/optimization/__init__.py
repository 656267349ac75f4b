"""Parameter optimization with hnn-core's ``Optimizer`` API."""
from .general_optimization import Optimizer

__all__ = ["Optimizer"]
