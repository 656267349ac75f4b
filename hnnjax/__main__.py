"""``python -m hnnjax``: the ``hnnjax`` command (``hnnjax.cli``)."""
import sys

from .cli import main

sys.exit(main())
