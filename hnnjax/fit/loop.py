"""``fit_drives``: fit drive parameters to a dipole waveform by running fit
stages on an ``Objective``, then score the fitted network honestly."""
from __future__ import annotations

import time

from .._checks import check_int, check_number
from ..dipole import Dipole
from ..progress import compile_notices, say
from .objective import Objective
from .result import FitResult
from .score import N_SCORE_TRIALS, faithful_score
from .stages import GradientDescent, Grid, LevenbergMarquardt, Stage

# fit_drives' arguments that describe its default stages, and their defaults
STAGE_ARGUMENTS = dict(n_steps=50, optimizer=None, grid=None, grid_batch=8, gradient="autodiff",
                       smoothing=0.1, n_samples=8, refine=0, refine_step=0.1)


def default_stages(key, n_steps, optimizer, grid, grid_batch, gradient, smoothing, n_samples,
                   refine, refine_step):
    """[Grid], [GradientDescent], [LevenbergMarquardt] from ``fit_drives``'
    arguments, each present when asked for."""
    n_steps = check_int("n_steps", n_steps, ge=0)
    refine = check_int("refine", refine, ge=0)
    if n_steps == 0 and not grid and not refine:
        raise ValueError("n_steps must be >= 1 without a grid or refine (nothing to fit)")
    stages = []  # the arguments' own names in errors (the stages' fields are named otherwise)
    if grid:
        check_int("grid_batch", grid_batch, ge=1)
        stages.append(Grid(points=grid, batch=grid_batch))
    if n_steps:
        stages.append(GradientDescent(n_steps=n_steps, optimizer=optimizer, gradient=gradient,
                                      smoothing=smoothing, n_samples=n_samples, key=key))
    if refine:
        check_number("refine_step", refine_step, gt=0)
        stages.append(LevenbergMarquardt(max_steps=refine, step=refine_step))
    return stages


def check_stages(stages, given):
    """``stages``: a non-empty list of ``Stage``; it replaces the arguments
    that build the default stages, so none of those may be ``given``."""
    if given:
        raise ValueError(f"stages replaces {', '.join(STAGE_ARGUMENTS)}: give {given} to the "
                         "stages (e.g. GradientDescent(n_steps=...)), not to fit_drives")
    if not isinstance(stages, (list, tuple)) or not stages:
        raise TypeError(f"stages must be a non-empty list of stages such as "
                        f"[CMAES(generations=10), GradientDescent(n_steps=20)]; got {stages!r}")
    for i, s in enumerate(stages):
        if not isinstance(s, Stage):
            raise TypeError(f"stages[{i}] must be a Stage (hnnjax.fit.stages); got {s!r}")
    return list(stages)


def fit_drives(net, target, params, *, n_trials=1, tstop=170.0, dt=0.025, smooth_window=20.0,
               scale="fit", loss="rmse", key=None, bounds=None, max_delay=25.0, progress=True,
               draws="key", trials_per_average=None, stages=None, score_trials=N_SCORE_TRIALS,
               autodiff="auto", **stage_arguments):
    """Fit drive parameters of ``net`` so its trial-averaged, smoothed, scaled
    aggregate dipole matches ``target``: a ``Dipole``, a (times ms, values
    nAm) pair, an (n, 2) array of those columns or a waveform file's path
    (a bare name such as ``'yes_trial_S1_ERP_all_avg.txt'`` is also looked
    up among the shipped waveforms).  It must cover 0-``tstop`` ms to within
    one of its samples; it is interpolated onto the run's times, its end
    values held.  Every drive type takes part (see ``hnnjax.grad.model``);
    drives switched off with zero weights cost nothing and are not fitted.

    ``params``: names such as ``'evprox1.mu'``, ``'bursty1.tstart'``,
    ``'evdist1.weights_nmda.L2_pyramidal'`` or ``'evprox1.*'`` (the drive's
    parameters that act).  ``smooth_window`` (ms, Hamming; None: none) and
    ``scale`` (a fixed factor or ``'fit'``: least squares at each point) as
    HNN applies them (``settings_from_params`` reads both from an HNN
    parameter file).  ``loss``: 'rmse' (nAm), 'corr' or a callable (sim,
    target).  The ``n_trials`` trials' drive draws are fixed over the fit
    (common random numbers): ``draws='key'`` takes the evoked drives'
    standard normals from ``key``; ``draws='hnn-core'`` takes those of
    hnn-core's seeded drive times, i.e. the trials ``simulate_dipole(net,
    n_trials=n_trials)`` runs.  Poisson, bursty and spike-train drives take
    hnn-core's seeded times either way.  ``trials_per_average``: None
    fits the average of all ``n_trials``; k fits the mean loss of their
    n_trials / k disjoint k-trial averages, the expected score of a k-trial
    average with its trial-to-trial variance (e.g. 8 with ``n_trials=16``
    for an 8-trial yardstick such as ``score_trials``).  ``bounds``: {name:
    (low, high)} (default: timing within 0-tstop ms, the rest positive).
    ``autodiff``: 'reverse', 'forward' or 'auto' (forward mode for up to
    ``FORWARD_MODE_MAX_PARAMS`` parameters), how gradients are computed
    (``Objective``).

    ``stages``: the fit, as stages run in order on the ``Objective``, each
    from the point the previous one handed on (``hnnjax.fit.stages``), e.g.
    ``[CMAES(generations=20), GradientDescent(n_steps=30),
    LevenbergMarquardt(max_steps=5)]``: find the basin over the whole
    parameter box, descend into it, polish.  Without ``stages``, the common
    case takes these arguments instead (``stage_arguments``):

    * ``grid`` {name: candidate values} and ``grid_batch`` (8): a ``Grid``
      stage first, when given;
    * ``n_steps`` (50) ``GradientDescent`` steps with ``optimizer`` (Adam
      0.05), ``gradient`` ('autodiff' or 'smoothed'), ``smoothing`` (0.1) and
      ``n_samples`` (8), its directions drawn from ``key``;
    * ``refine`` (0) ``LevenbergMarquardt`` steps of ``refine_step`` (0.1).

    Honest score: unless ``score_trials`` is 0, the fitted network is
    re-simulated with the NEURON-faithful ``simulate_dipole`` on
    ``score_trials`` trials with hnn-core's seeds, smoothed and scaled as the
    fit was (with ``scale='fit'``, the fitted factor, not refitted), and its
    RMSE against the target is ``result.score``: a fit that only fits its
    own draws, or the differentiable model's departures from the faithful
    one, shows there.  ``result.loss`` is the objective on the fit's own
    trials; ``result.loss_history`` the stages' recorded losses in order.
    """
    t0 = time.perf_counter()
    unknown = [k for k in stage_arguments if k not in STAGE_ARGUMENTS]
    if unknown:
        raise TypeError(f"fit_drives() got unexpected keyword argument(s) {unknown}")
    if stages is None:
        stages = default_stages(key, **{**STAGE_ARGUMENTS, **stage_arguments})
    else:
        stages = check_stages(stages, [k for k, v in stage_arguments.items() if v is not None])
    score_trials = check_int("score_trials", score_trials, ge=0)
    objective = Objective(net, target, params, n_trials=n_trials, tstop=tstop, dt=dt,
                          smooth_window=smooth_window, scale=scale, loss=loss, key=key,
                          bounds=bounds, max_delay=max_delay, draws=draws,
                          trials_per_average=trials_per_average, progress=progress,
                          autodiff=autodiff)
    for stage in stages:
        stage.check(objective)
    with compile_notices(progress):
        u, done = objective.u0, []
        for stage in stages:
            done.append(stage.run(objective, u, progress))
            u = done[-1].u
        avg, s = objective.forward(u)
        loss_value = objective.loss(u)
        fitted = objective.network(u)
        score = None
        if score_trials:
            if progress:
                say(f"fit: faithful score on {score_trials} trials")
            score = faithful_score(fitted, (objective.target_times, objective.target_values),
                                   tstop=objective.tstop, dt=objective.dt,
                                   smooth_window=objective.smooth_window, scale=s,
                                   n_trials=score_trials, progress=progress)
    grid = next((r.info for r in done if r.stage == "Grid"), {})
    result = FitResult(values=objective.values(u), net=fitted,
                       loss_history=[v for r in done for v in r.history],
                       dipole=Dipole(objective.times, avg * s), scale=s,
                       grid_points=grid.get("grid_points"), grid_losses=grid.get("grid_losses"),
                       loss=loss_value, stages=done, score=score,
                       wall_s=time.perf_counter() - t0)
    if progress:
        say(f"fit:\n{result}")
    return result
