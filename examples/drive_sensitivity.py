"""Which drive parameters the somatosensory dipole constrains (0-70 ms, one trial).

Moves each timing and weight parameter of the two early drives of
:func:`hnnjax.network_models.somato_model` by one resolution step (mu 1 ms,
sigma and weights 10 %) and prints the RMS change of the dipole, then the
singular values of parameter sets: the smallest is the dipole change along
the set's least visible combination of steps.  A set with a tiny one cannot
be recovered by any fit, however good the optimiser; a well-conditioned one
can still have several basins in the timing.  This is how the parameters
of ``recover_somato_drives.py`` were chosen::

    OPENBLAS_NUM_THREADS=1 python examples/drive_sensitivity.py

36 forward runs in one batch (2026-12-02, 2-core CPU: 223 s).  Target RMS
5.9e-3 nAm; per step: evprox1.mu 1.9e-3, evprox1.sigma 1.6e-3, evprox1 AMPA
to L2 pyramidal 1.2e-3, evdist1.mu 5.5e-4, evprox1 AMPA to L2 basket 2.6e-4,
the L5 weights 1-6e-5, evdist1's L2 basket weights 0 (no basket spike moves
within the step: they act only through spikes that appear or vanish).
Smallest singular value: the recovery example's four 1.9e-4 (condition 10,
recovered), its earlier six 2.1e-5 (condition 94), the best five 1.6e-4
(condition 15).
"""
import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import jax  # noqa: E402

from hnnjax import use_compilation_cache  # noqa: E402
from hnnjax.fit import sensitivity  # noqa: E402
from hnnjax.network_models import somato_model  # noqa: E402

SETS = {
    "recover_somato_drives.py (recovered)": [
        "evprox1.mu", "evdist1.mu", "evprox1.weights_ampa.L2_basket",
        "evprox1.weights_ampa.L2_pyramidal"],
    "its earlier six (weights not recovered)": [
        "evprox1.mu", "evdist1.mu", "evprox1.weights_ampa.L5_pyramidal",
        "evprox1.weights_ampa.L2_pyramidal", "evdist1.weights_ampa.L2_pyramidal",
        "evdist1.weights_nmda.L5_pyramidal"],
    "best-conditioned five (tried: evdist1.mu left its basin)": [
        "evprox1.mu", "evdist1.mu", "evprox1.sigma", "evprox1.weights_ampa.L2_basket",
        "evprox1.weights_ampa.L2_pyramidal"],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tstop", type=float, default=70.0, help="ms")
    ap.add_argument("--n-trials", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    use_compilation_cache()  # compiled programs kept for later runs (~/.cache/hnnjax/xla)
    params = [f"{d}.{k}" for d in ("evprox1", "evdist1") for k in ("mu", "sigma", "weights_ampa.*",
                                                                  "weights_nmda.*")]
    sens = sensitivity(somato_model(), params, tstop=args.tstop, n_trials=args.n_trials,
                       key=jax.random.PRNGKey(args.seed))
    print(sens.table())
    for label, names in SETS.items():
        print(f"\n{label}:\n{sens.subset(names).table()}")


if __name__ == "__main__":
    main()
