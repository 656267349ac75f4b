"""Fit stages, composed in ``fit_drives(..., stages=[...])``: each takes a
point of the ``Objective`` to a better one."""
from .cma_es import CMAES
from .gradient import GradientDescent, smoothed_value_and_grad
from .grid import Grid
from .levenberg_marquardt import LevenbergMarquardt
from .stage import Stage, StageResult

__all__ = ["CMAES", "GradientDescent", "Grid", "LevenbergMarquardt", "Stage", "StageResult",
           "smoothed_value_and_grad"]
