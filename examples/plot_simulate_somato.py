"""From MEG sensor data to an HNN simulation: the median-nerve (S1) response.

hnn-core's somatosensory workflow in hnnjax, end to end:

1. Target: the source time course (nAm) of the right postcentral gyrus
   (rh G_postcentral, aparc.a2009s) from MNE's somato dataset
   (:func:`hnnjax.source.somato_target`: band-pass 1-40 Hz, epochs, noise
   covariance, MNE inverse, 'pca_flip' label time course).
2. Model: :func:`hnnjax.network_models.somato_model`, the N20 network with
   two proximal and two distal evoked drives; ``--n-trials`` trials (25 by
   default) of 170 ms in one ``simulate_dipole`` call, each smoothed (20 ms)
   and scaled (x12), then averaged.
3. Figure (``--out``, default somato.png): (a) drive spikes, (b) target vs
   average simulated dipole, (c) output spikes by cell type; the RMSE and
   run times are printed and the average dipole is written beside the
   figure (``<stem>_dpl.txt``).

hnnjax never downloads data. To use MNE's somato recording, copy the
``MNE-somato-data`` folder (``mne.datasets.somato.data_path()`` on a machine
with network access) here and either pass its parent folder::

    python examples/plot_simulate_somato.py --data-path /path/to/mne_data

or set ``MNE_DATASETS_SOMATO_PATH=/path/to/mne_data``. Without it the target
is the shipped S1 waveform (hnnjax/data/meg/S1_SupraT.txt); ``--target
synthetic`` instead runs the same MNE pipeline on a synthetic recording
(offline, ~5 s). Pin BLAS to one thread on small machines
(``OPENBLAS_NUM_THREADS=1``). Options: ``--help``; the same workflow is
``hnnjax somato``.
"""
import sys

import matplotlib

matplotlib.use('Agg')

from hnnjax.cli import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main(['somato', *sys.argv[1:]]))
