"""``FitResult``: what ``fit_drives`` found, what each stage did, and the
honest score of the fitted network."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..dipole import Dipole
from .score import FaithfulScore


@dataclass
class FitResult:
    values: dict  # name -> fitted value
    net: object  # a copy of the network with the fitted drives
    # the stages' recorded losses in order (see each stage's docstring)
    loss_history: list = field(default_factory=list)
    dipole: Dipole | None = None  # trial average, smoothed and scaled (nAm)
    scale: float = 1.0
    grid_points: dict | None = None  # name -> the grid's values, point by point
    grid_losses: np.ndarray | None = None  # loss at each grid point
    loss: float | None = None  # the objective at the fitted values (its own trials)
    stages: list = field(default_factory=list)  # one StageResult per stage
    score: FaithfulScore | None = None  # faithful re-simulation on fresh trials
    wall_s: float = 0.0  # fit and score (s)

    def __str__(self):
        lines = [str(s) for s in self.stages]
        lines.append(f"objective: {self.loss:.4g}")
        if self.score is not None:
            lines.append(f"faithful score: {self.score}")
        return "\n".join(lines)

    def plot_history(self, ax=None, show=True):
        """Loss against optimisation step."""
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3), constrained_layout=True)
        ax.plot(np.arange(len(self.loss_history)), self.loss_history, marker=".")
        ax.set_xlabel("Step")
        ax.set_ylabel("Loss")
        if show:
            plt.show()
        return ax.figure
