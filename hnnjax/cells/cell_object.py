"""hnn-core's view of a cell type: ``net.cell_types[name]['cell_object']``.

hnn-core scripts edit cells through it: ``cell.synapses['gabab']['tau2'] =
200.0`` (a receptor's Exp2Syn, ms / mV) and ``del
cell.sections['soma'].mechs['ca']`` (a mechanism off one section).  Both
act on the ``CellType`` and take effect at the next simulation.  Mechanism
parameters are shown, read-only: hnnjax builds them into per-segment arrays.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

MECHANISMS = {  # channel class -> hnn-core's mechanism name and its conductance parameters
    "HH2": ("hh2", ("gnabar", "gkbar", "gl")),
    "Km": ("km", ("gbar",)),
    "CaHVA": ("ca", ("gbar",)),
    "Cad": ("cad", ()),
    "Kca": ("kca", ("gbar",)),
    "CaT": ("cat", ("gbar",)),
    "Ar": ("ar", ("gbar",)),
}
_PARAMS = {"hh2": {"gnabar": "gnabar_hh2", "gkbar": "gkbar_hh2", "gl": "gl_hh2", "el": "el_hh2"},
           "km": {"gbar": "gbar_km"}, "ca": {"gbar": "gbar_ca"}, "cad": {"taur": "taur_cad"},
           "kca": {"gbar": "gbar_kca"}, "cat": {"gbar": "gbar_cat"}, "ar": {"gbar": "gbar_ar"}}


def mechanism_name(channel):
    return MECHANISMS[type(channel).__name__][0]


class Mechanisms(Mapping):
    """The mechanisms on one section: name -> {hnn-core parameter: value at
    the section's middle segment} (read-only); ``del`` removes one."""

    def __init__(self, cell_type, section):
        self._ct, self._sec = cell_type, section

    def _present(self):
        return {mechanism_name(ch): ch for ch in self._ct.channels
                if (self._sec, mechanism_name(ch)) not in self._ct.removed}

    def __getitem__(self, name):
        ch = self._present()[name]
        rows = self._ct.tree.segments_of(self._sec)
        mid = rows[len(rows) // 2]
        values = {hnn: float(np.asarray(getattr(ch, field))[mid, 0]) if np.ndim(getattr(ch, field))
                  else float(getattr(ch, field)) for field, hnn in _PARAMS[name].items()}
        return MappingProxyType(values)

    def __iter__(self):
        return iter(self._present())

    def __len__(self):
        return len(self._present())

    def __delitem__(self, name):
        if name not in self._present():
            raise KeyError(f"section {self._sec!r} of {self._ct.name} has no mechanism {name!r}; "
                           f"it has {sorted(self._present())}")
        if name == "cad":
            raise NotImplementedError("removing 'cad' is not supported: ca and kca read its "
                                      "calcium concentration")
        self._ct.removed.add((self._sec, name))

    def __repr__(self):
        return f"<mechs of {self._ct.name}.{self._sec}: {sorted(self._present())}>"


class SectionView:
    """One section: geometry (µm, µF/cm², Ω·cm; read-only) and ``mechs``."""

    def __init__(self, cell_type, section):
        self._sec = next(s for s in cell_type.tree.sections if s.name == section)
        self.mechs = Mechanisms(cell_type, section)

    L = property(lambda self: self._sec.L)
    diam = property(lambda self: self._sec.diam)
    cm = property(lambda self: self._sec.cm)
    Ra = property(lambda self: self._sec.Ra)
    nseg = property(lambda self: self._sec.nseg)

    def __repr__(self):
        return f"<Section {self._sec.name} | L {self.L:g} µm, diam {self.diam:g} µm, nseg {self.nseg}>"


class CellObject:
    """hnn-core's ``Cell`` vocabulary over a ``CellType``: ``synapses``
    (receptor -> {'e', 'tau1', 'tau2'}, editable), ``sections`` (name ->
    ``SectionView``); anything else is the cell type's (e.g.
    ``plot_morphology``)."""

    def __init__(self, cell_type):
        self._ct = cell_type
        self.pos, self.gid = (0.0, 0.0, 0.0), None  # as hnn-core's Cell; set by the builders

    @property
    def synapses(self):
        return self._ct.receptors

    @property
    def sections(self):
        return {s.name: SectionView(self._ct, s.name) for s in self._ct.tree.sections}

    def __getattr__(self, name):
        return getattr(self._ct, name)

    def __repr__(self):
        return f"<Cell | {self._ct.name}, {len(self._ct.tree.sections)} sections>"
