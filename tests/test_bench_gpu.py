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
    assert "# step A/B, float32, 2 trials" in out and "CUDA graph" in out and "failed" not in out
    assert "float32 on cpu vs float64 on cpu" in out


def test_without_the_platform_it_says_so_and_exits_0(capsys):
    assert bench_gpu.main(["--platform", "no-such-platform"]) == 0
    assert "nothing to measure" in capsys.readouterr().out


def test_a_gradient_window_shorter_than_its_smoothing_is_refused_before_anything_runs(capsys):
    with pytest.raises(SystemExit):
        bench_gpu.main(["--platform", "cpu", "--grad-ms", "5"])
    assert "--grad-ms must be 0 (skip) or over 10 ms" in capsys.readouterr().err


def test_ptxas_report_reads_the_pallas_kernels_registers_and_spills(tmp_path):
    """``count_gpu_kernels.py --ptxas``: the Pallas kernels' PTX (by their
    ``pallas_call`` names) assembled with ``ptxas -v``, the rest skipped, every
    dumped file removed; here with a stand-in ptxas that answers as ptxas does."""
    count = pytest.importorskip("count_gpu_kernels")
    ptxas = tmp_path / "ptxas"
    ptxas.write_text("#!/bin/sh\ncase \"$*\" in *solve*) s=8;; *) s=0;; esac\n"
                     "echo \"ptxas info    : Function properties for kernel\" >&2\n"
                     "echo \"    0 bytes stack frame, $s bytes spill stores, $((s * 2)) bytes spill loads\" >&2\n"
                     "echo \"ptxas info    : Used 200 registers, used 0 barriers\" >&2\n")
    ptxas.chmod(0o755)
    dump = tmp_path / "dump"
    dump.mkdir()
    for name in ("assembled_solve", "first_due_chunks", "loop_add_fusion"):
        (dump / f"module.{name}.ptx").write_text(f".version 9.0\n.target sm_90a\n.visible .entry {name}(\n")
    report = count._ptxas_report(ptxas, dump)
    assert report == ("assembled_solve 200 registers, spills 8 B stored / 16 B loaded; "
                      "first_due_chunks 200 registers, spills 0 B stored / 0 B loaded"), report
    assert not list(dump.iterdir())
    assert count._ptxas_report(ptxas, dump) == "none found"


def test_a_step_variant_that_cannot_compile_is_reported_and_left_out(capsys, monkeypatch):
    monkeypatch.setattr(bench_gpu, "COMMAND_BUFFER", {"xla_gpu_enable_command_buffer": "NO_SUCH_COMMAND"})
    assert bench_gpu.main(["--platform", "cpu", "--solver", "pallas_interpret", "--trials", "",
                           "--f64-trials", "", "--tstop", "5", "--check-trials", "0",
                           "--solver-check-ms", "0", "--grad-ms", "0", "--api-trials", "0",
                           "--step-ab", "2"]) == 0
    out = capsys.readouterr().out
    assert "# step A/B, CUDA graph: failed" in out
    line = next(x for x in out.splitlines() if x.startswith("# step A/B, float32, 2 trials"))
    assert "as compiled" in line and "step 3" in line and "CUDA graph" not in line
