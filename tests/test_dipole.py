"""Dipole container, its text I/O, averaging, target waveforms and plots."""
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from hnnjax.dipole import Dipole, average_dipoles, read_dipole, read_waveform
from hnnjax.viz import plot_dipole

matplotlib.use('Agg')
MEG_DIR = Path(__file__).resolve().parents[1] / 'hnnjax' / 'data' / 'meg'


def _dipole(n_times=200, dt_ms=0.5, seed=0):
    rng = np.random.default_rng(seed)
    times = np.arange(n_times) * dt_ms
    l2, l5 = rng.standard_normal((2, n_times))
    return Dipole(times, np.column_stack([l2 + l5, l2, l5]))


def test_construction_layouts():
    times = np.arange(5) * 0.025
    one = Dipole(times, np.arange(5.0))
    assert list(one.data) == ['agg'] and one.nave == 1
    assert one.sfreq == pytest.approx(40000.0)
    assert one.scale_applied == 1 and one.info == {}
    three = Dipole(times, np.ones((5, 3)), nave=2, info={'origin': 'test'})
    assert list(three.data) == ['agg', 'L2', 'L5'] and three.nave == 2
    assert three.info == {'origin': 'test'}
    as_dict = Dipole(times, {'L5': np.ones(5), 'agg': np.ones(5),
                             'L2': np.zeros(5)})
    assert list(as_dict.data) == ['agg', 'L2', 'L5']
    with pytest.raises(ValueError, match='data must have shape'):
        Dipole(times, np.ones((5, 2)))
    with pytest.raises(ValueError, match="data dict keys"):
        Dipole(times, {'L2': np.ones(5)})
    with pytest.raises(ValueError, match=r"data\['agg'\] must have shape"):
        Dipole(times, np.ones(4))
    with pytest.raises(ValueError, match='strictly increasing'):
        Dipole(times[::-1], np.ones(5))
    with pytest.raises(ValueError, match='nave'):
        Dipole(times, np.ones(5), nave=0)


def test_smooth_matches_hand_convolution():
    dpl = _dipole()
    expected = {}
    n_win = int(np.round(1e-3 * 20.0 * dpl.sfreq))  # 20 ms at 2 kHz
    assert n_win == 40
    window = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(n_win) / (n_win - 1))
    window /= window.sum()
    shift = (n_win - 1) // 2  # np.convolve(mode='same') centring
    for key, x in dpl.data.items():
        # y[n] = sum_k x[n + shift - k] w[k], zero outside the trace
        expected[key] = np.array([
            sum(x[n + shift - k] * window[k] for k in range(n_win)
                if 0 <= n + shift - k < len(x))
            for n in range(len(x))])
    assert dpl.smooth(20.0) is dpl
    for key in dpl.data:
        np.testing.assert_allclose(dpl.data[key], expected[key], atol=1e-12)


@pytest.mark.parametrize('window_len, error, match', [
    (0, ValueError, 'window_len must be'), (-3.0, ValueError, 'window_len must be'),
    ('5', TypeError, 'window_len must be'), (0.1, ValueError, 'spans 0 samples'),
    (101.0, ValueError, 'spans 202 samples')])
def test_smooth_rejects_bad_windows(window_len, error, match):
    with pytest.raises(error, match=match):
        _dipole().smooth(window_len)


def test_scale_and_copy():
    dpl = _dipole()
    orig = {key: values.copy() for key, values in dpl.data.items()}
    twin = dpl.copy()
    assert dpl.scale(3.0).scale(2) is dpl
    assert dpl.scale_applied == 6.0
    for key in orig:
        np.testing.assert_allclose(dpl.data[key], 6.0 * orig[key])
        np.testing.assert_array_equal(twin.data[key], orig[key])
    assert twin.scale_applied == 1
    with pytest.raises(ValueError, match='factor'):
        dpl.scale(np.nan)


def test_savgol_filter():
    times = np.arange(400) * 0.5  # ms, 2 kHz
    slow = np.sin(2 * np.pi * 5 * times / 1e3)
    noisy = slow + 0.3 * np.sin(2 * np.pi * 400 * times / 1e3)
    dpl = Dipole(times, noisy).savgol_filter(40.0)
    inner = slice(50, -50)
    assert np.abs(dpl.data['agg'] - slow)[inner].max() < 0.05
    for h_freq in (0, -1.0, 1000.0, 2000.0):
        with pytest.raises(ValueError, match='h_freq'):
            Dipole(times, noisy).savgol_filter(h_freq)


def test_write_read_round_trip(tmp_path):
    dpl = _dipole()
    fname = tmp_path / 'dpl.txt'
    dpl.write(fname)
    text = fname.read_text().splitlines()
    assert text[1].split('\t')[0] == '0.500'  # hnn-core's %3.3f / %5.4f
    assert len(text[1].split('\t')[1].split('.')[1]) == 4
    back = read_dipole(fname)
    np.testing.assert_allclose(back.times, dpl.times)
    assert list(back.data) == ['agg', 'L2', 'L5']
    for key in dpl.data:
        np.testing.assert_allclose(back.data[key], dpl.data[key], atol=5e-5)
    agg_only = Dipole(dpl.times, dpl.data['agg'])
    agg_only.write(tmp_path / 'agg.txt')
    assert list(read_dipole(tmp_path / 'agg.txt').data) == ['agg']
    with pytest.raises(FileExistsError):
        dpl.write(fname, overwrite=False)
    with pytest.raises(ValueError, match="fname must end with '.txt' or '.hdf5'"):
        dpl.write(tmp_path / 'dpl.mat')
    with pytest.raises(FileNotFoundError):
        read_dipole(tmp_path / 'missing.txt')
    np.savetxt(tmp_path / 'three.txt', np.ones((4, 3)))
    with pytest.raises(ValueError, match='three.txt, line 1: expected 2 or 4 numbers'):
        read_dipole(tmp_path / 'three.txt')


def test_average_dipoles(tmp_path):
    dpls = [_dipole(seed=seed) for seed in range(3)]
    avg = average_dipoles(dpls)
    assert avg.nave == 3 and avg.scale_applied == 1
    for key in ('agg', 'L2', 'L5'):
        np.testing.assert_allclose(
            avg.data[key], np.mean([d.data[key] for d in dpls], axis=0))
    with pytest.warns(UserWarning, match='average'):
        avg.write(tmp_path / 'avg.txt')


@pytest.mark.parametrize('bad, match', [
    (lambda d: d.scale(2.0), 'scaled equally'),
    (lambda d: setattr(d, 'nave', 2), 'already an average'),
    (lambda d: setattr(d, 'times', d.times + 1.0), 'different times'),
])
def test_average_dipoles_errors(bad, match):
    dpls = [_dipole(seed=seed) for seed in range(2)]
    bad(dpls[1])
    with pytest.raises(ValueError, match=match):
        average_dipoles(dpls)


def test_average_dipoles_type_errors():
    with pytest.raises(ValueError, match='non-empty list'):
        average_dipoles([])
    with pytest.raises(ValueError, match=r'dpls\[1\] must be a Dipole'):
        average_dipoles([_dipole(), np.zeros(200)])
    agg_only = Dipole(np.arange(200) * 0.5, np.zeros(200))
    with pytest.raises(ValueError, match='layers'):
        average_dipoles([_dipole(), agg_only])


def test_read_waveform_and_resample():
    fname = MEG_DIR / 'yes_trial_S1_ERP_all_avg.txt'
    table = np.loadtxt(fname)
    dpl = read_waveform(fname)
    np.testing.assert_array_equal(dpl.times, table[:, 0])
    np.testing.assert_array_equal(dpl.data['agg'], table[:, 1])
    assert dpl.info['source'].endswith('yes_trial_S1_ERP_all_avg.txt')
    grid = np.arange(0.0, 150.0, 0.025)
    fine = read_waveform(fname, times=grid)
    np.testing.assert_array_equal(fine.times, grid)
    assert fine.sfreq == pytest.approx(40000.0)
    np.testing.assert_allclose(fine.data['agg'],
                               np.interp(grid, table[:, 0], table[:, 1]))
    np.testing.assert_allclose(fine.data['agg'][::200][:5],
                               np.interp(grid[::200][:5], *table.T))
    assert fine.info['resampled']['n_times'] == grid.size
    s1 = read_waveform(MEG_DIR / 'S1_SupraT.txt')
    with pytest.raises(ValueError, match=r'\[0, 173.333\] ms'):
        read_waveform(MEG_DIR / 'S1_SupraT.txt', times=np.arange(-5., 100.))
    with pytest.raises(ValueError, match='within'):
        read_waveform(MEG_DIR / 'S1_SupraT.txt',
                      times=np.linspace(0, s1.times[-1] + 1, 50))


def test_read_waveform_finds_shipped_waveforms_by_bare_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dpl = read_waveform('S1_SupraT.txt')
    np.testing.assert_array_equal(dpl.data['agg'], np.loadtxt(MEG_DIR / 'S1_SupraT.txt')[:, 1])
    np.savetxt(tmp_path / 'S1_SupraT.txt', [[0.0, 1.0], [1.0, 2.0]])  # a local file comes first
    assert read_waveform('S1_SupraT.txt').data['agg'].tolist() == [1.0, 2.0]
    with pytest.raises(FileNotFoundError, match=r"sub/S1_SupraT.txt$"):  # paths are not looked up
        read_waveform('sub/S1_SupraT.txt')


def test_read_waveform_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.txt'):
        read_waveform(tmp_path / 'nothing.txt')
    np.savetxt(tmp_path / 'four.txt', np.ones((5, 4)))
    with pytest.raises(ValueError, match='four.txt, line 1: expected 2 numbers'):
        read_waveform(tmp_path / 'four.txt')


def test_plot_dipole(tmp_path):
    import matplotlib.pyplot as plt

    dpls = [_dipole(seed=seed) for seed in range(3)]
    fig = plot_dipole(dpls[0], label='trial 0', show=True)
    ax = fig.axes[0]
    assert ax.get_xlabel() == 'Time (ms)'
    assert ax.get_ylabel() == 'Dipole (nAm)'
    assert ax.get_legend().get_texts()[0].get_text() == 'trial 0'
    fig.savefig(tmp_path / 'dipole.png')
    assert (tmp_path / 'dipole.png').stat().st_size > 0

    fig = plot_dipole(dpls, layer=['agg', 'L2', 'L5'], average=True,
                      decim=[2, 2], tmin=10.0, tmax=80.0, show=False)
    assert len(fig.axes) == 3
    assert fig.axes[0].get_xlim() == (10.0, 80.0)
    assert [len(ax.lines) for ax in fig.axes] == [4, 4, 4]
    assert len(fig.axes[0].lines[-1].get_xdata()) == 50  # decimated by 4

    scaled = [d.copy().scale(3000) for d in dpls]
    fig = dpls[0].copy().scale(3000).plot(show=False)
    assert '3000' in fig.axes[0].get_ylabel()
    with pytest.raises(ValueError, match='scale_applied'):
        plot_dipole([dpls[0], scaled[1]], show=False)
    with pytest.raises(ValueError, match="layer 'L2'"):
        plot_dipole(Dipole(dpls[0].times, dpls[0].data['agg']), layer='L2',
                    show=False)
    with pytest.raises(ValueError, match='decim'):
        plot_dipole(dpls[0], decim=0, show=False)
    plt.close('all')


def test_hdf5_files_move_both_ways_with_hnn_core(tmp_path):
    """hnn-core's ``Dipole.write('x.hdf5')`` (h5io) reads back whole here
    (tests/fixtures/dipole_hnn_core.hdf5, written by hnn-core 0.6.1), and a
    file written here holds the same fields."""
    fixtures = Path(__file__).parent / 'fixtures'
    ref = np.load(fixtures / 'dipole_hnn_core.npz')
    dpl = read_dipole(fixtures / 'dipole_hnn_core.hdf5')
    np.testing.assert_array_equal(dpl.times, ref['times'])
    for layer in ('agg', 'L2', 'L5'):
        np.testing.assert_array_equal(dpl.data[layer], ref[layer])
    assert (dpl.nave, dpl.scale_applied, dpl.sfreq) == (2, 3000.0, float(ref['sfreq']))
    dpl.write(tmp_path / 'again.hdf5')
    again = read_dipole(str(tmp_path / 'again.hdf5'))
    np.testing.assert_array_equal(again.data['L5'], dpl.data['L5'])
    assert (again.nave, again.scale_applied) == (2, 3000.0)
    import h5io
    assert set(h5io.read_hdf5(tmp_path / 'again.hdf5')) == set(
        h5io.read_hdf5(fixtures / 'dipole_hnn_core.hdf5'))  # hnn-core's fields, no more
    with pytest.raises(FileExistsError, match='overwrite=True'):
        dpl.write(tmp_path / 'again.hdf5', overwrite=False)
    h5io.write_hdf5(tmp_path / 'other.hdf5', {'object_type': 'CellResponse'})
    with pytest.raises(ValueError, match="holds no Dipole \\(its object_type is 'CellResponse'\\)"):
        read_dipole(tmp_path / 'other.hdf5')
    with pytest.raises(ValueError, match="fname must end with '.txt' or '.hdf5'"):
        dpl.write(tmp_path / 'x.h5')
