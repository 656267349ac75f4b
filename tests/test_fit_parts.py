"""One point's trials split into parts run at once, one per core on one CPU
device (``hnnjax/fit/parts.py``): the same losses and gradients as one call."""
import jax
import numpy as np
import pytest

from hnnjax.fit import Objective
from hnnjax.fit import parts as parts_module
from hnnjax.grad import model
from test_fit_stages import toy_objective
from test_grad import _erp_net


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(parts_module, "calls_at_once", lambda: 2)


@pytest.mark.parametrize("cores, n_trials, parts", [
    (2, 4, 2), (2, 2, 2), (2, 3, 1), (2, 1, 1), (1, 4, 1), (4, 6, 3), (4, 8, 4)])
def test_trials_split_into_the_most_equal_parts_that_cores_allow(monkeypatch, cores, n_trials, parts):
    monkeypatch.setattr(parts_module, "calls_at_once", lambda: cores)
    assert parts_module.part_count(n_trials) == parts


@pytest.mark.parametrize("n_trials, size", [(8, 2), (4, 2), (6, 2), (3, 1), (1, 1)])
def test_points_run_a_few_trials_per_call(n_trials, size):
    assert parts_module.trials_per_call(n_trials) == size


def test_point_calls_give_the_losses_and_residuals_of_one_call(two_cores):
    """A batch of 3 points x 4 trials (scored as two 2-trial averages) in
    calls of 1 point x 2 trials, two at once, against one call: losses and
    residuals within rounding (a call's batch width may change the order of
    XLA's sums), the same count of trial simulations."""
    kw = dict(n_trials=4, trials_per_average=2)
    calls, one = toy_objective(**kw), toy_objective(**kw)
    calls._build()
    one._build()
    one._compiled["points"] = None
    assert calls._compiled["points"].size == 2
    calls._compiled.update(losses=None, residuals=None)  # calling them would raise
    us = np.stack([calls.u0 + d for d in (0.0, 0.3, -0.4)])
    losses = calls.losses(us)
    np.testing.assert_allclose(losses, one.losses(us), rtol=1e-12)
    assert len(set(np.round(losses, 12))) == 3  # the points differ
    res_calls, res_one = calls.residuals(us), one.residuals(us)
    assert res_calls.shape == res_one.shape == (3, 2 * calls.times.size)
    np.testing.assert_allclose(res_calls, res_one, rtol=0, atol=1e-12 * np.abs(res_one).max())
    assert calls.n_simulations == one.n_simulations == 2 * 3 * 4


def test_trial_parts_give_the_loss_and_gradient_of_one_call(two_cores):
    """Two parts of 2 trials at once against one call of 4 (scored as two
    2-trial averages): the same loss bits, the gradient within rounding (its
    parts are summed in another order); one point's loss runs the parts'
    forward passes, not a compiled forward or gradient of all trials."""
    kw = dict(n_trials=4, trials_per_average=2, autodiff="reverse")  # forward mode: test_forward_mode
    split, one = toy_objective(**kw), toy_objective(**kw)
    split._build()
    one._build()
    one._compiled["parts"] = None
    assert split._compiled["parts"].n_parts == 2
    split._compiled.update(forward=None, grad=None)  # calling them would raise
    u = split.u0 + 0.1
    (v_split, g_split), (v_one, g_one) = split.value_and_grad(u), one.value_and_grad(u)
    assert v_split == v_one
    np.testing.assert_allclose(g_split, g_one, rtol=1e-12, atol=1e-15 * np.abs(g_one).max())
    assert np.any(g_split != 0)
    assert split.loss(u + 0.2) == one.loss(u + 0.2)
    (avg_split, s_split), (avg_one, s_one) = split.forward(u + 0.2), one.forward(u + 0.2)
    np.testing.assert_array_equal(avg_split, avg_one)
    assert s_split == s_one


def test_an_overflow_in_one_part_grows_the_room_and_repeats_the_call(two_cores, monkeypatch):
    """Starting one doubling short of the room the ERP network needs, a
    2-trial loss in two parts grows the room once and gives the loss of an
    objective built with enough room."""
    net, tstop = _erp_net(), 60.0
    target = (np.arange(0, 61.0), np.sin(np.arange(0, 61.0) / 9.0))
    kw = dict(n_trials=2, tstop=tstop, progress=False, key=jax.random.PRNGKey(1))
    ref = Objective(net, target, ["evprox1.mu"], **kw)
    ref_val = ref.loss(ref.u0)
    build, grow, grown = model.build, model.grow, []
    monkeypatch.setattr(model, "build", lambda *a, **k: build(*a, **{**k, "capacity": 16}))
    monkeypatch.setattr(model, "grow", lambda gn: grown.append(gn.capacity) or grow(gn))
    obj = Objective(net, target, ["evprox1.mu"], **kw)
    val = obj.loss(obj.u0)
    assert grown == [16] and obj._compiled["parts"].n_parts == 2
    assert val == pytest.approx(ref_val, rel=1e-9)
