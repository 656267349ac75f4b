"""The ``hnnjax`` command: parsing, usage errors, reduced end-to-end runs."""
import subprocess
import sys
from pathlib import Path

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
    assert args.dtype == 'float64' and args.out_dir == Path('hnnjax_out')
    assert tuple(args.mesh_shape) == (10, 10)


def test_somato_defaults():
    args = cli.build_parser().parse_args(['somato'])
    assert (args.n_trials, args.target, args.data_path) == (25, 'auto', None)
    assert args.out == Path('somato.png') and args.mesh_shape is None


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
    (['somato', '--out', 'fig.xyz'], 'image extension'),
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


def test_entry_point_exit_status(tmp_path):
    """The module runs as a program and exits 2 on a usage error."""
    proc = subprocess.run(
        [sys.executable, '-m', 'hnnjax.cli', 'simulate',
         str(tmp_path / 'nope.param')], capture_output=True, text=True)
    assert proc.returncode == 2
    assert 'params file not found' in proc.stderr


def test_simulate_end_to_end(tmp_path, capsys):
    out_dir = tmp_path / 'run'
    assert cli.main(['simulate', 'default', '--mesh-shape', '3', '3',
                     '--tstop', '60', '--n-trials', '2', '--smooth', '10',
                     '--out-dir', str(out_dir)]) == 0
    printed = capsys.readouterr().out
    assert 'simulated 2 trials of 60 ms' in printed
    assert 'L5_pyramidal' in printed and 'scaled x3000' in printed
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ['dpl_0.txt', 'dpl_1.txt', 'dpl_average.txt',
                     'simulation.png']
    avg = hnn.read_dipole(out_dir / 'dpl_average.txt')
    assert avg.times[-1] == pytest.approx(60.0)


def test_somato_end_to_end(tmp_path, capsys):
    out = tmp_path / 'somato.png'
    assert cli.main(['somato', '--mesh-shape', '3', '3', '--n-trials', '1',
                     '--out', str(out), '--dtype', 'float32']) == 0
    printed = capsys.readouterr().out
    assert 'target: S1 waveform' in printed
    assert "somato dataset is not in" in printed  # why the fallback
    assert 'RMSE target vs simulation' in printed and 'run time' in printed
    assert out.is_file() and (tmp_path / 'somato_dpl.txt').is_file()
