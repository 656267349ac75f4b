"""fit_drives as stages on an Objective: the CMA-ES global stage, stages
composed, the honest (faithful) score, and errors for bad stage arguments."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import hnnjax as hnn
from hnnjax.fit import objective as objective_module
from hnnjax.fit import (CMAES, GradientDescent, Grid, LevenbergMarquardt, Objective, dipole_fn,
                        faithful_score, fit_drives, score_trials, settings_from_params)
from hnnjax.grad import model
from test_grad import two_drive_net

TSTOP, KEY = 45.0, jax.random.PRNGKey(3)
MUS = ["evprox1.mu", "evdist1.mu"]


def toy_target():
    """(times, dipole) of two_drive_net() on fit_drives' draw for KEY (copies
    of one simulation per test process)."""
    times, values = _toy_target()
    return times.copy(), values.copy()


@functools.lru_cache(maxsize=None)
def _toy_target():
    fn, gn, _, th0, times = dipole_fn(two_drive_net(), TSTOP)
    z = model.draw_z(gn, jax.random.split(KEY, 1)[0])[None]
    return times, np.asarray(fn(jnp.asarray(th0), z)[0].mean(0))


def toy_objective(tstop=TSTOP, **kw):
    """Both drives' mu 6-7 ms off the truth (15, 30 ms), within 5-40 ms."""
    start = two_drive_net(mu_p=21.0, mu_d=24.0)
    return Objective(start, toy_target(), MUS, tstop=tstop, smooth_window=None, scale=1.0,
                     key=KEY, bounds={n: (5.0, 40.0) for n in MUS}, progress=False, **kw)


def test_cma_es_stage_lowers_the_loss_evaluating_each_generation_in_one_batch(monkeypatch):
    obj = toy_objective()
    start = obj.loss(obj.u0)
    shapes, losses = [], obj.losses
    monkeypatch.setattr(obj, "losses", lambda us: shapes.append(us.shape) or losses(us))
    res = CMAES(generations=10, population=8, sigma=0.5).run(obj, obj.u0)
    assert shapes == [(9, 2)] * len(res.history)  # population + the mean, one call each
    assert res.n_simulations == 9 * len(res.history)
    assert res.loss == min(res.history) and res.loss < 0.3 * start
    assert res.loss == pytest.approx(obj.loss(res.u), rel=1e-9)
    fitted = obj.values(res.u)
    assert abs(fitted["evprox1.mu"] - 15.0) < 1.0 and abs(fitted["evdist1.mu"] - 30.0) < 2.0


def test_a_forward_after_gradients_reuses_them_only_when_they_are_fast(monkeypatch):
    """After steady gradients quicker than REUSE_GRADIENT_S, one point's loss
    runs the compiled gradient; after slower ones it compiles the forward
    (a gradient of HNN's ERP network takes ~4 forwards)."""
    obj = toy_objective()
    val, _ = obj.value_and_grad(obj.u0)  # compiles
    obj.value_and_grad(obj.u0 + 0.05)  # steady: timed
    called = []
    assert obj._compiled["parts"] is None  # one trial: one call
    obj._compiled = {k: (lambda k, f: lambda *a: called.append(k) or f(*a))(k, f) if f else f
                     for k, f in obj._compiled.items()}
    for limit_s, u, used in ((1e9, obj.u0, "grad"), (0.0, obj.u0 + 0.05, "forward")):
        monkeypatch.setattr(objective_module, "REUSE_GRADIENT_S", limit_s)
        obj.loss(u)
        assert called[-1] == used
    assert obj.loss(obj.u0) == pytest.approx(val, rel=1e-9)  # the compiled forward: same loss
    assert called == ["grad", "forward", "forward"]


def test_resampled_gradient_steps_see_fresh_draws_and_hand_on_the_last_point(monkeypatch):
    """With resample, step k's gradient is on draws from fold_in(key, k) (the
    same each run), never the objective's own; the stage hands on the point
    after its last step (not the best seen); its first and last losses are on
    the objective's draws."""
    obj = toy_objective(n_trials=2)
    seen, value_and_grad = [], obj.value_and_grad
    monkeypatch.setattr(obj, "value_and_grad",
                        lambda u, z=None: seen.append((u, z)) or value_and_grad(u, z))
    res = GradientDescent(n_steps=3, optimizer=optax.adam(2.0), key=KEY, resample=True).run(
        obj, obj.u0)
    own = np.asarray(obj._z)
    for step, (u, z) in enumerate(seen):
        assert z.shape == own.shape and not np.array_equal(z, own)
        np.testing.assert_array_equal(z, obj.fresh_draws(jax.random.fold_in(KEY, step)))
        assert res.history[1 + step] == pytest.approx(value_and_grad(u, z)[0], rel=1e-12)
    assert len({np.asarray(z).tobytes() for _, z in seen}) == 3
    assert res.history[0] == pytest.approx(obj.loss(obj.u0), rel=1e-9)  # the objective's draws
    assert res.history[-1] == res.loss == pytest.approx(obj.loss(res.u), rel=1e-9)
    assert len(res.history) == 5
    opt = optax.adam(2.0)  # Adam replayed on the same draws ends where the stage did
    u = jnp.asarray(obj.u0)
    state = opt.init(u)
    for _, z in seen:
        updates, state = opt.update(jnp.asarray(value_and_grad(u, z)[1]), state, u)
        u = optax.apply_updates(u, updates)
    np.testing.assert_allclose(res.u, u, rtol=1e-12)
    fixed = GradientDescent(n_steps=3, optimizer=optax.adam(2.0), key=KEY).run(obj, obj.u0)
    assert fixed.loss == min(fixed.history)  # without resample: the best point seen


def test_validated_gradient_steps_hand_on_the_point_best_on_held_out_draws(monkeypatch):
    """With validate, each step's start and the last point are scored on one
    set of held-out draws (fold_in(key, VALIDATION_STREAM)), never the
    objective's own, and the stage hands on the point scoring best there
    (here made step 1 by the held-out losses), with its loss on the
    objective's own draws."""
    from hnnjax.fit.stages.gradient import VALIDATION_STREAM
    obj = toy_objective(n_trials=2)
    held = obj.fresh_draws(jax.random.fold_in(KEY, VALIDATION_STREAM))
    seen, losses = [], obj.losses
    fake = iter([3.0, 1.0, 2.0, 5.0])  # held-out losses of the start, steps 1, 2 and the last point

    def spy(us, z=None):
        seen.append((np.array(us[0]), z))
        real = losses(us, z)
        return np.array([next(fake)]) if z is not None else real
    monkeypatch.setattr(obj, "losses", spy)
    res = GradientDescent(n_steps=3, optimizer=optax.adam(2.0), key=KEY, validate=True).run(
        obj, obj.u0)
    assert len(seen) == 4 and all(np.array_equal(z, held) for _, z in seen)
    assert not np.array_equal(held, obj._z)
    np.testing.assert_array_equal(seen[0][0], obj.u0)
    assert res.info == {"validation": [3.0, 1.0, 2.0, 5.0], "validation_best": 1}
    np.testing.assert_array_equal(res.u, seen[1][0])
    assert res.loss == res.history[1] == pytest.approx(obj.loss(res.u), rel=1e-9)
    assert res.loss > min(res.history)  # not the point best on the objective's own draws
    plain = GradientDescent(n_steps=3, optimizer=optax.adam(2.0), key=KEY).run(obj, obj.u0)
    assert plain.history == res.history  # the same steps; only the point handed on differs


def test_trials_per_average_scores_each_average_and_takes_the_mean():
    """n_trials=4 as 2 averages of 2: the loss is the mean of the two
    averages' losses (each smoothed and with its own fitted scale), as an
    objective of 2 trials scores them on those draws; gradient, batched
    losses and Levenberg-Marquardt's residuals agree with it, and a
    Levenberg-Marquardt step runs on them."""
    kw = dict(smooth_window=5.0, scale="fit")
    obj = Objective(two_drive_net(mu_p=21.0, mu_d=24.0), toy_target(), MUS, tstop=TSTOP, key=KEY,
                    n_trials=4, trials_per_average=2, progress=False, **kw)
    pair = Objective(two_drive_net(mu_p=21.0, mu_d=24.0), toy_target(), MUS, tstop=TSTOP, key=KEY,
                     n_trials=2, progress=False, **kw)
    us = np.stack([obj.u0, obj.u0 + 0.3])
    obj.loss(obj.u0)  # builds: the draws exist
    each = np.stack([pair.losses(us, z) for z in (obj._z[:2], obj._z[2:])])  # (average, point)
    assert not np.allclose(each[0], each[1])  # the averages differ: the mean is not one of them
    np.testing.assert_allclose(obj.losses(us), each.mean(axis=0), rtol=1e-12)
    assert obj.loss(obj.u0) == pytest.approx(each[0, 0] / 2 + each[1, 0] / 2, rel=1e-12)
    val, grad = obj.value_and_grad(obj.u0)
    assert val == pytest.approx(obj.loss(obj.u0), rel=1e-12) and np.all(np.isfinite(grad))
    res = obj.residuals(us)
    assert res.shape == (2, 2 * len(obj.times))
    np.testing.assert_allclose((res ** 2).sum(axis=1), len(obj.times) * (each ** 2).mean(axis=0),
                               rtol=1e-10)
    np.testing.assert_allclose(obj.residual(obj.u0), res[0], rtol=1e-12)
    lm = LevenbergMarquardt(max_steps=1).run(obj, obj.u0)
    assert lm.history[0] == pytest.approx(np.sqrt((each[:, 0] ** 2).mean()), rel=1e-10)
    assert lm.history[-1] < lm.history[0]
    whole = Objective(two_drive_net(mu_p=21.0, mu_d=24.0), toy_target(), MUS, tstop=TSTOP, key=KEY,
                      n_trials=4, progress=False, **kw)
    assert whole.loss(obj.u0) < obj.loss(obj.u0)  # one 4-trial average: less of the trials' variance
    avg, s = obj.forward(obj.u0)  # what is plotted and scored: the average of all trials
    np.testing.assert_allclose(avg, whole.forward(obj.u0)[0], rtol=1e-12)


@pytest.mark.parametrize("value, exc, match", [
    (3, ValueError, r"trials_per_average must divide n_trials=4 into whole averages; got 3"),
    (0, ValueError, r"trials_per_average"),
    (2.0, TypeError, r"trials_per_average"),
])
def test_bad_trials_per_average_is_refused_before_anything_compiles(value, exc, match):
    with pytest.raises(exc, match=match):
        fit_drives(two_drive_net(), (np.arange(0, 41.0), np.ones(41)), MUS, n_trials=4,
                   trials_per_average=value, tstop=40.0, progress=False)


def test_stages_compose_and_the_default_recipe_is_the_same_stages(capsys):
    """Each stage starts where the previous one ended; the one-call arguments
    build the same stages as the explicit list.  Progress says each grid
    point's loss and what each stage did."""
    start = two_drive_net(mu_p=17.0, w_p=0.005)
    params = ["evprox1.mu", "evprox1.weights_ampa.L5_pyramidal"]
    kw = dict(tstop=TSTOP, smooth_window=None, scale=1.0, key=KEY, score_trials=0)
    grid = {"evprox1.mu": [13.0, 16.0, 19.0]}
    res = fit_drives(start, toy_target(), params, **kw, progress=True,
                     stages=[Grid(points=grid, batch=4), LevenbergMarquardt(max_steps=2)])
    err = capsys.readouterr().err
    losses = res.stages[0].info["grid_losses"]
    for k, mu in enumerate(grid["evprox1.mu"]):
        best = " (best)" * (k == int(np.argmin(losses)))
        assert f"grid: evprox1.mu={mu:.4g}: loss {losses[k]:.4g}{best}\n" in err
    for r in res.stages:
        assert (f"fit: stage {r.stage} done: loss {r.history[0]:.4g} -> {r.loss:.4g} "
                f"({r.n_simulations} trial simulations") in err
    kw["progress"] = False
    assert [r.stage for r in res.stages] == ["Grid", "LevenbergMarquardt"]
    assert res.stages[1].history[0] == pytest.approx(res.stages[0].loss, rel=1e-9)
    assert res.loss_history == res.stages[0].history + res.stages[1].history
    assert res.loss == pytest.approx(res.stages[-1].loss, rel=1e-9) and res.score is None
    assert res.loss < res.stages[0].loss
    same = fit_drives(start, toy_target(), params, **kw, grid=grid, grid_batch=4, n_steps=0,
                      refine=2)
    np.testing.assert_allclose(same.loss_history, res.loss_history, rtol=1e-9)


def test_honest_score_is_the_faithful_simulation_on_hnn_core_trials():
    """result.score: simulate_dipole's trials (hnn-core's seeds) of the
    fitted network, averaged, smoothed and scaled as the fit was."""
    net = two_drive_net()
    times, values = toy_target()
    res = fit_drives(net, (times, values), ["evprox1.mu"], tstop=TSTOP, smooth_window=5.0,
                     scale="fit", key=KEY, n_steps=1, progress=False, score_trials=2)
    dpls = hnn.simulate_dipole(res.net, tstop=TSTOP, n_trials=2, verbose=False, progress=False)
    avg = hnn.average_dipoles(dpls).smooth(5.0).scale(res.scale).data["agg"]
    assert res.score.n_trials == 2 and res.score.scale == res.scale
    assert res.score.rmse == pytest.approx(np.sqrt(np.mean((avg - values) ** 2)), rel=1e-9)
    assert res.score.rmse != pytest.approx(res.loss, rel=1e-3)  # other trials, other model
    assert "faithful score" in str(res)


def test_score_trials_averages_smooths_scales_and_leaves_the_trials_alone():
    times = np.arange(0, 50.025, 0.025)
    trials = [hnn.Dipole(times, np.stack([k + np.sin(times / 5)] * 3, axis=1)) for k in (1.0, 3.0)]
    before = [d.data["agg"].copy() for d in trials]
    target = (times, 2.0 * (2.0 + np.sin(times / 5)))
    score = score_trials(trials, target, scale=2.0)
    assert score.n_trials == 2 and score.smooth_window is None and score.scale == 2.0
    assert score.rmse < 1e-9  # the average (2 + sin) x 2 is the target
    one = score_trials(trials[:1], target, smooth_window=10.0, scale=2.0)
    expected = trials[0].copy().smooth(10.0).scale(2.0).data["agg"] - np.interp(times, *target)
    assert one.rmse == pytest.approx(np.sqrt(np.mean(expected ** 2)), rel=1e-12)
    assert one.rmse > 2.0  # 1 nAm below everywhere, x 2, and the smoothing's ends
    for d, b in zip(trials, before):
        np.testing.assert_array_equal(d.data["agg"], b)


def test_faithful_score_checks_its_settings_before_simulating(monkeypatch):
    import hnnjax.network.simulate as sim
    monkeypatch.setattr(sim, "simulate_dipole", lambda *a, **k: pytest.fail("simulated"))
    target = (np.array([0.0, TSTOP]), np.ones(2))
    with pytest.raises(ValueError, match="scale"):
        faithful_score(two_drive_net(), target, tstop=TSTOP, scale=0.0)
    with pytest.raises(ValueError, match="smooth_window"):
        faithful_score(two_drive_net(), target, tstop=TSTOP, smooth_window=-1.0)


def test_settings_from_an_hnn_parameter_file():
    p = {"tstop": 170, "dt": 0.025, "dipole_smooth_win": 30, "dipole_scalefctr": 3000}
    assert settings_from_params(p) == dict(tstop=170.0, dt=0.025, smooth_window=30.0,
                                           scale=3000.0)
    assert settings_from_params({"tstop": 50.0, "dipole_smooth_win": 0})["smooth_window"] is None


@pytest.mark.parametrize("make, exc, match", [
    (lambda: CMAES(generations=0), ValueError, r"CMAES.generations must be an integer >= 1"),
    (lambda: CMAES(generations=2, population=1), ValueError, r"CMAES.population"),
    (lambda: CMAES(generations=2, sigma=0.0), ValueError, r"CMAES.sigma"),
    (lambda: CMAES(generations=2.5), TypeError, r"CMAES.generations"),
    (lambda: GradientDescent(n_steps=0), ValueError, r"GradientDescent.n_steps"),
    (lambda: GradientDescent(gradient="fd"), ValueError, r"GradientDescent.gradient must be one of"),
    (lambda: GradientDescent(resample=True, gradient="smoothed"), ValueError,
     r"GradientDescent.resample needs gradient='autodiff'"),
    (lambda: GradientDescent(validate=1), TypeError, r"GradientDescent.validate"),
    (lambda: LevenbergMarquardt(max_steps=0), ValueError, r"LevenbergMarquardt.max_steps"),
    (lambda: LevenbergMarquardt(max_steps=1, step=-1.0), ValueError, r"LevenbergMarquardt.step"),
    (lambda: Grid(points={}), TypeError, r"grid must be a dict .* with at least one name"),
    (lambda: Grid(points={"evprox1.mu": [10.0]}, batch=0), ValueError, r"Grid.batch"),
])
def test_bad_stage_arguments_are_refused_when_the_stage_is_built(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_bad_stage_lists_are_refused_before_anything_compiles():
    net, target = two_drive_net(), (np.arange(0, 41.0), np.ones(41))
    kw = dict(tstop=40.0, progress=False)
    with pytest.raises(TypeError, match=r"stages\[1\] must be a Stage"):
        fit_drives(net, target, MUS, stages=[CMAES(generations=1), "adam"], **kw)
    with pytest.raises(TypeError, match="stages must be a non-empty list"):
        fit_drives(net, target, MUS, stages=[], **kw)
    with pytest.raises(ValueError, match=r"stages replaces .*give \['n_steps'\] to the stages"):
        fit_drives(net, target, MUS, stages=[CMAES(generations=1)], n_steps=5, **kw)
    with pytest.raises(ValueError, match=r"LevenbergMarquardt \(refine: least squares\) needs"):
        fit_drives(net, target, MUS, stages=[LevenbergMarquardt(max_steps=1)], loss="corr", **kw)
    with pytest.raises(ValueError, match=r"grid: \['evdist1.sigma'\] are not among"):
        fit_drives(net, target, MUS, stages=[Grid(points={"evdist1.sigma": [1.0]})], **kw)
    with pytest.raises(ValueError, match=r"GradientDescent.resample needs fit_drives\(draws='key'\)"):
        fit_drives(net, target, MUS, stages=[GradientDescent(resample=True)], draws="hnn-core", **kw)
    with pytest.raises(ValueError, match=r"GradientDescent.validate needs fit_drives\(draws='key'\)"):
        fit_drives(net, target, MUS, stages=[GradientDescent(validate=True)], draws="hnn-core", **kw)
    with pytest.raises(ValueError, match="score_trials"):
        fit_drives(net, target, MUS, n_steps=1, score_trials=-1, **kw)
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['n_step'\]"):
        fit_drives(net, target, MUS, n_step=1, **kw)
