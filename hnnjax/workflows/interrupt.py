"""Ctrl-C during a workflow: one line, exit status 130, no partial files.

A compiled JAX call holds the thread that made it until it returns (tens of
seconds for a long simulation), and a KeyboardInterrupt raised inside JAX's
or matplotlib's Python code can leave native threads running that crash the
interpreter at exit. So the workflow runs in a worker thread while the main
thread only waits and takes the Ctrl-C at once: it removes the staged
outputs and ends the process without unwinding the worker.
"""
import os
import sys
import threading

from .outputs import abandon_staged_outputs

EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention


def run_interruptible(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` in a worker thread; its result, or its
    exception raised here. Ctrl-C ends the process (status 130)."""
    outcome = {}

    def work():
        try:
            outcome['result'] = fn(*args, **kwargs)
        except BaseException as err:  # handed to the main thread
            outcome['error'] = err

    worker = threading.Thread(target=work, name='hnnjax-workflow',
                              daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    except KeyboardInterrupt:
        abandon_staged_outputs()
        sys.stdout.flush()
        print('\nhnnjax: interrupted; output folder left as it was',
              file=sys.stderr, flush=True)
        os._exit(EXIT_INTERRUPTED)  # no unwinding of the worker's JAX call
    if 'error' in outcome:
        raise outcome['error']
    return outcome['result']
