"""Ctrl-C (or ``kill``) during a workflow: one line, exit status 130 (143),
no traceback, no partial files.

A compiled JAX call holds the thread that made it until it returns (tens of
seconds for a long simulation), and a KeyboardInterrupt raised inside JAX's
or matplotlib's Python code can leave native threads running that crash the
interpreter at exit. So the workflow runs in a worker thread while the main
thread only waits and takes the signal at once: it removes the staged
outputs and ends the process without unwinding the worker.
"""
import os
import signal
import sys
import threading

from .outputs import abandon_staged_outputs


class _Terminated(Exception):
    """SIGTERM, raised in the main thread."""


def _raise_terminated(signum, frame):
    raise _Terminated


def _stop(status):
    abandon_staged_outputs()
    sys.stdout.flush()
    print('\nhnnjax: interrupted; output folder left as it was',
          file=sys.stderr, flush=True)
    os._exit(status)  # no unwinding of the worker's JAX call


def run_interruptible(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` in a worker thread; its result, or its
    exception raised here. Ctrl-C ends the process with status 130 (128 +
    SIGINT, the shell's convention), SIGTERM with 143, when this runs in
    the main thread."""
    outcome = {}

    def work():
        try:
            outcome['result'] = fn(*args, **kwargs)
        except BaseException as err:  # handed to the main thread
            outcome['error'] = err

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) \
        if in_main else None
    worker = threading.Thread(target=work, name='hnnjax-workflow',
                              daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    except KeyboardInterrupt:
        _stop(128 + signal.SIGINT)
    except _Terminated:
        _stop(128 + signal.SIGTERM)
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    if 'error' in outcome:
        raise outcome['error']
    return outcome['result']
