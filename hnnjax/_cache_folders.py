"""hnnjax's folders in the user's cache, ``$XDG_CACHE_HOME/hnnjax``
(``~/.cache/hnnjax``): compiled XLA programs (``compilation_cache.py``) and
the built C tree solve (``network/native_solve.py``)."""
from __future__ import annotations

import errno
import os
from pathlib import Path


def user_cache(name):
    """``$XDG_CACHE_HOME/hnnjax/<name>``, else ``~/.cache/hnnjax/<name>``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hnnjax" / name


def make_private(folder):
    """Create ``folder`` readable by its owner only (what is read back from it
    is trusted); raises OSError where it cannot be made or written."""
    folder = Path(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "not writable", str(folder))
    return folder
