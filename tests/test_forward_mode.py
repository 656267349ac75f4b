"""Gradients by forward mode (``Objective(autodiff='forward')``: one tangent per
parameter carried along the run, ``model.forward_mode``) against reverse mode
through the checkpointed scan."""
import numpy as np
import pytest

from hnnjax.fit import GradientDescent, Objective
from hnnjax.fit import objective as objective_module
from hnnjax.fit import parts as parts_module
from test_fit_stages import toy_objective
from test_grad import two_drive_net

TSTOP = 30.0  # ms: both drives (mu 21 and 24 ms) act within it


def test_forward_mode_in_trial_parts_gives_the_loss_and_gradient_of_reverse_mode(monkeypatch):
    """Two parts of one trial at once, each carrying its dipoles' derivatives
    along both parameters, against one reverse-mode call of both: the same loss
    bits and the gradient within rounding; a point's loss alone runs the
    parts' passes without tangents."""
    monkeypatch.setattr(parts_module, "calls_at_once", lambda: 2)
    kw = dict(n_trials=2, tstop=TSTOP)
    split, one = toy_objective(autodiff="forward", **kw), toy_objective(autodiff="reverse", **kw)
    split._build()
    one._build()
    one._compiled["parts"] = None
    assert split._gn.forward_mode and all(ta.forward_mode for ta in split._gn.types)
    assert not one._gn.forward_mode and not any(ta.forward_mode for ta in one._gn.types)
    parts = split._compiled["parts"]
    assert parts.n_parts == 2
    split._compiled.update(forward=None, grad=None)  # calling them would raise
    u = split.u0 + 0.1
    (v_split, g_split), (v_one, g_one) = split.value_and_grad(u), one.value_and_grad(u)
    assert v_split == v_one
    assert np.all(g_one != 0)
    np.testing.assert_allclose(g_split, g_one, rtol=1e-10)
    monkeypatch.setattr(parts, "_forward", None)  # calling it would raise
    assert split.loss(u + 0.2) == one.loss(u + 0.2)
    steps = GradientDescent(n_steps=3)
    assert "autodiff (forward mode) gradient steps" in steps.summary(split)
    assert "autodiff (reverse mode) gradient steps" in steps.summary(one)


@pytest.mark.parametrize("n_params, mode", [(1, "forward"), (2, "forward"), (3, "reverse")])
def test_auto_takes_forward_mode_for_few_parameters(monkeypatch, n_params, mode):
    monkeypatch.setattr(objective_module, "FORWARD_MODE_MAX_PARAMS", 2)
    names = ["evprox1.mu", "evprox1.sigma", "evdist1.mu", "evdist1.sigma"][:n_params]
    target = (np.arange(0, 46.0), np.ones(46))
    obj = Objective(two_drive_net(), target, names, tstop=45.0, progress=False)
    assert obj.autodiff == mode


def test_an_unknown_autodiff_mode_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match=r"autodiff.*'auto'.*'forward'.*'reverse'"):
        Objective(two_drive_net(), (np.arange(0, 46.0), np.ones(46)), ["evprox1.mu"], tstop=45.0,
                  autodiff="backward")
