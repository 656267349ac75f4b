"""Fitting drive parameters to a dipole waveform: ``fit_drives`` (a grid
stage over timing, gradient steps with optax, Levenberg-Marquardt
refinement), ``sensitivity`` (which parameters the waveform constrains) and
their pieces."""
from .loop import FitResult, fit_drives
from .objective import dipole_fn, hamming_smooth, loss_function, trial_draws
from .parameters import Transform, expand_names, set_drive_parameter
from .sensitivity import Sensitivity, sensitivity

__all__ = ["FitResult", "Sensitivity", "Transform", "dipole_fn", "expand_names", "fit_drives",
           "hamming_smooth", "loss_function", "sensitivity", "set_drive_parameter", "trial_draws"]
