"""The pyramidal cells' flat parameters, hnn-core's ``override_params`` vocabulary.

hnn-core builds its pyramidal cells from one flat dict per cell type
(``get_L2Pyr_params_default``, ``get_L5Pyr_params_default``): keys
'<prefix>_<section>_<property>' with prefix 'L2Pyr' or 'L5Pyr', section
'soma', 'dend' (every dendrite's ``Ra``, ``cm`` and mechanisms) or a
dendrite without underscores ('apicaltrunk'), and the receptors as
'<prefix>_<receptor>_<e|tau1|tau2>'.  ``pyramidal_params`` fills hnn-core's
defaults and checks an override dict's keys and values against them; its
mechanism parameters (numbers or functions of path distance from soma(0),
µm, on the soma too, as in hnn-core) are checked at each segment as the
cell is built.
"""
from __future__ import annotations

import difflib
import warnings

from .._checks import check_number
from .mechanisms import PARAMETERS

PREFIX = {"L2_pyramidal": "L2Pyr", "L5_pyramidal": "L5Pyr"}
_GEOMETRY = {
    "L2_pyramidal": dict(soma=(22.1, 23.4), apicaltrunk=(59.5, 4.25), apical1=(306.0, 4.08),
                         apicaltuft=(238.0, 3.4), apicaloblique=(340.0, 3.91),
                         basal1=(85.0, 4.25), basal2=(255.0, 2.72), basal3=(255.0, 2.72)),
    "L5_pyramidal": dict(soma=(39.0, 28.9), apicaltrunk=(102.0, 10.2), apical1=(680.0, 7.48),
                         apical2=(680.0, 4.93), apicaltuft=(425.0, 3.4),
                         apicaloblique=(255.0, 5.1), basal1=(85.0, 6.8), basal2=(255.0, 8.5),
                         basal3=(255.0, 8.5)),
}
_CM = {"L2_pyramidal": 0.6195, "L5_pyramidal": 0.85}  # µF/cm², soma and dendrites
_RECEPTORS = {"ampa": (0.0, 0.5, 5.0), "nmda": (0.0, 1.0, 20.0), "gabaa": (-80.0, 0.5, 5.0),
              "gabab": (-80.0, 1.0, 20.0)}  # e mV, tau1 ms, tau2 ms
_MECHANISMS = {  # soma values, dendrite values
    "L2_pyramidal": {"gkbar_hh2": (0.01, 0.01), "gnabar_hh2": (0.18, 0.15), "el_hh2": (-65.0, -65.0),
                     "gl_hh2": (4.26e-5, 4.26e-5), "gbar_km": (250.0, 250.0)},
    "L5_pyramidal": {"gkbar_hh2": (0.01, 0.01), "gnabar_hh2": (0.16, 0.14), "el_hh2": (-65.0, -71.0),
                     "gl_hh2": (4.26e-5, 4.26e-5), "gbar_ca": (60.0, 60.0), "taur_cad": (20.0, 20.0),
                     "gbar_kca": (2e-4, 2e-4), "gbar_km": (200.0, 200.0), "gbar_cat": (2e-4, 2e-4),
                     "gbar_ar": (1e-6, 1e-6)},
}
_UNITS = {"L": " µm", "diam": " µm", "cm": " µF/cm²", "Ra": " Ω·cm", "e": " mV", "tau1": " ms",
          "tau2": " ms"}
_MECHANISM_PARAMETERS = {param for params in PARAMETERS.values() for param in params}


def default_params(cell_name) -> dict:
    """hnn-core's defaults for ``cell_name`` ('L2_pyramidal' or 'L5_pyramidal')."""
    pre = PREFIX[cell_name]
    p = {}
    for sec, (length, diam) in _GEOMETRY[cell_name].items():
        p[f"{pre}_{sec}_L"], p[f"{pre}_{sec}_diam"] = length, diam
        if sec == "soma":
            p[f"{pre}_soma_cm"], p[f"{pre}_soma_Ra"] = _CM[cell_name], 200.0
    p[f"{pre}_dend_cm"], p[f"{pre}_dend_Ra"] = _CM[cell_name], 200.0
    for receptor, values in _RECEPTORS.items():
        for key, value in zip(("e", "tau1", "tau2"), values):
            p[f"{pre}_{receptor}_{key}"] = value
    for param, (soma, dend) in _MECHANISMS[cell_name].items():
        p[f"{pre}_soma_{param}"], p[f"{pre}_dend_{param}"] = soma, dend
    return p


def _check_value(key, value):
    """One override value checked by its kind.  A mechanism parameter (a
    number or a function of path distance from soma(0), µm) is checked at
    each segment when the cell is built (``cell_types.segment_values``)."""
    name = f"override_params[{key!r}]"
    prop = key.split("_", 2)[2]
    if prop == "taur_cad":
        if value != 20.0:
            raise NotImplementedError(f"{name}: hnnjax's cad has taur 20 ms on every section; "
                                      f"got {value!r}")
        return value
    if prop in _MECHANISM_PARAMETERS:
        return value
    # geometry (> 0), a reversal potential (any) or a time constant (> 0)
    return check_number(name, value, unit=_UNITS[prop], **({} if prop == "e" else {"gt": 0}))


def pyramidal_params(cell_name, override_params=None) -> dict:
    """hnn-core's parameters of ``cell_name`` with ``override_params``
    (a dict of some of its keys) in place: unknown keys and values out of
    range are errors here, before anything is built.  As in hnn-core, the
    L5 cell's dendritic ar conductance is always 1e-6·exp(0.003·d) S/cm²,
    whatever 'L5Pyr_dend_gbar_ar' says (a warning)."""
    p = default_params(cell_name)
    if override_params is None:
        return p
    if not isinstance(override_params, dict):
        raise TypeError(f"override_params must be a dict of {PREFIX[cell_name]} parameters or "
                        f"None; got {type(override_params).__name__}")
    for key, value in override_params.items():
        if key not in p:
            close = difflib.get_close_matches(str(key), p, n=3)
            raise ValueError(f"override_params: {key!r} is not a parameter of {cell_name}"
                             + (f"; did you mean {close}?" if close else
                                f"; keys start with {PREFIX[cell_name]!r}, e.g. "
                                f"'{PREFIX[cell_name]}_soma_L'"))
        p[key] = _check_value(key, value)
    if "L5Pyr_dend_gbar_ar" in override_params and override_params["L5Pyr_dend_gbar_ar"] != 1e-6:
        warnings.warn("override_params['L5Pyr_dend_gbar_ar'] has no effect: the L5 pyramidal "
                      "cell's dendritic ar conductance is 1e-6·exp(0.003·d) S/cm², as in "
                      "hnn-core", UserWarning, stacklevel=3)
    return p
