"""Fitting drive parameters to a dipole waveform: ``fit_drives`` (a grid
stage over timing, then gradient steps with optax) and its pieces."""
from .loop import FitResult, fit_drives
from .objective import dipole_fn, hamming_smooth, loss_function, trial_draws
from .parameters import Transform, expand_names, set_drive_parameter

__all__ = ["FitResult", "Transform", "dipole_fn", "expand_names", "fit_drives", "hamming_smooth",
           "loss_function", "set_drive_parameter", "trial_draws"]
