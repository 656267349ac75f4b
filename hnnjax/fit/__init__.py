"""Fitting drive parameters to a dipole waveform: ``fit_drives`` (stages run
on an ``Objective``: a global CMA-ES search, a grid, gradient steps with
optax, Levenberg-Marquardt refinement; then a faithful score),
``sensitivity`` (which parameters the waveform constrains) and their pieces."""
from .forward import dipole_fn, hamming_smooth, loss_function, trial_draws
from .loop import fit_drives
from .objective import Objective
from .parameters import Transform, expand_names, set_drive_parameter
from .result import FitResult
from .score import FaithfulScore, faithful_score, score_trials, settings_from_params
from .sensitivity import Sensitivity, sensitivity
from .stages import CMAES, GradientDescent, Grid, LevenbergMarquardt, Stage, StageResult

__all__ = ["CMAES", "FaithfulScore", "FitResult", "GradientDescent", "Grid", "LevenbergMarquardt",
           "Objective", "Sensitivity", "Stage", "StageResult", "Transform", "dipole_fn",
           "expand_names", "faithful_score", "fit_drives", "hamming_smooth", "loss_function",
           "score_trials", "sensitivity", "set_drive_parameter", "settings_from_params",
           "trial_draws"]
