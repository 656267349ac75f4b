"""Sections and their discretisation into NEURON's node tree.

NEURON represents a section with ``nseg`` segment-centre nodes plus a
zero-area node at its x=1 end; the root section also owns a zero-area x=0
node.  A child's x=0 end *is* its parent's node at the attachment point.
Axial resistances between neighbouring nodes are half-segment resistances
(spec §2.1).  Everything here is host-side NumPy, computed once per cell type.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def nseg_for_length(length_um: float) -> int:
    """hnn-core's rule: one segment up to 100 µm, else ``int(L/50)`` made odd."""
    if length_um <= 100.0:
        return 1
    n = int(length_um / 50.0)
    return n + 1 if n % 2 == 0 else n


@dataclass(frozen=True)
class Section:
    """A uniform cylinder.

    ``parent``/``parent_end``: the section it hangs from and at which end
    (0 or 1); ``None`` for the root.  ``cos_theta``: cosine between the
    section's start→end vector and the apical axis, used by the dipole.
    ``nseg``: hnn-core's rule for ``L`` when not given; as in hnn-core, a
    section keeps its ``nseg`` when its length is modified later.
    """

    name: str
    L: float  # µm
    diam: float  # µm
    parent: str | None = None
    parent_end: float = 1.0
    cos_theta: float = 1.0
    Ra: float = 200.0  # Ω·cm
    cm: float = 1.0  # µF/cm²
    nseg: int | None = None

    def __post_init__(self):
        if self.nseg is None:
            object.__setattr__(self, "nseg", nseg_for_length(self.L))

    @property
    def r_half(self) -> float:
        """Axial resistance of half a segment, MΩ."""
        dx = self.L / self.nseg
        return 1e-2 * self.Ra * (dx / 2.0) / (np.pi * self.diam**2 / 4.0)

    @property
    def seg_area(self) -> float:
        """Lateral area of one segment, µm²."""
        return np.pi * self.diam * self.L / self.nseg


@dataclass(frozen=True)
class NodeTree:
    """A cell's nodes in an order where every parent precedes its children.

    Arrays have one entry per node (n_nodes,).  Node 0 is the root (soma x=0).
    """

    sections: tuple[Section, ...]
    parent: np.ndarray  # int, -1 for the root
    r_parent: np.ndarray  # MΩ between node and parent (0 for the root)
    area: np.ndarray  # µm², 0 for zero-area nodes
    cm: np.ndarray  # µF/cm², 0 for zero-area nodes
    section_index: np.ndarray  # int, section owning the node (root: soma)
    x: np.ndarray  # normalised position within the section
    path_distance: np.ndarray  # µm from soma(0) to the node
    dipole_weight: np.ndarray  # fA·m per mV: cell dipole = dipole_weight @ V
    mid_node: dict  # section name -> node index of its x=0.5 segment

    @property
    def n_nodes(self) -> int:
        return len(self.parent)

    @property
    def segment_mask(self) -> np.ndarray:
        return self.area > 0

    def section_names(self) -> list[str]:
        return [s.name for s in self.sections]

    def nodes_of(self, name: str) -> np.ndarray:
        """Segment-centre nodes of a section, from x≈0 to x≈1."""
        k = self.section_names().index(name)
        return np.flatnonzero((self.section_index == k) & self.segment_mask)

    def segments_of(self, name: str) -> np.ndarray:
        """Positions of a section's segments among all segments (tree order)."""
        return np.searchsorted(np.flatnonzero(self.segment_mask), self.nodes_of(name))


def build_tree(sections: list[Section]) -> NodeTree:
    """Discretise sections (root first, parents before children) into nodes."""
    names = [s.name for s in sections]
    if sections[0].parent is not None:
        raise ValueError("the first section must be the root (parent=None)")
    parent, r_par, area, cm, sec_idx, xs, dist, dip = [], [], [], [], [], [], [], []
    end_node: dict[tuple[str, float], int] = {}
    start_dist: dict[str, float] = {}
    mid_node = {}

    def add(p, r, a, c, k, x, d, w):
        parent.append(p)
        r_par.append(r)
        area.append(a)
        cm.append(c)
        sec_idx.append(k)
        xs.append(x)
        dist.append(d)
        dip.append(w)
        return len(parent) - 1

    for k, s in enumerate(sections):
        if s.parent is None:
            attach = add(-1, 0.0, 0.0, 0.0, k, 0.0, 0.0, 0.0)
            end_node[(s.name, 0.0)] = attach
            start_dist[s.name] = 0.0
        else:
            if s.parent not in names[:k]:
                raise ValueError(f"section {s.name!r}: parent {s.parent!r} must come first")
            attach = end_node[(s.parent, float(s.parent_end))]
            pl = sections[names.index(s.parent)].L
            start_dist[s.name] = start_dist[s.parent] + s.parent_end * pl
        n, rh = s.nseg, s.r_half
        prev = attach
        for i in range(n):
            x = (i + 0.5) / n
            r = rh if i == 0 else 2.0 * rh
            link = (0.5 if i == 0 else 1.0) * s.L / n * s.cos_theta
            prev = add(prev, r, s.seg_area, s.cm, k, x, start_dist[s.name] + x * s.L, link / r)
            if 2 * i + 1 == n:
                mid_node[s.name] = prev
        last = add(prev, rh, 0.0, 0.0, k, 1.0, start_dist[s.name] + s.L,
                   0.5 * s.L / n * s.cos_theta / rh)
        end_node[(s.name, 1.0)] = last

    parent = np.array(parent)
    # Each link p→q carries I=(V_p - V_q)/r towards q; Q = I·ℓ·cosθ.  The per-node
    # entries above hold ℓ·cosθ/r for the link into that node: spread to V weights.
    link_w = np.array(dip)
    w = -link_w.copy()
    np.add.at(w, parent[1:], link_w[1:])
    return NodeTree(
        sections=tuple(sections),
        parent=parent,
        r_parent=np.array(r_par),
        area=np.array(area),
        cm=np.array(cm),
        section_index=np.array(sec_idx),
        x=np.array(xs),
        path_distance=np.array(dist),
        dipole_weight=w,
        mid_node=mid_node,
    )
