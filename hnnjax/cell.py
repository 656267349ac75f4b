"""hnn-core's ``hnn_core.cell`` module: ``Cell`` and ``Section`` (see
:mod:`hnnjax.cells.cell`)."""
from .cells.cell import Cell, Section

__all__ = ["Cell", "Section"]
