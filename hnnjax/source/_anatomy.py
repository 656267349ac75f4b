"""A fake FreeSurfer subject built only from files inside the mne wheel.

Each hemisphere is an ico-5 sphere (``mne/data/icos.fif.gz``) stretched into an
ellipsoid and folded into five dorsal-ventral gyri, so that it has sulcal
walls like the central sulcus. The 'aparc.a2009s' parcellation holds a few
Destrieux names (G_postcentral, G_precentral, S_central, Lat_Fis-post) drawn
on the sphere; the inner-skull surface is fsaverage's (for a 1-layer BEM).
Coordinates are in m, MRI (surface RAS) frame, unless named ``*_mm``.
"""
import os

import mne
import numpy as np

MNE_DATA = os.path.join(os.path.dirname(mne.__file__), 'data')
FSAVERAGE = os.path.join(MNE_DATA, 'fsaverage')
INNER_SKULL = os.path.join(FSAVERAGE, 'fsaverage-inner_skull-bem.fif')
TRANS = os.path.join(FSAVERAGE, 'fsaverage-trans.fif')
SUBJECT = '01'  # the somato dataset's subject name
PARC = 'aparc.a2009s'

_ICO5_ID = 9005  # surface id of the ico-5 sphere in icos.fif.gz
_N_GYRI, _FOLD_DEPTH = 5, 0.10  # gyri along y; radial depth (x radius)
_CENTRE_RH = np.array([0.032, -0.020, 0.012])  # m; fits fsaverage's skull
_RADII = np.array([0.026, 0.062, 0.044])  # m
_HEMI_SIGN = {'lh': -1.0, 'rh': 1.0}
# gyral crowns sit where sin(5 pi y) = 1 (y = 0.1, -0.3), the central
# sulcus fundus at y = -0.1; ranges are on the unit sphere
_PARCELS = {  # name: (y range, z range, colour)
    'G_precentral': ((-0.05, 0.30), (-0.2, 1.0), (0, 0, 1, 1)),
    'S_central': ((-0.15, -0.05), (-0.2, 1.0), (0, 1, 0, 1)),
    'G_postcentral': ((-0.50, -0.15), (-0.2, 1.0), (1, 0, 0, 1)),
    'Lat_Fis-post': ((-1.0, 0.0), (-1.0, -0.2), (1, 1, 0, 1)),
}
_LATERAL = 0.15  # |x| on the unit sphere beyond which cortex is lateral


def _unit_sphere():
    """Vertices (unit vectors) and triangles of the ico-5 sphere."""
    ico = mne.read_bem_surfaces(os.path.join(MNE_DATA, 'icos.fif.gz'),
                                s_id=_ICO5_ID, verbose=False)
    rr = ico['rr'] / np.linalg.norm(ico['rr'], axis=1, keepdims=True)
    return rr, ico['tris']


def _in_range(values, bounds):
    return (values >= bounds[0]) & (values < bounds[1])


def make_fake_subject(subjects_dir):
    """Write surf/{lh,rh}.{white,sphere}, bem/inner_skull.surf and the annot.

    Returns the subject's directory.
    """
    subject_dir = os.path.join(subjects_dir, SUBJECT)
    for sub in ('surf', 'bem', 'label'):
        os.makedirs(os.path.join(subject_dir, sub), exist_ok=True)
    unit, tris = _unit_sphere()
    fold = 1.0 + _FOLD_DEPTH * np.sin(_N_GYRI * np.pi * unit[:, 1])
    labels = []
    for hemi, sign in _HEMI_SIGN.items():
        centre = _CENTRE_RH * [sign, 1.0, 1.0]
        white = centre + _RADII * unit * fold[:, None]
        surf = os.path.join(subject_dir, 'surf', hemi)
        mne.write_surface(surf + '.white', white * 1e3, tris, overwrite=True,
                          verbose=False)
        mne.write_surface(surf + '.sphere', unit * 100.0, tris, overwrite=True,
                          verbose=False)
        lateral = sign * unit[:, 0] > _LATERAL
        for name, (y_bounds, z_bounds, colour) in _PARCELS.items():
            mask = lateral & _in_range(unit[:, 1], y_bounds) \
                & _in_range(unit[:, 2], z_bounds)
            vertices = np.flatnonzero(mask)
            labels.append(mne.Label(vertices, pos=white[vertices], hemi=hemi,
                                    name=f'{name}-{hemi}', subject=SUBJECT,
                                    color=colour))
    mne.write_labels_to_annot(labels, SUBJECT, parc=PARC,
                              subjects_dir=subjects_dir, overwrite=True,
                              verbose=False)
    skull = mne.read_bem_surfaces(INNER_SKULL, verbose=False)[0]
    mne.write_surface(os.path.join(subject_dir, 'bem', 'inner_skull.surf'),
                      skull['rr'] * 1e3, skull['tris'], overwrite=True,
                      verbose=False)
    return subject_dir


def generator_labels():
    """Ground-truth source patches as full-surface Labels.

    Returns the S1 patch ('area 3b': anterior wall of rh G_postcentral, facing
    the central sulcus, at hand-knob height) and bilateral 'SII' distractors
    on the upper bank of the lateral fissure.
    """
    unit, _ = _unit_sphere()
    x, y, z = unit.T
    area_3b = (x > _LATERAL) & _in_range(y, (-0.22, -0.15)) \
        & _in_range(z, (0.25, 0.75))
    patches = [mne.Label(np.flatnonzero(area_3b), hemi='rh', subject=SUBJECT,
                         name='S1-rh')]
    for hemi, sign in _HEMI_SIGN.items():
        sii = (sign * x > 0.5) & (z < -0.35) & _in_range(y, (-0.35, -0.1))
        patches.append(mne.Label(np.flatnonzero(sii), hemi=hemi,
                                 subject=SUBJECT, name=f'SII-{hemi}'))
    return patches
