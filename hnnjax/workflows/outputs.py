"""Where a workflow's files go and how they get there.

A run writes into a hidden staging folder beside its output folder; only
when it has finished do its files move in (``os.replace`` each, atomic),
after the files an earlier run of the same job left there (the job's own
name patterns) have been removed. A failed or interrupted run leaves the
output folder as it was: no partial files, no stale files mixed with new.
Dipole text files carry '#' header lines saying what they hold; hnnjax's
and hnn-core's ``read_dipole`` (``np.loadtxt``) skip them.
"""
import fnmatch
import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from .. import __version__

OUT_ROOT = Path('hnnjax_out')  # default output folder: OUT_ROOT / <job>
_STAGING = set()  # staging folders of runs in progress
_MOVING = threading.Lock()  # held while files move into an output folder


def default_out_dir(job):
    """``./hnnjax_out/<job>``."""
    return OUT_ROOT / job


@contextmanager
def staged_outputs(out_dir, patterns):
    """Yield a staging folder; on success, remove the files of ``out_dir``
    that match ``patterns`` (shell-style, the job's own file names) and move
    the staged files into ``out_dir`` (created). The staging folder is
    removed in every case."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"out_dir exists and is not a folder: {out_dir}")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f'.{out_dir.name}.partial-',
                                  dir=out_dir.parent))
    _STAGING.add(stage)
    try:
        yield stage
        with _MOVING:
            out_dir.mkdir(exist_ok=True)
            for old in out_dir.iterdir():
                if old.is_file() and any(fnmatch.fnmatch(old.name, p)
                                         for p in patterns):
                    old.unlink()
            for new in sorted(stage.iterdir()):
                os.replace(new, out_dir / new.name)
    finally:
        _STAGING.discard(stage)
        shutil.rmtree(stage, ignore_errors=True)


def abandon_staged_outputs():
    """Remove the staging folders of runs in progress (on Ctrl-C), after a
    move into an output folder that has begun has finished."""
    with _MOVING:
        for stage in list(_STAGING):
            shutil.rmtree(stage, ignore_errors=True)
        _STAGING.clear()


def header_lines(what, *details):
    """'#' lines: ``what`` the file holds, ``details``, the writer."""
    return [f'# {line}' for line in (what, *details,
                                     f'written by hnnjax {__version__}')]


def write_dipole_text(dpl, fname, what, *details):
    """Write ``dpl`` as hnn-core's dipole text (tab-separated: time in ms,
    then agg[, L2, L5] in nAm) after a header (:func:`header_lines`).

    Values are written in full (Python's shortest round-trip form) where
    hnn-core's four decimals would keep 1-3 significant digits of a raw
    dipole of ~0.1 nAm.
    """
    import numpy as np

    layers = list(dpl.data)
    lines = header_lines(what, *details) + [
        f"# columns: time (ms), {', '.join(layers)} (current dipole, nAm)"]
    columns = np.column_stack([dpl.times, *dpl.data.values()]).tolist()
    lines += ['\t'.join(map(repr, row)) for row in columns]
    Path(fname).write_text('\n'.join(lines) + '\n')
