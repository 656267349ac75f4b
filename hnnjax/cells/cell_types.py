"""The four HNN cell types (spec §2): morphology, biophysics, synapse sites.

A ``CellType`` is host-side and static: every cell of a type shares it, so the
simulator holds one type's state as ``(n_nodes, n_cells)`` arrays.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .channels import HH2, Ar, CaHVA, Cad, CaT, Kca, Km
from .morphology import NodeTree, Section, build_tree
from .synapses import RECEPTORS, Exp2Syn

SQRT1_2 = 1.0 / np.sqrt(2.0)
CELL_TYPES = ("L2_basket", "L2_pyramidal", "L5_basket", "L5_pyramidal")  # hnn-core's gid order

# hnn-core's ``cell_types[name]['cell_metadata']`` of the four default types
CELL_METADATA = {
    f"L{layer}_{morpho}": {
        "morpho_type": morpho, "electro_type": electro, "layer": layer,
        "measure_dipole": morpho == "pyramidal",
        "reference": "https://doi.org/10.7554/eLife.51214"}
    for layer in ("2", "5")
    for morpho, electro in (("basket", "inhibitory"), ("pyramidal", "excitatory"))
}


@dataclass(frozen=True)
class CellType:
    """Everything the simulator needs to know about one cell type."""

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

    def __post_init__(self):  # only the receptors this type has sites of
        present = {r for _, r in self.synapses}
        object.__setattr__(self, "receptors",
                           {r: v for r, v in self.receptors.items() if r in present})

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

    def receptor(self, name) -> Exp2Syn:
        """The Exp2Syn of receptor ``name`` on this cell type, checked."""
        from .._checks import check_number

        spec = self.receptors[name]
        e = check_number(f"{self.name} synapses[{name!r}]['e']", spec["e"], unit=" mV")
        tau1 = check_number(f"{self.name} synapses[{name!r}]['tau1']", spec["tau1"], gt=0, unit=" ms")
        tau2 = check_number(f"{self.name} synapses[{name!r}]['tau2']", spec["tau2"], gt=tau1, unit=" ms")
        return Exp2Syn(tau1=tau1, tau2=tau2, e=e)

    @property
    def edited(self) -> bool:
        """Whether synapses or mechanisms differ from the model's."""
        return bool(self.removed) or any(
            spec != {"e": RECEPTORS[r].e, "tau1": RECEPTORS[r].tau1, "tau2": RECEPTORS[r].tau2}
            for r, spec in self.receptors.items())

    def membrane_channels(self) -> tuple:
        """``channels`` with the conductances of removed mechanisms zeroed
        on their sections' segments."""
        import equinox as eqx

        from .cell_object import MECHANISMS, mechanism_name

        out = []
        for ch in self.channels:
            rows = [r for sec, mech in self.removed if mech == mechanism_name(ch)
                    for r in self.tree.segments_of(sec)]
            for fld in MECHANISMS[type(ch).__name__][1] if rows else ():
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


def _per_segment(tree: NodeTree, by_section) -> np.ndarray:
    """(n_segments, 1) parameter from a section-name -> value mapping (or a
    callable of path distance); membrane mechanisms live on segments only."""
    out = np.zeros(tree.n_nodes)
    for sec in tree.sections:
        nodes = tree.nodes_of(sec.name)
        val = by_section(sec.name, tree.path_distance[nodes]) if callable(by_section) \
            else by_section[sec.name]
        out[nodes] = val
    return out[tree.segment_mask][:, None]


def _v_init(tree: NodeTree, by_section: dict) -> np.ndarray:
    """Initial voltage of every node: that of the section owning it."""
    return np.array([by_section[tree.sections[k].name] for k in tree.section_index])


def _pyramidal_sections(layer: int) -> list[Section]:
    if layer == 2:
        cm = 0.6195
        geo = dict(soma=(22.1, 23.4), apical_trunk=(59.5, 4.25), apical_1=(306.0, 4.08),
                   apical_tuft=(238.0, 3.4), apical_oblique=(340.0, 3.91),
                   basal_1=(85.0, 4.25), basal_2=(255.0, 2.72), basal_3=(255.0, 2.72))
        tuft_parent = "apical_1"
    else:
        cm = 0.85
        geo = dict(soma=(39.0, 28.9), apical_trunk=(102.0, 10.2), apical_1=(680.0, 7.48),
                   apical_2=(680.0, 4.93), apical_tuft=(425.0, 3.4),
                   apical_oblique=(255.0, 5.1), basal_1=(85.0, 6.8),
                   basal_2=(255.0, 8.5), basal_3=(255.0, 8.5))
        tuft_parent = "apical_2"
    topo = {  # child: (parent, parent end)
        "soma": (None, 1.0),
        "apical_trunk": ("soma", 1.0),
        "apical_1": ("apical_trunk", 1.0),
        "apical_2": ("apical_1", 1.0),
        "apical_tuft": (tuft_parent, 1.0),
        "apical_oblique": ("apical_trunk", 1.0),
        "basal_1": ("soma", 0.0),
        "basal_2": ("basal_1", 1.0),
        "basal_3": ("basal_1", 1.0),
    }
    return [Section(name, L, d, parent=topo[name][0], parent_end=topo[name][1],
                    cos_theta=_PYR_DIRECTIONS[name][2], Ra=200.0, cm=cm)
            for name, (L, d) in geo.items()]


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


def l2_pyramidal() -> CellType:
    """L2/3 pyramidal cell: hh2 + km (spec §2.3)."""
    secs = _pyramidal_sections(2)
    tree = build_tree(secs)
    soma_or = lambda soma, dend: {s.name: (soma if s.name == "soma" else dend) for s in secs}
    channels = (
        HH2(_per_segment(tree, soma_or(0.18, 0.15)), _per_segment(tree, soma_or(0.01, 0.01)),
            _per_segment(tree, soma_or(4.26e-5, 4.26e-5)), _per_segment(tree, soma_or(-65.0, -65.0))),
        Km(_per_segment(tree, soma_or(250.0, 250.0))),
    )
    return CellType("L2_pyramidal", tree, _v_init(tree, {s.name: -71.46 for s in secs}),
                    channels, _pyr_synapses(secs), _PYR_GROUPS, has_calcium=False,
                    directions=_directions_of(secs))


def _ar_gbar(name, dist):
    """ar gradient: flat 1e-6 S/cm² on the soma, 1e-6·exp(0.003·d) elsewhere."""
    return 1e-6 if name == "soma" else 1e-6 * np.exp(0.003 * dist)


def l5_pyramidal() -> CellType:
    """L5 pyramidal cell: hh2, km, ca, cad, kca, cat, ar (spec §2.4)."""
    return _l5_pyramidal(gnabar={"soma": 0.16, "dend": 0.14}, gkbar={"soma": 0.01, "dend": 0.01},
                         gbar_ca={"soma": 60.0, "dend": 60.0})


def l5_pyramidal_ca() -> CellType:
    """The L5 pyramidal cell of hnn-core's ``calcium_model`` (Kohl et al.
    2022): soma hh2 gnabar 0.32 and gkbar 0.06 S/cm²; along the dendrites,
    at path distance d µm from soma(0), ca gbar rises linearly from 10 to 40
    pS/µm² at 1501 µm, hh2 gnabar falls linearly from 0.32 to 0.0028 S/cm²
    at 962 µm (both flat beyond), gkbar = 0.06·(exp(-0.006·d) + 1e-4)."""
    return _l5_pyramidal(gnabar={"soma": 0.32, "dend": lambda d: _linear_gbar(d, 0.32, 28e-4, 962.0)},
                         gkbar={"soma": 0.06, "dend": lambda d: 0.06 * (np.exp(-0.006 * d) + 1e-4)},
                         gbar_ca={"soma": 60.0, "dend": lambda d: _linear_gbar(d, 10.0, 40.0, 1501.0)})


def _linear_gbar(dist, g_soma, g_dend, x_kink):
    """Linear from ``g_soma`` at 0 µm to ``g_dend`` at ``x_kink`` µm, ``g_dend`` beyond."""
    return g_soma + np.minimum(dist, x_kink) * (g_dend - g_soma) / x_kink


def _soma_dend(values):
    """{'soma': value, 'dend': value or function of path distance (µm)} as a
    ``_per_segment`` callable."""
    def gbar(name, dist):
        value = values["soma" if name == "soma" else "dend"]
        return value(dist) if callable(value) else value
    return gbar


def _l5_pyramidal(gnabar, gkbar, gbar_ca) -> CellType:
    """The L5 pyramidal cell with the given hh2 and ca conductances (see ``_soma_dend``)."""
    secs = _pyramidal_sections(5)
    tree = build_tree(secs)
    soma_or = lambda soma, dend: {s.name: (soma if s.name == "soma" else dend) for s in secs}
    channels = (
        HH2(_per_segment(tree, _soma_dend(gnabar)), _per_segment(tree, _soma_dend(gkbar)),
            _per_segment(tree, soma_or(4.26e-5, 4.26e-5)), _per_segment(tree, soma_or(-65.0, -71.0))),
        Km(_per_segment(tree, soma_or(200.0, 200.0))),
        CaHVA(_per_segment(tree, _soma_dend(gbar_ca))),
        Cad(),
        Kca(_per_segment(tree, soma_or(2e-4, 2e-4))),
        CaT(_per_segment(tree, soma_or(2e-4, 2e-4))),
        Ar(_per_segment(tree, _ar_gbar)),
    )
    v0 = dict(soma=-72.0, apical_trunk=-72.0, apical_1=-71.32, apical_2=-69.08,
              apical_tuft=-67.30, apical_oblique=-72.0, basal_1=-72.0, basal_2=-72.0,
              basal_3=-72.0)
    return CellType("L5_pyramidal", tree, _v_init(tree, v0), channels,
                    _pyr_synapses(secs), _PYR_GROUPS, has_calcium=True,
                    directions=_directions_of(secs))


def basket(layer: int) -> CellType:
    """L2 or L5 basket cell: one 39×20 µm soma with default hh2 (spec §2.5)."""
    tree = build_tree([Section("soma", 39.0, 20.0, cm=0.85, Ra=200.0)])
    channels = (HH2(*(_per_segment(tree, {"soma": x}) for x in (0.12, 0.036, 0.0003, -54.3))),)
    groups = {"proximal": ("soma",)} if layer == 5 else {"proximal": ("soma",), "distal": ("soma",)}
    return CellType(f"L{layer}_basket", tree, _v_init(tree, {"soma": -64.9737}), channels,
                    (("soma", "ampa"), ("soma", "nmda"), ("soma", "gabaa")), groups,
                    has_calcium=False, directions={"soma": (0.0, 0.0, 1.0)})


def cell_types() -> dict[str, CellType]:
    """The model's cell types, keyed in ``CELL_TYPES`` order."""
    models = {"L2_basket": lambda: basket(2), "L2_pyramidal": l2_pyramidal,
              "L5_basket": lambda: basket(5), "L5_pyramidal": l5_pyramidal}
    return {name: models[name]() for name in CELL_TYPES}
