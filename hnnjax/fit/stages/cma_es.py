"""``CMAES``: a global stage -- covariance matrix adaptation over the whole
parameter box, each generation's population evaluated in one batched call of
the differentiable forward model.

CMA-ES comes from the maintained ``cmaes`` package (pure NumPy; the ask/tell
bookkeeping is O(population·d²) per generation, nothing next to one network
simulation).  Not evosax: it pulls in flax, orbax and tensorstore for the one
strategy used here, and its jitted strategy buys nothing when the cost is the
batched simulation, which is already one compiled call."""
from __future__ import annotations

import numpy as np

from ..._checks import check_int, check_number
from ...progress import bar
from .stage import Stage


class CMAES(Stage):
    """``generations`` generations of CMA-ES from the start point.

    It samples the unconstrained coordinates, in which the whole box is all
    of R^d: a sigmoid maps each bounded parameter onto (low, high), softplus
    each positive one onto (low, inf).  ``sigma``: the initial step size
    there (1.0 reaches across most of a bounded interval within two steps,
    and scales an unbounded weight by about e).  ``population``: points per
    generation (default cmaes' 4 + ⌊3 ln d⌋), simulated with the start point
    (then the distribution's mean) in one batch (``Objective.losses``),
    (population + 1) × n_trials trials.  ``seed``: the sampler's.
    Records each generation's best loss; hands on the best point seen."""
    generations: int
    population: int | None = None
    sigma: float = 1.0
    seed: int = 0

    def __check_init__(self):
        check_int("CMAES.generations", self.generations, ge=1)
        if self.population is not None:
            check_int("CMAES.population", self.population, ge=2)
        check_number("CMAES.sigma", self.sigma, gt=0)
        check_int("CMAES.seed", self.seed, ge=0)

    def summary(self, objective):
        return (f"{self.generations} generations of {self._strategy(objective.u0).population_size}"
                f" points; " + super().summary(objective))

    def _strategy(self, u):
        from cmaes import CMA
        return CMA(mean=np.asarray(u, float), sigma=self.sigma, seed=self.seed,
                   population_size=self.population)

    def _run(self, objective, u, progress):
        cma, centre = self._strategy(u), np.asarray(u, float)
        best, history = (np.inf, centre), []
        gens = bar(range(self.generations), desc="CMAES", unit="generation", enabled=progress)
        for g in gens:
            xs = np.stack([cma.ask() for _ in range(cma.population_size)])
            # the batch also holds the start point, then each generation's mean:
            # a candidate too, and one batch shape throughout
            vals = objective.losses(np.concatenate([xs, centre[None]]))
            finite = np.isfinite(vals)
            if not finite.any():
                raise FloatingPointError(f"CMAES generation {g}: non-finite loss at every point")
            # a point the model cannot simulate ranks last
            vals = np.where(finite, vals, np.max(vals[finite]) * 10 + 1)
            cma.tell(list(zip(xs, vals[:-1])))
            k = int(np.argmin(vals))
            history.append(float(vals[k]))
            if vals[k] < best[0]:
                best = (float(vals[k]), np.concatenate([xs, centre[None]])[k])
            centre = np.asarray(cma.mean, float)
            gens.set_postfix(loss=f"{best[0]:.4g}")
            if cma.should_stop():
                break
        return best[1], best[0], history, {}
