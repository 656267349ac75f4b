"""The one integrator: NEURON's fixed step for every cell, any event delivery.

Order of operations per step n (t_n -> t_n + dt), spec §7.2:

1. threshold check on V_soma(t_n) (a cell fires when it rises above);
2. event delivery, a strategy (``Delivery``): network spikes after their
   delay and the trial's drive events add to the Exp2Syn states A and B
   (``network.delivery.GridDelivery``: NEURON's rule, events at grid steps;
   ``grad.delivery.ContinuousDelivery``: events at continuous times, for
   gradients);
3-5. per cell type: currents, tree solve, gates (``kernel.type_step``);
6. L2/L5 dipole and requested traces from V^{n+1}.

``checkpoint`` runs the scan as a two-level checkpointed scan (chunks of
``checkpoint`` steps) so reverse mode needs O(√T) memory.
"""
from __future__ import annotations

import math
from typing import Protocol

import jax
import jax.numpy as jnp
from jax import lax

from .._host import one_cpu_device
from .kernel import init_type_state, layer_dipoles, record_traces, type_step


class Delivery(Protocol):
    """Event delivery of one trial (a pytree)."""

    def init(self, soma_v0):
        """The delivery's own carry at t_0."""

    def __call__(self, carry, n, spikes, soma_v):
        """Events due at step n given this step's spikes: returns (carry,
        inc_a, inc_b, overflow); inc_* (n_syn,) are added to A and B."""


def skips_idle_steps():
    """Whether batched runs skip the network-event work of steps where no
    trial has an event due (``skip_idle`` of the deliveries): on one CPU
    device.  On a GPU a conditional per step is a host round trip; over
    several devices its predicate would be an all-reduce per step."""
    return one_cpu_device()


def unless_idle(skip_idle, due, batch_axis, work, idle):
    """``work()``; with ``skip_idle``, ``idle()`` at a step where ``due`` is
    False in every trial of the batch (summed over the ``vmap`` axes named
    ``batch_axis``: a per-trial predicate would make both branches run)."""
    if not skip_idle:
        return work()
    if batch_axis is not None:
        due = lax.psum(due.astype(jnp.int32), batch_axis) > 0
    return lax.cond(due, work, idle)


def soma_voltages(types, states):
    """Somatic voltage of every cell, cell types concatenated (mV)."""
    return jnp.concatenate([s["v"][ta.soma_node] for ta, s in zip(types, states)])


def initial_carry(types, delivery, threshold):
    """The integrator's carry at t_0: cell states, armed thresholds, the
    delivery's own carry and the overflow flag."""
    states0 = tuple(init_type_state(ta) for ta in types)
    soma0 = soma_voltages(types, states0)
    return {"types": states0, "armed": soma0 <= threshold, "delivery": delivery.init(soma0),
            "overflow": jnp.zeros((), bool)}


def make_step(types, delivery, threshold, dipole_layers, dt, record=False):
    """The step function ``(carry, n) -> (carry, (spikes, dipoles, traces))``."""
    sizes = [ta.n_sites * ta.n_cells for ta in types]

    def step(carry, n):
        states = carry["types"]
        soma = soma_voltages(types, states)
        above = soma > threshold
        spikes = above & carry["armed"]
        dcarry, inc_a, inc_b, overflow = delivery(carry["delivery"], n, spikes, soma)
        t_mid = n * dt + 0.5 * dt
        parts_a = lax.split(inc_a, sizes)
        parts_b = parts_a if inc_b is inc_a else lax.split(inc_b, sizes)
        new_states = []
        for ta, st, a, b in zip(types, states, parts_a, parts_b):
            shape = (ta.n_sites, ta.n_cells)
            new_states.append(type_step(ta, st, a.reshape(shape), b.reshape(shape), t_mid, dt))
        dip = layer_dipoles(types, dipole_layers, new_states)
        rec = tuple(record_traces(ta, st) for ta, st in zip(types, new_states)) if record else None
        new = {"types": tuple(new_states), "armed": ~above, "delivery": dcarry,
               "overflow": carry["overflow"] | overflow}
        return new, (spikes, dip, rec)

    return step


def integrate(types, delivery, threshold, dipole_layers, n_steps, dt, *, record=False,
              checkpoint=None, carry0=None):
    """Integrate one trial from ``carry0`` (default ``initial_carry``).  Returns
    per-step spikes (n_steps, n_cells) bool at t_0..t_{n-1}, the raw L2/L5
    dipoles (n_steps, 2) fA·m at t_1..t_n, the recorded traces per type at
    t_0..t_n (``record``; else None), and whether the delivery ran out of room
    at some step."""
    if carry0 is None:
        carry0 = initial_carry(types, delivery, threshold)
    step = make_step(types, delivery, threshold, dipole_layers, dt, record)
    steps = jnp.arange(n_steps)
    if checkpoint:
        inner = jax.checkpoint(lambda c, ns: lax.scan(jax.checkpoint(step), c, ns))
        last, out = lax.scan(inner, carry0, steps.reshape(-1, checkpoint))
        out = jax.tree_util.tree_map(lambda a: a.reshape((n_steps,) + a.shape[2:]), out)
    else:
        last, out = lax.scan(step, carry0, steps)
    spikes, dip, rec = out
    if record:
        rec0 = tuple(record_traces(ta, st) for ta, st in zip(types, carry0["types"]))
        rec = jax.tree_util.tree_map(lambda a0, a: jnp.concatenate([a0[None], a]), rec0, rec)
    return spikes, dip, rec, last["overflow"]


def integrate_quiet_first(types, delivery, threshold, dipole_layers, n_steps, dt, first):
    """``integrate`` without traces or checkpoints, in two loops: the steps
    before ``first`` (the step of the first event) with the delivery held
    constant (``stop_gradient``), then the rest.  Nothing depends on the
    events before their first one acts, so forward mode (``jax.jvp``)
    carries no tangents through the first loop, where they would be exactly
    zero (a somato trial's first ~13 % of steps).  Each loop runs the plain
    step.  Returns the dipoles (n_steps, 2), the spike count per cell and
    the overflow flag."""
    carry0 = initial_carry(types, delivery, threshold)
    dtype = carry0["types"][0]["v"].dtype

    def loop(delivery):
        step = make_step(types, delivery, threshold, dipole_layers, dt)

        def body(n, acc):
            carry, dip, count = acc
            carry, (spikes, d, _) = step(carry, n)
            return carry, dip.at[n].set(d), count + spikes
        return body

    acc = (carry0, jnp.zeros((n_steps, len(dipole_layers)), dtype),
           jnp.zeros(carry0["armed"].shape, jnp.int32))
    acc = lax.fori_loop(0, first, loop(lax.stop_gradient(delivery)), acc)
    last, dip, count = lax.fori_loop(first, n_steps, loop(delivery), acc)
    return dip, count, last["overflow"]


def checkpoint_chunk(n_steps):
    """The divisor of n_steps closest to √n_steps (two-level checkpointing)."""
    divisors = [d for d in range(1, n_steps + 1) if n_steps % d == 0]
    return min(divisors, key=lambda d: abs(d - math.sqrt(n_steps)))
