"""Dipole spectra: PSD and Morlet power (hnnjax.viz.spectral)."""
import matplotlib

matplotlib.use('Agg')

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from hnnjax import Dipole  # noqa: E402
from hnnjax.viz import plot_psd, plot_tfr_morlet  # noqa: E402
from hnnjax.viz.spectral import psd, tfr_morlet  # noqa: E402

TIMES = np.arange(0, 500.0, 0.5)  # ms, 2 kHz


def _sine(freq_hz, amp=2.0, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    agg = amp * np.sin(2 * np.pi * freq_hz * TIMES / 1e3) + noise * rng.standard_normal(TIMES.size)
    return Dipole(TIMES, np.stack([agg, 0.25 * agg, 0.75 * agg], axis=1))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close('all')


def test_psd_peaks_at_the_sine_frequency_with_parseval_power():
    freqs, power = psd(_sine(40.0), layer='agg')
    assert freqs[np.argmax(power)] == pytest.approx(40.0, abs=2.0)
    # total power of a sine of amplitude 2 is 2²/2 = 2 nAm²
    assert np.sum(power) * (freqs[1] - freqs[0]) == pytest.approx(2.0, rel=0.05)
    freqs_l2, power_l2 = psd(_sine(40.0), layer='L2')
    np.testing.assert_allclose(power_l2, 0.25 ** 2 * power)


def test_psd_of_trials_is_the_mean_power():
    dpls = [_sine(20.0, noise=0.5, seed=s) for s in range(3)]
    _, mean = psd(dpls)
    np.testing.assert_allclose(mean, np.mean([psd(d)[1] for d in dpls], axis=0))


def test_psd_time_window_is_half_open():
    dpl = _sine(40.0)
    freqs, _ = psd(dpl, tmin=100.0, tmax=300.0)
    n = np.sum((TIMES >= 100.0) & (TIMES < 300.0))
    assert freqs.size == n // 2 + 1


def test_tfr_power_sits_at_the_sine_frequency_and_time():
    t = TIMES
    burst = np.where((t >= 200) & (t < 300), np.sin(2 * np.pi * 30.0 * t / 1e3), 0.0)
    dpl = Dipole(t, burst)
    freqs = np.arange(10.0, 60.0, 2.0)
    times, power = tfr_morlet(dpl, freqs, n_cycles=4)
    assert power.shape == (freqs.size, t.size - 1)  # the last sample is outside [tmin, tmax)
    f_idx, t_idx = np.unravel_index(np.argmax(power), power.shape)
    assert freqs[f_idx] == pytest.approx(30.0, abs=2.0)
    assert 200.0 <= times[t_idx] < 300.0
    assert power[f_idx, times < 150].max() < 1e-3 * power.max()  # the wavelet reaches ~65 ms


def test_tfr_padding_modes_and_decimation():
    dpl = _sine(40.0)
    freqs = np.array([30.0, 40.0, 50.0])
    _, zeros = tfr_morlet(dpl, freqs, n_cycles=5, padding='zeros')
    _, mirror = tfr_morlet(dpl, freqs, n_cycles=5, padding='mirror')
    _, none = tfr_morlet(dpl, freqs, n_cycles=5, padding=None)
    middle = slice(300, 700)  # far from the edges the padding does not matter
    np.testing.assert_allclose(zeros[:, middle], mirror[:, middle], rtol=1e-6)
    np.testing.assert_allclose(zeros[:, middle], none[:, middle], rtol=1e-6)
    times, dec = tfr_morlet(dpl, freqs, n_cycles=5, decim=[2, 2])
    assert dec.shape[1] == times.size == int(np.ceil((TIMES.size - 1) / 4))
    assert np.argmax(dec[:, times.size // 2]) == 1


def test_plots_draw_the_computed_spectra(tmp_path):
    dpl = _sine(40.0).scale(3000)
    fig = dpl.plot_psd(fmin=0, fmax=100, label='sine', show=False)
    fig.savefig(tmp_path / 'psd.png')
    ax = fig.axes[0]
    freqs, power = psd(dpl)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), power)
    assert ax.get_xlim() == (0, 100)
    assert '3000' in ax.get_ylabel()

    freqs = np.arange(20.0, 60.0, 1.0)
    fig = dpl.plot_tfr_morlet(freqs, n_cycles=5, show=False)
    fig.savefig(tmp_path / 'tfr.png')
    mesh = fig.axes[0].collections[0]
    _, power = tfr_morlet(dpl, freqs, n_cycles=5)
    np.testing.assert_allclose(np.asarray(mesh.get_array()).ravel(), power.ravel())
    assert len(fig.axes) == 2 and '3000' in fig.axes[1].get_ylabel()

    _, axes = plt.subplots(1, 2)
    plot_psd([dpl, dpl], ax=axes[0], show=False)
    plot_tfr_morlet([dpl, dpl], freqs, ax=axes[1], colorbar_inside=True, show=False)
    assert len(axes[1].get_figure().axes) == 3


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(layer='L3'), ValueError, 'layer'),
    (dict(tmin=400.0, tmax=400.1), ValueError, 'tmin'),
    (dict(tmin='0'), TypeError, 'tmin'),
])
def test_psd_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        psd(_sine(10.0), **kwargs)


def test_spectra_bad_input():
    dpl = _sine(10.0)
    with pytest.raises(ValueError, match='dpl must be'):
        psd([])
    with pytest.raises(ValueError, match='scaled equally'):
        psd([dpl, dpl.copy().scale(2)])
    with pytest.raises(ValueError, match='sampled equally'):
        psd([dpl, Dipole(np.arange(0, 100.0, 0.25), np.zeros(400))])
    with pytest.raises(ValueError, match='layer'):
        psd(Dipole(TIMES, np.zeros(TIMES.size)), layer='L5')
    with pytest.raises(ValueError, match='padding'):
        tfr_morlet(dpl, [10.0], padding='reflect')
    with pytest.raises(ValueError, match='freqs'):
        tfr_morlet(dpl, [0.0, 10.0])
    with pytest.raises(ValueError, match='fmax'):
        plot_psd(dpl, fmin=50, fmax=10, show=False)


def test_matches_hnn_core_on_the_same_dipole():
    hnn_core = pytest.importorskip('hnn_core')
    from hnn_core.viz import plot_psd as core_psd, plot_tfr_morlet as core_tfr

    rng = np.random.default_rng(1)
    data = np.cumsum(rng.standard_normal((TIMES.size, 3)), axis=0)
    ours = Dipole(TIMES, data)
    theirs = hnn_core.Dipole(TIMES, data)
    fig = core_psd(theirs, tmin=50.0, tmax=450.0, layer='L5', show=False)
    np.testing.assert_allclose(psd(ours, tmin=50.0, tmax=450.0, layer='L5')[1],
                               fig.axes[0].get_lines()[0].get_ydata(), rtol=1e-10)
    freqs = np.arange(10.0, 80.0, 5.0)
    for padding in ('zeros', 'mirror', None):
        fig = core_tfr(theirs, freqs, n_cycles=3, decim=2, padding=padding, show=False)
        expected = np.asarray(fig.axes[0].collections[0].get_array()).reshape(freqs.size, -1)
        np.testing.assert_allclose(tfr_morlet(ours, freqs, n_cycles=3, decim=2,
                                              padding=padding)[1], expected, rtol=1e-10)
