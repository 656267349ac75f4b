"""Bayesian optimization: a Gaussian-process surrogate, expected improvement.

hnn-core's 'bayesian' solver fits scikit-learn's Gaussian process after every
call and evaluates next the best of 10,000 random candidates under expected
improvement.  This is the same scheme on NumPy/SciPy alone: parameters scaled
to the unit cube, objective values standardized, a squared-exponential kernel
whose length scale maximizes the marginal likelihood on a grid.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.stats import norm

LENGTH_SCALES = np.geomspace(0.05, 2.0, 12)  # in units of each parameter's range
NOISE = 1e-6  # nugget on the standardized values: keeps the solve stable


def _kernel(a, b, length):
    d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    return np.exp(-0.5 * d2 / length**2)


def _fit(x, y, length):
    """Cholesky factor and weights of the GP at ``length``; its log marginal likelihood."""
    chol = cho_factor(_kernel(x, x, length) + NOISE * np.eye(len(x)), lower=True)
    alpha = cho_solve(chol, y)
    loglik = -0.5 * y @ alpha - np.log(np.diag(chol[0])).sum()
    return chol, alpha, loglik


def gp_posterior(x, y, candidates):
    """Posterior mean and standard deviation at ``candidates`` of a GP fitted
    to (``x`` in the unit cube, ``y``), in the units of ``y``."""
    mean, std = y.mean(), y.std() or 1.0
    ys = (y - mean) / std
    fits = [(_fit(x, ys, length), length) for length in LENGTH_SCALES]
    (chol, alpha, _), length = max(fits, key=lambda f: f[0][2])
    k = _kernel(candidates, x, length)
    var = np.clip(1.0 - (k * cho_solve(chol, k.T).T).sum(1), 1e-12, None)
    return mean + std * (k @ alpha), std * np.sqrt(var)


def expected_improvement(mu, sigma, best):
    """Expected amount by which a value ~ N(mu, sigma²) falls below ``best``."""
    z = (best - mu) / sigma
    return (best - mu) * norm.cdf(z) + sigma * norm.pdf(z)


def bayes_opt(func, x0, bounds, n_calls, seed=0, n_candidates=10000):
    """Minimize ``func`` over the box ``bounds`` [(low, high)] in ``n_calls``
    calls, the first at ``x0``.  Returns (best x as a list, best value)."""
    low, high = np.array(bounds, float).T
    rng = np.random.default_rng(seed)
    xs, ys = [np.asarray(x0, float)], [func(list(map(float, x0)))]
    for _ in range(n_calls - 1):
        unit = (np.array(xs) - low) / (high - low)
        cand = rng.uniform(size=(n_candidates, len(low)))
        mu, sigma = gp_posterior(unit, np.array(ys), cand)
        x = low + cand[np.argmax(expected_improvement(mu, sigma, min(ys)))] * (high - low)
        xs.append(x)
        ys.append(func(list(map(float, x))))
    best = int(np.argmin(ys))
    return list(map(float, xs[best])), ys[best]
