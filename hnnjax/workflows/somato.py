"""hnn-core's median-nerve (S1) workflow: a target waveform, the seed
network's simulation, a fit of its drives, the fitted simulation.

The target is the rh G_postcentral label time course of MNE's somato
dataset when a local copy exists, with hnn-core's seed,
:func:`hnnjax.network_models.somato_model` (N20 network, four evoked
drives).  Without it, the job fits real S1 MEG that ships with hnnjax and
has a published seed of its own: HNN's yes-trial tactile ERP
(``yes_trial_S1_ERP_all_avg.txt``) from HNN's hand fit of it
(``ERPYes100Trials.param``).  On request: the shipped suprathreshold S1
waveform or a synthetic MEG recording, both with the N20 seed.
:func:`hnnjax.fit.fit_drives` fits a few drive parameters (:mod:`.somato_fit`);
both networks are then simulated with the NEURON-faithful
``simulate_dipole`` and scored there.
"""
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import mne
import numpy as np

from ..dipole import Dipole, average_dipoles, read_waveform, waveform_path
from ..io.params import params_path, read_params
from ..network_models import (add_somato_drives_to_jones_model,
                              neymotin_2020_model, somato_model)
from ..progress import busy
from ..source import (SomatoDataNotFoundError, label_dipole,
                      make_synthetic_meg, somato_target)
from ..source.somato import ENV_VAR, SHIPPED_S1
from ..viz.spikes import CELL_TYPES
from .names import TARGETS
from .outputs import (default_out_dir, header_lines, staged_outputs,
                      write_dipole_text)
from .simulate import (check_dtype, check_mesh_shape, check_positive,
                       check_smoothing, check_times, postprocess,
                       processing_note, simulate_trials)
from .somato_figure import plot_somato_figure
from .somato_fit import ADAM_PLAN, ERP_PLAN, fit_somato_drives

LABEL_SCALE = 12.0  # hnn-core somato example: model dipole vs label (nAm)
ERP_TARGET = 'yes_trial_S1_ERP_all_avg.txt'  # shipped; HNN's hand fit: ERPYes100Trials
OUTPUT_FILES = ('somato.png', 'target_dpl.txt', 'seed_dpl.txt',
                'fitted_dpl.txt', 'fitted_drives.txt')


def somato_network(mesh_shape=None):
    """:func:`somato_model`; a ``mesh_shape`` other than None builds the same
    network on a smaller grid (quick looks, tests)."""
    if mesh_shape is None:
        return somato_model()
    net = neymotin_2020_model(params_path('N20'),
                              mesh_shape=check_mesh_shape(mesh_shape))
    return add_somato_drives_to_jones_model(net)


def shipped_waveform_target(reason):
    """The shipped S1 waveform (nAm) as a target, with ``reason`` recorded."""
    dpl = read_waveform(str(SHIPPED_S1))
    dpl.info.update(target='waveform', reason=reason,
                    name=f'S1 waveform ({Path(str(SHIPPED_S1)).name})')
    return dpl


def erp_target(reason):
    """HNN's yes-trial S1 ERP (nAm, shipped) as a target, with ``reason``."""
    dpl = read_waveform(str(waveform_path(ERP_TARGET)))
    dpl.info.update(target='erp', reason=reason,
                    name=f'yes-trial S1 ERP ({ERP_TARGET})')
    return dpl


def hand_fit_network(mesh_shape=None):
    """HNN's published hand fit of the yes-trial ERP: ``neymotin_2020_model``
    (hnn-core's ``jones_2009_model``) from ``ERPYes100Trials.param`` with all
    its drives (a smaller ``mesh_shape`` for quick looks and tests)."""
    params = read_params(params_path('ERPYes100Trials'))
    return neymotin_2020_model(params, add_drives_from_params=True,
                               mesh_shape=(10, 10) if mesh_shape is None
                               else check_mesh_shape(mesh_shape))


def synthetic_target(*, n_trials=60, seed=0):
    """Label time course (nAm) of a synthetic MEG recording, offline.

    The shipped S1 waveform is injected as the total dipole of rh
    G_postcentral of a fake subject (:func:`hnnjax.source.make_synthetic_meg`,
    ``n_trials`` stimuli, noise ``seed``) and recovered with
    :func:`hnnjax.source.label_dipole`, the calls used on MNE's somato data.
    As there, the 'pca_flip' time course is much smaller than the total
    dipole (about 1/300 here): the scale hnn-core's x12 is chosen for.
    """
    with tempfile.TemporaryDirectory() as tmp_dir:
        sim = make_synthetic_meg(tmp_dir, read_waveform(str(SHIPPED_S1)),
                                 n_trials=n_trials, seed=seed)
        dpl = label_dipole(sim.raw_fname, sim.fwd_fname, sim.subjects_dir,
                           sim.subject, sim.label, hemi=sim.hemi,
                           parc=sim.parc)
    dpl.info.update(
        target='synthetic', name='synthetic MEG: MNE label time course',
        reason=(f'requested: a synthetic MEG recording ({n_trials} stimuli, '
                f'offline) of the shipped S1 waveform in {sim.hemi} '
                f'{sim.label}, through the MNE pipeline (label_dipole)'))
    return dpl


def somato_target_or_fallback(target='auto', data_path=None):
    """The target Dipole (nAm) for the somato workflow.

    Parameters
    ----------
    target : 'auto' | 'somato' | 'erp' | 'synthetic' | 'waveform'
        'auto': MNE's somato data if on disk, else the shipped yes-trial S1
        ERP; 'somato': the data, or SomatoDataNotFoundError; 'erp': the
        yes-trial ERP; 'synthetic': see :func:`synthetic_target`;
        'waveform': the shipped suprathreshold S1 waveform.
    data_path : str | Path | None
        Local somato copy (``MNE-somato-data`` or its parent), for 'auto'
        and 'somato' only; None uses ``$MNE_DATASETS_SOMATO_PATH``.

    Returns
    -------
    dpl : Dipole
        ``info['target']`` says which target was used, ``info['reason']``
        why, ``info['name']`` is its legend entry.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}; got {target!r}")
    if data_path is not None and target not in ('auto', 'somato'):
        raise ValueError(f"data_path is only used with target 'auto' or "
                         f"'somato'; got target={target!r}")
    if target == 'waveform':
        return shipped_waveform_target("requested (target 'waveform')")
    if target == 'erp':
        return erp_target("requested (target 'erp')")
    if target == 'synthetic':
        return synthetic_target()
    try:
        dpl = somato_target(data_path)
    except SomatoDataNotFoundError:
        if target == 'somato':
            raise
        where = data_path or mne.get_config(ENV_VAR) or '~/mne_data'
        return erp_target(
            f"MNE's somato dataset is not in {where} (point --data-path or "
            f"{ENV_VAR} at the folder holding MNE-somato-data/ to use it); "
            "instead: real S1 MEG shipped with hnnjax, fitted from HNN's "
            "published hand fit of it")
    dpl.info.update(
        target='somato', name=f"MNE label time course ({dpl.info['label']})",
        reason=f"MNE somato dataset found in {dpl.info['data_path']}")
    return dpl


def somato_scale(target):
    """(scale, why) of the simulated dipole against ``target``: x12 for the
    label time course of MNE's somato data, as hnn-core's somato example;
    the hand fit's own factor for the yes-trial ERP; 'fit' (least squares,
    per curve) for the other targets, whose amplitude the model is not
    calibrated to."""
    if target.info.get('target') == 'somato':
        return LABEL_SCALE, ("hnn-core's somato example scales the model "
                             f"x{LABEL_SCALE:g} to this label time course")
    if target.info.get('target') == 'erp':
        params = read_params(params_path('ERPYes100Trials'))
        return float(params['dipole_scalefctr']), (
            f"x{params['dipole_scalefctr']:g} and {params['dipole_smooth_win']:g} ms smoothing, as "
            "HNN's hand fit of this ERP states them (ERPYes100Trials.param)")
    return 'fit', ('least squares: the model is not calibrated to this '
                   "target's amplitude, so the scale is fitted, not assumed")


def seed_for(target, mesh_shape=None, smooth_ms=20.0):
    """(network, fit plan, smoothing ms) of ``target``: HNN's hand fit and
    ``ERP_PLAN`` with the hand fit's smoothing for the yes-trial ERP, else
    :func:`somato_network`, ``ADAM_PLAN`` and ``smooth_ms``."""
    if target.info.get('target') == 'erp':
        net = hand_fit_network(mesh_shape)
        return net, ERP_PLAN, float(net._params['dipole_smooth_win'])
    return somato_network(mesh_shape), ADAM_PLAN, smooth_ms


def _common_grid(target, dpl, tmax_ms=np.inf):
    """Target samples within ``dpl``'s time span (and up to ``tmax_ms``) and
    ``dpl`` interpolated (linearly) on them: (target nAm, dpl nAm)."""
    times, values = target.times, target.data['agg']
    common = (times >= dpl.times[0]) & (times <= min(dpl.times[-1], tmax_ms))
    if not common.any():
        raise ValueError(
            f"target ({times[0]:g}-{times[-1]:g} ms) and dpl "
            f"({dpl.times[0]:g}-{dpl.times[-1]:g} ms) do not overlap in time"
            f" (up to {tmax_ms:g} ms)")
    return values[common], np.interp(times[common], dpl.times,
                                     dpl.data['agg'])


def least_squares_scale(target, dpl, tmax_ms=np.inf):
    """The factor s minimising sum (target - s dpl)^2 over the target's
    samples within ``dpl``'s time span, up to ``tmax_ms``."""
    target_nam, dpl_nam = _common_grid(target, dpl, tmax_ms)
    power = float(dpl_nam @ dpl_nam)
    if power == 0:
        raise ValueError("the simulated dipole is zero: no scale fits it")
    return float(target_nam @ dpl_nam) / power


def target_rmse(target, dpl, tmax_ms=np.inf):
    """RMSE (nAm) between ``target`` and ``dpl`` on the target's samples that
    lie within ``dpl``'s time span, up to ``tmax_ms``. Returns (rmse in
    nAm, number of samples)."""
    target_nam, dpl_nam = _common_grid(target, dpl, tmax_ms)
    return float(np.sqrt(np.mean((target_nam - dpl_nam) ** 2))), \
        target_nam.size


def trial_noise(target, dpls, scale, n_mean, tmax_ms=np.inf):
    """How far a mean of ``n_mean`` trials scatters from the network's
    expected dipole (nAm RMS over the target's samples up to ``tmax_ms``):
    sqrt(mean over samples of the trials' variance / n_mean), from the
    spread of ``dpls`` (smoothed, unscaled) scaled by ``scale``.  The mean's
    squared RMSE against a target is about the network's own squared error
    plus this squared; NaN from fewer than two trials."""
    if len(dpls) < 2:
        return float('nan')
    per_trial = np.stack([_common_grid(target, d, tmax_ms)[1] for d in dpls]) * scale
    return float(np.sqrt(per_trial.var(axis=0, ddof=1).mean() / n_mean))


@dataclass
class SomatoRun:
    """One network's faithful simulation in the somato workflow: trials
    (nAm, smoothed), their mean scaled against the target, its score."""

    dpls: list
    average: Dipole  # mean of the smoothed fresh trials, scaled (nAm)
    cell_response: object
    scale: float
    rmse_nam: float  # of ``average``: trials the fit never saw
    rmse_fit_trials_nam: float  # of the mean of the trials the fit used
    noise_nam: float  # scatter of ``average`` from the expected dipole (trial_noise)
    n_samples: int  # target samples the RMSE is taken over
    sim_time_s: float


@dataclass
class SomatoResult:
    """What :func:`run_somato` produced: target, the seed and fitted runs,
    the fit, the files (in ``out_dir``) and the total wall time."""

    target: Dipole
    seed: SomatoRun
    fitted: SomatoRun
    fit: object  # hnnjax.fit.FitResult
    seed_values: dict  # fitted parameter -> seed value
    out_dir: Path
    files: list
    total_time_s: float


def _simulate_run(net, target, scale, window_ms, n_fit_trials, *, n_trials, tstop_ms,
                  dt_ms, smooth_ms, dtype, progress):
    """Faithful trials of ``net`` with hnn-core's seeds: the ``n_fit_trials``
    the fit used, then ``n_trials`` fresh ones; each smoothed; the fresh
    mean scaled (``scale`` or least squares) and scored against ``target``
    over the fit window (0-``window_ms``), and the fit trials' mean too."""
    dpls, sim_s = simulate_trials(net, tstop_ms, dt_ms, n_fit_trials + n_trials, dtype,
                                  progress=progress)
    postprocess(dpls, smooth_ms)
    average = average_dipoles(dpls[n_fit_trials:])
    if scale == 'fit':
        scale = least_squares_scale(target, average, window_ms)
    average.scale(scale)
    rmse, n_samples = target_rmse(target, average, window_ms)
    seen = average_dipoles(dpls[:n_fit_trials]).scale(scale)
    noise = trial_noise(target, dpls, scale, n_trials, window_ms)
    return SomatoRun(dpls, average, net.cell_response, scale, rmse,
                     target_rmse(target, seen, window_ms)[0], noise, n_samples, sim_s)


def _noise_words(seed, fitted, n_trials):
    """The trial noise of both runs' fresh means, said for a reader; when it
    makes up half or more of a run's squared RMSE, that the scores are
    mostly noise."""
    words = (f"a mean of {n_trials} trial{'s' * (n_trials > 1)} scatters "
             f"{seed.noise_nam:#.2g} (seed) and {fitted.noise_nam:#.2g} (fitted) nAm RMS "
             f"about its network's expected dipole (from the trials' spread)")
    if any(run.noise_nam ** 2 >= 0.5 * run.rmse_nam ** 2 for run in (seed, fitted)):
        words += ("; RMSEs of so few trials are mostly that scatter: more fresh trials "
                  "(--n-trials) tell the networks apart")
    return words


def _legend(kind, run, n_trials, n_fit_trials, scale_rule):
    how = 'least squares' if scale_rule == 'fit' else 'stated'
    scale = f'{run.scale:,.0f}' if abs(run.scale) >= 100 else \
        f'{run.scale:.3g}'
    return (f"{kind}, mean of {n_trials} fresh trial{'s' * (n_trials > 1)}"
            f" x{scale} ({how}): RMSE {run.rmse_nam:.3g} nAm "
            f"({run.rmse_fit_trials_nam:.3g} on the fit's {n_fit_trials})")


def _write_outputs(stage, result, fig, *, n_trials, smooth_ms, dtype,
                   scale_why, plan, steps):
    """The figure and the text files of :func:`run_somato` into ``stage``."""
    fig.savefig(stage / 'somato.png', dpi=120)
    target = result.target
    write_dipole_text(target, stage / 'target_dpl.txt',
                      f"target: {target.info['name']}, nAm, as used (not "
                      "smoothed, not scaled)",
                      f"why this target: {target.info['reason']}")
    for kind in ('seed', 'fitted'):
        run = getattr(result, kind)
        write_dipole_text(
            run.average, stage / f'{kind}_dpl.txt',
            f"{kind} network: mean of {n_trials} faithful trial"
            f"{'s' * (n_trials > 1)} ({dtype}) that the fit never saw (hnn-core's seeds "
            f"{plan.n_trials}-{plan.n_trials + n_trials - 1}), "
            f'{processing_note(smooth_ms, run.scale)}',
            f'scale: {scale_why}',
            f'RMSE against the target over the fit window (0-'
            f'{plan.window_ms:g} ms): {run.rmse_nam:.6g} nAm, '
            f'{run.n_samples} target samples; on the mean of the fit\'s '
            f'{plan.n_trials} trials: {run.rmse_fit_trials_nam:.6g} nAm',
            f"trial noise of the mean of the {n_trials} fresh trial{'s' * (n_trials > 1)} "
            f"(its RMS scatter about the expected dipole, from the spread of all "
            f"{plan.n_trials + n_trials} trials): {run.noise_nam:.3g} nAm")
    rows = [f'{name}\t{result.seed_values[name]!r}\t{value!r}'
            for name, value in result.fit.values.items()]
    losses = ', '.join(f'{loss:.6g}' for loss in result.fit.loss_history)
    (stage / 'fitted_drives.txt').write_text('\n'.join(header_lines(
        f'drive parameters fitted to the target by fit_drives: {plan.describe(steps)}; '
        'seed and fitted values',
        'units: mu in ms, weights in uS',
        f'loss (RMSE, nAm, differentiable model) per step: {losses}') +
        ['# columns: parameter, seed, fitted'] + rows) + '\n')
    return sorted(path.name for path in stage.iterdir())


def run_somato(n_trials=8, fit_steps=None, out_dir=None, target='auto',
               data_path=None, dtype='float64', *, tstop_ms=170.0,
               dt_ms=0.025, smooth_ms=20.0, mesh_shape=None, verbose=True):
    """Run the somato workflow end to end.

    1. the target (:func:`somato_target_or_fallback`) and its scale rule
       (:func:`somato_scale`);
    2. the seed (:func:`seed_for`): ``n_trials`` faithful trials, each
       smoothed (``smooth_ms``; the hand fit's 30 ms for the ERP), their
       mean scaled and scored (RMSE against the target, nAm), with its
       trial noise (:func:`trial_noise`);
    3. ``fit_steps`` (default: the plan's) steps fitting some of its drives
       to the target over the fit window (:mod:`.somato_fit`); the scale
       and the RMSE of both networks are taken over that window too;
    4. the fitted network simulated and scored as the seed;
    5. into ``out_dir`` (default ``hnnjax_out/somato``): somato.png
       (:func:`plot_somato_figure`), target_dpl.txt, seed_dpl.txt,
       fitted_dpl.txt, fitted_drives.txt, replacing an earlier run's files
       once this run has finished.

    ``verbose`` shows progress and prints each stage. Returns a
    :class:`SomatoResult`.
    """
    import matplotlib.pyplot as plt

    start = time.perf_counter()
    check_positive('n_trials', n_trials, integer=True)
    if fit_steps is not None:
        check_positive('fit_steps', fit_steps, integer=True)
    check_times(tstop_ms, dt_ms)
    check_smoothing(smooth_ms, tstop_ms)
    check_dtype(dtype)
    out_dir = Path(default_out_dir('somato') if out_dir is None else out_dir)
    log = (lambda text: print(text, flush=True)) if verbose else \
        (lambda text: None)
    with busy('target', verbose):
        target_dpl = somato_target_or_fallback(target, data_path)
    scale, scale_why = somato_scale(target_dpl)
    net, plan, smooth_ms = seed_for(target_dpl, mesh_shape, smooth_ms)
    seed_name = ("seed: HNN's hand fit" if target_dpl.info.get('target') == 'erp'
                 else 'seed network')
    if tstop_ms < plan.window_ms:
        raise ValueError(f"tstop_ms ({tstop_ms:g} ms) must cover the fit "
                         f"window (0-{plan.window_ms:g} ms)")
    steps = plan.default_steps if fit_steps is None else fit_steps
    log(f"target: {target_dpl.info['name']}\n"
        f"  why: {target_dpl.info['reason']}\n  scale: {scale_why}")
    sim = dict(n_trials=n_trials, tstop_ms=tstop_ms, dt_ms=dt_ms,
               smooth_ms=smooth_ms, dtype=dtype, progress=verbose)
    with staged_outputs(out_dir, OUTPUT_FILES) as stage:
        n_cells = sum(len(net.gid_ranges[ct]) for ct in CELL_TYPES)
        n_fit = plan.n_trials
        log(f"[1/4] seed network ({n_cells} cells, drives "
            f"{', '.join(net.external_drives)}): {n_fit} + {n_trials} trials of {tstop_ms:g} ms "
            f"({dtype}; the fit's {n_fit}, then {n_trials} it never sees)")
        seed = _simulate_run(net, target_dpl, scale, plan.window_ms, n_fit, **sim)
        log(f"      {seed.sim_time_s:.1f} s; RMSE {seed.rmse_nam:.3g} nAm "
            f"over 0-{plan.window_ms:g} ms ({seed.rmse_fit_trials_nam:.3g} on the fit's trials)")
        log(f"[2/4] fit: {plan.describe(steps)}")
        fit_start = time.perf_counter()
        fit, seed_vals = fit_somato_drives(
            net, target_dpl, scale, plan, n_steps=steps, dt_ms=dt_ms,
            smooth_ms=smooth_ms, progress=verbose)
        log(f"      {time.perf_counter() - fit_start:.1f} s; loss "
            f"{fit.loss_history[0]:.3g} -> {min(fit.loss_history):.3g} nAm")
        log(f"[3/4] fitted network: {n_fit} + {n_trials} trials")
        fitted = _simulate_run(fit.net, target_dpl, scale, plan.window_ms, n_fit, **sim)
        log(f"      {fitted.sim_time_s:.1f} s; RMSE {fitted.rmse_nam:.3g} nAm "
            f"({fitted.rmse_fit_trials_nam:.3g} on the fit's trials)")
        log("[4/4] figure and files")
        noise_words = _noise_words(seed, fitted, n_trials)
        result = SomatoResult(target_dpl, seed, fitted, fit, seed_vals,
                              out_dir, [], 0.0)
        fig = plot_somato_figure(
            target_dpl, {kind: (run.average,
                                _legend(name, run, n_trials, n_fit, scale))
                         for kind, name, run in (('seed', seed_name, seed),
                                                 ('fitted', 'fitted network', fitted))},
            fitted.cell_response, fit_window_ms=plan.window_ms,
            note=f"target: {target_dpl.info['name']}: "
                 f"{target_dpl.info['reason']}\nscale: {scale_why}\nfit: "
                 f"{plan.describe(steps)}; curves and scores: faithful trials with "
                 f"hnn-core's seeds the fit never saw (in brackets: on the fit's {n_fit})"
                 f"\ntrial noise: {noise_words}")
        result.files = _write_outputs(stage, result, fig, n_trials=n_trials,
                                      smooth_ms=smooth_ms, dtype=dtype,
                                      scale_why=scale_why, plan=plan, steps=steps)
        plt.close(fig)
    result.total_time_s = time.perf_counter() - start
    log("fitted drives (seed -> fitted): " + ', '.join(
        f'{name} {seed_vals[name]:.4g} -> {value:.4g}'
        for name, value in fit.values.items()))
    log(f"RMSE against the target over the fit window (0-{plan.window_ms:g} "
        f"ms, {seed.n_samples} target samples, faithful re-simulations): on {n_trials} "
        f"fresh trials seed {seed.rmse_nam:.3g} nAm, fitted {fitted.rmse_nam:.3g} nAm; on "
        f"the fit's {n_fit} seed {seed.rmse_fit_trials_nam:.3g}, fitted "
        f"{fitted.rmse_fit_trials_nam:.3g}")
    log(f"trial noise: {noise_words}")
    log(f"files in {out_dir.resolve()}/: {', '.join(result.files)}")
    log(f"total run time: {result.total_time_s:.1f} s")
    return result
