"""``use_compilation_cache``: a later process reads the compiled simulation
back instead of compiling it, with the same result; the folder it picks; bad
folders; the hint after a long compile."""
import json
import os
import stat
import subprocess
import sys

import jax
import pytest

from hnnjax import progress
from hnnjax.cli import main
from hnnjax.compilation_cache import ENV, default_folder, use_compilation_cache

RUN = """
import json, sys
import jax, jax.monitoring
import hnnjax as hnn
folder = hnn.use_compilation_cache(sys.argv[1])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # keep even quick compiles
events = []
jax.monitoring.register_event_listener(lambda event, **kw: events.append(event))
net = hnn.neymotin_2020_model(mesh_shape=(2, 2))
hnn.add_erp_drives_to_jones_model(net)
dpl = hnn.simulate_dipole(net, tstop=10., n_trials=1, progress=False)[0]
print(json.dumps({"folder": str(folder),
                  "hits": events.count("/jax/compilation_cache/cache_hits"),
                  "misses": events.count("/jax/compilation_cache/cache_misses"),
                  "agg": dpl.data["agg"].tolist()}))
"""


def _run(folder):
    env = {k: v for k, v in os.environ.items() if k not in (ENV, "JAX_COMPILATION_CACHE_DIR")}
    done = subprocess.run([sys.executable, "-c", RUN, str(folder)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_later_process_reads_the_compiled_simulation_back(tmp_path):
    folder = tmp_path / "made" / "xla"
    first = _run(folder)
    assert first["folder"] == str(folder)
    assert first["hits"] == 0 and first["misses"] >= 1
    entries = [p for p in folder.iterdir() if p.name.endswith("-cache")]
    assert any(p.name.startswith("jit__run_trials") for p in entries), entries
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # JAX trusts what it reads there

    second = _run(folder)
    assert second["hits"] >= 1 and second["misses"] == 0
    assert second["agg"] == first["agg"]  # same bits from the program read back


def test_default_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_folder() == str(tmp_path / "hnnjax" / "xla")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_folder() == os.path.expanduser("~/.cache/hnnjax/xla")
    monkeypatch.setenv(ENV, str(tmp_path / "mine"))
    assert default_folder() == str(tmp_path / "mine")


def test_off_and_jax_own_folder_change_nothing(monkeypatch):
    own = jax.config.jax_compilation_cache_dir  # this test run's cache (conftest.py)
    assert own
    assert use_compilation_cache("off") is None
    assert str(use_compilation_cache()) == own  # JAX's own folder wins over the default
    monkeypatch.setenv(ENV, "off")
    assert str(use_compilation_cache()) == own
    assert jax.config.jax_compilation_cache_dir == own


def test_a_file_is_refused(tmp_path, capsys):
    path = tmp_path / "a_file"
    path.write_text("")
    own = jax.config.jax_compilation_cache_dir
    with pytest.raises(ValueError, match="folder .*a_file.* is a file"):
        use_compilation_cache(path)
    assert jax.config.jax_compilation_cache_dir == own
    with pytest.raises(SystemExit) as stop:  # before anything is imported or compiled
        main(["simulate", "default", "--compile-cache", str(path)])
    assert stop.value.code == 2
    assert "--compile-cache: a file, not a folder" in capsys.readouterr().err


def test_a_long_compile_without_cache_says_how_to_keep_it():
    watch = progress._CompileWatch()
    assert watch._cache_hint(progress.CACHE_HINT_S + 1) == ""  # a cache is on in this run
    own = jax.config.jax_compilation_cache_dir
    jax.config.update("jax_compilation_cache_dir", None)
    try:
        assert watch._cache_hint(progress.CACHE_HINT_S - 1) == ""
        assert "hnnjax.use_compilation_cache()" in watch._cache_hint(progress.CACHE_HINT_S + 1)
        assert watch._cache_hint(progress.CACHE_HINT_S + 1) == ""  # once per process
    finally:
        jax.config.update("jax_compilation_cache_dir", own)


def test_the_command_keeps_its_programs_in_the_folder_given(tmp_path):
    folder = tmp_path / "cache"
    env = {**os.environ, "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "hnnjax.cli", "simulate", "default", "--mesh-shape", "2", "2",
         "--tstop", "20", "--smooth", "0", "--out-dir", str(tmp_path / "out"),
         "--compile-cache", str(folder)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert any(p.name.startswith("jit__run_trials") for p in folder.iterdir())


def test_a_folder_that_cannot_be_made(tmp_path, monkeypatch):
    """Given: a clear error. The default (here from the environment): a
    warning, and the run goes on without keeping programs."""
    (tmp_path / "a_file").write_text("")
    below_a_file = tmp_path / "a_file" / "xla"
    own = jax.config.jax_compilation_cache_dir
    with pytest.raises(ValueError, match="cannot keep programs in folder .*a_file/xla"):
        use_compilation_cache(below_a_file)
    jax.config.update("jax_compilation_cache_dir", None)
    try:
        monkeypatch.setenv(ENV, str(below_a_file))
        with pytest.warns(UserWarning, match="compiled programs are not kept"):
            assert use_compilation_cache() is None
        assert jax.config.jax_compilation_cache_dir is None
    finally:
        jax.config.update("jax_compilation_cache_dir", own)
