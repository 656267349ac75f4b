"""examples/fit_hnn_erp.py --resume: the fit starts from the values an earlier
run wrote, in the box around the parameter file's drives, and a JSON of
another fit is refused before anything compiles, and the output never
overwrites the JSON the run resumed; --switch-on adds a weight the file
leaves at zero to the fit, and refuses any other; --grid scores values of
a drive parameter first (a basket-cell weight too) and fits it on; the
fits shipped in benchmarks/fits rebuild their network."""
import importlib.util
import json
import math
import pathlib

import pytest

import hnnjax.fit
from hnnjax.grad.model import drive_parameters

EXAMPLE = pathlib.Path(__file__).parents[1] / "examples" / "fit_hnn_erp.py"
FITS = pathlib.Path(__file__).parents[1] / "benchmarks" / "fits"


class Stop(Exception):
    """Raised in place of the fit."""


def example():
    spec = importlib.util.spec_from_file_location("fit_hnn_erp", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def refusal(monkeypatch, capsys, *argv):
    """stderr of the example run with ``argv``, which must stop with a usage
    error (exit 2) before any fit starts."""
    monkeypatch.setattr(hnnjax.fit, "fit_drives", lambda *a, **k: pytest.fail("fit started"))
    with pytest.raises(SystemExit) as exit_:
        example().main(list(argv))
    assert exit_.value.code == 2
    return capsys.readouterr().err


def output_name(**args):
    """The example's output name for these arguments (the others at their defaults)."""
    ex = example()
    defaults = dict(data="yes", start="hand", resample=False, validate=False, trials_per_average=None,
                    resume=None, switch_on=[], grid=[])
    return ex.output_name(ex.argparse.Namespace(**{**defaults, **args}))


def fit_json(tmp_path, **fields):
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(fields))
    return str(path)


def test_resume_starts_from_the_fitted_values_in_the_files_box(tmp_path, monkeypatch):
    seen = {}

    def fit_drives(net, target, names, **kwargs):
        seen.update(net=net, names=names, bounds=kwargs["bounds"])
        raise Stop

    monkeypatch.setattr(hnnjax.fit, "fit_drives", fit_drives)
    ex = example()
    with pytest.raises(Stop):
        ex.main(["--n-steps", "1", "--refine", "0"])
    hand_bounds = seen["bounds"]
    values = {"evprox1.mu": 30.0, "evdist1.weights_ampa.L5_pyramidal": 0.2}
    with pytest.raises(Stop):
        ex.main(["--n-steps", "1", "--refine", "0",
                 "--resume", fit_json(tmp_path, data="yes", start="hand", values=values)])
    names, theta = drive_parameters(seen["net"])
    for name, value in values.items():
        assert float(theta[names.index(name)]) == value
    assert seen["bounds"] == hand_bounds
    assert hand_bounds["evprox1.mu"] == pytest.approx((26.61 - 20.0, 26.61 + 20.0))


@pytest.mark.parametrize("fields, message", [
    (dict(data="supra", start="hand", values={}), "a fit of --data supra --start hand, not of --data yes"),
    (dict(data="yes", start="hand"), "not a JSON this script wrote"),
])
def test_resume_refuses_another_fits_json(tmp_path, monkeypatch, capsys, fields, message):
    assert message in refusal(monkeypatch, capsys, "--resume", fit_json(tmp_path, **fields))


@pytest.mark.parametrize("resume, validate, name", [
    (None, False, "fit_yes_hand.json"),
    (None, True, "fit_yes_hand_validated.json"),
    (None, "avg8", "fit_yes_hand_avg8_validated.json"),
    ("out/fit_yes_hand.json", False, "fit_yes_hand_resumed.json"),
    ("out/fit_yes_hand_resumed.json", False, "fit_yes_hand_resumed2.json"),
    ("fit_yes_hand_resumed2.json", False, "fit_yes_hand_resumed3.json"),
])
def test_a_resumed_run_never_overwrites_the_json_it_started_from(resume, validate, name):
    assert output_name(validate=bool(validate), trials_per_average=8 if validate == "avg8" else None,
                       resume=resume) == name


def test_the_run_writes_its_json_and_a_figure_of_the_faithful_averages(tmp_path, monkeypatch):
    """Stages and scores stubbed: what main() writes from them."""
    import numpy as np
    from hnnjax.dipole import Dipole
    from hnnjax.fit.result import FitResult
    from hnnjax.fit.score import FaithfulScore
    from hnnjax.fit.stages.stage import StageResult

    times = np.arange(0.0, 170.0 + 1e-9, 0.025)
    scores = iter([4.2, 5.2])  # the fit's, then the parameter file's drives

    def score(rmse):
        dpl = Dipole(times, {"agg": rmse * np.sin(times / 20.0), "L2": 0 * times, "L5": 0 * times})
        return FaithfulScore(rmse, 8, 30.0, 3000.0, dpl)

    held_out = {"validation": [5.0, 4.6, 4.9], "validation_best": 1}
    given = []

    def fit_drives(net, target, names, **kwargs):
        given.extend(kwargs["stages"] + [kwargs["trials_per_average"]])
        grid = StageResult("Grid", np.zeros(len(names)), 4.9, [4.9], 2, 1.0,
                           dict(grid_points={"evprox1.mu": np.array([25.0, 27.0])},
                                grid_losses=np.array([5.1, 4.9])))
        stage = StageResult("GradientDescent", np.zeros(len(names)), 4.7, [4.9, 4.7, 4.8], 3, 1.0,
                            held_out)
        return FitResult({n: 1.0 for n in names}, net, [4.9, 4.7, 4.8], loss=4.7, stages=[grid, stage],
                         score=score(next(scores)), wall_s=2.0)

    monkeypatch.setattr(hnnjax.fit, "fit_drives", fit_drives)
    monkeypatch.setattr(hnnjax.fit, "faithful_score", lambda *a, **k: score(next(scores)))
    example().main(["--n-steps", "2", "--refine", "0", "--validate", "--n-trials", "4",
                    "--trials-per-average", "2", "--out", str(tmp_path)])
    assert [type(s).__name__ for s in given] == ["GradientDescent", "int"] and given[0].validate
    assert given[1] == 2
    out = json.loads((tmp_path / "fit_yes_hand_avg2_validated.json").read_text())
    assert (out["faithful_rmse"], out["hand_fit_faithful_rmse"], out["objective"]) == (4.2, 5.2, 4.7)
    assert out["stages"][0]["grid_points"] == {"evprox1.mu": [25.0, 27.0]}
    assert out["stages"][0]["grid_losses"] == [5.1, 4.9]
    assert {k: out["stages"][1][k] for k in held_out} == held_out
    assert out["figure"] == str(tmp_path / "fit_yes_hand_avg2_validated.png")
    import matplotlib.image
    assert matplotlib.image.imread(out["figure"]).shape[:2] == (504, 1320)


def test_switch_on_fits_a_weight_the_file_leaves_at_zero(monkeypatch):
    seen = {}

    def fit_drives(net, target, names, **kwargs):
        seen.update(net=net, names=names)
        raise Stop

    monkeypatch.setattr(hnnjax.fit, "fit_drives", fit_drives)
    name = "evprox2.weights_nmda.L2_pyramidal"
    with pytest.raises(Stop):
        example().main(["--n-steps", "1", "--refine", "0"])
    assert name not in seen["names"]
    with pytest.raises(Stop):
        example().main(["--n-steps", "1", "--refine", "0", "--switch-on", f"{name}=0.1"])
    names, theta = drive_parameters(seen["net"])
    assert name in seen["names"] and float(theta[names.index(name)]) == 0.1
    assert output_name(switch_on=[f"{name}=0.1"]) == "fit_yes_hand_on1.json"


@pytest.mark.parametrize("pair", ["evprox2.weights_nmda.L2_pyramidal=0",  # not > 0
                                  "evprox2.weights_nmda.L2_pyramidal",  # no value
                                  "evprox2.weights_ampa.L2_pyramidal=0.1",  # already on
                                  "evprox2.mu=0.1",  # not a weight
                                  "evprox1.weights_nmda.L2_basket=0.1"])  # a weight the fit leaves out
def test_switch_on_refuses_what_it_cannot_switch_on(monkeypatch, capsys, pair):
    err = refusal(monkeypatch, capsys, "--switch-on", pair)
    assert f"--switch-on {pair}: expected NAME=VALUE" in err and "evprox2.weights_nmda.L2_pyramidal" in err


def test_grid_scores_values_of_a_drive_parameter_first_and_fits_it(monkeypatch):
    seen = {}

    def fit_drives(net, target, names, **kwargs):
        seen.update(names=names, stages=kwargs["stages"])
        raise Stop

    monkeypatch.setattr(hnnjax.fit, "fit_drives", fit_drives)
    basket, mu = "evprox1.weights_ampa.L5_basket", "evprox1.mu"
    with pytest.raises(Stop):
        example().main(["--n-steps", "1", "--refine", "0", "--grid", f"{basket}=0.075,0.1",
                        "--grid", f"{mu}=25,27"])
    grid, adam = seen["stages"]
    assert type(grid).__name__ == "Grid" and type(adam).__name__ == "GradientDescent"
    assert grid.points == {basket: [0.075, 0.1], mu: [25.0, 27.0]} and grid.batch == 1
    assert seen["names"].count(basket) == 1 and seen["names"].count(mu) == 1
    assert output_name(validate=True, resume="fit_yes_hand.json", grid=[f"{basket}=0.075,0.1"]) == \
        "fit_yes_hand_validated_grid1_resumed.json"


@pytest.mark.parametrize("pair", ["evprox1.weights_ampa.L5_basket",  # no values
                                  "evprox1.weights_ampa.L5_basket=0.1,x",  # not a number
                                  "evprox1.weights_ampa.L5_basket=0.1,nan",  # not finite
                                  "evprox1.weights_nmda.L5_basket=0.1",  # zero in the file
                                  "extpois.weights_ampa.L5_pyramidal=0.1",  # not a fitted drive
                                  "evprox1.tau=1"])  # not a parameter
def test_grid_refuses_what_it_cannot_score(monkeypatch, capsys, pair):
    err = refusal(monkeypatch, capsys, "--grid", pair)
    assert f"--grid {pair}: expected NAME=V1,V2,..." in err and "evprox1.weights_ampa.L5_basket" in err


def test_grid_refuses_a_name_given_twice(monkeypatch, capsys):
    err = refusal(monkeypatch, capsys, "--grid", "evprox1.mu=25", "--grid", "evprox1.mu=27")
    assert "--grid evprox1.mu=27: expected" in err


def test_a_resumed_runs_json_holds_the_values_it_did_not_refit(tmp_path, monkeypatch):
    """A value the resumed fit set and this run does not fit (a --grid weight
    onto basket cells) stays in the JSON, so the JSON alone rebuilds the fit."""
    import numpy as np
    from hnnjax.dipole import Dipole
    from hnnjax.fit.result import FitResult
    from hnnjax.fit.score import FaithfulScore

    times = np.arange(0.0, 170.0 + 1e-9, 0.025)
    score = FaithfulScore(4.0, 8, 30.0, 3000.0, Dipole(times, {k: 0 * times for k in ("agg", "L2", "L5")}))

    def fit_drives(net, target, names, **kwargs):
        return FitResult({n: 1.0 for n in names}, net, [4.0], loss=4.0, stages=[], score=score,
                         wall_s=1.0)

    monkeypatch.setattr(hnnjax.fit, "fit_drives", fit_drives)
    monkeypatch.setattr(hnnjax.fit, "faithful_score", lambda *a, **k: score)
    basket = "evprox1.weights_ampa.L5_basket"
    values = {basket: 0.15, "evprox1.mu": 30.0}
    example().main(["--n-steps", "1", "--refine", "0", "--out", str(tmp_path),
                    "--resume", fit_json(tmp_path, data="yes", start="hand", values=values)])
    out = json.loads((tmp_path / "fit_yes_hand_resumed.json").read_text())
    assert out["values"][basket] == 0.15 and basket not in out["params"]
    assert out["values"]["evprox1.mu"] == 1.0  # refitted: this run's value


@pytest.mark.parametrize("path", sorted(FITS.glob("*.json")), ids=lambda p: p.name)
def test_the_shipped_fits_name_parameters_of_their_network(path):
    """Each JSON in benchmarks/fits (what bench_yardstick.py and --resume read)
    sets only differentiable parameters of the network it was fitted on, each of
    them, its fitted ones included, to a finite value that network takes."""
    from hnnjax.io.params import params_path, read_params
    ex = example()
    fit = json.loads(path.read_text())
    assert fit["data"] == "yes" and set(fit["params"]) <= set(fit["values"])
    net = ex.build(fit["start"], read_params(params_path("ERPYes100Trials")))
    names = drive_parameters(net)[0]
    assert set(fit["values"]) <= set(names), set(fit["values"]) - set(names)
    got = dict(zip(*drive_parameters(ex.set_fitted(net, fit["values"]))))
    assert {n: got[n] for n in fit["values"]} == fit["values"]
    assert all(math.isfinite(v) for v in fit["values"].values())
