"""One point's trials, or a forward-mode gradient's parameters, split into
parts run at once, one per core on one CPU device (``hnnjax/fit/parts.py``):
the same losses and gradients as one call."""
import jax
import numpy as np
import pytest

from hnnjax.fit import Objective
from hnnjax.fit import objective as objective_module
from hnnjax.fit import parts as parts_module
from hnnjax.grad import model
from test_fit_stages import KEY, MUS, TSTOP, toy_objective, toy_target
from test_grad import _erp_net, two_drive_net


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(parts_module, "calls_at_once", lambda: 2)


@pytest.mark.parametrize("cores, n_trials, parts", [
    (2, 4, 2), (2, 2, 2), (2, 3, 1), (2, 1, 1), (1, 4, 1), (4, 6, 3), (4, 8, 4)])
def test_trials_split_into_the_most_equal_parts_that_cores_allow(monkeypatch, cores, n_trials, parts):
    monkeypatch.setattr(parts_module, "calls_at_once", lambda: cores)
    assert parts_module.part_count(n_trials) == parts


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


@pytest.mark.parametrize("cores, n_params, parts", [(2, 3, 2), (2, 1, 1), (4, 3, 3), (1, 5, 1)])
def test_forward_mode_parameters_split_one_per_core(monkeypatch, cores, n_params, parts):
    monkeypatch.setattr(parts_module, "calls_at_once", lambda: cores)
    assert parts_module.direction_count(n_params) == parts


def test_parameters_in_parts_give_the_loss_and_gradient_of_one_call(two_cores, monkeypatch):
    """One trial in forward mode, three parameters as 2 + 2 directions at once
    (one of them zero) against one call of all three: the same loss bits,
    the gradient within rounding (each derivative its own call's, from the
    loss's cotangent).  A point's loss alone, after a quick gradient, is the
    first part's call; after slow ones, the compiled forward."""
    names = MUS + ["evprox1.sigma"]
    kw = dict(n_trials=1, autodiff="forward", bounds={"evprox1.sigma": (0.5, 5.0)})
    split, one = (Objective(two_drive_net(mu_p=21.0, mu_d=24.0), toy_target(), names, tstop=TSTOP,
                            smooth_window=None, scale=1.0, key=KEY, progress=False, **kw)
                  for _ in range(2))
    split._build()
    one._build()
    one._compiled["parts"] = None
    parts = split._compiled["parts"]
    assert isinstance(parts, parts_module.DirectionParts) and parts.n_parts == 2
    np.testing.assert_array_equal(np.concatenate(parts._directions), np.eye(4, 3))
    forward = split._compiled["forward"]
    split._compiled.update(forward=None, grad=None)  # calling them would raise
    u = split.u0 + 0.1
    (v_split, g_split), (v_one, g_one) = split.value_and_grad(u), one.value_and_grad(u)
    assert v_split == v_one
    assert np.all(g_one != 0)
    np.testing.assert_allclose(g_split, g_one, rtol=1e-12, atol=1e-15 * np.abs(g_one).max())
    assert split.loss(u + 0.2) == one.loss(u + 0.2)  # the first part's call
    calls = []
    split._compiled["forward"] = lambda *a: calls.append(a) or forward(*a)
    monkeypatch.setattr(objective_module, "REUSE_GRADIENT_S", 0.0)  # gradients too slow to reuse
    assert split.loss(u + 0.3) == one.loss(u + 0.3) and len(calls) == 1
