"""Which drive parameters a dipole waveform constrains, before fitting them.

Each parameter is moved by one resolution step (mu, tstart, delays: ``time_step``
ms; sigma and weights: a factor ``1 + rel_step``), centred on its value, and
the change of the trial-averaged dipole is recorded: its RMS says how visible
the parameter is, the singular values of all changes together say how well
the least visible *combination* is (a near-zero one: some parameters can
stand in for others, and a fit cannot tell them apart).  Central
differences, not derivatives: they include spikes that appear or vanish.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..grad import model
from .._checks import check_number
from .._jit import jit
from .arguments import check_fit_memory, check_key, check_run
from .forward import dipole_fn, hamming_smooth, trial_draws


@dataclass
class Sensitivity:
    names: list  # parameter names, in the order of the columns
    steps: dict  # name -> (low, high) values compared
    changes: np.ndarray  # (n_times, d) dipole(high) - dipole(low), nAm
    times: np.ndarray  # ms

    @property
    def rms(self):
        """name -> RMS (nAm) of the dipole change for one step of it."""
        return dict(zip(self.names, np.sqrt(np.mean(self.changes ** 2, axis=0)).tolist()))

    @property
    def singular_values(self):
        """Of the changes / √n_times (nAm), largest first: the smallest is the
        RMS change along the least constrained combination of unit steps."""
        return np.linalg.svd(self.changes / np.sqrt(len(self.times)), compute_uv=False)

    def subset(self, names):
        """The same analysis restricted to ``names`` (no new runs)."""
        cols = [self.names.index(n) for n in names]
        return Sensitivity(names=list(names), steps={n: self.steps[n] for n in names},
                           changes=self.changes[:, cols], times=self.times)

    def table(self):
        """The per-parameter RMS and the singular values, as text."""
        rows = [f"{'parameter':40s} {'step':>22s} {'RMS change (nAm)':>17s}"]
        for n, r in self.rms.items():
            lo, hi = self.steps[n]
            rows.append(f"{n:40s} {lo:10.4g}-{hi:<11.4g} {r:17.3g}")
        sv = self.singular_values
        cond = f"{sv[0] / sv[-1]:.3g}" if sv[-1] > 0 else "inf"
        rows.append("singular values (nAm): " + " ".join(f"{s:.3g}" for s in sv) + f"; condition {cond}")
        return "\n".join(rows)


def sensitivity(net, params, *, tstop, n_trials=1, dt=0.025, key=None, draws="key",
                time_step=1.0, rel_step=0.1, smooth_window=None, max_delay=25.0):
    """The dipole's change (nAm) per resolution step of each of ``params``
    (names as in ``fit_drives``), from 2·d forward runs in one batch, with the
    trials' drive draws ``fit_drives`` would use for the same ``key``.  A
    switched-off parameter (a zero weight) is accepted: its column is zero."""
    tstop, dt, _, _, free = check_run(net, params, n_trials, tstop, dt, draws, smooth_window,
                                      max_delay, fitted=False)
    check_fit_memory(net, n_trials, tstop, dt, 2 * len(free), reverse=False, what="a sensitivity")
    check_number("time_step", time_step, gt=0, unit=" ms")
    check_number("rel_step", rel_step, gt=0, lt=1)
    check_key(key)
    key = jax.random.PRNGKey(0) if key is None else key
    fn, gn, names, theta0, times = dipole_fn(net, tstop, dt, max_delay)
    idx, d = np.array([names.index(n) for n in free]), len(free)
    z = trial_draws(net, gn, n_trials, tstop, draws, key)
    x = np.asarray(theta0, float)[idx]
    timing = np.array([n.split(".")[1] in ("mu", "tstart", "synaptic_delays") for n in free])
    f = np.sqrt(1 + rel_step)
    lo = np.where(timing, x - time_step / 2, x / f)
    hi = np.where(timing, x + time_step / 2, x * f)
    rows = np.repeat(np.asarray(theta0, float)[None], 2 * d, axis=0)
    rows[np.arange(d), idx], rows[d + np.arange(d), idx] = hi, lo

    def batch(fn):
        def one(theta):
            dpl, overflow = fn(theta, z, "rows")
            avg = dpl.mean(axis=0)
            return (hamming_smooth(avg, smooth_window, dt) if smooth_window else avg), overflow.any()
        return jit(jax.vmap(one, axis_name="rows"))

    while True:
        out, overflow = batch(fn)(jnp.asarray(rows))
        if not bool(overflow.any()):
            break
        gn = model.grow(gn)
        fn = dipole_fn(net, tstop, dt, max_delay, gn)[0]
    out = np.asarray(out)
    if not np.all(np.isfinite(out)):
        raise FloatingPointError("non-finite dipole in the sensitivity runs")
    steps = {n: (float(a), float(b)) for n, a, b in zip(free, lo, hi)}
    return Sensitivity(names=free, steps=steps, changes=(out[:d] - out[d:]).T, times=times)
