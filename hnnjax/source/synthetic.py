"""A synthetic, MNE-valid MEG recording with a known S1 dipole waveform.

Built offline from files inside the mne wheel (no dataset download): the fake
subject of :mod:`._anatomy`, the 306-channel Vectorview geometry, a forward
model, and raw data in which a known waveform (nAm) is injected in the
anterior wall of rh G_postcentral at every stimulus, plus bilateral 'SII'
distractors, correlated brain noise, sensor noise and EOG blinks. It lets
:func:`hnnjax.source.label_dipole` be tested and demonstrated end to end.
"""
import os
from dataclasses import dataclass

import mne
import numpy as np
from mne.simulation import SourceSimulator, add_eog, add_noise, simulate_raw

from .._checks import check_int
from ..dipole import Dipole
from ._anatomy import (FSAVERAGE, INNER_SKULL, PARC, SUBJECT, TRANS,
                       generator_labels, make_fake_subject)

SFREQ = 600.0  # Hz
STIM_CHANNEL, EOG_CHANNEL = 'STI 014', 'EOG 061'
_ISI_S = (0.8, 1.0)  # s, uniform range of inter-stimulus intervals
# m, device frame: centre of a sphere fitted to the Vectorview sensors
_SENSOR_CENTRE = np.array([0.0, 0.0149, -0.0111])
_BRAIN_NOISE_NAM = 40.0  # nAm rms, summed in quadrature over all sources
_EOG_GAIN = 4.0  # blinks of ~400 uV, so that eog=350e-6 rejects some epochs


def _gauss(t_ms, mu_ms, sd_ms):
    return np.exp(-0.5 * ((t_ms - mu_ms) / sd_ms) ** 2)


def default_waveform(times_ms):
    """S1 evoked dipole (nAm) with N20/P30/N45/P85/N130-like peaks."""
    t = np.asarray(times_ms, dtype=float)
    return (-25 * _gauss(t, 22, 4) + 18 * _gauss(t, 32, 5)
            - 30 * _gauss(t, 48, 10) + 12 * _gauss(t, 85, 15)
            - 10 * _gauss(t, 130, 20))


def _sii_waveform(times_ms):
    """Distractor dipole (nAm) in bilateral SII, peaking at 95 ms."""
    return 15 * _gauss(np.asarray(times_ms, dtype=float), 95, 18)


def _injected(waveform, sfreq):
    """The injected waveform as a Dipole on the simulation grid (ms, nAm)."""
    if waveform is None:
        times = np.arange(int(0.25 * sfreq)) * 1e3 / sfreq
        return Dipole(times, default_waveform(times),
                      info={'source': 'hnnjax.source.synthetic.'
                                      'default_waveform'})
    if not isinstance(waveform, Dipole):
        raise ValueError("waveform must be None or a Dipole (ms, nAm); got "
                         f"{type(waveform)}")
    t0, t1 = waveform.times[0], waveform.times[-1]
    max_ms = 1e3 * _ISI_S[0] - 200.0  # keep clear of the next epoch (-200 ms)
    if t0 < 0 or t1 > max_ms:
        raise ValueError(
            f"waveform times must lie in [0, {max_ms:g}] ms after the "
            f"stimulus; got [{t0:g}, {t1:g}] ms")
    times = np.arange(int(np.floor(t1 * sfreq / 1e3)) + 1) * 1e3 / sfreq
    values = np.interp(times, waveform.times, waveform.data['agg'], left=0.0)
    return Dipole(times, values, info=dict(waveform.info))


def _sensor_info(sfreq):
    """Vectorview MEG + EOG + stim channels around fsaverage's head.

    The digitization (fiducials, scalp points) lets MNE place EOG blinks.
    """
    canonical = mne.channels.read_meg_canonical_info('neuromag')
    names = canonical['ch_names'] + [EOG_CHANNEL, STIM_CHANNEL]
    info = mne.create_info(names, sfreq, ['mag'] * len(canonical['ch_names'])
                           + ['eog', 'stim'])
    for ch, ref in zip(info['chs'], canonical['chs']):
        for key in ('coil_type', 'coord_frame', 'kind', 'unit'):
            ch[key] = ref[key]
        ch['loc'][:] = ref['loc']
    info.set_montage(_montage())
    # device -> head: sensor-array centre 1 cm below the brain's centre
    head_t = np.eye(4)
    head_t[:3, 3] = _brain_centre() - [0.0, 0.0, 0.010] - _SENSOR_CENTRE
    info['dev_head_t'] = mne.transforms.Transform('meg', 'head', head_t)
    return info


def _to_head(points_mri):
    """MRI -> head coordinates (m) with fsaverage's transform."""
    mri_head = mne.transforms.invert_transform(mne.read_trans(TRANS))
    return mne.transforms.apply_trans(mri_head, points_mri)


def _brain_centre():
    """Centroid of fsaverage's inner skull in head coordinates (m)."""
    skull = mne.read_bem_surfaces(INNER_SKULL)[0]
    return _to_head(skull['rr']).mean(axis=0)


def _montage():
    """fsaverage's fiducials and upper-scalp points (head coordinates)."""
    fids, _ = mne.io.read_fiducials(
        os.path.join(FSAVERAGE, 'fsaverage-fiducials.fif'))
    fid = {d['ident']: _to_head(d['r']) for d in fids}  # 1 lpa, 2 nas, 3 rpa
    scalp = mne.read_bem_surfaces(
        os.path.join(FSAVERAGE, 'fsaverage-head.fif'))[0]
    hsp = _to_head(scalp['rr'])
    return mne.channels.make_dig_montage(
        lpa=fid[1], nasion=fid[2], rpa=fid[3], hsp=hsp[hsp[:, 2] > 0][::10],
        coord_frame='head')


def _conductor(model, subjects_dir):
    if model == 'sphere':
        return mne.make_sphere_model(r0=tuple(_brain_centre()),
                                     head_radius=None)
    surfaces = mne.make_bem_model(SUBJECT, ico=3, conductivity=(0.3,),
                                  subjects_dir=subjects_dir)
    return mne.make_bem_solution(surfaces)


def _add_noise(raw, fwd, rng_seed):
    """Add brain noise (random dipoles everywhere), sensor noise and blinks.

    Both noises are AR(1)-coloured; blinks reach ~400 uV on the EOG channel.
    """
    gain = mne.convert_forward_solution(
        fwd, force_fixed=True, surf_ori=True)['sol']['data']
    q_am = _BRAIN_NOISE_NAM * 1e-9 / np.sqrt(gain.shape[1])
    meg = mne.pick_types(raw.info, meg=True)
    cov = q_am ** 2 * gain @ gain.T
    cov[np.diag_indices_from(cov)] += mne.make_ad_hoc_cov(raw.info).data[meg]
    cov = mne.Covariance(cov, [raw.ch_names[i] for i in meg], [], [], 1000)
    add_noise(raw, cov, iir_filter=[1.0, -0.8], random_state=rng_seed)
    add_eog(raw, random_state=rng_seed + 1)
    raw.apply_function(lambda x: _EOG_GAIN * x, picks='eog')


@dataclass
class SyntheticMEG:
    """Paths and objects of a synthetic recording, and its ground truth.

    Attributes
    ----------
    raw, raw_fname : the simulated raw data (unfiltered) and its FIF file.
    fwd, fwd_fname : the forward solution and its FIF file.
    subjects_dir, subject : the fake FreeSurfer subject ('01').
    label, hemi, parc : where the waveform was injected
        ('G_postcentral', 'rh', 'aparc.a2009s').
    events : array, shape (n_trials, 3)
        Stimulus events (samples, as in the stim channel, event id 1).
    waveform : Dipole
        Injected total dipole (nAm) against time from the stimulus (ms).
    """

    raw: mne.io.BaseRaw
    raw_fname: str
    fwd: mne.Forward
    fwd_fname: str
    subjects_dir: str
    subject: str
    label: str
    hemi: str
    parc: str
    events: np.ndarray
    waveform: Dipole

    def expected(self, l_freq=1.0, h_freq=40.0, tmin=-0.2, tmax=0.17):
        """The injected waveform as the pipeline sees it (Dipole, nAm).

        The continuous injected dipole is band-passed (Hz) like the data and
        averaged over all events from ``tmin`` to ``tmax`` (s), so that it
        lines up sample by sample with :func:`label_dipole`'s output.
        """
        sfreq = self.raw.info['sfreq']
        onsets = self.events[:, 0] - self.raw.first_samp
        truth = np.zeros(self.raw.n_times)
        n_wave = len(self.waveform.times)
        for onset in onsets:
            truth[onset:onset + n_wave] += self.waveform.data['agg']
        truth = mne.filter.filter_data(truth, sfreq, l_freq, h_freq,
                                       verbose=False)
        offsets = np.arange(int(round(tmin * sfreq)),
                            int(round(tmax * sfreq)) + 1)
        mean = np.mean([truth[onset + offsets] for onset in onsets], axis=0)
        return Dipole(1e3 * offsets / sfreq, mean,
                      info={'source': 'injected waveform, band-passed '
                                      f'{l_freq}-{h_freq} Hz, averaged over '
                                      f'{len(onsets)} events'})


def make_synthetic_meg(tmp_dir, waveform=None, *, n_trials=60, seed=0,
                       model='sphere'):
    """Simulate an S1 evoked MEG recording with a known dipole waveform.

    Parameters
    ----------
    tmp_dir : str | Path
        Folder to write the fake subject, forward and raw FIF files into.
    waveform : Dipole | None
        Total dipole (nAm) to inject, times in ms from the stimulus within
        [0, 600] ms (linearly resampled at 600 Hz); None uses
        :func:`default_waveform` over 0-250 ms.
    n_trials : int
        Number of stimuli (>= 2), 0.8-1.0 s apart.
    seed : int
        Seed of the stimulus timing, noise and blinks.
    model : 'sphere' | 'bem'
        Conductor: a MEG sphere model (fast) or a 1-layer BEM (ico-3) of
        fsaverage's inner skull (about twice as slow).

    Returns
    -------
    sim : SyntheticMEG

    Notes
    -----
    With 60 trials this takes about 5 s (sphere) or 10 s (BEM) on two cores
    with one BLAS thread (``OPENBLAS_NUM_THREADS=1``).
    """
    if model not in ('sphere', 'bem'):
        raise ValueError(f"model must be 'sphere' or 'bem'; got {model!r}")
    check_int('n_trials', n_trials, ge=2)
    check_int('seed', seed, ge=0)
    injected = _injected(waveform, SFREQ)
    with mne.utils.use_log_level(False):
        return _simulate(os.fspath(tmp_dir), injected, n_trials, seed, model)


def _simulate(tmp_dir, injected, n_trials, seed, model):
    """Build the world of :func:`make_synthetic_meg` (MNE logging off)."""
    subjects_dir = os.path.join(tmp_dir, 'subjects')
    make_fake_subject(subjects_dir)

    info = _sensor_info(SFREQ)
    src = mne.setup_source_space(SUBJECT, spacing='oct5', add_dist=False,
                                 subjects_dir=subjects_dir)
    fwd = mne.make_forward_solution(
        info, mne.read_trans(TRANS), src, _conductor(model, subjects_dir),
        meg=True, eeg=False, mindist=5.0, n_jobs=1)

    rng = np.random.default_rng(seed)
    onsets = np.round(np.cumsum(rng.uniform(*_ISI_S, n_trials))
                      * SFREQ).astype(int)
    events = np.column_stack([onsets, np.zeros_like(onsets),
                              np.ones_like(onsets)])
    sim = SourceSimulator(fwd['src'], tstep=1 / SFREQ,
                          duration=onsets[-1] / SFREQ + 1.0)
    t_sii = np.arange(int(0.25 * SFREQ)) * 1e3 / SFREQ
    s1, *sii = generator_labels()
    sources = [(s1, injected.data['agg'])]
    sources += [(patch, _sii_waveform(t_sii)) for patch in sii]
    for patch, wave_nam in sources:
        vertno = fwd['src'][0 if patch.hemi == 'lh' else 1]['vertno']
        n_used = np.isin(patch.vertices, vertno).sum()
        # SourceSimulator drives every source vertex of the patch with the
        # waveform: split the total dipole (nAm -> Am) evenly among them
        sim.add_data(patch, wave_nam * 1e-9 / n_used, events)
    raw = simulate_raw(info, sim, forward=fwd)
    _add_noise(raw, fwd, seed + 1)

    raw_fname = os.path.join(tmp_dir, 'synthetic_meg_raw.fif')
    fwd_fname = os.path.join(tmp_dir, 'synthetic_meg-fwd.fif')
    raw.save(raw_fname, overwrite=True)
    mne.write_forward_solution(fwd_fname, fwd, overwrite=True)
    return SyntheticMEG(
        raw=raw, raw_fname=raw_fname, fwd=fwd, fwd_fname=fwd_fname,
        subjects_dir=subjects_dir, subject=SUBJECT, label='G_postcentral',
        hemi='rh', parc=PARC, events=events + [raw.first_samp, 0, 0],
        waveform=injected)
