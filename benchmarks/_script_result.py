"""``script_result``: run a benchmark's script in another python (hnn-core's
or this one) and read back the JSON it prints on its last ``RESULT`` line;
``add_hnn_core_args`` and ``both_libraries``: the options and runs of a
benchmark of hnnjax against hnn-core (``bench_batch.py``,
``bench_optimizer.py``, ``bench_optimize_evoked.py``)."""
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def script_result(python, code, *args):
    """``python -c code args...`` with this repository on the path; its
    result dict."""
    out = subprocess.run([python, "-c", code, *map(str, args)], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": REPO})
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def add_hnn_core_args(parser, needs="hnn_core"):
    """``--hnn-core-python`` (a python that imports ``needs``) and ``--skip-hnn-core``."""
    parser.add_argument("--hnn-core-python", default=sys.executable,
                        help=f"a python that imports {needs} (default: this one)")
    parser.add_argument("--skip-hnn-core", action="store_true")


def both_libraries(args, run):
    """{'hnnjax': run(this python, 'hnnjax'), 'hnn-core': run(args.hnn_core_python,
    'hnn_core')}, the second unless ``--skip-hnn-core``."""
    results = {"hnnjax": run(sys.executable, "hnnjax")}
    if not args.skip_hnn_core:
        results["hnn-core"] = run(args.hnn_core_python, "hnn_core")
    return results
