"""MEG -> target Dipole with MNE, on the synthetic offline recording."""
from pathlib import Path

import mne
import numpy as np
import pytest

from hnnjax.dipole import Dipole, read_waveform
from hnnjax.source import (SomatoDataNotFoundError, label_dipole,
                           make_synthetic_meg, somato_target)

S1_FILE = Path(__file__).resolve().parents[1] / 'hnnjax' / 'data' / 'meg' \
    / 'S1_SupraT.txt'


def _corr_post(dpl, truth):
    """Correlation over t >= 0 ms of two dipoles on the same time grid."""
    np.testing.assert_allclose(dpl.times, truth.times)
    post = dpl.times >= 0
    return np.corrcoef(dpl.data['agg'][post], truth.data['agg'][post])[0, 1]


@pytest.fixture(scope='module')
def sim(tmp_path_factory):
    return make_synthetic_meg(tmp_path_factory.mktemp('synthetic'),
                              n_trials=60, seed=0)


@pytest.fixture(scope='module')
def target(sim):
    return label_dipole(sim.raw_fname, sim.fwd_fname, sim.subjects_dir,
                        sim.subject, sim.label)


@pytest.fixture(scope='module')
def epochs(sim):
    raw = sim.raw.copy().filter(1.0, 40.0, verbose=False)
    return mne.Epochs(raw, sim.events, None, -0.2, 0.17, baseline=None,
                      reject=dict(grad=4000e-13, eog=350e-6), preload=True,
                      verbose=False)


def _small_raw(sim, silent_stim=False):
    """A cheap Raw: a few MEG channels, the EOG and the stim channel."""
    raw = sim.raw.copy().pick(sim.raw.ch_names[:6] + ['EOG 061', 'STI 014'])
    if silent_stim:
        raw.apply_function(lambda x: 0 * x, picks='stim')
    return raw


def test_recovers_injected_waveform(sim, target):
    """polarity=-1 (the seed's) gives the injected waveform's sign here."""
    r = _corr_post(target, sim.expected())
    print(f'correlation with the injected waveform: {r:.4f}')
    assert r >= 0.95
    assert target.times[0] == pytest.approx(-200.0)
    assert target.times[-1] == pytest.approx(170.0, abs=1e3 / 600)
    assert target.sfreq == pytest.approx(600.0)


def test_polarity_flips_sign_and_inputs_are_untouched(sim, target):
    highpass = sim.raw.info['highpass']
    flipped = label_dipole(sim.raw, sim.fwd, sim.subjects_dir, sim.subject,
                           sim.label, polarity=1)
    assert sim.raw.info['highpass'] == highpass  # filtered a copy
    np.testing.assert_allclose(flipped.data['agg'], -target.data['agg'],
                               rtol=1e-4, atol=1e-6 * np.abs(
                                   target.data['agg']).max())
    assert _corr_post(flipped, sim.expected()) <= -0.95
    assert flipped.info['polarity'] == 1


def test_info_records_steps(sim, target):
    info = target.info
    assert info['input'] == sim.raw_fname
    assert info['label'] == 'G_postcentral-rh'
    assert info['label_regexp'] == 'G_postcentral'
    assert info['parc'] == 'aparc.a2009s' and info['hemi'] == 'rh'
    assert info['polarity'] == -1 and info['units'] == 'nAm'
    assert info['filter'] == {'l_freq_hz': 1.0, 'h_freq_hz': 40.0}
    assert info['events'] == {'stim_channel': 'STI 014', 'event_id': None,
                              'n_events': len(sim.events)}
    assert info['epochs']['reject'] == {'grad': 4000e-13, 'eog': 350e-6}
    assert 0 < info['epochs']['n_kept'] < info['epochs']['n_selected']
    assert info['noise_cov']['from'] == 'epochs'
    assert info['inverse'] == {'lambda2': 1 / 9, 'method': 'MNE',
                               'pick_ori': 'normal',
                               'nave': info['epochs']['n_kept'],
                               'n_channels': 306}
    assert info['mode'] == 'pca_flip'


def test_epochs_evoked_and_label_inputs(sim, target, epochs):
    from_epochs = label_dipole(epochs, sim.fwd, sim.subjects_dir,
                               sim.subject, sim.label)
    np.testing.assert_allclose(from_epochs.data['agg'], target.data['agg'],
                               rtol=1e-3, atol=1e-4 * np.abs(
                                   target.data['agg']).max())
    assert from_epochs.info['filter'] is None
    assert from_epochs.info['epochs'] == {'given': True,
                                          'n_kept': len(epochs)}
    cov = mne.compute_covariance(epochs, verbose=False)
    label = mne.read_labels_from_annot(
        sim.subject, 'aparc.a2009s', 'rh', regexp='G_postcentral',
        subjects_dir=sim.subjects_dir, verbose=False)[0]
    from_evoked = label_dipole(epochs.average(), sim.fwd, None, None, label,
                               noise_cov=cov)
    np.testing.assert_allclose(from_evoked.data['agg'],
                               from_epochs.data['agg'], rtol=1e-6)
    assert from_evoked.info['label'] == 'G_postcentral-rh'
    assert from_evoked.info['noise_cov']['from'] == 'given'
    with pytest.raises(ValueError, match='noise_cov is required'):
        label_dipole(epochs.average(), sim.fwd, None, None, label)


def test_injects_a_given_waveform(tmp_path):
    s1 = read_waveform(S1_FILE)
    sim = make_synthetic_meg(tmp_path, s1, n_trials=20, seed=1)
    np.testing.assert_allclose(
        sim.waveform.data['agg'],
        np.interp(sim.waveform.times, s1.times, s1.data['agg']))
    assert sim.waveform.info['source'] == s1.info['source']
    dpl = label_dipole(sim.raw, sim.fwd, sim.subjects_dir, sim.subject,
                       sim.label)
    assert _corr_post(dpl, sim.expected()) >= 0.95


def test_bem_model(tmp_path):
    sim = make_synthetic_meg(tmp_path, n_trials=60, seed=0, model='bem')
    dpl = label_dipole(sim.raw, sim.fwd, sim.subjects_dir, sim.subject,
                       sim.label)
    assert _corr_post(dpl, sim.expected()) >= 0.95


@pytest.mark.parametrize('kwargs, match', [
    (dict(polarity=2), 'polarity must be'),
    (dict(polarity=True), 'polarity must be'),
    (dict(tmin=0.2, tmax=0.1), r'tmin \(0.2 s\) must be < tmax'),
    (dict(tmax=np.inf), 'tmax must be a finite'),
    (dict(lambda2=0.0), 'lambda2'),
    (dict(method='LCMV'), 'method must be'),
    (dict(mode='median'), 'mode must be'),
    (dict(hemi='both'), "hemi must be 'lh' or 'rh'"),
    (dict(stim_channel='STI 101'),
     r"stim_channel 'STI 101' is not in the data.*\['STI 014'\]"),
    (dict(event_id=7), r'event_id \[7\] not found.*present: \[1\]'),
    (dict(reject=dict(grad=4e-10, eeg=1e-4)),
     r"reject has thresholds for \['eeg'\] but the data has no such"),
])
def test_argument_errors(sim, kwargs, match):
    with pytest.raises(ValueError, match=match):
        label_dipole(_small_raw(sim), sim.fwd, sim.subjects_dir, sim.subject,
                     **kwargs)


def test_no_events(sim):
    raw = _small_raw(sim, silent_stim=True)
    with pytest.raises(ValueError, match="no events found on stim_channel"):
        label_dipole(raw, sim.fwd, sim.subjects_dir, sim.subject)


@pytest.mark.parametrize('label, match', [
    ('G_nowhere', r"matched 0\. Labels: .*G_postcentral-rh"),
    ('^[GS]_', r"matched 3\. Matches: G_postcentral-rh, G_precentral-rh, "
               r"S_central-rh"),
])
def test_label_must_match_one(sim, label, match):
    with pytest.raises(ValueError, match=match):
        label_dipole(_small_raw(sim), sim.fwd, sim.subjects_dir, sim.subject,
                     label)


def test_forward_channel_mismatch(sim):
    fwd = mne.pick_channels_forward(sim.fwd, exclude=['MEG 0113'],
                                    verbose=False)
    with pytest.raises(ValueError, match=r"fwd lacks 1 .*'MEG 0113'"):
        label_dipole(_small_raw(sim), fwd, sim.subjects_dir, sim.subject)


@pytest.mark.filterwarnings('ignore:All epochs were dropped')
def test_rejecting_everything(sim):
    with pytest.raises(ValueError, match='dropped all 60 epochs'):
        label_dipole(sim.raw, sim.fwd, sim.subjects_dir, sim.subject,
                     reject=dict(grad=1e-15))


def test_bad_inputs(sim):
    with pytest.raises(ValueError, match='inst must be'):
        label_dipole(np.zeros((3, 10)), sim.fwd, sim.subjects_dir,
                     sim.subject)
    with pytest.raises(ValueError, match='fwd must be'):
        label_dipole(sim.raw, None, sim.subjects_dir, sim.subject)


def test_make_synthetic_meg_errors(tmp_path):
    with pytest.raises(ValueError, match="model must be 'sphere' or 'bem'"):
        make_synthetic_meg(tmp_path, model='3-layer')
    with pytest.raises(ValueError, match='n_trials'):
        make_synthetic_meg(tmp_path, n_trials=1)
    with pytest.raises(ValueError, match=r'waveform must be None or a Dipole'):
        make_synthetic_meg(tmp_path, np.zeros(10))
    late = Dipole([-10.0, 0.0, 10.0], [0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match=r'\[0, 600\] ms'):
        make_synthetic_meg(tmp_path, late)


def test_somato_target_absent(tmp_path, monkeypatch):
    with pytest.raises(SomatoDataNotFoundError) as err:
        somato_target(tmp_path)
    assert isinstance(err.value, FileNotFoundError)
    msg = str(err.value)
    assert str(tmp_path / 'MNE-somato-data') in msg
    assert 'sub-01_task-somato_meg.fif' in msg
    assert 'MNE_DATASETS_SOMATO_PATH' in msg
    assert 'hnnjax.read_waveform' in msg and 'S1_SupraT.txt' in msg
    monkeypatch.setenv('MNE_DATASETS_SOMATO_PATH', str(tmp_path / 'elsewhere'))
    with pytest.raises(SomatoDataNotFoundError,
                       match=str(tmp_path / 'elsewhere' / 'MNE-somato-data')):
        somato_target()
