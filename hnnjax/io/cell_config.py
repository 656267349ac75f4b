"""A cell type in hnn-core's network-file layout (``cell_types[name]``).

hnn-core writes each cell type as its template cell: per section the
geometry (µm, µF/cm², Ω·cm), ``nseg``, ``v0`` (mV), the mechanisms with their
parameters (a number, or ``[segment x, values]`` where they vary by segment)
and the synapse sites; then the receptors, the section tree and the
location groups.  hnnjax reads any file whose cells are its four cell types
with their sections, sites and mechanisms, whatever the values (e.g. hnn-core's
``calcium_model``, ``law_2021_model`` or cells edited by ``modify_section``),
and writes its cells the same way.  Cells that equal hnn-core's defaults
are written as hnn-core writes them, byte for byte.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

from .._checks import check_int, check_number
from ..cells.cell_types import CELL_METADATA, CellType, basket, cell_type, segment_values
from ..cells.mechanisms import PARAMETERS, mechanism_name
from ..cells.morphology import build_tree


@functools.lru_cache(maxsize=1)
def _defaults_json():
    """hnn-core's serialisation of its four default cell types."""
    path = Path(__file__).resolve().parents[1] / "data" / "params" / "neymotin2020_base.json"
    with open(path, encoding="utf-8") as f:
        return json.load(f)["cell_types"]


def default_cell_dicts():
    """A fresh copy of hnn-core's default cell types, as in its files."""
    return json.loads(json.dumps(_defaults_json()))


@functools.lru_cache(maxsize=1)
def _hh2_defaults():
    """hh2.mod's parameter values (the basket cells use them unchanged)."""
    ch = basket(2).channels[0]
    return {param: float(np.asarray(getattr(ch, spec.field)).flat[0])
            for param, spec in PARAMETERS["hh2"].items()}


def cell_type_to_dict(ct: CellType) -> dict:
    """``{'cell_object': ..., 'cell_metadata': ...}`` of ``ct`` as hnn-core
    writes a cell type."""
    if _same_model(ct, cell_type(ct.name)):
        return default_cell_dicts()[ct.name]
    template = default_cell_dicts()[ct.name]
    cell = template["cell_object"]
    ends = ct.end_points()
    for sec in ct.tree.sections:
        out = cell["sections"][sec.name]
        out.update(L=sec.L, diam=sec.diam, cm=sec.cm, Ra=sec.Ra, nseg=sec.nseg,
                   v0=float(ct.v_init[ct.tree.mid_node[sec.name]]),
                   end_pts=ends[sec.name].tolist(),
                   mechs={mech: ct.mechanism_values(sec.name, mech)
                          for mech in ct.mechanisms_on(sec.name)})
    cell["synapses"] = {r: {k: float(v) for k, v in spec.items()} for r, spec in ct.receptors.items()}
    return {"cell_object": cell, "cell_metadata": dict(CELL_METADATA[ct.name])}


def _structure(cell):
    """What of a cell's description hnnjax cannot change: its sections,
    their synapse sites, the tree and the location groups (in any order)."""
    tree = cell.get("cell_tree")
    return ({name: sorted(sec.get("syns") or []) for name, sec in cell["sections"].items()},
            None if tree is None else {node: sorted(children) for node, children in tree.items()},
            {group: sorted(secs) for group, secs in (cell.get("sect_loc") or {}).items()},
            sorted(cell["synapses"]))


def cell_type_from_dict(name, data) -> CellType:
    """The cell type ``name`` of a network file (``data``: hnn-core's
    ``cell_types[name]``, with or without 'cell_metadata').  Its sections,
    sites, tree, groups and mechanisms must be those of hnnjax's ``name``;
    geometry, initial voltages, mechanism parameters (a number, hnn-core's
    ``[segment x, values]`` or a function of path distance from soma(0) in
    µm; a mechanism may be absent from some sections) and receptors may be
    any."""
    cell = data.get("cell_object", data)
    where = f"cell_types[{name!r}]['cell_object']"
    default = cell_type(name)
    reference = _defaults_json()[name]["cell_object"]
    if not isinstance(cell, dict) or not {"sections", "synapses"} <= set(cell):
        raise ValueError(f"{where} must hold 'sections' and 'synapses' (hnn-core's layout)")
    if _structure(cell) != _structure(reference):
        raise ValueError(f"{where}: its sections, synapse sites, tree or location groups differ "
                         f"from hnn-core's {name}; hnnjax simulates its four cell types, whose "
                         "geometry, biophysics and receptors may change, not their structure")
    if cell == reference:
        return default
    sections = []
    for sec in default.tree.sections:
        desc, at = cell["sections"][sec.name], f"{where}['sections'][{sec.name!r}]"
        geometry = {key: check_number(f"{at}[{key!r}]", desc[key], gt=0, unit=unit)
                    for key, unit in (("L", " µm"), ("diam", " µm"), ("cm", " µF/cm²"),
                                      ("Ra", " Ω·cm"))}
        nseg = check_int(f"{at}['nseg']", desc["nseg"], ge=1)
        sections.append(type(sec)(sec.name, parent=sec.parent, parent_end=sec.parent_end,
                                  cos_theta=sec.cos_theta, nseg=nseg, **geometry))
    tree = build_tree(sections)
    v0 = {s.name: check_number(f"{where}['sections'][{s.name!r}]['v0']",
                               cell["sections"][s.name].get("v0", -65.0), unit=" mV")
          for s in sections}
    v_init = np.array([v0[tree.sections[k].name] for k in tree.section_index])
    channels, removed = [], set()
    for ch in default.channels:
        mech = mechanism_name(ch)
        values = {p: np.zeros((int(tree.segment_mask.sum()), 1)) for p in PARAMETERS[mech]}
        for sec in sections:
            mechs = cell["sections"][sec.name].get("mechs", {})
            unknown = sorted(set(mechs) - {mechanism_name(c) for c in default.channels})
            if unknown:
                raise ValueError(f"{where}['sections'][{sec.name!r}] has mechanisms {unknown} "
                                 f"that hnnjax's {name} lacks")
            if mech not in mechs:
                removed.add((sec.name, mech))
                continue
            for param, spec in PARAMETERS[mech].items():
                at = f"{where}['sections'][{sec.name!r}]['mechs'][{mech!r}][{param!r}]"
                value = mechs[mech].get(param, _hh2_defaults().get(param) if mech == "hh2" else None)
                if value is None:
                    raise ValueError(f"{at} is missing")
                values[param][tree.segments_of(sec.name), 0] = segment_values(tree, sec.name, value, spec, at)
        for param, spec in PARAMETERS[mech].items():
            if np.ndim(getattr(ch, spec.field)) == 0:  # cad's taur: one value for the cell type
                present = [values[param][tree.segments_of(s.name), 0] for s in sections
                           if (s.name, mech) not in removed]
                if any(np.any(v != getattr(ch, spec.field)) for v in present):
                    raise NotImplementedError(f"{where}: {param} must be "
                                              f"{getattr(ch, spec.field):g} ms (hnnjax's cad)")
                continue
            ch = eqx.tree_at(lambda c, f=spec.field: getattr(c, f), ch, values[param])
        channels.append(ch)
    receptors = {r: {k: check_number(f"{where}['synapses'][{r!r}][{k!r}]", cell["synapses"][r][k],
                                     **({} if k == "e" else {"gt": 0}))
                     for k in ("e", "tau1", "tau2")} for r in default.receptors}
    built = CellType(name, tree, v_init, tuple(channels), default.synapses, default.groups,
                     default.has_calcium, default.directions, receptors=receptors,
                     removed=removed, modified=True)
    return default if _same_model(built, default) else built


def _same_model(a, b):
    """Whether two cell types simulate the same (equal arrays and receptors)."""
    def leaves(ct):
        return [getattr(ct.tree, f) for f in ("parent", "r_parent", "area", "cm", "x")] + \
            [ct.v_init] + jax.tree_util.tree_leaves(ct.membrane_channels())

    pairs = list(zip(leaves(a), leaves(b)))
    return (a.receptors, a.removed) == (b.receptors, b.removed) and len(pairs) == len(leaves(a)) \
        == len(leaves(b)) and all(np.shape(u) == np.shape(v) and np.array_equal(u, v) for u, v in pairs)
