"""Many seeds' legacy RandomState draws at once, bit for bit (drives/legacy_random)."""
import numpy as np
import pytest

from hnnjax.drives import legacy_random

SEEDS = np.r_[0, 1, 2**32 - 1, np.arange(5000, 14000, 3), 2**31 + np.arange(40)]


@pytest.mark.parametrize('n', [1, 3, 17, legacy_random.MAX_DRAWS])
def test_uniforms_equal_random_state(n):
    u = legacy_random.uniforms(SEEDS, n)
    assert u.shape == (n, len(SEEDS)) and u.dtype == np.float64
    for i in (0, 1, 2, 3, 777, len(SEEDS) - 1):
        np.testing.assert_array_equal(u[:, i], np.random.RandomState(SEEDS[i]).random_sample(n))


def test_all_seeds_and_exponentials_equal_random_state():
    u = legacy_random.uniforms(SEEDS, 4)
    ref = np.array([np.random.RandomState(s).random_sample(4) for s in SEEDS]).T
    np.testing.assert_array_equal(u, ref)
    ref = np.array([np.random.RandomState(s).exponential(0.1, 4) for s in SEEDS]).T
    np.testing.assert_array_equal(0.1 * -legacy_random.log(1.0 - u), ref)


@pytest.mark.parametrize('n, extra', [(1, 6), (2, 6), (5, 6), (1, 0), (3, 1)])
def test_gaussians_equal_random_state(n, extra):
    g, ok = legacy_random.gaussians(SEEDS, n, extra_attempts=extra)
    ref = np.array([np.random.RandomState(s).standard_normal(n) for s in SEEDS]).T
    assert g.shape == (n, len(SEEDS))
    np.testing.assert_array_equal(g[:, ok], ref[:, ok])
    assert np.isnan(g[:, ~ok]).all()
    if extra == 0:  # a rejected first attempt (probability 1 - pi/4) must be flagged
        assert 0.15 < 1 - ok.mean() < 0.28
    else:
        assert ok.mean() > 0.85  # (3, 1): 2 accepted of 3 attempts, p = 0.88


def test_uniforms_bad_input():
    with pytest.raises(ValueError, match=r'n must lie in \[1, 112\] draws'):
        legacy_random.uniforms([1], 113)
    with pytest.raises(ValueError, match=r'seeds must lie in \[0, 2\*\*32 - 1\]'):
        legacy_random.uniforms([-1], 4)
