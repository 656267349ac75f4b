"""What a person sees during long runs: bars over trials and steps, a line
while JAX compiles, one line per stage.

Everything goes to stderr and stays quiet for short calls: a bar appears
only once its loop has run ``DELAY_S`` seconds, and the compile line only
for a compile that lasts longer than that. An open bar redraws itself every
``TICK_S`` so that its clock runs while one long compiled call (a batch of
trials, a gradient) is under way; written to a file or a pipe (a log, not a
terminal) it redraws every ``LOG_TICK_S`` instead, so a log holds a line
every half minute, not one per second.
"""
import sys
import threading
import time
from contextlib import contextmanager

from tqdm.auto import tqdm

DELAY_S = 2.0
CACHE_HINT_S = 10.0  # a compile this long without a compilation cache says how to keep it
TICK_S = 1.0
LOG_TICK_S = 30.0
# JAX records this event when XLA starts compiling and when it has finished
BACKEND_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


def say(message):
    """One timestamped line on stderr, without breaking an open bar."""
    tqdm.write(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr)


class _LiveBar(tqdm):
    """A tqdm bar redrawn every ``tick_s`` from a thread of its own."""

    def __init__(self, *args, tick_s, **kwargs):
        super().__init__(*args, **kwargs)
        self._tick_s = tick_s
        self._closed = threading.Event()
        if not self.disable:
            threading.Thread(target=self._tick, daemon=True).start()

    def _tick(self):
        while not self._closed.wait(self._tick_s):
            if time.time() - self.start_t >= DELAY_S:
                self.refresh()

    def close(self):
        self._closed.set()
        super().close()


def bar(iterable=None, *, total=None, desc, unit, enabled=True):
    """A bar over ``iterable`` (or ``total`` units, advanced with
    ``update``), shown after ``DELAY_S`` seconds, if ``enabled``; redrawn
    every ``TICK_S`` at a terminal, every ``LOG_TICK_S`` into a log."""
    at_terminal = getattr(sys.stderr, 'isatty', lambda: False)()
    tick_s = TICK_S if at_terminal else LOG_TICK_S
    return _LiveBar(iterable, total=total, desc=desc, unit=unit,
                    delay=DELAY_S, disable=not enabled, file=sys.stderr,
                    dynamic_ncols=True, tick_s=tick_s, mininterval=tick_s)


@contextmanager
def busy(desc, enabled=True):
    """A bar for one long step (a forward run, loading data): its clock
    runs while the block does."""
    with bar(total=1, desc=desc, unit='run', enabled=enabled) as one:
        yield
        one.update()


class _CompileWatch:
    """JAX compile events -> 'compiling ...' once a compile has lasted
    ``DELAY_S``, then its duration (s)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users = 0
        self.start = self.timer = None
        self.announced = False
        self.hinted = False

    def started(self, event, value, **kwargs):
        if event != BACKEND_COMPILE_EVENT:
            return
        with self.lock:
            if self.start is None:
                self.start, self.announced = time.perf_counter(), False
                self.timer = threading.Timer(DELAY_S, self.announce)
                self.timer.daemon = True
                self.timer.start()

    def announce(self):
        import jax

        with self.lock:
            if self.start is not None:
                self.announced = True
                # JAX keeps compiles longer than its minimum; this one has lasted DELAY_S
                kept = (jax.config.jax_compilation_cache_dir if
                        jax.config.jax_persistent_cache_min_compile_time_secs <= DELAY_S else None)
                say("compiling ... (first call with these shapes; later calls reuse the compiled "
                    "code" + (f", later runs too: kept in {kept})" if kept else ")"))

    def finished(self, event, duration_s, **kwargs):
        if event != BACKEND_COMPILE_EVENT:
            return
        with self.lock:
            if self.start is None:
                return
            self.timer.cancel()
            if self.announced:
                took_s = time.perf_counter() - self.start
                say(f"compiled in {took_s:.1f} s" + self._cache_hint(took_s))
            self.start = None

    def _cache_hint(self, took_s):
        """Once per process, after a long compile with JAX's cache off: how
        to keep compiled programs for later runs."""
        import jax

        if self.hinted or took_s < CACHE_HINT_S or jax.config.jax_compilation_cache_dir:
            return ""
        self.hinted = True
        return ("; hnnjax.use_compilation_cache() keeps compiled programs, so that "
                "later runs skip compiling")

    def __enter__(self):
        import jax.monitoring

        with self.lock:
            self.users += 1
            if self.users == 1:
                jax.monitoring.register_scalar_listener(self.started)
                jax.monitoring.register_event_duration_secs_listener(
                    self.finished)

    def __exit__(self, *exc):
        import jax.monitoring

        with self.lock:
            self.users -= 1
            if self.users == 0:
                jax.monitoring.unregister_scalar_listener(self.started)
                jax.monitoring.unregister_event_duration_listener(
                    self.finished)
                if self.timer is not None:
                    self.timer.cancel()
                self.start = None


_WATCH = _CompileWatch()


@contextmanager
def compile_notices(enabled=True):
    """Within the block, say when a JAX compile takes longer than
    ``DELAY_S`` and how long it took (nested blocks share one watch)."""
    if not enabled:
        yield
        return
    with _WATCH:
        yield
