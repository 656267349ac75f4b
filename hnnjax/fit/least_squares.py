"""Levenberg-Marquardt steps on a residual waveform with a central-difference
Jacobian: the refinement stage of ``fit_drives``.

Near the optimum a first-order method crawls along the weakly constrained
directions (a weight that moves the dipole by 1 % of its RMS per 10 % change);
a Gauss-Newton step rescales them by the curvature.  Differences over a finite
step (not reverse mode) keep the spikes that appear or vanish in view."""
from __future__ import annotations

import numpy as np

DAMPINGS = (1e-3, 1e-2, 1e-1, 1.0)  # tried each step, times the diagonal of J^T J


def levenberg_marquardt_step(batch_residuals, u, r, step, names=None):
    """One step from ``u`` (d,) with residual ``r`` (n,) at it.

    ``batch_residuals`` maps (m, d) points to their (m, n) residuals in one
    call: the 2·d points of the Jacobian's central differences of ``step`` in
    each coordinate, then the damped Gauss-Newton step for each of
    ``DAMPINGS`` (two compiled shapes, no padding: on a full network a
    padded point costs as much as a real one).  Returns
    (the best candidate, its residual) or None when none lowers ``|r|``
    by more than rounding.
    Raises FloatingPointError on a non-finite residual, naming the
    coordinates moved (``names``, default their indices).
    """
    u, r = np.asarray(u, float), np.asarray(r, float)
    d = u.shape[0]
    e = np.eye(d) * step
    res = np.asarray(batch_residuals(np.concatenate([u + e, u - e])), float)
    jac = (res[:d] - res[d:2 * d]).T / (2 * step)
    bad = np.flatnonzero(~np.all(np.isfinite(jac), axis=0))
    if bad.size:
        names = list(range(d)) if names is None else names
        raise FloatingPointError(f"non-finite residual when moving {[names[i] for i in bad]}")
    a, g = jac.T @ jac, jac.T @ r
    diag = np.diag(np.diag(a))
    cands = np.stack([u - np.linalg.lstsq(a + lam * diag, g, rcond=None)[0] for lam in DAMPINGS])
    res = np.asarray(batch_residuals(cands), float)
    if not np.all(np.isfinite(res)):
        raise FloatingPointError("non-finite residual at a damped Gauss-Newton candidate")
    norms = np.sum(res ** 2, axis=1)
    k = int(np.argmin(norms))
    if norms[k] >= (1 - 1e-9) * np.sum(r ** 2):  # no gain beyond rounding
        return None
    return cands[k], res[k]
