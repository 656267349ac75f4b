"""``script_result``: run a benchmark's script in another python (hnn-core's
or this one) and read back the JSON it prints on its last ``RESULT`` line
(``bench_batch.py``, ``bench_optimizer.py``)."""
import json
import os
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def script_result(python, code, *args):
    """``python -c code args...`` with this repository on the path; its
    result dict."""
    out = subprocess.run([python, "-c", code, *map(str, args)], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": REPO})
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])
