"""Progress: quiet for short calls, a compile line for long compiles."""
import io
import sys
import time

import jax.monitoring
import pytest

from hnnjax import progress


def test_short_loops_are_quiet(capsys):
    assert list(progress.bar(range(3), desc='trials', unit='trial')) == \
        [0, 1, 2]
    with progress.busy('one run'):
        pass
    assert capsys.readouterr().err == ''


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize('stream, most', [(_Terminal, None), (io.StringIO, 2)])
def test_a_bar_redraws_each_tick_at_a_terminal_and_rarely_into_a_log(
        stream, most, monkeypatch):
    """A long call's clock runs at a terminal; a log gets a line per
    LOG_TICK_S (here longer than the call), not one per TICK_S."""
    monkeypatch.setattr(progress, 'DELAY_S', 0.0)
    monkeypatch.setattr(progress, 'TICK_S', 0.02)
    monkeypatch.setattr(progress, 'LOG_TICK_S', 5.0)
    monkeypatch.setattr(sys, 'stderr', stream())
    with progress.busy('one run'):
        time.sleep(0.5)
    draws = sys.stderr.getvalue().count('one run')
    if most is None:
        assert draws >= 8
    else:
        assert 1 <= draws <= most


@pytest.mark.parametrize('compile_s, said', [(0.0, False), (0.3, True)])
def test_compile_line_only_for_long_compiles(compile_s, said, monkeypatch,
                                             capsys):
    monkeypatch.setattr(progress, 'DELAY_S', 0.1)
    watch = progress._CompileWatch()
    watch.started(progress.BACKEND_COMPILE_EVENT, time.time())
    watch.started('/jax/some/other/event', 0.0)  # ignored
    time.sleep(compile_s)
    watch.finished(progress.BACKEND_COMPILE_EVENT, compile_s)
    err = capsys.readouterr().err
    assert ('compiling ...' in err) == said
    assert ('compiled in 0.3 s' in err) == said


@pytest.mark.parametrize('delay_share, kept', [(1.0, True), (0.2, False)])
def test_compile_line_says_where_the_program_is_kept(delay_share, kept, monkeypatch, capsys):
    """This test run keeps compiles longer than a minimum (conftest.py); the
    line names the folder only when a compile that long is announced."""
    min_s = jax.config.jax_persistent_cache_min_compile_time_secs
    monkeypatch.setattr(progress, 'DELAY_S', min_s * delay_share)
    watch = progress._CompileWatch()
    watch.started(progress.BACKEND_COMPILE_EVENT, time.time())
    time.sleep(min_s + 0.2)
    watch.finished(progress.BACKEND_COMPILE_EVENT, min_s + 0.2)
    err = capsys.readouterr().err
    assert 'compiling ...' in err
    assert (f'later runs too: kept in {jax.config.jax_compilation_cache_dir})' in err) == kept


def test_compile_notices_listen_only_inside():
    event = progress.BACKEND_COMPILE_EVENT
    with progress.compile_notices():
        with progress.compile_notices():  # nested: one watch
            jax.monitoring.record_scalar(event, time.time())
            assert progress._WATCH.start is not None
        jax.monitoring.record_event_duration_secs(event, 0.0)  # still on
        assert progress._WATCH.start is None
    jax.monitoring.record_scalar(event, time.time())
    assert progress._WATCH.start is None  # no longer listening
    with progress.compile_notices(enabled=False):
        jax.monitoring.record_scalar(event, time.time())
        assert progress._WATCH.start is None
