"""hnn-core's names for the membrane mechanisms and their parameters.

hnn-core (after NEURON) names a mechanism ('hh2', 'ca', ...) and each of
its parameters with the mechanism as suffix ('gkbar_hh2', 'gbar_ca'); the
channel modules of ``channels.py`` hold them as per-segment fields
('gkbar', 'gbar').  This table maps one vocabulary onto the other, with the
unit and the accepted range of each parameter.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    """One mechanism parameter: the channel's field, its unit, and its
    lower bound (None: any finite number)."""

    field: str
    unit: str
    ge: float | None = 0.0


S_CM2, PS_UM2 = " S/cm²", " pS/µm²"
MECHANISMS = {  # channel class -> hnn-core's mechanism name
    "HH2": "hh2", "Km": "km", "CaHVA": "ca", "Cad": "cad", "Kca": "kca", "CaT": "cat", "Ar": "ar"}
PARAMETERS = {  # mechanism -> {hnn-core parameter: Parameter}
    "hh2": {"gkbar_hh2": Parameter("gkbar", S_CM2), "gnabar_hh2": Parameter("gnabar", S_CM2),
            "gl_hh2": Parameter("gl", S_CM2), "el_hh2": Parameter("el", " mV", None)},
    "km": {"gbar_km": Parameter("gbar", PS_UM2)},
    "ca": {"gbar_ca": Parameter("gbar", PS_UM2)},
    "cad": {"taur_cad": Parameter("taur", " ms")},
    "kca": {"gbar_kca": Parameter("gbar", PS_UM2)},
    "cat": {"gbar_cat": Parameter("gbar", S_CM2)},
    "ar": {"gbar_ar": Parameter("gbar", S_CM2)},
}


def mechanism_name(channel) -> str:
    """hnn-core's name of a channel module's mechanism."""
    return MECHANISMS[type(channel).__name__]


def conductances(mechanism) -> tuple:
    """The channel fields of ``mechanism`` that carry its current (zeroed
    where the mechanism is removed)."""
    return tuple(p.field for p in PARAMETERS[mechanism].values() if p.unit in (S_CM2, PS_UM2))
