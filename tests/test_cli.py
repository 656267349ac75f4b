"""The ``hnnjax`` command: parsing, usage errors (fast), outputs, Ctrl-C,
reduced end-to-end runs."""
import os
import signal
import subprocess
import sys
import time

import pytest

import hnnjax as hnn
from hnnjax import cli


@pytest.fixture(autouse=True)
def _no_somato_data(monkeypatch, tmp_path):
    """Never pick up a real somato copy from the environment."""
    empty = tmp_path / 'no_somato'
    empty.mkdir()
    monkeypatch.setenv('MNE_DATASETS_SOMATO_PATH', str(empty))


def _usage_error(argv, capsys):
    """Run main(argv), expecting argparse's exit 2; returns stderr."""
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


def test_simulate_defaults():
    args = cli.build_parser().parse_args(['simulate', 'N20'])
    assert args.params == 'N20'
    assert (args.tstop, args.dt, args.n_trials) == (170.0, 0.025, 1)
    assert args.erp_drives is False and args.params_drives is True
    assert args.smooth is None and args.scale is None
    assert args.dtype == 'float64' and args.out_dir is None
    assert args.compile_cache is None  # use_compilation_cache's own default
    assert tuple(args.mesh_shape) == (10, 10)


def test_somato_defaults():
    args = cli.build_parser().parse_args(['somato'])
    assert (args.n_trials, args.fit_steps, args.target) == (8, None, 'auto')
    assert args.data_path is None and args.out_dir is None
    assert args.mesh_shape is None


def test_params_file_path(tmp_path):
    fname = tmp_path / 'my.json'
    fname.write_text('{}')
    args = cli.build_parser().parse_args(
        ['simulate', str(fname), '--tstop', '50', '--n-trials', '3',
         '--erp-drives', '--no-params-drives', '--smooth', '0',
         '--scale', '-2.5', '--dtype', 'float32'])
    assert args.params == fname
    assert (args.tstop, args.n_trials, args.smooth, args.scale) == \
        (50.0, 3, 0.0, -2.5)
    assert args.erp_drives and not args.params_drives


@pytest.mark.parametrize('argv, message', [
    (['simulate', 'default', '--tstop', '0'], '--tstop: must be a number > 0'),
    (['simulate', 'default', '--tstop', '-5'], 'must be a number > 0'),
    (['simulate', 'default', '--tstop', 'abc'], 'must be a number > 0'),
    (['simulate', 'default', '--dt', 'nan'], '--dt: must be a number > 0'),
    (['simulate', 'default', '--n-trials', '0'], 'an integer >= 1'),
    (['simulate', 'default', '--n-trials', '1.5'], 'an integer >= 1'),
    (['simulate', 'default', '--smooth', '-1'], 'a number >= 0'),
    (['simulate', 'default', '--scale', '0'], 'finite non-zero'),
    (['simulate', 'default', '--dtype', 'float16'], 'invalid choice'),
    (['simulate', 'missing.json'], 'params file not found: missing.json'),
    (['simulate', 'params.txt'], 'neither a shipped params name'),
    (['simulate'], 'PARAMS_FILE'),
    (['somato', '--n-trials', '-1'], 'an integer >= 1'),
    (['somato', '--target', 'meg'], 'invalid choice'),
    (['somato', '--data-path', 'no/such/dir'], 'not a directory'),
    (['somato', '--fit-steps', '0'], 'an integer >= 1'),
    ([], 'COMMAND'),
])
def test_usage_errors_exit_2(argv, message, capsys):
    assert message in _usage_error(argv, capsys)


@pytest.mark.parametrize('argv, message', [
    (['simulate', 'default', '--erp-drives', '--mesh-shape', '3', '3'],
     "already defines ['evdist1', 'evprox1', 'evprox2']"),
    (['simulate', 'default', '--tstop', '1', '--dt', '2',
      '--mesh-shape', '3', '3'], 'must not exceed tstop_ms'),
    # default.json smooths over 30 ms
    (['simulate', 'default', '--tstop', '20', '--mesh-shape', '3', '3'],
     'smooth_ms (30 ms) must not exceed tstop_ms (20 ms)'),
    (['somato', '--target', 'somato'], "MNE's somato dataset was not found"),
    (['somato', '--target', 'waveform', '--data-path', '.'],
     'data_path is only used'),
])
def test_run_errors_return_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'usage: hnnjax {argv[0]} ')
    assert f'\nhnnjax {argv[0]}: error: ' in err and message in err
    assert not (tmp_path / 'hnnjax_out').exists()


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(['--version'])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f'hnnjax {hnn.__version__}'


def _hnnjax(*argv, **kwargs):
    """``python -m hnnjax.cli *argv`` as a subprocess."""
    return subprocess.Popen([sys.executable, '-m', 'hnnjax.cli', *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kwargs)


@pytest.mark.parametrize('argv, status, message', [
    (['simulate', 'nope.param'], 2, 'params file not found'),
    (['somato', '--n-trials', '0'], 2, 'an integer >= 1'),
    (['--help'], 0, 'usage: hnnjax'),
    (['somato', '--help'], 0, "fresh trials (not the fit's own)"),
    (['--version'], 0, 'hnnjax '),
])
def test_usage_answers_fast(argv, status, message):
    """The module (and the package, ``python -m hnnjax``) runs as a program;
    help, version and usage errors answer without importing JAX, MNE or
    matplotlib (a second or two each)."""
    probe = ('import runpy, sys; sys.argv = ["hnnjax", *sys.argv[1:]]\n'
             'try:\n    runpy.run_module("hnnjax.cli", run_name="__main__")\n'
             'finally:\n    print("imported:", sorted(m for m in ("jax", '
             '"mne", "matplotlib", "numpy") if m in sys.modules), '
             'file=sys.stderr)')
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, '-c', probe, *argv],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    assert proc.returncode == status
    assert message in proc.stdout + proc.stderr
    assert 'imported: []' in proc.stderr
    assert seconds < 2.5  # importing JAX alone takes 2-3 s on 2 cores
    direct = _hnnjax(*argv)
    assert direct.wait(timeout=30) == status
    package = subprocess.run([sys.executable, '-m', 'hnnjax', *argv], capture_output=True,
                             text=True, timeout=30)  # hnnjax/__main__.py
    assert package.returncode == status and message in package.stdout + package.stderr


@pytest.mark.parametrize('signum, status', [(signal.SIGINT, 130),
                                             (signal.SIGTERM, 143)])
def test_interrupt_exits_without_traceback_or_files(signum, status,
                                                    tmp_path):
    """Ctrl-C (or kill) in the middle of a run: one line, status 130 (143)
    within seconds, no traceback, the output folder untouched."""
    out_dir = tmp_path / 'run'
    # Ctrl-C as at a terminal: a shell's background job (pytest started with
    # `&`) ignores SIGINT and its children inherit that, while a handler
    # (ours, for the moment of the start) is reset to the default in them
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = _hnnjax('somato', '--mesh-shape', '3', '3', '--n-trials', '1',
                       '--fit-steps', '1', '--target', 'waveform',
                       '--out-dir', str(out_dir), cwd=tmp_path)
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    time.sleep(8)  # into the simulation or the fit (compiled JAX calls)
    assert proc.poll() is None, proc.communicate()
    sent = time.perf_counter()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    assert time.perf_counter() - sent < 3
    assert proc.returncode == status
    assert 'Traceback' not in err
    assert err.strip().splitlines()[-1] == \
        'hnnjax: interrupted; output folder left as it was'
    assert os.listdir(tmp_path) == ['no_somato']  # no staging folder left


def test_simulate_end_to_end(tmp_path, capsys):
    out_dir = tmp_path / 'run'
    assert cli.main(['simulate', 'default', '--mesh-shape', '3', '3',
                     '--tstop', '60', '--n-trials', '2', '--smooth', '10',
                     '--out-dir', str(out_dir)]) == 0
    printed = capsys.readouterr().out
    assert 'simulated 2 trials of 60 ms' in printed
    assert 'L5_pyramidal' in printed and 'scaled x3000' in printed
    assert f'files in {out_dir.resolve()}/' in printed
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ['dpl_0_raw.txt', 'dpl_1_raw.txt', 'dpl_average.txt',
                     'simulation.png']
    avg = hnn.read_dipole(out_dir / 'dpl_average.txt')
    assert avg.times[-1] == pytest.approx(60.0)


def test_default_out_dir_and_no_stale_files(tmp_path, monkeypatch, capsys):
    """Files go to ./hnnjax_out/simulate; a rerun with fewer trials leaves
    only its own trial files, and files not of this job stay."""
    monkeypatch.chdir(tmp_path)
    out_dir = tmp_path / 'hnnjax_out' / 'simulate'
    argv = ['simulate', 'default', '--mesh-shape', '3', '3', '--tstop', '20',
            '--smooth', '0', '--n-trials']
    assert cli.main(argv + ['2']) == 0
    (out_dir / 'my_notes.txt').write_text('mine')
    assert cli.main(argv + ['1']) == 0
    assert sorted(p.name for p in out_dir.iterdir()) == [
        'dpl_0_raw.txt', 'dpl_average.txt', 'my_notes.txt', 'simulation.png']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['hnnjax_out',
                                                          'no_somato']
    header = (out_dir / 'dpl_0_raw.txt').read_text().splitlines()[:4]
    assert header[0] == '# trial 0 of 1, as simulated: not smoothed, not ' \
        'scaled'
    assert header[2] == f'# written by hnnjax {hnn.__version__}'
    assert 'nAm' in header[3]


def test_somato_end_to_end(tmp_path, capsys):
    out_dir = tmp_path / 'somato'
    assert cli.main(['somato', '--mesh-shape', '3', '3', '--n-trials', '1',
                     '--fit-steps', '1', '--out-dir', str(out_dir),
                     '--dtype', 'float32']) == 0
    printed = capsys.readouterr().out
    # the fallback: HNN's hand fit of the shipped yes-trial ERP, its latencies refined
    assert 'target: yes-trial S1 ERP' in printed and 'ERPYes100Trials.param' in printed
    assert "somato dataset is not in" in printed  # why the fallback
    assert ('1 Levenberg-Marquardt step on evprox1.mu, evdist1.mu, evprox2.mu over 0-170 ms'
            in printed)
    assert 'RMSE against the target' in printed and 'run time' in printed
    assert (out_dir / 'somato.png').is_file()
    header = (out_dir / 'seed_dpl.txt').read_text().split('\n0.0')[0]
    assert 'smoothed over 30 ms' in header and 'x3000' in header.replace(',', '')
    assert f'files in {out_dir.resolve()}/' in printed
