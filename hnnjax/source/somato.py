"""The S1 target of hnn-core's somato workflow, from a local MNE somato copy.

Nothing is downloaded: the dataset must already be on disk (see
:class:`SomatoDataNotFoundError` for where). Offline, the shipped S1
waveform read with :func:`hnnjax.read_waveform` is the fallback target.
"""
import os
from importlib.resources import files

import mne

from .._checks import check_option
from .inverse import label_dipole

SOMATO_DIR = 'MNE-somato-data'
SOMATO_SUBJECT = '01'
ENV_VAR = 'MNE_DATASETS_SOMATO_PATH'  # parent folder of MNE-somato-data/
SHIPPED_S1 = files('hnnjax') / 'data' / 'meg' / 'S1_SupraT.txt'
_RAW = os.path.join('sub-01', 'meg', 'sub-01_task-somato_meg.fif')
_FWD = os.path.join('derivatives', 'sub-01', 'sub-01_task-somato-fwd.fif')
_SUBJECTS = os.path.join('derivatives', 'freesurfer', 'subjects')


class SomatoDataNotFoundError(FileNotFoundError):
    """No local copy of MNE's somato dataset (hnnjax never downloads it)."""


def _somato_root(data_path):
    """Folder ``MNE-somato-data`` from the argument, MNE's config or ~."""
    if data_path is None:
        data_path = mne.get_config(ENV_VAR, default=os.path.join(
            os.path.expanduser('~'), 'mne_data'))
    data_path = os.path.abspath(os.fspath(data_path))
    if os.path.basename(data_path) == SOMATO_DIR:
        return data_path
    return os.path.join(data_path, SOMATO_DIR)


def somato_paths(data_path=None, hemi='rh', parc='aparc.a2009s'):
    """Paths of the somato raw, forward and FreeSurfer files, checked.

    Parameters
    ----------
    data_path : str | Path | None
        The ``MNE-somato-data`` folder or its parent; None uses the
        ``MNE_DATASETS_SOMATO_PATH`` environment variable (or MNE config),
        else ``~/mne_data``.
    hemi, parc : str
        Hemisphere and parcellation whose annotation must exist.

    Returns
    -------
    paths : dict
        'root' (the MNE-somato-data folder), 'raw', 'fwd', 'subjects_dir'
        and 'subject'.
    """
    if data_path is not None and not isinstance(data_path, (str, os.PathLike)):
        raise TypeError(f"data_path must be a str, a path or None; got {data_path!r}")
    check_option('hemi', hemi, ('lh', 'rh'))
    root = _somato_root(data_path)
    subjects_dir = os.path.join(root, _SUBJECTS)
    subject_dir = os.path.join(subjects_dir, SOMATO_SUBJECT)
    needed = [os.path.join(root, _RAW), os.path.join(root, _FWD),
              os.path.join(subject_dir, 'surf', f'{hemi}.white'),
              os.path.join(subject_dir, 'label', f'{hemi}.{parc}.annot')]
    missing = [path for path in needed if not os.path.isfile(path)]
    if missing:
        raise SomatoDataNotFoundError(
            f"MNE's somato dataset was not found in {root} (missing "
            f"{', '.join(os.path.relpath(p, root) for p in missing)}). "
            "hnnjax never downloads it: fetch it where there is network "
            "access (mne.datasets.somato.data_path()), copy the "
            f"'{SOMATO_DIR}' folder here, and pass its parent as data_path "
            f"or set the environment variable {ENV_VAR} to it. "
            "Offline, use the shipped S1 waveform instead: "
            f"hnnjax.read_waveform({str(SHIPPED_S1)!r}).")
    return {'root': root, 'raw': needed[0], 'fwd': needed[1],
            'subjects_dir': subjects_dir, 'subject': SOMATO_SUBJECT}


def somato_target(data_path=None, **kwargs):
    """S1 dipole (nAm) of MNE's somato dataset, as in hnn-core's workflow.

    Runs :func:`hnnjax.source.label_dipole` on subject 01's median-nerve
    recording with the seed's settings (rh G_postcentral, aparc.a2009s,
    event_id 1, polarity -1); ``kwargs`` override them.

    Parameters
    ----------
    data_path : str | Path | None
        See :func:`somato_paths`.
    **kwargs
        Passed to :func:`hnnjax.source.label_dipole`.

    Returns
    -------
    dpl : Dipole
        With ``info['dataset']`` and ``info['data_path']`` added.

    Raises
    ------
    SomatoDataNotFoundError
        If the dataset is not on disk; the message says where to put it.
    """
    kwargs.setdefault('event_id', 1)
    paths = somato_paths(data_path, hemi=kwargs.get('hemi', 'rh'),
                         parc=kwargs.get('parc', 'aparc.a2009s'))
    dpl = label_dipole(paths['raw'], paths['fwd'], paths['subjects_dir'],
                       paths['subject'], **kwargs)
    dpl.info['dataset'] = 'MNE somato (sub-01, median nerve)'
    dpl.info['data_path'] = paths['root']
    return dpl
