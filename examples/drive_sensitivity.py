"""Which drive parameters the somatosensory dipole constrains (0-70 ms, one trial).

Moves each timing and weight parameter of the two early drives of
:func:`hnnjax.network_models.somato_model` by one resolution step (mu 1 ms,
sigma and weights 10 %) and prints the RMS change of the dipole, then the
singular values of parameter sets: the smallest is the dipole change along
the set's least visible combination of steps.  A set with a tiny one cannot
be recovered by any fit, however good the optimiser.  This is how the
parameters of ``recover_somato_drives.py`` were chosen::

    OPENBLAS_NUM_THREADS=1 python examples/drive_sensitivity.py

36 forward runs in one batch (about 2 min on a 2-core CPU).
"""
import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import jax  # noqa: E402

from hnnjax.fit import sensitivity  # noqa: E402
from hnnjax.network_models import somato_model  # noqa: E402

SETS = {
    "recover_somato_drives.py": ["evprox1.mu", "evdist1.mu", "evprox1.weights_ampa.L2_basket",
                                 "evprox1.weights_ampa.L2_pyramidal",
                                 "evdist1.weights_nmda.L2_basket"],
    "its earlier choice (not recovered)": [
        "evprox1.mu", "evdist1.mu", "evprox1.weights_ampa.L5_pyramidal",
        "evprox1.weights_ampa.L2_pyramidal", "evdist1.weights_ampa.L2_pyramidal",
        "evdist1.weights_nmda.L5_pyramidal"],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tstop", type=float, default=70.0, help="ms")
    ap.add_argument("--n-trials", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    params = [f"{d}.{k}" for d in ("evprox1", "evdist1") for k in ("mu", "sigma", "weights_ampa.*",
                                                                  "weights_nmda.*")]
    sens = sensitivity(somato_model(), params, tstop=args.tstop, n_trials=args.n_trials,
                       key=jax.random.PRNGKey(args.seed))
    print(sens.table())
    for label, names in SETS.items():
        print(f"\n{label}:\n{sens.subset(names).table()}")


if __name__ == "__main__":
    main()
