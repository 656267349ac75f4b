"""The objectives ``Optimizer`` minimizes, with hnn-core's signature.

Each objective simulates ``initial_net`` with one parameter set and returns
a float to minimize, or, given a 2-D ``predicted_params`` (the solver 'cma'
passes each generation's population, one row per set), a list of floats,
one per set: the sets are simulated by one ``BatchSimulate`` run, which
runs sets that change only drives as one trial axis of compiled calls.
The signature is hnn-core 0.6.1's (``initial_net, initial_params,
set_params, predicted_params, update_params, obj_values, tstop,
obj_fun_kwargs, best``), so a user objective written for hnn-core's
``Optimizer`` runs here too.  ``obj_values`` collects every value (a list
per population) and ``best`` ({'obj', 'params'}) the best one, both in
place.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import periodogram, resample

from ..batch_simulate import BatchSimulate
from ..dipole import average_dipoles
from ..network.simulate import simulate_dipole


def _paired_samples(dpl, target, tstart=0.0, tstop=0.0, weights=None):
    """The aggregate dipoles of ``dpl`` and ``target`` from ``tstart`` to
    ``tstop`` ms (clipped to both; the sample nearest each end, the last one
    excluded), the longer one FFT-resampled to the other's length, and the
    ``weights`` (one per sample of ``dpl``; None: all 1) of those samples,
    resampled with the simulated dipole and set to 0 where that leaves them
    below 1e-4 (hnn-core's rule)."""
    sim_t, exp_t = dpl.times, target.times
    tstart = max(tstart, sim_t[0], exp_t[0])
    tstop = min(tstop, sim_t[-1], exp_t[-1])
    window = lambda t: slice(np.abs(t - tstart).argmin(), np.abs(t - tstop).argmin())
    sim = np.asarray(dpl.data["agg"])[window(sim_t)]
    exp = np.asarray(target.data["agg"])[window(exp_t)]
    w = None if weights is None else np.asarray(weights, float)[window(sim_t)]
    if len(sim) > len(exp):
        sim = resample(sim, len(exp))
        if w is not None:
            w = resample(w, len(exp))
            w[w < 1e-4] = 0.0
    elif len(sim) < len(exp):
        exp = resample(exp, len(sim))
    return sim, exp, w


def dipole_rmse(dpl, target, tstart=0.0, tstop=0.0, weights=None):
    """RMSE (nAm) between the aggregate dipoles of ``dpl`` and ``target``
    over ``tstart``-``tstop`` ms, as hnn-core computes it; with ``weights``
    (one per sample of ``dpl``) the weighted RMSE, sqrt(sum w d^2 / sum w)."""
    sim, exp, w = _paired_samples(dpl, target, tstart, tstop, weights)
    if w is None:
        return float(np.sqrt(np.mean((sim - exp) ** 2)))
    return float(np.sqrt((w * (sim - exp) ** 2).sum() / w.sum()))


def dipole_anticorr(dpl, target, tstart=0.0, tstop=0.0):
    """1 - Pearson correlation of the aggregate dipoles (0: same shape)."""
    sim, exp, _ = _paired_samples(dpl, target, tstart, tstop)
    return float(1 - np.corrcoef(sim, exp)[0, 1])


def relative_bandpower(dpl, f_bands, weights):
    """Minus the weighted power in the bands ``f_bands`` ([(low, high)] Hz)
    over the total power of the aggregate dipole (Hamming-window
    periodogram); ``weights``: one per band, or one float for all."""
    freqs, psd = periodogram(np.asarray(dpl.data["agg"]), dpl.sfreq, window="hamming")
    if isinstance(weights, (int, float)):
        weights = [float(weights)] * len(f_bands)
    if len(weights) != len(f_bands):
        raise ValueError(f"relative_bandpower has {len(weights)} weight(s) for "
                         f"{len(f_bands)} band(s) in f_bands; give one per band or one float")
    band = [w * psd[(freqs >= lo) & (freqs <= hi)].sum() for w, (lo, hi) in zip(weights, f_bands)]
    return float(-sum(band) / psd.sum())


def _is_population(predicted_params):
    """True for a 2-D ``predicted_params`` (one parameter set per row),
    False for one set."""
    ndim = np.ndim(predicted_params)
    if ndim not in (1, 2):
        raise ValueError(f"predicted_params must be one parameter set (1-D) or one per row (2-D); "
                         f"got shape {np.shape(predicted_params)}")
    return ndim == 2


def _simulate(initial_net, initial_params, set_params, predicted_params, update_params, tstop,
              obj_fun_kwargs, n_trials):
    """The trials of each parameter set (a list of Dipoles per row of a 2-D
    ``predicted_params``; one list for one set), each scaled by
    ``scale_factor`` and smoothed over ``smooth_window_len`` ms when those
    are given."""
    dt = obj_fun_kwargs.get("dt", 0.025)
    if _is_population(predicted_params):
        rows = np.asarray(predicted_params, float)

        def set_row(values, net):  # BatchSimulate's argument order
            set_params(net, {name: float(v) for name, v in values.items()})
        batch = BatchSimulate(set_row, net=initial_net, tstop=tstop, dt=dt, n_trials=n_trials,
                              batch_size=len(rows))
        grid = {name: rows[:, i] for i, name in enumerate(initial_params)}
        res = batch.run(grid, combinations=False, n_jobs=obj_fun_kwargs.get("n_jobs") or 1,
                        verbose=obj_fun_kwargs.get("verbose", True))
        sets = [r["dpl"] for r in res["simulated_data"][0]]
    else:
        net = initial_net.copy()
        set_params(net, update_params(initial_params, predicted_params))
        sets = [simulate_dipole(net, tstop=tstop, dt=dt, n_trials=n_trials, verbose=False,
                                progress=False)]
    for dpl in (d for dpls in sets for d in dpls):
        if "scale_factor" in obj_fun_kwargs:
            dpl.scale(obj_fun_kwargs["scale_factor"])
        if "smooth_window_len" in obj_fun_kwargs:
            dpl.smooth(obj_fun_kwargs["smooth_window_len"])
    return sets


def _record(obj, predicted_params, obj_values, best, obj_fun_kwargs):
    """Append ``obj`` (a float, or a list of them for a population) to
    ``obj_values``, update ``best`` and print the losses when verbose."""
    obj_values.append(obj)
    values = np.atleast_1d(np.asarray(obj, float))
    i = int(np.argmin(np.where(np.isnan(values), np.inf, values)))  # NaN: never the best
    if best is not None and values[i] < best["obj"]:
        best["obj"], best["params"] = float(values[i]), list(np.atleast_2d(predicted_params)[i])
    if obj_fun_kwargs.get("verbose", True):
        lowest = np.fmin.reduce([np.fmin.reduce(np.atleast_1d(v)) for v in obj_values])
        now = f"Mean Loss: {values.mean():.4g}" if values.size > 1 else f"Loss: {values[0]:.4g}"
        print(f"{now}; Min Loss: {lowest:.4g}")
    return obj


def _average_objective(metric, doc):
    """An objective scoring the trial-averaged dipole against
    ``obj_fun_kwargs['target']`` with ``metric`` (``n_trials`` trials, default 1)."""
    def objective(initial_net, initial_params, set_params, predicted_params, update_params,
                  obj_values, tstop, obj_fun_kwargs, best=None):
        sets = _simulate(initial_net, initial_params, set_params, predicted_params, update_params,
                         tstop, obj_fun_kwargs, obj_fun_kwargs.get("n_trials", 1))
        obj = [metric(average_dipoles(dpls), obj_fun_kwargs["target"], tstop=tstop)
               for dpls in sets]
        obj = obj if _is_population(predicted_params) else obj[0]
        return _record(obj, predicted_params, obj_values, best, obj_fun_kwargs)
    objective.__doc__ = doc
    return objective


_rmse_evoked = _average_objective(
    dipole_rmse, "'dipole_rmse': RMSE (nAm) of the trial-averaged dipole against the target.")
_anticorr_evoked = _average_objective(
    dipole_anticorr, "'dipole_corr': 1 - correlation of the trial-averaged dipole with the target.")


def _maximize_psd(initial_net, initial_params, set_params, predicted_params, update_params,
                  obj_values, tstop, obj_fun_kwargs, best=None):
    """'maximize_psd': minus the weighted relative power of one trial in
    ``f_bands`` (``relative_bandpower``: the weights)."""
    sets = _simulate(initial_net, initial_params, set_params, predicted_params, update_params,
                     tstop, obj_fun_kwargs, 1)
    obj = [relative_bandpower(dpls[0], obj_fun_kwargs["f_bands"],
                              obj_fun_kwargs["relative_bandpower"]) for dpls in sets]
    obj = obj if _is_population(predicted_params) else obj[0]
    return _record(obj, predicted_params, obj_values, best, obj_fun_kwargs)
