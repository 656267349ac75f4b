"""``LevenbergMarquardt``: damped Gauss-Newton steps on the residual
waveform, the refinement stage (the step itself: ``fit.least_squares``)."""
from __future__ import annotations

import numpy as np

from ..._checks import check_int, check_number
from ...progress import bar
from ..least_squares import levenberg_marquardt_step
from .stage import Stage


class LevenbergMarquardt(Stage):
    """Up to ``max_steps`` Levenberg-Marquardt steps (loss 'rmse' only): the
    Jacobian of the residual waveform by central differences of ``step``
    (unconstrained units; 0.1 is about 10 % of a weight), 2·d + 4 forward
    runs a step for d parameters; it stops early when no damping lowers the
    loss.  The gradient finds the basin; this resolves weakly constrained
    weights within it.  Records the loss at its start and after each step;
    with ``trials_per_average`` it steps on the residuals of all the averages
    and records their root mean square (the objective takes the mean of the
    averages' RMSEs, a little below it)."""
    max_steps: int
    step: float = 0.1

    def __check_init__(self):
        check_int("LevenbergMarquardt.max_steps", self.max_steps, ge=1)
        check_number("LevenbergMarquardt.step", self.step, gt=0)

    def check(self, objective):
        if not (isinstance(objective.loss_kind, str) and objective.loss_kind == "rmse"):
            raise ValueError(f"LevenbergMarquardt (refine: least squares) needs loss='rmse', "
                             f"got loss={objective.loss_kind!r}")

    def summary(self, objective):
        return f"up to {self.max_steps} steps; " + super().summary(objective)

    def _run(self, objective, u, progress):
        r = objective.residual(u)
        rms = lambda r: float(np.sqrt(np.sum(r ** 2) / objective.times.size))
        history = [rms(r)]
        steps = bar(range(self.max_steps), desc="LevenbergMarquardt", unit="step", enabled=progress)
        for k in steps:
            try:
                out = levenberg_marquardt_step(objective.residuals, u, r, self.step, objective.free)
            except FloatingPointError as err:
                raise FloatingPointError(f"refinement step {k}: {err}") from None
            if out is None:
                break
            u, r = out
            history.append(rms(r))
            steps.set_postfix(loss=f"{history[-1]:.4g}")
        return u, history[-1], history, {}
