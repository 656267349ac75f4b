"""Workflows: target selection, RMSE, figures, reduced end-to-end runs."""
from types import SimpleNamespace

import matplotlib

matplotlib.use('Agg')

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import hnnjax as hnn  # noqa: E402
from hnnjax.dipole import Dipole  # noqa: E402
from hnnjax.network.cell_response import CellResponse  # noqa: E402
from hnnjax.source import SomatoDataNotFoundError  # noqa: E402
from hnnjax.source.somato import SHIPPED_S1  # noqa: E402
from hnnjax.workflows import outputs as wout  # noqa: E402
from hnnjax.workflows import simulate as wsim  # noqa: E402
from hnnjax.workflows import somato as wsom  # noqa: E402
from hnnjax.workflows.somato_figure import plot_somato_figure  # noqa: E402

GID_RANGES = {'L2_basket': range(0, 3), 'L2_pyramidal': range(3, 12),
              'L5_basket': range(12, 15), 'L5_pyramidal': range(15, 24),
              'evprox1': range(24, 25), 'evdist1': range(25, 26)}


@pytest.fixture(autouse=True)
def _no_somato_data(monkeypatch, tmp_path):
    """Never pick up a real somato copy from the environment."""
    empty = tmp_path / 'no_somato'
    empty.mkdir()
    monkeypatch.setenv('MNE_DATASETS_SOMATO_PATH', str(empty))
    yield
    plt.close('all')


def _cell_response(n_trials=2, tstop_ms=170.0, silent=()):
    """A hand-built CellResponse: cells spike at 20-60 ms, two drives."""
    times = np.arange(0, tstop_ms + 0.0125, 0.025)
    cr = CellResponse(list(GID_RANGES)[:4], times=times, gid_ranges=GID_RANGES)
    rng = np.random.default_rng(0)
    for _ in range(n_trials):
        gids = [g for ct, r in GID_RANGES.items() if ct not in silent
                for g in r]
        spikes = rng.uniform(20, 60, len(gids))
        spikes[-2:] = [21.0, 32.0]  # evprox1, evdist1
        cr.add_trial(spikes, gids)
    return cr


def _dipole(scale_nam=1.0, tstop_ms=170.0, nave=2):
    times = np.arange(0, tstop_ms + 0.0125, 0.025)
    dpl = Dipole(times, scale_nam * np.sin(times / 20.0), nave=nave)
    dpl.scale_applied = 12
    return dpl


def _target(scale_nam=1.0, t0_ms=-200.0, t1_ms=170.0):
    times = np.arange(t0_ms, t1_ms + 1e-9, 5.0)
    return Dipole(times, scale_nam * np.sin(times / 20.0) + 0.5,
                  info={'name': 'test target'})


# --- target selection -------------------------------------------------------

def test_auto_falls_back_to_the_yes_trial_erp(tmp_path):
    dpl = wsom.somato_target_or_fallback('auto', tmp_path)
    shipped = hnn.read_waveform('yes_trial_S1_ERP_all_avg.txt')
    np.testing.assert_allclose(dpl.data['agg'], shipped.data['agg'])
    assert dpl.info['target'] == 'erp'
    assert str(tmp_path) in dpl.info['reason'] and 'hand fit' in dpl.info['reason']
    assert 'MNE_DATASETS_SOMATO_PATH' in dpl.info['reason']
    default = wsom.somato_target_or_fallback()  # the env var's empty folder
    assert default.info['target'] == 'erp'
    net, plan, smooth_ms = wsom.seed_for(dpl, mesh_shape=(3, 3))
    assert list(net.external_drives) == ['evdist1', 'evprox1', 'evprox2', 'extpois']
    assert plan is wsom.ERP_PLAN and smooth_ms == 30.0


def test_somato_target_required_raises(tmp_path):
    with pytest.raises(SomatoDataNotFoundError, match='MNE-somato-data'):
        wsom.somato_target_or_fallback('somato', tmp_path)


def test_auto_uses_somato_data_when_present(monkeypatch, tmp_path):
    def fake_somato_target(data_path):
        return Dipole([0.0, 1.0], [0.0, 1.0], info={
            'label': 'G_postcentral-rh', 'data_path': str(data_path)})

    monkeypatch.setattr(wsom, 'somato_target', fake_somato_target)
    for target in ('auto', 'somato'):
        dpl = wsom.somato_target_or_fallback(target, tmp_path)
        assert dpl.info['target'] == 'somato'
        assert 'G_postcentral-rh' in dpl.info['name']
        assert str(tmp_path) in dpl.info['reason']


def test_requested_waveform_and_synthetic_dispatch(monkeypatch):
    dpl = wsom.somato_target_or_fallback('waveform')
    assert dpl.info['target'] == 'waveform'
    assert 'requested' in dpl.info['reason']
    assert wsom.somato_target_or_fallback('erp').info['target'] == 'erp'
    monkeypatch.setattr(wsom, 'synthetic_target', lambda: 'synthetic!')
    assert wsom.somato_target_or_fallback('synthetic') == 'synthetic!'


@pytest.mark.parametrize('kwargs, match', [
    (dict(target='nope'), 'target must be one of'),
    (dict(target='waveform', data_path='.'), 'data_path is only used'),
    (dict(target='synthetic', data_path='.'), 'data_path is only used'),
])
def test_target_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        wsom.somato_target_or_fallback(**kwargs)


def test_synthetic_target_recovers_shipped_waveform():
    """A small real run of the MNE pipeline on the synthetic recording."""
    dpl = wsom.synthetic_target(n_trials=20)
    shipped = hnn.read_waveform(str(SHIPPED_S1))
    label_nam, s1_nam = wsom._common_grid(dpl, shipped)
    assert np.corrcoef(label_nam, s1_nam)[0, 1] > 0.9
    assert dpl.info['target'] == 'synthetic'
    assert dpl.times[0] == pytest.approx(-200.0)
    # a label time course, far smaller than the injected total dipole
    assert 0 < np.abs(label_nam).max() < 0.05 * np.abs(s1_nam).max()


# --- scores -----------------------------------------------------------------

def test_target_rmse_on_common_grid():
    target, dpl = _target(), _dipole()
    rmse, n = wsom.target_rmse(target, dpl)
    assert n == 35  # target samples 0, 5, ..., 170 ms
    assert rmse == pytest.approx(0.5, abs=1e-6)  # the constant offset
    with pytest.raises(ValueError, match='do not overlap'):
        wsom.target_rmse(_target(t0_ms=200.0, t1_ms=300.0), dpl)


def test_least_squares_scale():
    target = _target(-600.0)  # -600 sin + 0.5: the offset is orthogonal-ish
    scale = wsom.least_squares_scale(target, _dipole(0.01))
    assert scale == pytest.approx(-60000.0, rel=1e-2)
    with pytest.raises(ValueError, match='zero'):
        wsom.least_squares_scale(target, _dipole(0.0))


def test_scale_rule_per_target():
    label = Dipole([0.0, 1.0], [0.0, 1.0], info={'target': 'somato'})
    assert wsom.somato_scale(label)[0] == 12.0
    assert "hnn-core's somato example" in wsom.somato_scale(label)[1]
    for kind in ('waveform', 'synthetic'):
        dpl = Dipole([0.0, 1.0], [0.0, 1.0], info={'target': kind})
        scale, why = wsom.somato_scale(dpl)
        assert scale == 'fit' and 'least squares' in why
    scale, why = wsom.somato_scale(Dipole([0.0, 1.0], [0.0, 1.0], info={'target': 'erp'}))
    assert scale == 3000.0 and 'ERPYes100Trials.param' in why


# --- figures ----------------------------------------------------------------

def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_somato_figure_one_nam_axis(tmp_path):
    """Target, seed and fitted on one dipole axis in nAm, however far apart
    their amplitudes; labelled panels; the note below the legend."""
    curves = {'seed': (_dipole(0.5), 'seed: RMSE 1 nAm'),
              'fitted': (_dipole(2.0), 'fitted: RMSE 2 nAm')}
    fig = plot_somato_figure(_target(100.0), curves,
                             _cell_response(silent=('L5_basket',)),
                             fit_window_ms=70.0, note='target: why\nscale: how')
    axes = fig.axes
    assert len(axes) == 3  # no twin axis
    drives, dipole, spikes = axes
    assert _legend(drives) == ['evprox', 'evdist']
    assert _legend(dipole) == ['fit window (0-70 ms)', 'test target',
                               'seed: RMSE 1 nAm', 'fitted: RMSE 2 nAm']
    assert dipole.get_ylabel() == 'Current dipole (nAm)'
    assert len(dipole.get_lines()) == 4  # zero line, target, seed, fitted
    low, high = dipole.get_ylim()
    assert low < -100 and high > 100  # the target's range is on this axis
    assert fig._suptitle.get_text() == 'target: why\nscale: how'
    assert _legend(spikes) == ['L2_basket', 'L2_pyramidal', 'L5_pyramidal']
    assert spikes.get_xlabel() == 'Time (ms)'
    assert all(ax.get_title() for ax in axes)
    assert all('Spikes' in ax.get_ylabel() for ax in (drives, spikes))
    assert spikes.get_xlim() == (0.0, 170.0)
    fig.savefig(tmp_path / 'somato.png')


def test_somato_figure_legend_leaves_the_curves_clear(tmp_path):
    """With the fit window over the whole time axis (the yes-trial ERP's)
    and the main job's long labels, no point of the target, seed or fitted
    curve lies under the dipole panel's legend ('best' had put it over
    them: the shading covers every corner)."""
    label = ('seed: HNN\'s hand fit, mean of 8 fresh trials x3,000 (stated): RMSE 6.37 nAm '
             '(5.38 on the fit\'s 8)')
    curves = {'seed': (_dipole(60.0), label), 'fitted': (_dipole(55.0), label)}
    note = '\n'.join(['a line of the note that says what was fitted and why ' * 3] * 5)
    fig = plot_somato_figure(_target(60.0), curves, _cell_response(),
                             fit_window_ms=170.0, note=note)
    fig.savefig(tmp_path / 'somato.png')  # lays the figure out
    dipole = fig.axes[1]
    box = dipole.get_legend().get_window_extent()
    curves_xy = [line.get_xydata() for line in dipole.get_lines()[1:]]
    inside = [box.contains(*dipole.transData.transform(xy))
              for xy in np.concatenate(curves_xy)]
    assert not any(inside)


def test_somato_figure_rejects_non_dipoles():
    with pytest.raises(ValueError, match='Dipole'):
        plot_somato_figure(_target(), {'seed': ([_dipole()], 'x')},
                           _cell_response())


def test_simulation_figure(tmp_path):
    dpls = [_dipole(nave=1), _dipole(2.0, nave=1)]
    fig = wsim.plot_simulation_figure(dpls, _cell_response())
    top, bottom = fig.axes
    assert _legend(top) == ['mean of 2 trials']
    assert top.get_title().endswith('; trials in grey')
    assert 'nAm' in top.get_ylabel()
    assert bottom.get_xlabel() == 'Time (ms)'
    assert wsim.spikes_per_cell_type(_cell_response()) == {
        'L2_basket': 6, 'L2_pyramidal': 18, 'L5_basket': 6,
        'L5_pyramidal': 18}
    fig.savefig(tmp_path / 'simulation.png')
    one = wsim.plot_simulation_figure(dpls[:1], _cell_response()).axes[0]
    assert _legend(one) == ['mean of 1 trial'] and 'grey' not in one.get_title()  # no grey trial drawn
    with pytest.raises(ValueError, match='non-empty list'):
        wsim.plot_simulation_figure([], _cell_response())


# --- outputs ----------------------------------------------------------------

def test_dipole_text_header_and_full_precision(tmp_path):
    times = np.arange(0, 10.0125, 0.025)
    dpl = Dipole(times, np.stack([1e-3 * np.sin(times) / 3, np.cos(times) / 7,
                                  np.full_like(times, np.pi)], axis=1))
    fname = tmp_path / 'dpl.txt'
    wout.write_dipole_text(dpl, fname, 'what it holds', 'smoothed: no')
    header = [line for line in fname.read_text().splitlines()
              if line.startswith('#')]
    assert header == ['# what it holds', '# smoothed: no',
                      f'# written by hnnjax {hnn.__version__}',
                      '# columns: time (ms), agg, L2, L5 (current dipole, '
                      'nAm)']
    back = hnn.read_dipole(fname)
    np.testing.assert_array_equal(back.times, dpl.times)
    for layer in ('agg', 'L2', 'L5'):  # every digit kept
        np.testing.assert_array_equal(back.data[layer], dpl.data[layer])
    hnn_core = pytest.importorskip('hnn_core')
    theirs = hnn_core.read_dipole(str(fname))
    np.testing.assert_array_equal(theirs.data['agg'], dpl.data['agg'])


def test_staged_outputs_replace_stale_files_only_on_success(tmp_path):
    out_dir = tmp_path / 'job'
    out_dir.mkdir()
    for name in ('dpl_5_raw.txt', 'notes.txt'):
        (out_dir / name).write_text('old')
    with pytest.raises(RuntimeError):
        with wout.staged_outputs(out_dir, ['dpl_*.txt']) as stage:
            (stage / 'dpl_0_raw.txt').write_text('new')
            raise RuntimeError('failed half way')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['job', 'no_somato']
    assert sorted(p.name for p in out_dir.iterdir()) == ['dpl_5_raw.txt',
                                                         'notes.txt']
    with wout.staged_outputs(out_dir, ['dpl_*.txt']) as stage:
        (stage / 'dpl_0_raw.txt').write_text('new')
        assert not (out_dir / 'dpl_0_raw.txt').exists()  # not yet
    assert sorted(p.name for p in out_dir.iterdir()) == ['dpl_0_raw.txt',
                                                         'notes.txt']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['job', 'no_somato']


def test_abandoned_outputs_leave_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with wout.staged_outputs(tmp_path / 'job', ['*']) as stage:
            (stage / 'half.txt').write_text('partial')
            wout.abandon_staged_outputs()  # what Ctrl-C does, then exits
            assert sorted(p.name for p in tmp_path.iterdir()) == \
                ['no_somato']
            raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ['no_somato']


# --- helpers ----------------------------------------------------------------

@pytest.mark.parametrize('with_progress', [True, False])
def test_progress_passed_only_when_supported(monkeypatch, with_progress):
    calls = {}

    def fake_with(net, tstop, dt, n_trials, *, dtype, progress=False):
        calls.update(dtype=dtype, progress=progress)
        return ['dpl']

    def fake_without(net, tstop, dt, n_trials, *, dtype):
        calls.update(dtype=dtype)
        return ['dpl']

    monkeypatch.setattr(wsim, 'simulate_dipole',
                        fake_with if with_progress else fake_without)
    dpls, seconds = wsim.simulate_trials(None, 10.0, 0.025, 1, 'float32',
                                         progress=True)
    assert dpls == ['dpl'] and seconds >= 0
    assert calls == ({'dtype': 'float32', 'progress': True} if with_progress
                     else {'dtype': 'float32'})


def test_resolve_params_and_network_errors(tmp_path):
    assert wsim.resolve_params('N20')['dipole_scalefctr'] == 12
    with pytest.raises(FileNotFoundError, match='params file not found'):
        wsim.resolve_params(tmp_path / 'missing.json')
    with pytest.raises(ValueError, match='erp_drives'):
        wsim.build_network('default', erp_drives=True, mesh_shape=(3, 3))
    with pytest.raises(ValueError, match='mesh_shape'):
        wsim.build_network('default', mesh_shape=(3, 0))
    net = wsim.build_network('default', erp_drives=True, params_drives=False,
                             mesh_shape=(3, 3))
    assert sorted(net.external_drives) == ['evdist1', 'evprox1', 'evprox2']


@pytest.mark.parametrize('kwargs, match', [
    (dict(n_trials=0), 'n_trials'), (dict(fit_steps=0), 'fit_steps'),
    (dict(tstop_ms=-1.0), 'tstop_ms'), (dict(tstop_ms=150.0), r'fit window \(0-170 ms\)'),
    (dict(smooth_ms=0), 'smooth_ms'),
    (dict(smooth_ms=200.0), 'must not exceed tstop_ms'),
    (dict(dtype='float16'), 'dtype'), (dict(target='bogus'), 'target'),
])
def test_run_somato_argument_errors(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        wsom.run_somato(out_dir=tmp_path / 'out', **kwargs)
    assert not (tmp_path / 'out').exists()


# --- reduced end-to-end runs ------------------------------------------------

def test_run_somato_reduced(tmp_path, capsys):
    """The main job on a 3x3 grid: one trial, one fit step."""
    out_dir = tmp_path / 'somato'
    res = wsom.run_somato(n_trials=1, fit_steps=1, out_dir=out_dir,
                          target='waveform', mesh_shape=(3, 3))
    printed = capsys.readouterr().out
    assert 'target: S1 waveform' in printed and 'least squares' in printed
    for stage in ('[1/4] seed', '[2/4] fit: 1 Adam step ', '[3/4] fitted',
                  '[4/4]', f'files in {out_dir.resolve()}/'):
        assert stage in printed
    assert res.files == sorted(wsom.OUTPUT_FILES)
    assert sorted(p.name for p in out_dir.iterdir()) == res.files
    fitted = hnn.read_dipole(out_dir / 'fitted_dpl.txt')
    np.testing.assert_array_equal(fitted.data['agg'],
                                  res.fitted.average.data['agg'])
    header = (out_dir / 'seed_dpl.txt').read_text().split('\n0.0')[0]
    assert 'mean of 1 faithful trial (float64)' in header
    assert 'smoothed over 20 ms' in header and 'least squares' in header
    assert 'nAm' in header and hnn.__version__ in header
    drives = (out_dir / 'fitted_drives.txt').read_text()
    assert all(name in drives for name in res.fit.values)
    for run in (res.seed, res.fitted):
        assert np.isfinite(run.rmse_nam) and run.rmse_nam > 0
        assert run.rmse_nam == pytest.approx(wsom.target_rmse(
            res.target, run.average, 70.0)[0])
    assert len(res.fit.loss_history) == 2
    # the trial noise: the spread of the fit's trial and the fresh one
    for run in (res.seed, res.fitted):
        values = np.stack([np.interp(res.target.times[res.target.times <= 70.0], d.times,
                                     d.data['agg']) for d in run.dpls]) * run.scale
        assert run.noise_nam == pytest.approx(np.sqrt(np.mean((values[0] - values[1]) ** 2) / 2))
        assert run.noise_nam > 0
    assert f'trial noise: a mean of 1 trial scatters {res.seed.noise_nam:#.2g} (seed)' in printed
    assert 'trial noise of the mean of the 1 fresh trial (its RMS' in header
    types = set(res.fitted.cell_response.spike_types[0])
    assert {'evprox1', 'evprox2', 'evdist1', 'evdist2'} <= types


def test_trial_noise_is_the_scatter_of_a_mean_of_trials():
    """Trials at 0 and 2 nAm, x3: variance 18 nAm^2; a mean of 2 scatters
    3 nAm RMS about the expected dipole; one trial has no spread."""
    times = np.arange(0.0, 11.0)
    target = Dipole(times, np.zeros_like(times))
    dpls = [Dipole(times, np.full_like(times, level)) for level in (0.0, 2.0)]
    assert wsom.trial_noise(target, dpls, 3.0, 2) == pytest.approx(3.0)
    assert wsom.trial_noise(target, dpls, 3.0, 1) == pytest.approx(np.sqrt(18.0))
    assert np.isnan(wsom.trial_noise(target, dpls[:1], 3.0, 1))


def test_noise_words_say_when_scores_are_mostly_noise():
    def run(noise, rmse):
        return SimpleNamespace(noise_nam=noise, rmse_nam=rmse)
    noisy = wsom._noise_words(run(4.8, 5.21), run(5.0, 5.76), 2)
    assert noisy.startswith('a mean of 2 trials scatters 4.8 (seed) and 5.0 (fitted) nAm RMS')
    assert 'mostly that scatter' in noisy
    quiet = wsom._noise_words(run(0.41, 35.7), run(0.41, 35.7), 1)
    assert quiet.startswith('a mean of 1 trial scatters 0.41') and 'mostly' not in quiet


def test_run_simulation_reduced(tmp_path, capsys):
    res = wsim.run_simulation('default', tstop_ms=60.0, n_trials=2,
                              out_dir=tmp_path / 'out', mesh_shape=(3, 3),
                              smooth_ms=10.0, scale=100.0)
    printed = capsys.readouterr().out
    assert 'simulated 2 trials of 60 ms' in printed
    assert [f.name for f in res.trial_files] == ['dpl_0_raw.txt',
                                                 'dpl_1_raw.txt']
    assert all(f.is_file() for f in res.trial_files)
    assert res.average_file.is_file() and res.figure_file.is_file()
    assert res.average.nave == 2 and res.average.scale_applied == 100
    assert sum(res.spike_counts.values()) > 0
