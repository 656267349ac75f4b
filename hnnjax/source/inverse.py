"""MEG sensor data -> a label's source time course as a target Dipole (nAm).

The steps and defaults are those of hnn-core's "From MEG sensor-space data to
HNN simulation" workflow on MNE's somato dataset: band-pass, epochs around
the stimulus with artefact rejection, a noise covariance from those epochs,
a minimum-norm inverse with orientation normal to the cortex (HNN's dipoles
are normal to it), and the label's 'pca_flip' time course in nAm.
"""
import os
import re
from types import MappingProxyType

import mne
import numpy as np
from mne.minimum_norm import apply_inverse, make_inverse_operator

from .._checks import check_number, check_option
from ..dipole import Dipole

SEED_REJECT = MappingProxyType({'grad': 4000e-13, 'eog': 350e-6})  # T/m, V
_METHODS = ('MNE', 'dSPM', 'sLORETA', 'eLORETA')
_MODES = ('mean', 'mean_flip', 'pca_flip', 'max', 'auto')


def _check_scalars(polarity, tmin, tmax, lambda2, method, mode, l_freq, h_freq):
    """Validate the scalar arguments before any expensive step."""
    if isinstance(polarity, bool) or polarity not in (1, -1):
        raise ValueError(
            "polarity must be +1 or -1 (the sign of the label time course is "
            f"set by the label's geometry, not physiology); got {polarity!r}")
    tmin = check_number('tmin', tmin, unit=' s')
    tmax = check_number('tmax', tmax, unit=' s')
    if not tmin < tmax:
        raise ValueError(f"tmin ({tmin} s) must be < tmax ({tmax} s)")
    check_number('lambda2 (1 / SNR**2)', lambda2, gt=0)
    check_option('method', method, _METHODS)
    check_option('mode', mode, _MODES)
    for name, freq in (('l_freq', l_freq), ('h_freq', h_freq)):
        if freq is not None:
            check_number(name, freq, gt=0, unit=' Hz')
    if l_freq is not None and h_freq is not None and not l_freq < h_freq:
        raise ValueError(f"l_freq ({l_freq} Hz) must be < h_freq ({h_freq} Hz): "
                         "l_freq > h_freq would make a band-stop filter")


def _read_forward(fwd):
    if isinstance(fwd, mne.Forward):
        return fwd
    if isinstance(fwd, (str, os.PathLike)):
        return mne.read_forward_solution(fwd)
    raise ValueError(f"fwd must be an mne.Forward or a path to a -fwd.fif "
                     f"file; got {type(fwd)}")


def _read_inst(inst):
    """Return (Raw, Epochs or Evoked, whether it is ours to modify).

    A path is read as raw FIF, preloaded.
    """
    if isinstance(inst, (str, os.PathLike)):
        return mne.io.read_raw_fif(inst, preload=True), True
    if isinstance(inst, (mne.io.BaseRaw, mne.BaseEpochs, mne.Evoked)):
        return inst, False
    raise ValueError("inst must be a raw FIF path, mne.io.Raw, mne.Epochs or "
                     f"mne.Evoked; got {type(inst)}")


def _check_channels(info, fwd):
    """Every good MEG channel of the data must be in the forward solution."""
    meg = [info['ch_names'][i] for i in
           mne.pick_types(info, meg=True, exclude='bads')]
    if not meg:
        raise ValueError("inst has no good MEG channels")
    missing = sorted(set(meg) - set(fwd['sol']['row_names']))
    if missing:
        raise ValueError(
            f"fwd lacks {len(missing)} of the data's {len(meg)} good MEG "
            f"channels (e.g. {missing[:5]}); compute the forward for this "
            "recording's channels or mark them in info['bads']")


def _resolve_label(label, subject, subjects_dir, parc, hemi):
    """An mne.Label as given, or the one annotation label matching a regexp."""
    if isinstance(label, mne.Label):
        return label
    if not isinstance(label, str):
        raise ValueError("label must be a regular expression (str) or an "
                         f"mne.Label; got {type(label)}")
    if hemi not in ('lh', 'rh'):
        raise ValueError(f"hemi must be 'lh' or 'rh'; got {hemi!r}")
    labels = mne.read_labels_from_annot(subject, parc=parc, hemi=hemi,
                                        subjects_dir=subjects_dir)
    names = [lab.name for lab in labels]
    matches = [lab for lab in labels if re.search(label, lab.name)]
    if len(matches) != 1:
        found = [lab.name for lab in matches] if matches else names
        raise ValueError(
            f"label {label!r} must match exactly one label of {subject}'s "
            f"{hemi}.{parc}; it matched {len(matches)}. "
            f"{'Matches' if matches else 'Labels'}: {', '.join(found)}")
    return matches[0]


def _check_events(events, stim_channel, event_id):
    if not len(events):
        raise ValueError(f"no events found on stim_channel {stim_channel!r}")
    present = sorted(set(events[:, 2].tolist()))
    if event_id is None:
        return
    wanted = event_id.values() if isinstance(event_id, dict) \
        else np.atleast_1d(event_id).tolist()
    absent = [i for i in wanted if i not in present]
    if absent:
        raise ValueError(f"event_id {absent} not found on stim_channel "
                         f"{stim_channel!r}; event ids present: {present}")


def _epochs_from_raw(raw, owned, l_freq, h_freq, stim_channel, event_id,
                     tmin, tmax, reject, steps):
    """Band-pass, find events, epoch with rejection; record each step.

    ``raw`` is filtered in place only if ``owned``, else a copy is.
    """
    if stim_channel not in raw.ch_names:
        stims = [raw.ch_names[i] for i in mne.pick_types(raw.info, meg=False,
                                                         stim=True)]
        raise ValueError(f"stim_channel {stim_channel!r} is not in the data; "
                         f"stim channels present: {stims}")
    if reject is not None:
        absent = sorted(set(reject) - set(raw.get_channel_types()))
        if absent:
            raise ValueError(f"reject has thresholds for {absent} but the "
                             "data has no such channels; drop those keys or "
                             "pass reject=None")
    # the stim channel is never filtered, so events can be found first
    events = mne.find_events(raw, stim_channel=stim_channel)
    _check_events(events, stim_channel, event_id)
    if l_freq is not None or h_freq is not None:
        if not owned:
            raw = raw.copy().load_data()
        raw.filter(l_freq, h_freq)
    epochs = mne.Epochs(raw, events, event_id, tmin, tmax, baseline=None,
                        reject=None if reject is None else dict(reject),
                        preload=True)
    if not len(epochs):
        raise ValueError(f"reject={dict(reject)} dropped all {len(events)} "
                         "epochs; raise the thresholds or pass reject=None")
    steps['filter'] = {'l_freq_hz': l_freq, 'h_freq_hz': h_freq}
    steps['events'] = {'stim_channel': stim_channel, 'event_id': event_id,
                       'n_events': len(events)}
    steps['epochs'] = {'tmin_s': tmin, 'tmax_s': tmax, 'baseline': None,
                       'reject': None if reject is None else dict(reject),
                       'n_selected': len(epochs.drop_log),
                       'n_kept': len(epochs)}
    return epochs


def _noise_cov(noise_cov, epochs, steps):
    """The given covariance (object or path), else one from the epochs."""
    if noise_cov is None:
        steps['noise_cov'] = {'from': 'epochs', 'tmin_s': None,
                              'tmax_s': None, 'method': 'empirical'}
        return mne.compute_covariance(epochs)
    if isinstance(noise_cov, (str, os.PathLike)):
        noise_cov = mne.read_cov(noise_cov)
    if not isinstance(noise_cov, mne.Covariance):
        raise ValueError("noise_cov must be an mne.Covariance, a path to a "
                         f"-cov.fif file or None; got {type(noise_cov)}")
    steps['noise_cov'] = {'from': 'given', 'nfree': noise_cov['nfree']}
    return noise_cov


def label_dipole(inst, fwd, subjects_dir, subject, label='G_postcentral', *,
                 hemi='rh', parc='aparc.a2009s', polarity=-1, l_freq=1.,
                 h_freq=40., stim_channel='STI 014', event_id=None,
                 tmin=-0.2, tmax=0.17, reject=SEED_REJECT, noise_cov=None,
                 lambda2=1. / 9., method='MNE', mode='pca_flip',
                 verbose=False):
    """Source time course of a cortical label from MEG, as a Dipole (nAm).

    Parameters
    ----------
    inst : str | Path | mne.io.Raw | mne.Epochs | mne.Evoked
        A raw FIF path or Raw runs every step. Epochs are used as given
        (no filtering, events or rejection), as is an Evoked, which also needs
        ``noise_cov``.
    fwd : mne.Forward | str | Path
        Forward solution (surface source space) covering the MEG channels.
    subjects_dir, subject : str | Path, str
        FreeSurfer subject holding the parcellation ``parc``.
    label : str | mne.Label
        Regular expression that must match exactly one label name of
        ``hemi`` in ``parc`` (searched, e.g. 'G_postcentral' matches
        'G_postcentral-rh'), or a Label (then ``hemi``/``parc`` are unused).
    hemi : 'lh' | 'rh'
    parc : str
        Annotation name (``<hemi>.<parc>.annot``).
    polarity : +1 | -1
        Factor applied to the label time course. 'pca_flip' signs follow the
        label's geometry, so the physiological sign is a user choice; -1 is
        the seed workflow's choice for somato S1.
    l_freq, h_freq : float | None
        Band-pass edges in Hz (raw input only).
    stim_channel : str
        Channel holding the stimulus triggers (raw input only).
    event_id : int | list of int | dict | None
        Events to epoch; None takes all events found.
    tmin, tmax : float
        Epoch window in s around each event (raw input only).
    reject : dict | None
        Peak-to-peak rejection thresholds by channel type (T/m, T, V).
    noise_cov : mne.Covariance | str | Path | None
        Noise covariance; None estimates it from the whole epochs, as the seed
        workflow does (required for Evoked input).
    lambda2 : float
        Regularisation, 1 / SNR**2.
    method : 'MNE' | 'dSPM' | 'sLORETA' | 'eLORETA'
    mode : str
        How ``extract_label_time_course`` summarises the label.
    verbose : bool | str
        MNE's log level during the computation.

    Returns
    -------
    dpl : Dipole
        ``data['agg']`` is ``polarity * time course * 1e9`` (nAm), times in
        ms; ``info`` records every step's parameters, the label and polarity.
        ``nave`` stays 1 (one measured waveform, as hnn-core's read targets);
        the number of epochs averaged is ``info['inverse']['nave']``.
    """
    _check_scalars(polarity, tmin, tmax, lambda2, method, mode, l_freq, h_freq)
    input_name = os.fspath(inst) if isinstance(inst, (str, os.PathLike)) \
        else type(inst).__name__
    with mne.utils.use_log_level(verbose):
        inst, owned = _read_inst(inst)
        if isinstance(inst, mne.Evoked) and noise_cov is None:
            raise ValueError("noise_cov is required for Evoked input (there "
                             "are no epochs to estimate it from)")
        fwd = _read_forward(fwd)
        _check_channels(inst.info, fwd)
        lab = _resolve_label(label, subject, subjects_dir, parc, hemi)
        steps = {'filter': None, 'events': None, 'epochs': None}
        epochs = None
        if isinstance(inst, mne.io.BaseRaw):
            epochs = _epochs_from_raw(inst, owned, l_freq, h_freq,
                                      stim_channel, event_id, tmin, tmax,
                                      reject, steps)
        elif isinstance(inst, mne.BaseEpochs):
            epochs = inst
            steps['epochs'] = {'given': True, 'n_kept': len(epochs)}
        noise_cov = _noise_cov(noise_cov, epochs, steps)
        evoked = inst if epochs is None else epochs.average()
        inv = make_inverse_operator(evoked.info, fwd, noise_cov)
        stc = apply_inverse(evoked, inv, lambda2, method=method,
                            pick_ori='normal')
        course = stc.extract_label_time_course(lab, inv['src'], mode=mode)[0]
    info = {
        'source': 'MEG label time course (mne-python)',
        'input': input_name,
        'mne_version': mne.__version__,
        **steps,
        'inverse': {'lambda2': lambda2, 'method': method, 'pick_ori': 'normal',
                    'nave': evoked.nave, 'n_channels': inv['info']['nchan']},
        'label': lab.name,
        'label_regexp': label if isinstance(label, str) else None,
        'parc': parc if isinstance(label, str) else None,
        'hemi': lab.hemi,
        'subject': subject,
        'mode': mode,
        'polarity': polarity,
        'units': 'nAm',
    }
    return Dipole(1e3 * stc.times, polarity * course * 1e9, info=info)
