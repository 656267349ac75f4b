"""The ``hnnjax`` command.

``hnnjax simulate PARAMS_FILE``: simulate a params file, write the trial and
average dipoles and a figure. ``hnnjax somato``: hnn-core's median-nerve
(S1) workflow: target waveform, the seed network's simulation, a gradient
fit of its drives and the fitted network's simulation. ``hnnjax <command>
-h`` lists the options. Usage errors (bad numbers, missing files, runs too
large for the machine) print the usage line and exit with status 2, Ctrl-C
with 130.

Parsing imports nothing heavy, so that ``--help``, ``--version`` and usage
errors answer at once; JAX, MNE and matplotlib are imported by the run.
"""
import argparse
import math
import sys
from pathlib import Path

from . import __version__
from .compilation_cache import ENV as CACHE_ENV, OFF as CACHE_OFF
from .workflows.names import DTYPES, SHIPPED_PARAMS, TARGETS

PARAMS_SUFFIXES = ('.json', '.param')


def _number_type(requirement, convert, accept):
    """An argparse ``type``: ``convert(text)`` if ``accept`` takes it, else a
    usage error saying the value must be ``requirement``."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(
                f"must be {requirement}; got {text!r}")
        return value
    return parse


positive_float = _number_type('a number > 0', float,
                              lambda v: math.isfinite(v) and v > 0)
non_negative_float = _number_type('a number >= 0', float,
                                  lambda v: math.isfinite(v) and v >= 0)
scale_factor = _number_type('a finite non-zero number', float,
                            lambda v: math.isfinite(v) and v != 0)
trial_count = _number_type('an integer >= 1', int, lambda v: v >= 1)


def params_file(text):
    """A shipped params name or an existing .json / .param file."""
    if text in SHIPPED_PARAMS:
        return text
    path = Path(text)
    if path.suffix not in PARAMS_SUFFIXES:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a shipped params name "
            f"({', '.join(SHIPPED_PARAMS)}) nor a "
            f"{' / '.join(PARAMS_SUFFIXES)} file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"params file not found: {text}")
    return path


def directory(text):
    """An existing directory."""
    if not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"not a directory: {text}")
    return Path(text)


def cache_folder(text):
    """A folder for compiled programs (made if missing), or "off"."""
    if text != CACHE_OFF and Path(text).expanduser().is_file():
        raise argparse.ArgumentTypeError(f"a file, not a folder: {text}")
    return text


def _add_common(parser, n_trials, trials_help):
    parser.add_argument('--n-trials', type=trial_count, default=n_trials,
                        metavar='N', help=f'{trials_help} (default {n_trials})')
    parser.add_argument('--dtype', choices=DTYPES,
                        default='float64', help='float64 (NEURON-faithful, '
                        'default) or float32 (faster)')
    parser.add_argument('--compile-cache', type=cache_folder, default=None,
                        metavar='DIR', help='folder that keeps compiled '
                        'programs, so that a later run skips compiling '
                        "(default: JAX's cache folder if set, else $" + CACHE_ENV
                        + ', else ~/.cache/hnnjax/xla); "' + CACHE_OFF + '": none')


def _add_out_dir(parser, job, contents):
    parser.add_argument('--out-dir', type=Path, default=None, metavar='DIR',
                        help=f'folder for {contents} (default '
                        f'hnnjax_out/{job}); the files of an earlier run '
                        'there are replaced when the run has finished')


def add_simulate_arguments(parser):
    """The options of ``hnnjax simulate``."""
    parser.add_argument('params', type=params_file, metavar='PARAMS_FILE',
                        help='a .json or .param file, or a shipped set: '
                        f'{", ".join(SHIPPED_PARAMS)}')
    parser.add_argument('--tstop', type=positive_float, default=170.0,
                        metavar='MS', help='duration in ms (default 170)')
    parser.add_argument('--dt', type=positive_float, default=0.025,
                        metavar='MS', help='time step in ms (default 0.025)')
    _add_common(parser, n_trials=1, trials_help='number of trials')
    parser.add_argument('--erp-drives', action='store_true',
                        help='add the canonical ERP drives (evdist1, evprox1,'
                        ' evprox2)')
    parser.add_argument('--no-params-drives', dest='params_drives',
                        action='store_false',
                        help="leave out the drives the params file describes")
    _add_out_dir(parser, 'simulate', 'dpl_<k>_raw.txt (trial k as '
                 'simulated), dpl_average.txt (their mean, smoothed and '
                 'scaled) and simulation.png')
    parser.add_argument('--smooth', type=non_negative_float, default=None,
                        metavar='MS', help='Hamming smoothing window in ms, '
                        "0 for none (default: the params' dipole_smooth_win)")
    parser.add_argument('--scale', type=scale_factor, default=None,
                        metavar='F', help="dipole scale factor (default: the "
                        "params' dipole_scalefctr)")
    parser.add_argument('--mesh-shape', type=int, nargs=2, default=(10, 10),
                        help=argparse.SUPPRESS)


def add_somato_arguments(parser):
    """The options of ``hnnjax somato`` (and of the somato example)."""
    _add_common(parser, n_trials=8, trials_help='fresh trials (not the fit\'s own) on which '
                'the seed and fitted networks are scored; more tell them apart better, '
                'each adds ~2 s on 2 CPU cores')
    parser.add_argument('--fit-steps', type=trial_count, default=None,
                        metavar='N', help='steps of the drive fit (default: 1 '
                        'Levenberg-Marquardt step for the yes-trial ERP, about 1.5-3.5 min '
                        'on 2 CPU cores; 6 Adam steps for the N20 seed, a few s each)')
    _add_out_dir(parser, 'somato', 'somato.png, the target and the mean '
                 'dipoles of the seed and fitted networks (*_dpl.txt) and '
                 'fitted_drives.txt')
    parser.add_argument('--target', choices=TARGETS, default='auto',
                        help="auto (default): MNE's somato data if found, else"
                        " the shipped yes-trial S1 ERP (from HNN's hand fit); somato: "
                        "the data or an error; erp: the yes-trial ERP; synthetic: a "
                        "synthetic MEG recording through the MNE pipeline; waveform: "
                        "the shipped suprathreshold S1 waveform")
    parser.add_argument('--data-path', type=directory, default=None,
                        metavar='DIR', help='local copy of MNE-somato-data/ '
                        'or its parent (default: $MNE_DATASETS_SOMATO_PATH, '
                        'else ~/mne_data)')
    parser.add_argument('--mesh-shape', type=int, nargs=2, default=None,
                        help=argparse.SUPPRESS)


def build_parser():
    """The ``hnnjax`` argument parser with its subcommands."""
    parser = argparse.ArgumentParser(
        prog='hnnjax', description='The HNN neocortical column model in JAX.')
    parser.add_argument('--version', action='version',
                        version=f'hnnjax {__version__}')
    commands = parser.add_subparsers(dest='command', required=True,
                                     metavar='COMMAND')
    simulate = commands.add_parser(
        'simulate', help='simulate a params file',
        description='Simulate neymotin_2020_model(PARAMS_FILE) with its drives; '
        'write each trial dipole, their average and a figure.')
    add_simulate_arguments(simulate)
    somato = commands.add_parser(
        'somato', help="hnn-core's median-nerve (S1) workflow with a fit",
        description='Target S1 waveform; the N20 network with its four '
        'evoked drives (the seed); a gradient fit of some drive parameters '
        'to the target; the seed and fitted networks re-simulated: one '
        'figure and the dipoles.')
    add_somato_arguments(somato)
    for sub in (simulate, somato):  # printed above errors found after parsing
        sub.set_defaults(usage=sub.format_usage())
    return parser


def _run(args):
    """The run behind the parsed ``args`` (imports JAX, MNE, matplotlib)."""
    import matplotlib

    matplotlib.use('Agg')  # figures are only written to files
    from .compilation_cache import use_compilation_cache

    use_compilation_cache(args.compile_cache)
    if args.command == 'simulate':
        from .workflows.simulate import run_simulation

        run_simulation(
            args.params, tstop_ms=args.tstop, dt_ms=args.dt,
            n_trials=args.n_trials, erp_drives=args.erp_drives,
            params_drives=args.params_drives, out_dir=args.out_dir,
            dtype=args.dtype, smooth_ms=args.smooth, scale=args.scale,
            mesh_shape=tuple(args.mesh_shape))
    else:
        from .workflows.somato import run_somato

        run_somato(n_trials=args.n_trials, fit_steps=args.fit_steps,
                   out_dir=args.out_dir, target=args.target,
                   data_path=args.data_path, dtype=args.dtype,
                   mesh_shape=args.mesh_shape)


def main(argv=None):
    """Run ``hnnjax`` with ``argv`` (default: the command line); returns the
    exit status (argparse exits with 2 itself on malformed options, Ctrl-C
    ends the process with 130)."""
    from .workflows.interrupt import run_interruptible

    args = build_parser().parse_args(argv)
    try:
        run_interruptible(_run, args)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"{args.usage}hnnjax {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
