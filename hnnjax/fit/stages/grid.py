"""``Grid``: the loss at every combination of candidate values of some
parameters, forward only, in batches; the fit goes on from the best point."""
from __future__ import annotations

import itertools

import numpy as np

from ..._checks import check_array, check_int
from ...progress import bar, say
from .stage import Stage


class Grid(Stage):
    """``points``: {name: candidate values} for some fitted parameters (drive
    timing, typically); the others stay where the stage starts.  ``batch``
    points run per batch (``Objective.losses``).  The loss over drive timing has one basin
    per spiking pattern; a gradient cannot leave its basin, a grid can."""
    points: dict
    batch: int = 8

    def __check_init__(self):
        if not isinstance(self.points, dict) or not self.points:
            raise TypeError(f"grid must be a dict {{name: candidate values}} with at least one "
                            f"name; got {self.points!r}")
        check_int("Grid.batch", self.batch, ge=1)

    def rows(self, objective):
        """(names in the objective's order, constrained rows of their
        Cartesian product, the last name varying fastest)."""
        free, tr = objective.free, objective.transform
        unknown = [n for n in self.points if n not in free]
        if unknown:
            raise ValueError(f"grid: {unknown} are not among the fitted parameters {free}")
        names, axes = [n for n in free if n in self.points], []
        for n in names:
            v = check_array(f"grid[{n!r}]", np.atleast_1d(self.points[n]))
            i = free.index(n)
            if np.any(v <= tr.lo[i]) or np.any(v >= tr.hi[i]):
                raise ValueError(f"grid[{n!r}] must be a non-empty 1-D sequence of finite values "
                                 f"strictly inside the bounds ({tr.lo[i]:g}, {tr.hi[i]:g}), "
                                 f"got {self.points[n]!r}")
            axes.append(v)
        return names, np.array(list(itertools.product(*axes)))

    def check(self, objective):
        self.rows(objective)

    def summary(self, objective):
        names, rows = self.rows(objective)
        return f"loss at {len(rows)} points of {', '.join(names)}; " + super().summary(objective)

    def _run(self, objective, u, progress):
        names, grid = self.rows(objective)
        cols = [objective.free.index(n) for n in names]
        x = np.repeat(np.asarray(objective.transform.to_constrained(u))[None], len(grid), axis=0)
        x[:, cols] = grid
        rows = objective.transform.to_unconstrained(x)
        losses = np.empty(len(rows))
        for s in bar(range(0, len(rows), self.batch), desc="grid", unit="batch", enabled=progress):
            part = rows[s:s + self.batch]
            pad = np.concatenate([part, np.repeat(part[-1:], self.batch - len(part), 0)])
            losses[s:s + len(part)] = objective.losses(pad)[:len(part)]
        if not np.any(np.isfinite(losses)):
            raise FloatingPointError("non-finite loss at every grid point")
        best = int(np.nanargmin(np.where(np.isfinite(losses), losses, np.nan)))
        if progress:
            for k, (row, loss) in enumerate(zip(grid, losses)):
                say(f"grid: {', '.join(f'{n}={v:.4g}' for n, v in zip(names, row))}: loss {loss:.4g}"
                    + " (best)" * (k == best))
        return rows[best], losses[best], [losses[best]], dict(
            grid_points=dict(zip(names, grid.T)), grid_losses=losses)
