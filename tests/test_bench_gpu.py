"""``benchmarks/bench_gpu.py`` runs on CPU, so a GPU session's few minutes are
not spent finding it broken: every section on a tiny window with the Pallas
kernels in interpret mode, and without the platform asked for it says so and
exits 0."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
bench_gpu = pytest.importorskip("bench_gpu")


def test_every_section_runs_on_cpu(capsys):
    assert bench_gpu.main(["--platform", "cpu", "--solver", "pallas_interpret", "--trials", "2",
                           "--f64-trials", "", "--tstop", "5", "--check-trials", "2",
                           "--solver-check-ms", "5", "--grad-ms", "12", "--grad-trials", "1",
                           "--api-trials", "2", "--step-ab", "2"]) == 0
    out = capsys.readouterr().out
    assert "'pallas_interpret' vs 'loop'" in out and "identical True" in out
    assert "# gradient check" in out and "finite True" in out
    assert "simulate_dipole(somato, tstop=5, n_trials=2" in out
    assert "| float32 | 2 |" in out and "| NO |" not in out
    assert "# step A/B, float32, 2 trials" in out
    assert "float32 on cpu vs float64 on cpu" in out


def test_without_the_platform_it_says_so_and_exits_0(capsys):
    assert bench_gpu.main(["--platform", "no-such-platform"]) == 0
    assert "nothing to measure" in capsys.readouterr().out


def test_a_gradient_window_shorter_than_its_smoothing_is_refused_before_anything_runs(capsys):
    with pytest.raises(SystemExit):
        bench_gpu.main(["--platform", "cpu", "--grad-ms", "5"])
    assert "--grad-ms must be 0 (skip) or over 10 ms" in capsys.readouterr().err
