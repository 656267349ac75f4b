"""The drive fit of the somato workflow: which parameters, over which
window, with how many steps, so that it shows the gradient at work in a few
minutes on a laptop-sized CPU.

The N20 seed was tuned for the early median-nerve response: its first
drives, evprox1 (21 ms) and evdist1 (32 ms), shape the first ~60 ms. The
fit moves those two drives -- their latencies and their AMPA weights onto
the pyramidal cells, whose currents *are* the dipole -- over 0-``FIT_TSTOP_MS``
ms, the part of the response the seed models. (The shipped S1 waveform's
large trough near 75 ms and peak near 140 ms would need late drives tens of
times stronger than the seed's: not a few gradient steps away.) A gradient
costs one run of the differentiable network per trial and about as much
again backwards: ~14 s for 70 ms on 2 CPU cores, hence one trial and a
short window.
"""
import optax

from ..fit import fit_drives
from ..grad.model import drive_parameters

FIT_PARAMS = ('evprox1.mu', 'evdist1.mu',
              'evprox1.weights_ampa.L2_pyramidal',
              'evprox1.weights_ampa.L5_pyramidal',
              'evdist1.weights_ampa.L2_pyramidal')
FIT_TSTOP_MS = 70.0  # the fit window is 0-FIT_TSTOP_MS
LEARNING_RATE = 0.1  # Adam, on unconstrained values (logit mu, log-ish weights)


def seed_values(net, params=FIT_PARAMS):
    """{name: the seed network's value} of the fitted parameters."""
    names, values = drive_parameters(net)
    return {name: float(values[names.index(name)]) for name in params}


def fit_somato_drives(net, target, scale, *, n_steps, dt_ms, smooth_ms,
                      progress):
    """``fit_drives`` of ``FIT_PARAMS`` to ``target`` over the fit window,
    on one trial with hnn-core's drive draws (``draws='hnn-core'``: the first
    trial the faithful ``simulate_dipole`` runs); ``scale`` a number or
    'fit'. ``fit_drives``' default bounds: latencies within the window,
    weights positive. Returns (FitResult, seed values)."""
    start = seed_values(net)
    result = fit_drives(
        net, target, list(FIT_PARAMS), n_trials=1, tstop=FIT_TSTOP_MS,
        dt=dt_ms, smooth_window=smooth_ms, scale=scale, loss='rmse',
        n_steps=n_steps, optimizer=optax.adam(LEARNING_RATE),
        draws='hnn-core', progress=progress,
        score_trials=0)  # the workflow re-simulates the fitted network itself
    return result, start
