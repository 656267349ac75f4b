"""Gradients by forward mode (``Objective(autodiff='forward')``: one tangent per
parameter carried along the run, ``model.forward_mode``) against reverse mode
through the checkpointed scan."""
import dataclasses

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest

from hnnjax.fit import GradientDescent, Objective, dipole_fn, trial_draws
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


def test_tangents_run_trial_by_trial_with_the_values_and_derivatives_of_the_batch():
    """A forward-mode model's JVP maps over the trials (its own rule), while
    its values alone run them batched: the same dipoles bit for bit, and the
    derivatives of autodiff through the batched trials."""
    net = two_drive_net()
    fn, gn, names, th0, _ = dipole_fn(net, TSTOP, forward_mode=True)
    z = trial_draws(net, gn, 3, TSTOP, "key", jax.random.PRNGKey(2))
    th0 = jnp.asarray(th0)
    direction = jnp.zeros_like(th0).at[names.index("evprox1.mu")].set(1.0)
    mapped = jax.jit(lambda th: jax.jvp(lambda t: fn(t, z)[0], (th,), (direction,)))
    batched = jax.jit(lambda th: jax.jvp(lambda t: fn.fun(t, z)[0], (th,), (direction,)))
    (d_map, t_map), (d_batch, t_batch) = mapped(th0), batched(th0)
    np.testing.assert_array_equal(d_map, d_batch)
    np.testing.assert_array_equal(d_map, jax.jit(lambda th: fn(th, z)[0])(th0))
    assert float(jnp.abs(t_batch).max()) > 0
    np.testing.assert_allclose(t_map, t_batch, rtol=0, atol=1e-10 * float(jnp.abs(t_batch).max()))
    assert 3 in scan_lengths(jax.make_jaxpr(mapped)(th0).jaxpr)  # the map over the 3 trials
    assert 3 not in scan_lengths(jax.make_jaxpr(batched)(th0).jaxpr)


def scan_lengths(jaxpr):
    """The lengths of every scan in ``jaxpr`` and the jaxprs inside it."""
    out = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "scan":
            out.append(eqn.params["length"])
        for sub in jax.extend.core.jaxprs_in_params(eqn.params):
            out += scan_lengths(sub)
    return out


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


def test_forward_mode_tables_give_jaxs_derivatives_with_one_slope_per_lookup():
    """A forward-mode model's rate tables (``RateTable.forward_mode``): the
    same values bit for bit, and along several tangents at once the slopes
    JAX's own rule gives, inside the grid and clipped past its ends; a
    table's own tangent, which no model has, is handled too; the switch
    reaches every table of a model."""
    from hnnjax.cells.tables import RateTable
    from hnnjax.grad import model
    from hnnjax.grad.tangents import jvp_along_axes

    table = RateTable.build(lambda v: (np.tanh(v / 30.0), 1.0 + (v / 50.0) ** 2), -100.0, 100.0, 200)
    fm = dataclasses.replace(table, forward_mode=True)
    v = jnp.asarray(np.random.default_rng(0).uniform(-130.0, 130.0, 64))  # some past both ends
    # voltage tangents: the diagonal derivative, along 3 directions at once
    along = lambda tb: jvp_along_axes(lambda u: jnp.stack(tb(v + u[0] - 2.0 * u[2])), jnp.zeros(3))
    (val_fm, d_fm), (val, d) = along(fm), along(table)
    np.testing.assert_array_equal(val_fm, val)
    assert np.abs(d).max() > 0 and np.all(d[:, :, np.abs(v) > 100.0] == 0)
    np.testing.assert_allclose(d_fm, d, rtol=1e-13, atol=0)
    # the tables' values as the differentiated input
    dvals = jnp.asarray(np.random.default_rng(1).normal(size=table.values.shape))
    tangent = lambda tb: jax.jvp(lambda w: jnp.stack(dataclasses.replace(tb, values=w)(v)),
                                 (jnp.asarray(table.values),), (dvals,))[1]
    np.testing.assert_allclose(tangent(fm), tangent(table), rtol=1e-13, atol=1e-15)
    gn = model.forward_mode(model.build(two_drive_net(), TSTOP)[0])
    tables = [x for x in jax.tree_util.tree_leaves(gn, is_leaf=lambda x: isinstance(x, RateTable))
              if isinstance(x, RateTable)]
    assert tables and all(t.forward_mode for t in tables)


def test_forward_mode_carries_no_tangents_before_the_first_event(monkeypatch):
    """Before the step of a trial's first drive event nothing depends on the
    drives' parameters, so a trial's forward mode runs those steps in a loop
    of its own without tangents (``model.run(quiet_first=True)``): the same
    dipoles and the same derivatives as carrying them, which are
    exactly zero up to there; starting the tangents one step later would
    lose the first event's.  (The dipoles' bits, the forward's, are
    checked through ``dipole_fn`` above; compiled alone, the two single-trial
    programs here round differently after the first event, ~1e-14.)"""
    from hnnjax.grad import model

    net = two_drive_net()
    gn, names, theta, n_steps = model.build(net, TSTOP)
    gn = model.forward_mode(gn)
    z = trial_draws(net, gn, 1, TSTOP, "key", jax.random.PRNGKey(2))[0]
    theta = jnp.asarray(theta)
    first = int(model.drive_events(gn, theta, z, 0.025, TSTOP)[0][0])
    assert 100 < first < n_steps - 100
    direction = jnp.zeros_like(theta).at[names.index("evprox1.mu")].set(1.0)

    def run(quiet_first):
        return jax.jit(lambda th: jax.jvp(lambda t: model.run(
            gn, t, z, n_steps, 0.025, quiet_first=quiet_first)[0], (th,), (direction,)))(theta)

    (dip, d_dip), (dip_quiet, d_quiet) = run(False), run(True)
    np.testing.assert_allclose(dip_quiet, dip, rtol=0, atol=1e-12 * float(jnp.abs(dip).max()))
    assert np.all(d_dip[:first] == 0) and np.any(d_dip[first] != 0)  # dipoles at t_1..t_n
    scale = float(jnp.abs(d_dip).max())
    np.testing.assert_allclose(d_quiet, d_dip, rtol=0, atol=1e-12 * scale)
    # a window that ends before the first event: every step quiet, no tangents at all
    short = first - 40
    (d_s, t_s), (d_sq, t_sq) = (jax.jit(lambda th: jax.jvp(lambda t: model.run(
        gn, t, z, short, 0.025, quiet_first=q)[0], (th,), (direction,)))(theta) for q in (False, True))
    np.testing.assert_array_equal(d_sq, d_s)  # before any event the two programs agree bit for bit
    assert np.all(t_s == 0) and np.all(t_sq == 0)
    integrate = model.integrate_quiet_first
    monkeypatch.setattr(model, "integrate_quiet_first", lambda *a: integrate(*a[:-1], a[-1] + 1))
    assert float(jnp.abs(run(True)[1] - d_dip).max()) > 1e-6 * scale
