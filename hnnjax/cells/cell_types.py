"""The four HNN cell types (spec §2): morphology, biophysics, synapse sites.

A ``CellType`` is host-side and static: every cell of a type shares it, so the
simulator holds one type's state as ``(n_nodes, n_cells)`` arrays.
"""
from __future__ import annotations

import copy
import dataclasses
import warnings
from dataclasses import dataclass, field

import numpy as np

from .._checks import check_number, check_option
from .channels import HH2, Ar, CaHVA, Cad, CaT, Kca, Km
from .mechanisms import PARAMETERS, conductances, mechanism_name
from .morphology import NodeTree, Section, build_tree
from .pyramidal_params import PREFIX, default_params, pyramidal_params
from .synapses import RECEPTORS, Exp2Syn

SQRT1_2 = 1.0 / np.sqrt(2.0)
CELL_TYPES = ("L2_basket", "L2_pyramidal", "L5_basket", "L5_pyramidal")  # hnn-core's gid order
# the ``name`` of hnn-core's template cell of each type (its ``Cell.name``)
CELL_NAMES = {"L2_basket": "L2_basket", "L2_pyramidal": "L2Pyr", "L5_basket": "L5_basket",
              "L5_pyramidal": "L5Pyr"}

# hnn-core's ``cell_types[name]['cell_metadata']`` of the four default types
CELL_METADATA = {
    f"L{layer}_{morpho}": {
        "morpho_type": morpho, "electro_type": electro, "layer": layer,
        "measure_dipole": morpho == "pyramidal",
        "reference": "https://doi.org/10.7554/eLife.51214"}
    for layer in ("2", "5")
    for morpho, electro in (("basket", "inhibitory"), ("pyramidal", "excitatory"))
}


@dataclass(eq=False)
class CellType:
    """Everything the simulator needs to know about one cell type.

    hnn-core's cell edits change it in place (``modify_section``,
    ``set_mechanism``, ``remove_mechanism``, the receptors) and take effect
    at the next simulation; ``edited`` says whether any was made."""

    name: str
    tree: NodeTree
    v_init: np.ndarray  # mV, per node
    channels: tuple  # channel modules (see channels.py), parameters per segment
    synapses: tuple  # ((section, receptor), ...) in site order
    groups: dict  # 'proximal'/'distal' -> section names
    has_calcium: bool  # L5 pyramidal: ca + cad + kca, eca from cai
    directions: dict  # section -> unit (x, y, z) start→end vector; +z is the apical axis
    # receptor -> {'e': mV, 'tau1': ms, 'tau2': ms} of its Exp2Syn on this type (editable)
    receptors: dict = field(default_factory=lambda: {r: {"e": s.e, "tau1": s.tau1, "tau2": s.tau2}
                                                     for r, s in RECEPTORS.items()})
    removed: set = field(default_factory=set)  # (section, mechanism) taken off by the user
    modified: bool = False  # sections or mechanism parameters differ from the model's

    def __post_init__(self):  # only the receptors this type has sites of
        present = {r for _, r in self.synapses}
        self.receptors = {r: v for r, v in self.receptors.items() if r in present}

    def __getitem__(self, key):
        """hnn-core compatibility: ``cell_types[name]['cell_object']``, the
        cell as hnn-core's ``Cell`` names it (``cell_object.CellObject``), and
        ``['cell_metadata']`` (morpho/electro type, layer, dipole, reference)."""
        if key == "cell_metadata":
            return dict(CELL_METADATA[self.name])
        if key != "cell_object":
            raise KeyError(f"CellType supports the keys 'cell_object' and 'cell_metadata' "
                           f"(hnn-core compatibility), got {key!r}")
        from .cell_object import CellObject

        return CellObject(self)

    def __setitem__(self, key, cell):
        """hnn-core's ``net.cell_types[name]['cell_object'] = cell``: this
        type becomes a copy of ``cell`` (a cell of the same name, e.g. from
        ``cells_default.pyramidal(..., override_params=...)``)."""
        from .cell_object import CellObject

        if key != "cell_object":
            raise KeyError(f"only 'cell_object' can be set (hnn-core compatibility), got {key!r}")
        if not isinstance(cell, CellObject):
            raise TypeError(f"cell_types[{self.name!r}]['cell_object'] must be a cell made by "
                            f"hnnjax.cells_default; got {type(cell).__name__}")
        if cell._ct.name != self.name:
            raise ValueError(f"a {cell._ct.name} cell cannot stand for {self.name}")
        source = copy.deepcopy(cell._ct)
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(source, f.name))

    def receptor(self, name) -> Exp2Syn:
        """The Exp2Syn of receptor ``name`` on this cell type, checked."""
        spec = self.receptors[name]
        e = check_number(f"{self.name} synapses[{name!r}]['e']", spec["e"], unit=" mV")
        tau1 = check_number(f"{self.name} synapses[{name!r}]['tau1']", spec["tau1"], gt=0, unit=" ms")
        tau2 = check_number(f"{self.name} synapses[{name!r}]['tau2']", spec["tau2"], gt=tau1, unit=" ms")
        return Exp2Syn(tau1=tau1, tau2=tau2, e=e)

    @property
    def edited(self) -> bool:
        """Whether synapses, sections or mechanisms differ from the model's."""
        return self.modified or bool(self.removed) or any(
            spec != {"e": RECEPTORS[r].e, "tau1": RECEPTORS[r].tau1, "tau2": RECEPTORS[r].tau2}
            for r, spec in self.receptors.items())

    def modify_section(self, sec_name, L=None, diam=None, cm=None, Ra=None, v0=None):
        """hnn-core's ``Cell.modify_section``: set a section's length ``L``
        (µm), diameter ``diam`` (µm), capacitance ``cm`` (µF/cm²), axial
        resistivity ``Ra`` (Ω·cm) or initial voltage ``v0`` (mV); None
        leaves one as it is.  As in hnn-core the section keeps its number of
        segments, and conductances set by distance from the soma keep the
        values they had."""
        check_option("sec_name", sec_name, tuple(self.section_names))
        changes = {key: check_number(key, value, gt=0, unit=unit)
                   for key, value, unit in (("L", L, " µm"), ("diam", diam, " µm"),
                                            ("cm", cm, " µF/cm²"), ("Ra", Ra, " Ω·cm"))
                   if value is not None}
        v0 = None if v0 is None else check_number("v0", v0, unit=" mV")
        self.tree = build_tree([dataclasses.replace(s, **changes) if s.name == sec_name else s
                                for s in self.tree.sections])
        if v0 is not None:
            own = self.tree.section_index == self.section_names.index(sec_name)
            self.v_init = np.where(own, v0, self.v_init)
        self.modified = True

    def mechanisms_on(self, section) -> list[str]:
        """hnn-core's names of the mechanisms on ``section`` (not removed)."""
        return [mechanism_name(ch) for ch in self.channels
                if (section, mechanism_name(ch)) not in self.removed]

    def _channel(self, section, mechanism):
        check_option("section", section, tuple(self.section_names))
        if mechanism not in self.mechanisms_on(section):
            raise KeyError(f"section {section!r} of {self.name} has no mechanism {mechanism!r}; "
                           f"it has {sorted(self.mechanisms_on(section))}")
        return next(k for k, ch in enumerate(self.channels) if mechanism_name(ch) == mechanism)

    def mechanism_values(self, section, mechanism) -> dict:
        """hnn-core's view of a mechanism on ``section``: parameter -> a
        number where every segment has the same value, else hnn-core's
        per-segment ``[segment x, values]`` lists."""
        ch = self.channels[self._channel(section, mechanism)]
        rows = self.tree.segments_of(section)
        out = {}
        for param, spec in PARAMETERS[mechanism].items():
            value = getattr(ch, spec.field)
            if np.ndim(value) == 0:
                out[param] = float(value)
                continue
            seg = np.asarray(value)[rows, 0]
            out[param] = float(seg[0]) if np.all(seg == seg[0]) else \
                [self.tree.x[self.tree.nodes_of(section)].tolist(), seg.tolist()]
        return out

    def set_mechanism(self, section, mechanism, parameter, value):
        """Set hnn-core's ``parameter`` (e.g. 'gkbar_hh2') of ``mechanism``
        on ``section``: a number for every segment, a function of path
        distance from soma(0) (µm) evaluated at each segment, or hnn-core's
        per-segment ``[segment x, values]`` lists."""
        k = self._channel(section, mechanism)
        check_option(f"{self.name} sections[{section!r}].mechs[{mechanism!r}] parameter", parameter,
                     tuple(PARAMETERS[mechanism]))
        spec = PARAMETERS[mechanism][parameter]
        values = segment_values(self.tree, section, value, spec,
                                f"{self.name} sections[{section!r}].mechs[{mechanism!r}][{parameter!r}]")
        ch = self.channels[k]
        if np.ndim(getattr(ch, spec.field)) == 0:  # cad's taur: one value for the cell type
            if np.any(values != getattr(ch, spec.field)):
                raise NotImplementedError(f"{self.name} sections[{section!r}].mechs['cad']"
                                          f"['taur_cad']: hnnjax's cad has taur "
                                          f"{getattr(ch, spec.field):g} ms on every section")
            return
        import equinox as eqx

        g = np.array(getattr(ch, spec.field), dtype=float)
        g[self.tree.segments_of(section), 0] = values
        self.channels = self.channels[:k] + (eqx.tree_at(lambda c: getattr(c, spec.field), ch, g),) \
            + self.channels[k + 1:]
        self.modified = True

    def remove_mechanism(self, section, mechanism):
        """Take ``mechanism`` off ``section`` (hnn-core's ``del
        sections[section].mechs[mechanism]``)."""
        self._channel(section, mechanism)
        if mechanism == "cad":
            raise NotImplementedError("removing 'cad' is not supported: ca and kca read its "
                                      "calcium concentration")
        self.removed.add((section, mechanism))

    def restore_mechanism(self, section, mechanism):
        """Put a removed mechanism back on ``section`` (with the parameters
        it had); hnnjax cannot add mechanisms a cell type lacks."""
        check_option("section", section, tuple(self.section_names))
        own = sorted({mechanism_name(ch) for ch in self.channels})
        if mechanism not in own:
            raise NotImplementedError(f"{self.name} has no {mechanism!r} mechanism to put on "
                                      f"{section!r}: hnnjax's cell types have fixed mechanisms "
                                      f"({own})")
        self.removed.discard((section, mechanism))

    def membrane_channels(self) -> tuple:
        """``channels`` with the conductances of removed mechanisms zeroed
        on their sections' segments."""
        import equinox as eqx

        out = []
        for ch in self.channels:
            rows = [r for sec, mech in self.removed if mech == mechanism_name(ch)
                    for r in self.tree.segments_of(sec)]
            for fld in conductances(mechanism_name(ch)) if rows else ():
                g = np.array(getattr(ch, fld), dtype=float)
                g[rows] = 0.0
                ch = eqx.tree_at(lambda c, f=fld: getattr(c, f), ch, g)
            out.append(ch)
        return tuple(out)

    @property
    def soma_node(self) -> int:
        return self.tree.mid_node["soma"]

    @property
    def section_names(self) -> list[str]:
        return self.tree.section_names()

    def synapse_index(self, section: str, receptor: str) -> int:
        try:
            return self.synapses.index((section, receptor))
        except ValueError:
            raise ValueError(
                f"{self.name} has no {receptor!r} synapse on section {section!r}; "
                f"sites: {sorted(set(self.synapses))}") from None

    def sections_for(self, location: str) -> list[str]:
        """Sections a connection to ``location`` (group or section name) targets."""
        if location in self.groups:
            return list(self.groups[location])
        if location in self.section_names:
            return [location]
        raise ValueError(
            f"location {location!r} is not valid for {self.name}: use one of "
            f"{sorted(self.groups) + self.section_names}")

    def end_points(self) -> dict[str, np.ndarray]:
        """Start and end (µm) of every section, relative to soma(0), as (2, 3)
        arrays: each section starts where it attaches to its parent and runs
        ``L`` µm along its direction (spec §2.2)."""
        pts = {}
        for s in self.tree.sections:
            start = np.zeros(3)
            if s.parent is not None:
                p_start, p_end = pts[s.parent]
                start = p_start + s.parent_end * (p_end - p_start)
            pts[s.name] = np.stack([start, start + s.L * np.asarray(self.directions[s.name])])
        return pts

    def plot_morphology(self, ax=None, color=None, pos=(0.0, 0.0, 0.0), xlim=None, ylim=None,
                        zlim=None, show=True):
        """Draw the sections in 3-D; see :func:`hnnjax.viz.plot_cell_morphology`."""
        from ..viz.network import plot_cell_morphology

        return plot_cell_morphology(self, ax=ax, color=color, pos=pos, xlim=xlim, ylim=ylim,
                                    zlim=zlim, show=show)


def _checked_at(name, function, distance, spec):
    """``function`` (of path distance, µm) at ``distance``, checked; an
    error says where."""
    try:
        return check_number(name, function(distance), ge=spec.ge, unit=spec.unit)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{err} (at {distance:g} µm from the soma)") from None


def segment_values(tree: NodeTree, section, value, spec, name) -> np.ndarray:
    """A mechanism parameter's value on each segment of ``section``: a
    number, a function of path distance from soma(0) (µm), or hnn-core's
    ``[segment x, values]`` lists; each value checked against ``spec``
    (``mechanisms.Parameter``), ``name`` naming it in errors."""
    nodes = tree.nodes_of(section)
    if callable(value):
        return np.array([_checked_at(name, value, float(d), spec) for d in tree.path_distance[nodes]])
    if isinstance(value, (list, tuple)) and len(value) == 2 and np.ndim(value[0]) == 1:
        xs, values = value
        if len(xs) != len(nodes) or len(values) != len(nodes) or \
                not np.allclose(xs, tree.x[nodes], rtol=0, atol=1e-9):
            raise ValueError(f"{name} must be a number, a function of distance or [segment x, values] "
                             f"for the section's {len(nodes)} segments at x = "
                             f"{np.round(tree.x[nodes], 6).tolist()}")
    else:
        values = [value] * len(nodes)
    return np.array([check_number(name, v, ge=spec.ge, unit=spec.unit) for v in values])


def _v_init(tree: NodeTree, by_section: dict) -> np.ndarray:
    """Initial voltage of every node: that of the section owning it."""
    return np.array([by_section[tree.sections[k].name] for k in tree.section_index])


_PYR_SECTIONS = {  # hnnjax's section order (the root first, parents before children)
    2: ("soma", "apical_trunk", "apical_1", "apical_tuft", "apical_oblique", "basal_1", "basal_2",
        "basal_3"),
    5: ("soma", "apical_trunk", "apical_1", "apical_2", "apical_tuft", "apical_oblique", "basal_1",
        "basal_2", "basal_3"),
}


def _pyramidal_sections(layer: int, p: dict) -> list[Section]:
    """The sections of a pyramidal cell from its flat parameters ``p``
    (``pyramidal_params``): each dendrite's L and diam, the soma's own
    cm and Ra, the dendrites' shared ones."""
    pre = f"L{layer}Pyr"
    topo = {  # child: (parent, parent end)
        "soma": (None, 1.0),
        "apical_trunk": ("soma", 1.0),
        "apical_1": ("apical_trunk", 1.0),
        "apical_2": ("apical_1", 1.0),
        "apical_tuft": ("apical_1" if layer == 2 else "apical_2", 1.0),
        "apical_oblique": ("apical_trunk", 1.0),
        "basal_1": ("soma", 0.0),
        "basal_2": ("basal_1", 1.0),
        "basal_3": ("basal_1", 1.0),
    }
    secs = []
    for name in _PYR_SECTIONS[layer]:
        key, part = name.replace("_", ""), "soma" if name == "soma" else "dend"
        secs.append(Section(name, p[f"{pre}_{key}_L"], p[f"{pre}_{key}_diam"],
                            parent=topo[name][0], parent_end=topo[name][1],
                            cos_theta=_PYR_DIRECTIONS[name][2], Ra=p[f"{pre}_{part}_Ra"],
                            cm=p[f"{pre}_{part}_cm"]))
    return secs


# Unit start→end vectors (x, y, z) of the pyramidal sections (spec §2.2): the
# apical axis is +z, the oblique points to −x, basal_2/basal_3 fan out in x–z.
_PYR_DIRECTIONS = {
    "soma": (0.0, 0.0, 1.0),
    "apical_trunk": (0.0, 0.0, 1.0),
    "apical_1": (0.0, 0.0, 1.0),
    "apical_2": (0.0, 0.0, 1.0),
    "apical_tuft": (0.0, 0.0, 1.0),
    "apical_oblique": (-1.0, 0.0, 0.0),
    "basal_1": (0.0, 0.0, -1.0),
    "basal_2": (-SQRT1_2, 0.0, -SQRT1_2),
    "basal_3": (SQRT1_2, 0.0, -SQRT1_2),
}


def _directions_of(sections) -> dict:
    return {s.name: _PYR_DIRECTIONS[s.name] for s in sections}


_PYR_GROUPS = {"proximal": ("apical_oblique", "basal_2", "basal_3"), "distal": ("apical_tuft",)}


def _pyr_synapses(sections) -> tuple:
    sites = [("soma", "gabaa"), ("soma", "gabab")]
    for s in sections[1:]:
        sites += [(s.name, r) for r in ("ampa", "nmda", "gabaa", "gabab")]
    return tuple(sites)


def _mechanism(tree, p, pre, param, dend=None):
    """(n_segments, 1) values of hnn-core's parameter ``param``: the soma's
    on the soma, the dendrites' (``dend`` if given) elsewhere, each checked
    (``segment_values``)."""
    spec = next(params[param] for params in PARAMETERS.values() if param in params)
    out = np.zeros((int(tree.segment_mask.sum()), 1))
    for sec in tree.sections:
        part = "soma" if sec.name == "soma" else "dend"
        value = dend if part == "dend" and dend is not None else p[f"{pre}_{part}_{param}"]
        out[tree.segments_of(sec.name), 0] = segment_values(
            tree, sec.name, value, spec, f"override_params['{pre}_{part}_{param}']")
    return out


def _pyramidal(name, p, has_calcium, v0, modified, ar_dend=None) -> CellType:
    """A pyramidal cell type from its flat parameters ``p``; ``ar_dend``:
    the L5 cell's dendritic ar conductance (a function of distance)."""
    layer, pre = int(name[1]), PREFIX[name]
    secs = _pyramidal_sections(layer, p)
    tree = build_tree(secs)

    def g(param, dend=None):
        return _mechanism(tree, p, pre, param, dend)
    channels = (HH2(g("gnabar_hh2"), g("gkbar_hh2"), g("gl_hh2"), g("el_hh2")), Km(g("gbar_km")))
    if has_calcium:
        channels += (CaHVA(g("gbar_ca")), Cad(), Kca(g("gbar_kca")), CaT(g("gbar_cat")),
                     Ar(g("gbar_ar", ar_dend)))
    receptors = {r: {k: p[f"{pre}_{r}_{k}"] for k in ("e", "tau1", "tau2")} for r in RECEPTORS}
    return CellType(name, tree, _v_init(tree, v0), channels, _pyr_synapses(secs), _PYR_GROUPS,
                    has_calcium=has_calcium, directions=_directions_of(secs), receptors=receptors,
                    modified=modified)


def l2_pyramidal(override_params=None) -> CellType:
    """L2/3 pyramidal cell: hh2 + km (spec §2.3); ``override_params``:
    hnn-core's 'L2Pyr_*' parameters (``pyramidal_params``)."""
    p = pyramidal_params("L2_pyramidal", override_params)
    return _pyramidal("L2_pyramidal", p, False, {s: -71.46 for s in _PYR_SECTIONS[2]},
                      p != default_params("L2_pyramidal"))


_L5_V0 = dict(soma=-72.0, apical_trunk=-72.0, apical_1=-71.32, apical_2=-69.08, apical_tuft=-67.30,
              apical_oblique=-72.0, basal_1=-72.0, basal_2=-72.0, basal_3=-72.0)


def l5_pyramidal(override_params=None) -> CellType:
    """L5 pyramidal cell: hh2, km, ca, cad, kca, cat, ar (spec §2.4);
    ``override_params``: hnn-core's 'L5Pyr_*' parameters."""
    p = pyramidal_params("L5_pyramidal", override_params)
    return _pyramidal("L5_pyramidal", p, True, _L5_V0, p != default_params("L5_pyramidal"),
                      ar_dend=_ar_dend)


def _ar_dend(dist):
    """ar gradient along the dendrites: 1e-6·exp(0.003·d) S/cm²."""
    return 1e-6 * np.exp(0.003 * dist)


_CA_MODEL = {"L5Pyr_soma_gnabar_hh2": 0.32, "L5Pyr_soma_gkbar_hh2": 0.06}


def l5_pyramidal_ca(override_params=None) -> CellType:
    """The L5 pyramidal cell of hnn-core's ``calcium_model`` (Kohl et al.
    2022): soma hh2 gnabar 0.32 and gkbar 0.06 S/cm²; along the dendrites,
    at path distance d µm from soma(0), ca gbar rises linearly from 10 to 40
    pS/µm² at 1501 µm, hh2 gnabar falls linearly from 0.32 to 0.0028 S/cm²
    at 962 µm (both flat beyond), gkbar = 0.06·(exp(-0.006·d) + 1e-4).
    ``override_params`` as in ``l5_pyramidal``, but as in hnn-core these
    five conductances are always the model's (a warning if overridden)."""
    forced = set(_CA_MODEL) | {"L5Pyr_dend_gnabar_hh2", "L5Pyr_dend_gkbar_hh2", "L5Pyr_dend_gbar_ca"}
    ignored = sorted(forced & set(override_params or {}))
    if ignored:
        warnings.warn(f"override_params {ignored} have no effect: calcium_model's L5 pyramidal "
                      "cell sets them, as in hnn-core", UserWarning, stacklevel=2)
    p = pyramidal_params("L5_pyramidal", override_params)
    modified = {k: v for k, v in p.items() if k not in forced} != \
        {k: v for k, v in default_params("L5_pyramidal").items() if k not in forced}
    p.update(_CA_MODEL)
    p["L5Pyr_dend_gbar_ca"] = lambda d: _linear_gbar(d, 10.0, 40.0, 1501.0)
    p["L5Pyr_dend_gnabar_hh2"] = lambda d: _linear_gbar(d, 0.32, 28e-4, 962.0)
    p["L5Pyr_dend_gkbar_hh2"] = lambda d: 0.06 * (np.exp(-0.006 * d) + 1e-4)
    return _pyramidal("L5_pyramidal", p, True, _L5_V0, modified, ar_dend=_ar_dend)


def _linear_gbar(dist, g_soma, g_dend, x_kink):
    """Linear from ``g_soma`` at 0 µm to ``g_dend`` at ``x_kink`` µm, ``g_dend`` beyond."""
    return g_soma + np.minimum(dist, x_kink) * (g_dend - g_soma) / x_kink


def basket(layer: int) -> CellType:
    """L2 or L5 basket cell: one 39×20 µm soma with default hh2 (spec §2.5)."""
    tree = build_tree([Section("soma", 39.0, 20.0, cm=0.85, Ra=200.0)])
    n_seg = int(tree.segment_mask.sum())
    channels = (HH2(*(np.full((n_seg, 1), x) for x in (0.12, 0.036, 0.0003, -54.3))),)
    groups = {"proximal": ("soma",)} if layer == 5 else {"proximal": ("soma",), "distal": ("soma",)}
    return CellType(f"L{layer}_basket", tree, _v_init(tree, {"soma": -64.9737}), channels,
                    (("soma", "ampa"), ("soma", "nmda"), ("soma", "gabaa")), groups,
                    has_calcium=False, directions={"soma": (0.0, 0.0, 1.0)})


def cell_type(name) -> CellType:
    """The model's cell type ``name`` (one of ``CELL_TYPES``), new."""
    models = {"L2_basket": lambda: basket(2), "L2_pyramidal": l2_pyramidal,
              "L5_basket": lambda: basket(5), "L5_pyramidal": l5_pyramidal}
    return models[name]()


def cell_types() -> dict[str, CellType]:
    """The model's cell types, keyed in ``CELL_TYPES`` order."""
    return {name: cell_type(name) for name in CELL_TYPES}
