"""Free drive parameters: names, write-back into a ``Network``, and the
transforms that keep them in range."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def expand_names(pattern_list, names, off=()):
    """Resolve parameter names; ``'evprox1.*'`` means all of a drive's that
    act.  ``off``: names that do not act (``model.switched_off``: a zero
    weight, a drive without weights): skipped by ``.*``, refused by name."""
    out = []
    for p in pattern_list:
        if p.endswith(".*"):
            hits = [n for n in names if n.startswith(p[:-1]) and n not in off]
        else:
            hits = [p] * (p in names)
            if p in off:
                raise ValueError(f"params: {p!r} is switched off (a zero weight, or a drive or "
                                 "target type without weights): its connections are not "
                                 "simulated; give the weight a value > 0 in net to fit it")
        if not hits:
            raise ValueError(f"params: {p!r} matches no parameter that acts; available: "
                             f"{[n for n in names if n not in off]}")
        out += [h for h in hits if h not in out]
    return out


def set_drive_parameter(net, name, value):
    """Write a fitted value back into ``net`` (drive dict and its connections)."""
    drive_name, key, *ct = name.split(".")
    drive = net.external_drives[drive_name]
    if key in ("mu", "sigma", "tstart"):
        drive["dynamics"][key] = float(value)
        return
    ct = ct[0]
    if key == "synaptic_delays":
        if not isinstance(drive["synaptic_delays"], dict):
            drive["synaptic_delays"] = {c: drive["synaptic_delays"] for c in drive["target_types"]}
        drive["synaptic_delays"][ct] = float(value)
    else:
        drive[key][ct] = float(value)
    for conn in net.connectivity:
        if conn["src_type"] == drive_name and conn["target_type"] == ct:
            if key == "synaptic_delays":
                conn["nc_dict"]["A_delay"] = float(value)
            elif key == f"weights_{conn['receptor']}":
                conn["nc_dict"]["A_weight"] = float(value)


class Transform:
    """Unconstrained <-> constrained values: mu and tstart in [lo, hi] via a
    sigmoid; sigma, weights and delays positive via softplus (or a sigmoid if
    bounded)."""

    def __init__(self, names, bounds, tstop):
        lo, hi = [], []
        for n in names:
            kind = n.split(".")[1]
            onset = kind in ("mu", "tstart")
            b = bounds.get(n, (0.0, tstop) if onset else (0.0, np.inf))
            if not (b[0] < b[1]) or (not onset and b[0] < 0):
                raise ValueError(f"bounds[{n!r}] must satisfy 0 <= low < high, got {b}")
            lo.append(b[0])
            hi.append(b[1])
        self.lo, self.hi = np.array(lo), np.array(hi)
        self.bounded = np.isfinite(self.hi)
        self.span = np.where(self.bounded, self.hi - self.lo, 1.0)

    def to_constrained(self, u):
        sig = self.lo + self.span * jax.nn.sigmoid(u)
        pos = self.lo + jax.nn.softplus(u) + 1e-9
        return jnp.where(self.bounded, sig, pos)

    def to_unconstrained(self, x):
        x = np.asarray(x, float)
        p = np.clip((x - self.lo) / self.span, 1e-6, 1 - 1e-6)
        y = np.maximum(x - self.lo - 1e-9, 1e-12)
        return np.where(self.bounded, np.log(p / (1 - p)), np.where(y > 30, y, np.log(np.expm1(y))))
