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

import copy
from collections.abc import Mapping, MutableMapping

import numpy as np

from .._checks import check_option
from .cell_types import CELL_NAMES


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
    def name(self):
        """hnn-core's name of the cell ('L2Pyr', 'L5Pyr', 'L2_basket', 'L5_basket')."""
        return CELL_NAMES[self._ct.name]

    @property
    def synapses(self):
        return self._ct.receptors

    @property
    def sections(self):
        return {s.name: SectionView(self._ct, s.name) for s in self._ct.tree.sections}

    @property
    def sect_loc(self):
        """Location group -> section names ('proximal', 'distal')."""
        return {group: list(secs) for group, secs in self._ct.groups.items()}

    @property
    def cell_tree(self):
        """hnn-core's section tree: (section, end) -> the (section, end)
        nodes it leads to (each section's 0 end to its 1 end, a parent's end
        to its children's 0 ends); None for a one-section cell, as in hnn-core."""
        secs = self._ct.tree.sections
        if len(secs) == 1:
            return None
        tree = {(s.name, 0): [(s.name, 1)] for s in secs}
        for s in secs[1:]:
            tree.setdefault((s.parent, int(s.parent_end)), []).append((s.name, 0))
        return tree

    def distance_section(self, target_sec_name, curr_node):
        """hnn-core's ``Cell.distance_section``: the path distance (µm) from
        ``curr_node`` ((section, end), e.g. ('soma', 0)) to the middle of
        section ``target_sec_name``, searched away from the soma; NaN
        where the target is not beyond ``curr_node``."""
        check_option("target_sec_name", target_sec_name, tuple(self._ct.section_names))
        tree = self.cell_tree
        if tree is None:
            raise TypeError(f"distance_section() needs a cell of several sections; "
                            f"{self._ct.name} has one")
        if not (isinstance(curr_node, tuple) and len(curr_node) == 2 and curr_node[1] in (0, 1)):
            raise TypeError(f"curr_node must be a (section, end) tuple with end 0 or 1; got {curr_node!r}")
        length = {s.name: s.L for s in self._ct.tree.sections}

        def search(node):
            children = tree.get(node)
            if children is None:
                return np.nan
            if (target_sec_name, 0) in children or (target_sec_name, 1) in children:
                return length[target_sec_name] / 2.0
            found = [search(child) + (length[child[0]] if child[0] == node[0] else 0.0)
                     for child in children]
            return np.nan if np.all(np.isnan(found)) else float(np.nanmin(found))
        return search(curr_node)

    def copy(self):
        """A copy: its edits do not change this cell (or its network)."""
        cell = CellObject(copy.deepcopy(self._ct))
        cell.pos, cell.gid = self.pos, self.gid
        return cell

    def to_dict(self):
        """The cell in hnn-core's network-file layout (``Cell.to_dict``)."""
        from ..io.cell_config import cell_type_to_dict

        return dict(cell_type_to_dict(self._ct)["cell_object"], pos=list(self.pos), gid=self.gid)

    def __getattr__(self, name):
        return getattr(self._ct, name)

    def __repr__(self):
        return f"<Cell | {self._ct.name}, {len(self._ct.tree.sections)} sections>"
