"""NEURON's Exp2Syn, used for every receptor of the model (spec §4).

Two decaying states A, B (µS); conductance g = B - A; an event of weight w
adds ``w·factor`` to both, with ``factor`` chosen so a lone event peaks at
``g = w``.  NMDA is a plain Exp2Syn here (no Mg block), as in hnn-core.
"""
from __future__ import annotations

import math

import equinox as eqx


class Exp2Syn(eqx.Module):
    tau1: float = eqx.field(static=True)  # ms, rise
    tau2: float = eqx.field(static=True)  # ms, decay
    e: float = eqx.field(static=True)  # mV, reversal

    @property
    def factor(self) -> float:
        """Peak normalisation: increment per unit weight."""
        tp = self.tau1 * self.tau2 / (self.tau2 - self.tau1) * math.log(self.tau2 / self.tau1)
        return 1.0 / (math.exp(-tp / self.tau2) - math.exp(-tp / self.tau1))


RECEPTORS = {
    "ampa": Exp2Syn(tau1=0.5, tau2=5.0, e=0.0),
    "nmda": Exp2Syn(tau1=1.0, tau2=20.0, e=0.0),
    "gabaa": Exp2Syn(tau1=0.5, tau2=5.0, e=-80.0),
    "gabab": Exp2Syn(tau1=1.0, tau2=20.0, e=-80.0),
}
