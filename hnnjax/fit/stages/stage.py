"""The stage interface: a small immutable module that takes a point of an
``Objective`` to a better one, and the record each run leaves."""
from __future__ import annotations

import abc
import time
from dataclasses import dataclass, field

import equinox as eqx
import numpy as np

from ...progress import say


@dataclass
class StageResult:
    """What one stage did: the point it hands on (unconstrained u), its loss,
    the losses it recorded (``history``), the trial simulations it ran and
    its wall time (s); ``info``: stage-specific extras."""
    stage: str
    u: np.ndarray
    loss: float
    history: list
    n_simulations: int = 0
    wall_s: float = 0.0
    info: dict = field(default_factory=dict)

    def outcome(self):
        """One line: the loss from the first recorded point to the last, the
        simulations, the wall time and how many losses were recorded."""
        return (f"loss {self.history[0]:.4g} -> {self.loss:.4g} ({self.n_simulations} trial simulations, "
                f"{self.wall_s:.1f} s, {len(self.history)} losses)")

    def __str__(self):
        return f"{self.stage}: {self.outcome()}"


class Stage(eqx.Module):
    """A fit stage.  Subclasses hold their settings as typed fields, checked
    when built (``__check_init__``); ``check`` looks at the objective before
    anything compiles; ``_run`` does the work."""

    def check(self, objective):
        """Errors this stage would meet with ``objective`` (default: none)."""

    @abc.abstractmethod
    def _run(self, objective, u, progress):
        """(u, loss, history, info) from the start point ``u``."""

    def run(self, objective, u, progress=False):
        """Run from ``u`` and record it in a ``StageResult``."""
        name = type(self).__name__
        if progress:
            say(f"fit: stage {name} ({self.summary(objective)})")
        sims, t0 = objective.n_simulations, time.perf_counter()
        u, loss, history, info = self._run(objective, np.asarray(u, float), progress)
        result = StageResult(name, np.asarray(u, float), float(loss), list(map(float, history)),
                             objective.n_simulations - sims, time.perf_counter() - t0, info)
        if progress:
            say(f"fit: stage {name} done: {result.outcome()}")
        return result

    def summary(self, objective):
        """One line on what this stage will do."""
        k = objective.n_averages
        averages = f", scored as {k} averages of {objective.n_trials // k}" if k > 1 else ""
        return f"{objective.n_trials} trial(s) of {objective.tstop:g} ms{averages}"
