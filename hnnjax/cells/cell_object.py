"""hnn-core's view of a cell type: ``net.cell_types[name]['cell_object']``.

hnn-core scripts edit cells through it, and every edit acts on the
``CellType`` and takes effect at the next simulation:

* ``cell.synapses['gabab']['tau2'] = 200.0`` (a receptor's Exp2Syn, ms / mV);
* ``cell.modify_section('apical_1', L=800.0)`` (geometry, µm, µF/cm², Ω·cm,
  and the initial voltage, mV);
* ``cell.sections['soma'].mechs['hh2']['gkbar_hh2'] = 0.02`` (a mechanism's
  parameter on one section: a number, a function of path distance from
  soma(0) in µm, or hnn-core's ``[segment x, values]`` lists);
* ``del cell.sections['soma'].mechs['ca']`` (a mechanism off one section).
"""
from __future__ import annotations

from collections.abc import Mapping, MutableMapping


class MechanismParameters(MutableMapping):
    """One mechanism on one section: hnn-core parameter -> value (a number,
    or ``[segment x, values]`` where the segments differ); setting one
    changes the cell type."""

    def __init__(self, cell_type, section, mechanism):
        self._ct, self._sec, self._mech = cell_type, section, mechanism

    def _values(self):
        return self._ct.mechanism_values(self._sec, self._mech)

    def __getitem__(self, param):
        return self._values()[param]

    def __setitem__(self, param, value):
        self._ct.set_mechanism(self._sec, self._mech, param, value)

    def __delitem__(self, param):
        raise TypeError(f"the parameters of {self._mech!r} cannot be deleted; set them, or "
                        f"delete the mechanism")

    def __iter__(self):
        return iter(self._values())

    def __len__(self):
        return len(self._values())

    def __repr__(self):
        return repr(self._values())


class Mechanisms(MutableMapping):
    """The mechanisms on one section: name -> ``MechanismParameters``;
    ``del`` removes one, assigning a dict of parameters puts one back (or
    sets its parameters)."""

    def __init__(self, cell_type, section):
        self._ct, self._sec = cell_type, section

    def __getitem__(self, name):
        if name not in self._ct.mechanisms_on(self._sec):
            raise KeyError(name)
        return MechanismParameters(self._ct, self._sec, name)

    def __setitem__(self, name, params):
        if not isinstance(params, Mapping):
            raise TypeError(f"mechs[{name!r}] must be a dict of its parameters; got "
                            f"{type(params).__name__}")
        self._ct.restore_mechanism(self._sec, name)
        for param, value in params.items():
            self._ct.set_mechanism(self._sec, name, param, value)

    def __iter__(self):
        return iter(self._ct.mechanisms_on(self._sec))

    def __len__(self):
        return len(self._ct.mechanisms_on(self._sec))

    def __delitem__(self, name):
        self._ct.remove_mechanism(self._sec, name)

    def __repr__(self):
        return f"<mechs of {self._ct.name}.{self._sec}: {sorted(self)}>"


class SectionView:
    """One section: geometry (µm, µF/cm², Ω·cm), ``nseg`` and ``v0`` (mV),
    read-only (``modify_section`` changes them), and ``mechs``."""

    def __init__(self, cell_type, section):
        self._ct, self._name = cell_type, section
        self.mechs = Mechanisms(cell_type, section)

    @property
    def _sec(self):
        return next(s for s in self._ct.tree.sections if s.name == self._name)

    L = property(lambda self: self._sec.L)
    diam = property(lambda self: self._sec.diam)
    cm = property(lambda self: self._sec.cm)
    Ra = property(lambda self: self._sec.Ra)
    nseg = property(lambda self: self._sec.nseg)
    v0 = property(lambda self: float(self._ct.v_init[self._ct.tree.mid_node[self._name]]))

    def __repr__(self):
        return f"<Section {self._name} | L {self.L:g} µm, diam {self.diam:g} µm, nseg {self.nseg}>"


class CellObject:
    """hnn-core's ``Cell`` vocabulary over a ``CellType``: ``synapses``
    (receptor -> {'e', 'tau1', 'tau2'}, editable), ``sections`` (name ->
    ``SectionView``); anything else is the cell type's (e.g.
    ``modify_section``, ``plot_morphology``)."""

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
