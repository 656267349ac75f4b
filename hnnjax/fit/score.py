"""Honest scoring: a fitted network judged by the NEURON-faithful simulator on
trials it was not fitted on, as HNN and hnn-core judge a hand fit."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import check_int, check_nonzero, check_number
from ..dipole import Dipole, average_dipoles

N_SCORE_TRIALS = 8  # hnn-core's and HNN's usual yardstick


@dataclass(frozen=True)
class FaithfulScore:
    """RMSE (nAm) of the faithful trial average against the target over
    0-tstop ms, on the simulation's time grid, with the smoothing window (ms)
    and scale it was computed with."""
    rmse: float
    n_trials: int
    smooth_window: float | None
    scale: float
    dipole: Dipole  # faithful trial average, smoothed and scaled (nAm)

    def __str__(self):
        win = f"{self.smooth_window:g} ms" if self.smooth_window else "none"
        return (f"{self.rmse:.4g} nAm (faithful simulate_dipole, {self.n_trials} trials, "
                f"smoothing {win}, scale {self.scale:g})")


def faithful_score(net, target, *, tstop, dt=0.025, smooth_window=None, scale=1.0,
                   n_trials=N_SCORE_TRIALS, progress=False):
    """Simulate ``n_trials`` trials of ``net`` with ``hnnjax.simulate_dipole``
    (hnn-core's seeds: trial k draws as hnn-core's trial k does), average,
    smooth by ``smooth_window`` ms (Hamming, None: not smoothed), multiply by
    ``scale`` and take the RMSE against ``target`` (times ms, values nAm),
    interpolated onto the simulation's times.  The scale is the one given,
    never refitted: a refitted scale would flatter the fit.  HNN's legacy
    parameter files give both: ``dipole_smooth_win`` and ``dipole_scalefctr``
    (``settings_from_params``)."""
    from ..network.simulate import simulate_dipole

    n_trials = check_int("score_trials", n_trials, ge=1)
    _check_scoring(smooth_window, scale)  # before the simulation
    dpls = simulate_dipole(net, tstop=tstop, dt=dt, n_trials=n_trials, verbose=False,
                           progress=progress)
    return score_trials(dpls, target, smooth_window=smooth_window, scale=scale)


def score_trials(dpls, target, *, smooth_window=None, scale=1.0):
    """The ``FaithfulScore`` of simulated trials ``dpls`` (a list of
    ``Dipole``, left unchanged): their average, smoothed, scaled and compared
    with ``target`` as ``faithful_score`` does."""
    scale = _check_scoring(smooth_window, scale)
    avg = average_dipoles(dpls) if len(dpls) > 1 else dpls[0].copy()
    if smooth_window:
        avg.smooth(smooth_window)
    avg.scale(scale)
    times, tgt_t, tgt_v = avg.times, *target
    err = avg.data["agg"] - np.interp(times, tgt_t, tgt_v)
    return FaithfulScore(float(np.sqrt(np.mean(err ** 2))), len(dpls), smooth_window, scale, avg)


def _check_scoring(smooth_window, scale):
    """The scale (nonzero) and smoothing window (> 0 ms or None); returns the scale."""
    if smooth_window is not None:
        check_number("smooth_window", smooth_window, gt=0, unit=" ms")
    return check_nonzero("scale", scale)


def settings_from_params(params):
    """The fit and scoring settings an HNN parameter file carries: tstop and
    dt (ms), ``smooth_window`` (``dipole_smooth_win``, ms; 0 -> None) and
    ``scale`` (``dipole_scalefctr``), as keyword arguments of ``fit_drives``."""
    win = float(params.get("dipole_smooth_win", 0) or 0)
    return dict(tstop=float(params["tstop"]), dt=float(params.get("dt", 0.025)),
                smooth_window=win or None, scale=float(params.get("dipole_scalefctr", 1.0)))
