"""The drive fit of the somato workflow: which parameters, over which
window, with which optimizer, so that it shows the fit at work in a few
minutes on a laptop-sized CPU.  One plan per seed network.

The N20 seed (MNE's somato data, the S1 waveform, the synthetic recording)
was tuned for the early median-nerve response: its first drives, evprox1
(21 ms) and evdist1 (32 ms), shape the first ~60 ms.  ``ADAM_PLAN`` moves
those two drives -- their latencies and their AMPA weights onto the
pyramidal cells, whose currents *are* the dipole -- over 0-70 ms, with Adam
on one trial (a gradient for 70 ms: 1.1-2.0 s on a 2-core AMD EPYC, 2026-12-07).

HNN's published yes-trial ERP fit (``ERPYes100Trials.param``) already has
the right drives for its target; what a hand fit leaves is their timing.
``ERP_PLAN`` refines the latencies of its three evoked drives over the
whole 0-170 ms with one Levenberg-Marquardt step (2·3 + 4 forward runs of
eight trials, batched) on hnn-core's first eight trials.  Fewer trials fit
their own noise.  On two trials, two steps took the RMSE of those trials
from 9.56 to 4.88 nAm but that of six fresh trials from 5.25 to 6.13
(2026-12-02).  On four trials, one step took them from 6.11 to 5.32, and
16 fresh trials (hnn-core's 4-19) from 5.92 to 5.97: no gain.  On eight,
from 5.38 to 4.99, and 16 fresh trials (8-23) from 6.06 to 5.72
(2026-12-07; the step takes ~100 s on a 2-core AMD EPYC).
"""
from dataclasses import dataclass

import optax

from ..fit import fit_drives
from ..grad.model import drive_parameters


@dataclass(frozen=True)
class FitPlan:
    """Parameters fitted, the fit window (0-``window_ms``), the optimizer
    ('adam' steps or 'lm' Levenberg-Marquardt steps), its default number of
    steps and the trials per evaluation (hnn-core's drive draws)."""

    params: tuple
    window_ms: float
    optimizer: str
    default_steps: int
    n_trials: int

    def describe(self, steps):
        how = ('Adam step' if self.optimizer == 'adam'
               else 'Levenberg-Marquardt step') + 's' * (steps != 1)
        return (f"{steps} {how} on {', '.join(self.params)} over "
                f"0-{self.window_ms:g} ms, {self.n_trials} trial"
                f"{'s' * (self.n_trials > 1)} (hnn-core's drive draws)")


ADAM_PLAN = FitPlan(('evprox1.mu', 'evdist1.mu', 'evprox1.weights_ampa.L2_pyramidal',
                     'evprox1.weights_ampa.L5_pyramidal', 'evdist1.weights_ampa.L2_pyramidal'),
                    window_ms=70.0, optimizer='adam', default_steps=6, n_trials=1)
ERP_PLAN = FitPlan(('evprox1.mu', 'evdist1.mu', 'evprox2.mu'), window_ms=170.0,
                   optimizer='lm', default_steps=1, n_trials=8)
LEARNING_RATE = 0.1  # Adam, on unconstrained values (logit mu, log-ish weights)


def seed_values(net, params):
    """{name: the seed network's value} of the fitted parameters."""
    names, values = drive_parameters(net)
    return {name: float(values[names.index(name)]) for name in params}


def fit_somato_drives(net, target, scale, plan, *, n_steps, dt_ms, smooth_ms, progress):
    """``fit_drives`` of ``plan.params`` to ``target`` over the plan's window
    with ``n_steps`` of its optimizer; ``scale`` a number or 'fit'.
    ``fit_drives``' default bounds: latencies within the window, weights
    positive.  Returns (FitResult, seed values)."""
    start = seed_values(net, plan.params)
    steps = (dict(n_steps=n_steps, optimizer=optax.adam(LEARNING_RATE)) if plan.optimizer == 'adam'
             else dict(n_steps=0, refine=n_steps))
    result = fit_drives(
        net, target, list(plan.params), n_trials=plan.n_trials, tstop=plan.window_ms,
        dt=dt_ms, smooth_window=smooth_ms, scale=scale, loss='rmse', draws='hnn-core',
        progress=progress, score_trials=0,  # the workflow re-simulates the fitted network itself
        **steps)
    return result, start
