"""benchmarks/bench_yardstick.py: --variant scores the last fit with values
changed (refused before anything runs when it names no parameter of the
drives), --first-trial moves the blocks to later hnn-core trials."""
import importlib.util
import pathlib
import sys

import pytest

from hnnjax.grad.model import drive_parameters

BENCH = pathlib.Path(__file__).parents[1] / "benchmarks" / "bench_yardstick.py"
FIT = pathlib.Path(__file__).parents[1] / "benchmarks" / "fits" / "fit_yes_hand_distal_nmda.json"


def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH.parent))  # its helpers, as when run as a script
    spec = importlib.util.spec_from_file_location("bench_yardstick", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(monkeypatch, *argv):
    """The runs bench_yardstick.py scores with ``argv``: {name: (values of the
    differentiable parameters, first trial)}, its simulations replaced."""
    b, seen = bench(monkeypatch), {}

    def block_scores(net, settings, target, n_blocks, first_trial):
        seen[len(seen)] = (dict(zip(*drive_parameters(net))), first_trial)
        return [(4.0, 4.1)] * (n_blocks + 1), [0.0] * 17

    monkeypatch.setattr(b, "block_scores", block_scores)
    monkeypatch.setattr(b, "differentiable_score", lambda *a: 4.0)
    monkeypatch.setattr(sys, "argv", ["bench_yardstick.py", *argv])
    b.main()
    return list(seen.values())


def test_a_variant_is_the_last_fit_with_its_values_changed(monkeypatch, capsys):
    name = "evdist1.weights_nmda.L5_pyramidal"
    hand, fit, variant = run(monkeypatch, "--fit-json", str(FIT), "--variant", f"{name}=0.06,evdist1.mu=64",
                             "--first-trial", "32", "--blocks", "2")
    assert variant[0] == {**fit[0], name: 0.06, "evdist1.mu": 64.0}
    assert fit[0][name] == pytest.approx(0.055) and hand[0][name] > 0.07  # the fit itself unchanged
    assert {first for _, first in (hand, fit, variant)} == {32}
    out = capsys.readouterr().out
    assert f"with {name}=0.06,evdist1.mu=64" in out and "trials 40-47" in out
    assert "differentiable model" not in out  # on trials 0-7 only


@pytest.mark.parametrize("variant", ["foo=1", "evprox1.mu=1,2", "evprox1.mu=26,evprox1.mu=27",
                                     "evprox1.weights_nmda.L5_basket=0.1", "evprox1.mu=nan"])
def test_a_variant_that_names_no_parameter_is_refused_before_anything_runs(monkeypatch, capsys, variant):
    b = bench(monkeypatch)
    monkeypatch.setattr(b, "block_scores", lambda *a: pytest.fail("simulated"))
    monkeypatch.setattr(sys, "argv", ["bench_yardstick.py", "--variant", variant])
    with pytest.raises(SystemExit) as exit_:
        b.main()
    assert exit_.value.code == 2
    assert "--variant" in capsys.readouterr().err
