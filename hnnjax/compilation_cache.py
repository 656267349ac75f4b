"""``use_compilation_cache``: compiled programs kept on disk for later runs.

Compiling takes seconds for a simulation and tens of seconds for a fit (19 s
of a 64 s ``fit_drives`` run on 4 trials of 70 ms, 2-core CPU). JAX's persistent cache
keeps each compiled program in a folder, keyed by the program, its compile
options, the JAX version and the machine, so a later process that builds the
same program (same network, window, batch and dtype) reads it back instead.

The cache is JAX's, and a process-wide setting: once on, the calling
script's own JAX programs that compile for longer than
``jax_persistent_cache_min_compile_time_secs`` (1 s unless set) are kept too.
So importing hnnjax leaves it off; the ``hnnjax`` command and the examples
turn it on. The folder can be deleted at any time. JAX trusts what it reads
there: keep it private (it is created readable by its owner only). A process
killed in the milliseconds it takes to write an entry leaves that entry cut
short: JAX then warns that it cannot read it and compiles again, every run,
until the folder is deleted.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

from ._cache_folders import make_private, user_cache

ENV = "HNNJAX_COMPILE_CACHE"  # a folder, or "off"
OFF = "off"


def default_folder():
    """``$HNNJAX_COMPILE_CACHE`` if set (``"off"`` included), else
    ``$XDG_CACHE_HOME/hnnjax/xla`` (``~/.cache/hnnjax/xla``)."""
    return os.environ.get(ENV) or str(user_cache("xla"))


def use_compilation_cache(folder=None):
    """Keep compiled programs in ``folder`` and read them back in later
    processes; returns the folder in use (a ``Path``), or None when off.

    ``folder=None``: JAX's own cache folder if one is set already
    (``JAX_COMPILATION_CACHE_DIR`` or ``jax.config``), else
    :func:`default_folder`, with a warning and nothing turned on if that
    folder cannot be made or written. ``"off"`` turns nothing on. Call it before the
    first simulation whose compiling it should save; a call later in the
    process applies from the next compile on.
    """
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    given = folder is not None
    if not given:
        if jax.config.jax_compilation_cache_dir:
            return Path(jax.config.jax_compilation_cache_dir)
        folder = default_folder()
    if str(folder) == OFF:
        return None
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"use_compilation_cache: folder {str(folder)!r} is a file; "
                         "expected a folder (made if missing) or 'off'")
    try:
        make_private(folder)
    except OSError as err:
        reason = err.strerror or str(err)
        if given:
            raise ValueError(f"use_compilation_cache: cannot keep programs in folder {str(folder)!r} "
                             f"({reason}); give a writable folder or 'off'") from None
        warnings.warn(f"compiled programs are not kept: cannot use {str(folder)!r} ({reason}); set "
                      f"{ENV} to a writable folder, or to 'off' to silence this", UserWarning, stacklevel=2)
        return None
    compilation_cache.set_cache_dir(str(folder))
    # JAX decides at its first compile whether a cache is used; start over so
    # that a compile earlier in this process does not keep it off
    compilation_cache.reset_cache()
    return folder
