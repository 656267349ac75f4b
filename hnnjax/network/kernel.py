"""One cell type's step: steps 3-5 of the integrator (``integrate.py``).

3. currents from V^n, gates^n, g_syn^n (eca from cai^n), clamp at t_n + dt/2
   (the channels' part carried from the last step's 5 where
   ``carry_currents``);
4. backward-Euler tree solve for V^{n+1} (``tree_solve.py``, static order;
   with step 3's assembly in one kernel where ``assembly``,
   ``assembled_solve.py``);
5. gates advanced with V^{n+1} (``cnexp``), cad then kca, Exp2Syn decay.

States of one cell type are ``(n_nodes, n_cells)`` arrays; synapse→node
sums and the children's axial currents are static row sums (``row_sums.py``:
gathers both ways, deterministic, fusible); everything is a function of
pytrees.
"""
from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from ..cells.channels import nernst_eca
from .assembled_solve import Assembly, assembled_solve
from .row_sums import RowSums
from .tree_solve import FUSED_MAX_NODES, hines_solve, hines_solve_forward


class TypeArrays(eqx.Module):
    """Device-side constants of one cell type (built by ``compile.py``).

    Nodes are stored segments first (``n_seg`` rows carrying membrane
    mechanisms), then the zero-area section-end nodes; ``tree_order`` lists
    the nodes parents-first for the tree solve."""

    inv_r: jnp.ndarray  # (n_nodes, 1) µS to the parent (0 for the root)
    sum_inv_r: jnp.ndarray  # (n_nodes, 1) µS, Σ over all neighbours
    cap: jnp.ndarray  # (n_seg, 1) nF
    area_f: jnp.ndarray  # (n_seg, 1) 1e-2·area: mA/cm² -> nA
    v_init: jnp.ndarray  # (n_nodes, 1) mV
    channels: tuple  # parameters shaped (n_seg, 1)
    syn_v: RowSums  # (n_sites,) from (n_nodes,): each synapse's node
    seg_syn: RowSums  # (n_seg,) from (n_sites,): sum over each segment's synapses
    parent_v: RowSums  # (n_nodes,) from (n_nodes,): each node's parent (root: itself)
    child_sum: RowSums  # (n_nodes,) from (n_nodes,): sum over each node's children
    syn_e: jnp.ndarray  # (n_sites, 1) mV
    syn_tau1: jnp.ndarray  # (n_sites, 1) ms
    syn_tau2: jnp.ndarray  # (n_sites, 1) ms
    dipole_w: jnp.ndarray  # (n_nodes,) fA·m/mV (zero for non-pyramidal)
    clamp_amp: jnp.ndarray  # (n_clamps, n_seg, n_cells) nA
    clamp_on: jnp.ndarray  # (n_clamps, 2) ms: [t0, t_end)
    rec_node: jnp.ndarray  # (n_rec,) nodes whose voltage is recorded
    rec_cell: jnp.ndarray  # (n_rec,) and their cells
    ca_node: jnp.ndarray  # (n_ca,) nodes whose cai is recorded
    ca_cell: jnp.ndarray  # (n_ca,)
    lfp_r: jnp.ndarray  # (n_contacts, n_seg, n_cells) µV/nA: electrode transfer resistances
    isec_site: jnp.ndarray  # (n_isec,) synapse sites whose current is recorded
    isec_cell: jnp.ndarray  # (n_isec,) and their cells
    tree_order: tuple = eqx.field(static=True)  # nodes, parents before children
    tree_parent: tuple = eqx.field(static=True)  # parent of each node (root: itself)
    solver: str = eqx.field(static=True)  # tree_solve strategy
    n_cells: int = eqx.field(static=True)
    soma_node: int = eqx.field(static=True)
    has_calcium: bool = eqx.field(static=True)
    carry_currents: bool = eqx.field(static=True, default=False)  # see ``carries_currents``
    assembly: Assembly | None = eqx.field(static=True, default=None)  # see ``assembles_in_solve``
    forward_mode: bool = eqx.field(static=True, default=False)  # derivative rules for jax.jvp

    @property
    def n_nodes(self):
        return self.inv_r.shape[0]

    @property
    def n_seg(self):
        return self.cap.shape[0]

    @property
    def n_sites(self):
        return self.syn_e.shape[0]


def carries_currents(solver, n_nodes):
    """Whether the simulation step of a cell type of ``n_nodes`` nodes
    computes the next step's channel currents right after the gates (step 5)
    and carries them, instead of at step 3: where its tree solve is a Pallas
    kernel (a GPU program, more than ``FUSED_MAX_NODES`` nodes), whose step
    is bound by memory traffic; the gate kernel then reads the gates once for
    both (est. 1,755 -> 1,623 MB a step at 1,000 float32 somato trials,
    ``count_gpu_kernels.py``).  Not for the basket cells, whose few nodes
    XLA fuses with their neighbours (carried, their currents took kernels of
    their own), nor on CPU, where XLA splits the currents into more fusions
    (197 -> 249) and 1-4 somato trials ran 10-28 % slower, nor in the
    gradient model, whose reverse-mode checkpoints would hold them (+23 %
    memory).  The same operations either way, compiled in other fusions:
    spikes equal, dipoles within 1e-12 of their peak
    (``tests/test_step_structure.py``)."""
    return solver in ("pallas", "pallas_interpret") and n_nodes > FUSED_MAX_NODES


def assembles_in_solve(carry_currents, n_sites, recorded):
    """Whether a cell type's step assembles its matrix and solves it in one
    Pallas kernel (``assembled_solve``): where it carries its channel
    currents (a Pallas tree solve) and has synapses, unless its membrane or
    synaptic currents are recorded (the electrode potentials, ``isec``),
    which read the assembly's parts.  Est. 1,623 -> 1,369 MB a step at
    1,000 float32 somato trials (``count_gpu_kernels.py``)."""
    return carry_currents and n_sites > 0 and not recorded


def _calcium_slots(ta: TypeArrays):
    """Positions of the L5 calcium mechanisms in ``ta.channels``: the Ca
    current (ca), the shell concentration (cad) and the Ca-activated K (kca)."""
    kinds = [type(ch).__name__ for ch in ta.channels]
    ca, cad, kca = kinds.index("CaHVA"), kinds.index("Cad"), kinds.index("Kca")
    if not cad < kca:
        raise ValueError("cad must come before kca in a cell type's channels (kca reads the new cai)")
    return ca, cad, kca


def _ion(ta: TypeArrays, gates):
    if not ta.has_calcium:
        return {}
    cai = gates[_calcium_slots(ta)[1]][0]
    return {"cai": cai, "eca": nernst_eca(cai)}


def membrane_currents(ta: TypeArrays, v_seg, gates):
    """Step 3's channel part: the summed density current (mA/cm²), its slope
    conductance (S/cm²) and, for L5, the Ca current ``ica``, at V and gates
    (eca from cai)."""
    ion = _ion(ta, gates)
    i_dens = jnp.zeros_like(v_seg)
    g_dens = jnp.zeros_like(v_seg)
    for ch, s in zip(ta.channels, gates):
        i, g = ch.current(v_seg, s, ion)
        i_dens = i_dens + i
        g_dens = g_dens + g
    cur = {"i": i_dens, "g": g_dens}
    if ta.has_calcium:
        ca = _calcium_slots(ta)[0]
        cur["ica"] = ta.channels[ca].ica(v_seg, gates[ca], ion)
    return cur


def init_type_state(ta: TypeArrays):
    v = jnp.broadcast_to(ta.v_init, (ta.n_nodes, ta.n_cells))
    v_seg = v[:ta.n_seg]
    ion = {"cai": jnp.full_like(v_seg, 1e-4)} if ta.has_calcium else {}
    gates = tuple(ch.init(v_seg, ion) for ch in ta.channels)
    z = jnp.zeros((ta.n_sites, ta.n_cells), v.dtype)
    st = {"v": v, "gates": gates, "A": z, "B": z}
    if ta.carry_currents:
        st["cur"] = membrane_currents(ta, v_seg, gates)
    if ta.lfp_r.shape[0]:
        st["lfp"] = jnp.zeros(ta.lfp_r.shape[0], v.dtype)
    if ta.isec_site.shape[0]:
        st["isec"] = jnp.zeros(ta.isec_site.shape[0], v.dtype)
    return st


def _tree_solve(ta: TypeArrays, diag, rhs):
    """Solve the symmetric tree system; the off-diagonal to the parent is -inv_r."""
    solve = hines_solve_forward if ta.forward_mode else hines_solve
    return solve(ta.solver, ta.tree_order, ta.tree_parent, -ta.inv_r, diag, rhs)


def type_step(ta: TypeArrays, st, inc_a, inc_b, t_mid, dt):
    """Steps 3-5 for one cell type after events added ``inc_a``/``inc_b`` (µS)
    to the Exp2Syn states; returns the new state."""
    v, gates = st["v"], st["gates"]
    v_seg = v[:ta.n_seg]
    A = st["A"] + inc_a
    B = st["B"] + inc_b
    cur = st["cur"] if ta.carry_currents else membrane_currents(ta, v_seg, gates)
    i_dens, g_dens = cur["i"], cur["g"]
    ion = {}  # what the gates' updates read: cai and ica
    if ta.has_calcium:
        _, cad, kca = _calcium_slots(ta)
        ion = {"cai": gates[cad][0], "ica": cur["ica"]}
    g_syn = B - A
    on = (ta.clamp_on[:, 0] <= t_mid) & (t_mid < ta.clamp_on[:, 1])
    i_clamp = jnp.sum(jnp.where(on[:, None, None], ta.clamp_amp, 0.0), axis=0)
    if ta.assembly is not None:
        v_new = assembled_solve(ta, v, i_dens, g_dens, g_syn, i_clamp if ta.clamp_on.shape[0] else None,
                                dt, interpret=ta.solver == "pallas_interpret")
    else:
        i_syn = g_syn * (ta.syn_v(v) - ta.syn_e)
        i_seg = ta.area_f * i_dens + ta.seg_syn(i_syn) - i_clamp
        g_seg = ta.area_f * g_dens + ta.seg_syn(g_syn)
        pad = jnp.zeros((ta.n_nodes - ta.n_seg, v.shape[1]), v.dtype)
        flow = ta.inv_r * (ta.parent_v(v) - v)  # nA into each node from its parent
        axial = flow - ta.child_sum(flow)
        rhs = axial - jnp.concatenate([i_seg, pad])
        diag = ta.sum_inv_r + jnp.concatenate([ta.cap / dt + g_seg, pad])
        dv = _tree_solve(ta, diag, rhs)
        v_new = v + dv

    v_new_seg = v_new[:ta.n_seg]
    new_gates = []
    for k, (ch, s) in enumerate(zip(ta.channels, gates)):
        if ta.has_calcium and k == kca:  # kca reads the freshly updated cai (cad comes first)
            ion["cai"] = new_gates[cad][0]
        new_gates.append(ch.advance(v_new_seg, s, dt, ion))
    A = A * jnp.exp(-dt / ta.syn_tau1)
    B = B * jnp.exp(-dt / ta.syn_tau2)
    new_gates = tuple(new_gates)
    st = {"v": v_new, "gates": new_gates, "A": A, "B": B}
    if ta.carry_currents:
        st["cur"] = membrane_currents(ta, v_new_seg, new_gates)
    if ta.lfp_r.shape[0]:  # NEURON's i_membrane_ (nA): membrane currents, not the clamp's
        i_mem = (ta.cap / dt + g_seg) * dv[:ta.n_seg] + i_seg + i_clamp
        st["lfp"] = jnp.einsum("ksc,sc->k", ta.lfp_r, i_mem)
    if ta.isec_site.shape[0]:  # Exp2Syn's i (nA), as NEURON records it after the step
        st["isec"] = i_syn[ta.isec_site, ta.isec_cell]
    return st


def layer_dipoles(types, dipole_layers, states):
    """Raw L2 and L5 dipoles (fA·m) of the current voltages: one reduction per layer."""
    return jnp.stack([jnp.sum(types[k].dipole_w[:, None] * states[k]["v"]) if k >= 0
                      else jnp.zeros((), states[0]["v"].dtype) for k in dipole_layers])


def record_traces(ta: TypeArrays, st):
    """The recorded voltages (and L5 cai) of one cell type, its recorded
    synaptic currents, and its share of the electrode potentials (µV)."""
    out = {"v": st["v"][ta.rec_node, ta.rec_cell]}
    if ta.has_calcium:
        out["ca"] = st["gates"][_calcium_slots(ta)[1]][0][ta.ca_node, ta.ca_cell]
    for key in ("lfp", "isec"):
        if key in st:
            out[key] = st[key]
    return out
