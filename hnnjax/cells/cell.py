"""hnn-core's ``Cell`` and ``Section`` constructors, for hnnjax's cell types.

hnn-core builds a cell from ``Section`` objects (geometry, ``mechs``,
``syns``), the receptors, the section tree and the location groups.  hnnjax
takes the same arguments when they describe one of its four cell types
(hnn-core's cells 'L2Pyr', 'L5Pyr', 'L2_basket' and 'L5_basket'), whatever
the values: lengths, diameters, capacitances, resistivities, initial
voltages, mechanism parameters (numbers or functions of path distance from
soma(0), µm) and receptor kinetics.  Other morphologies or mechanisms are
refused by name: each cell type is a compiled model checked against NEURON.
"""
from __future__ import annotations

from .._checks import check_number
from .cell_object import CellObject
from .cell_types import CELL_NAMES
from .morphology import nseg_for_length

_TYPE_OF = {**{name: name for name in CELL_NAMES}, **{cell: name for name, cell in CELL_NAMES.items()}}


class Section:
    """hnn-core's ``Section``: length ``L`` and diameter ``diam`` (µm),
    axial resistivity ``Ra`` (Ω·cm), capacitance ``cm`` (µF/cm²), initial
    voltage ``v0`` (mV); ``mechs`` (mechanism -> {parameter: value}) and
    ``syns`` (receptor names) are set after construction, as in hnn-core.
    ``nseg`` follows hnn-core's rule for ``L``."""

    def __init__(self, L, diam, Ra, cm, v0=-65, end_pts=None):
        self._L = check_number("L", L, gt=0, unit=" µm")
        self._diam = check_number("diam", diam, gt=0, unit=" µm")
        self._Ra = check_number("Ra", Ra, gt=0, unit=" Ω·cm")
        self._cm = check_number("cm", cm, gt=0, unit=" µF/cm²")
        self._v0 = check_number("v0", v0, unit=" mV")
        self._end_pts = [list(p) for p in end_pts] if end_pts is not None else []
        self.mechs, self.syns = {}, []
        self.nseg = nseg_for_length(self._L)

    L = property(lambda self: self._L)
    diam = property(lambda self: self._diam)
    Ra = property(lambda self: self._Ra)
    cm = property(lambda self: self._cm)
    v0 = property(lambda self: self._v0)
    end_pts = property(lambda self: self._end_pts)

    def __repr__(self):
        return f"L={self.L}, diam={self.diam}, cm={self.cm}, Ra={self.Ra}, v0={self.v0}"


class Cell(CellObject):
    """hnn-core's ``Cell(name, pos, sections, synapses, sect_loc, cell_tree,
    gid=None)``: ``sections`` maps names to ``Section``; ``synapses`` maps
    receptors to {'e' (mV), 'tau1', 'tau2' (ms)}; ``sect_loc`` maps
    'proximal'/'distal' to section names; ``cell_tree`` maps (section, end)
    to the (section, end) nodes it leads to (None for one section).  The
    cell is then a cell of hnnjax's type ``name`` (see the module)."""

    def __init__(self, name, pos, sections, synapses, sect_loc, cell_tree, gid=None):
        from ..io.cell_config import cell_type_from_dict

        if name not in _TYPE_OF:
            raise NotImplementedError(
                f"Cell name {name!r}: hnnjax simulates its four cell types, hnn-core's "
                f"{sorted(CELL_NAMES.values())}; edit them with "
                "modify_section, mechanism parameters or cells_default's override_params")
        if not isinstance(sections, dict) or not all(isinstance(s, Section) for s in sections.values()):
            raise ValueError("sections must be a dict of section name -> hnnjax.cells.cell.Section")
        if "soma" not in sections:
            raise KeyError("soma must be defined for cell")
        if not isinstance(pos, (tuple, list)) or len(pos) != 3:
            raise TypeError(f"pos must be an (x, y, z) position in µm; got {pos!r}")
        tree = None if cell_tree is None else {
            f"{node[0]},{node[1]}": [f"{c[0]},{c[1]}" for c in children]
            for node, children in cell_tree.items()}
        data = {"sections": {key: {"L": s.L, "diam": s.diam, "cm": s.cm, "Ra": s.Ra, "nseg": s.nseg,
                                   "v0": s.v0, "mechs": s.mechs, "syns": list(s.syns)}
                             for key, s in sections.items()},
                "synapses": synapses, "sect_loc": sect_loc, "cell_tree": tree}
        super().__init__(cell_type_from_dict(_TYPE_OF[name], data))
        self.pos = tuple(check_number(f"pos[{k}]", p, unit=" µm") for k, p in enumerate(pos))
        self.gid = gid
