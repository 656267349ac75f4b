"""From MEG data to a fitted HNN network: the median-nerve (S1) response.

hnn-core's somatosensory workflow in hnnjax, end to end, with a gradient
fit in the middle (``hnnjax somato`` runs the same):

1. Target and seed: with MNE's somato dataset, the source time course
   (nAm) of the right postcentral gyrus (rh G_postcentral, aparc.a2009s)
   (:func:`hnnjax.source.somato_target`), compared with the model x12 as in
   hnn-core's example, and hnn-core's seed,
   :func:`hnnjax.network_models.somato_model` (N20 network, four evoked
   drives). Without the dataset: real S1 MEG shipped with hnnjax that has a
   published seed of its own -- HNN's yes-trial tactile ERP
   (hnnjax/data/meg/yes_trial_S1_ERP_all_avg.txt) and HNN's hand fit of it
   (ERPYes100Trials.param, with its x3000 scale and 30 ms smoothing). The
   terminal and the figure say which target was used, why, and which scale.
2. The seed simulated with the NEURON-faithful ``simulate_dipole`` (170 ms
   trials, each smoothed): the fit's trials and ``--n-trials`` (8) more.
3. Fit: :func:`hnnjax.fit.fit_drives`. N20 seed: 6 Adam steps on the
   latencies of evprox1 and evdist1 and their AMPA weights onto pyramidal
   cells, over 0-70 ms, on one trial. Hand fit: one Levenberg-Marquardt
   step on the latencies of its three evoked drives over 0-170 ms, on
   hnn-core's first 8 trials (hnnjax/workflows/somato_fit.py says why).
4. Both networks simulated on further faithful trials the fit never saw
   (``--n-trials``, 8); the RMSE (nAm) of each against the target over the
   fit window there, and on the fit's own trials in brackets; and the trial
   noise of that mean (how far it scatters about the network's expected
   dipole, from the spread of all its trials).
5. ``hnnjax_out/somato/`` (``--out-dir``): somato.png -- drive spikes;
   target, seed and fitted dipoles on one nAm axis; output spikes -- and
   target_dpl.txt, seed_dpl.txt, fitted_dpl.txt, fitted_drives.txt, each
   with a header saying what it holds.

Without the dataset, on a 2-core CPU (an AMD EPYC of family 26, 2026-12-07):
2 min 25 s, compiling included; RMSE over 0-170 ms on 8 fresh trials
6.37 nAm for HNN's hand fit, 6.14 nAm fitted (5.38 -> 4.99 on the fit's 8
trials), where a mean of 8 trials scatters 1.9 nAm RMS about its network's
expected dipole (printed, from the trials' spread); both networks run the
same fresh trials. Ctrl-C stops it at once (exit status 130) and leaves the
output folder as it was.

hnnjax never downloads data. To use MNE's somato recording, copy the
``MNE-somato-data`` folder (``mne.datasets.somato.data_path()`` on a machine
with network access) here and either pass its parent folder::

    python examples/plot_simulate_somato.py --data-path /path/to/mne_data

or set ``MNE_DATASETS_SOMATO_PATH=/path/to/mne_data``. ``--target
synthetic`` instead runs the MNE pipeline on a synthetic recording
(offline, ~5 s). Pin BLAS to one thread on small machines
(``OPENBLAS_NUM_THREADS=1``). Options: ``--help``.
"""
import sys

from hnnjax.cli import main

if __name__ == '__main__':
    sys.exit(main(['somato', *sys.argv[1:]]))
