"""Thunks (CPU) or kernels (GPU) per time step, read from compiled HLO.

Each instruction of a computation that does work (a fusion, a custom call, a
scatter, a copy, ...) is one thunk on the CPU runtime and one kernel launch
on a GPU; a ``while`` runs its body ``known_trip_count`` times.  All of it,
divided by the number of time steps, is the cost of one step (the forward's
time scan, or a gradient's checkpointed scans forward and backward).
"""
import json
import re

_FREE = {"parameter", "constant", "get-tuple-element", "tuple", "bitcast", "after-all",
         "opt-barrier", "partition-id", "replica-id"}
_HEAD = re.compile(r"^(ENTRY\s+)?%?([\w.\-]+)\s")
_OP = re.compile(r"=\s.*?\s([a-z][\w\-]*)\(")


def _computations(text):
    comps, name, entry = {}, None, None
    for line in text.splitlines():
        if name is None:
            m = _HEAD.match(line)
            if m and line.rstrip().endswith("{"):  # a header; instructions are indented
                name = m.group(2)
                comps[name] = []
                entry = name if m.group(1) else entry
        elif line.strip() == "}":
            name = None
        else:
            comps[name].append(line)
    return comps, entry


def _trip(line):
    m = re.search(r'"known_trip_count":\{"n":"(\d+)"', line)
    return int(m.group(1)) if m else 1


def _count(comps, name, memo):
    if name not in memo:
        total = 0
        for line in comps.get(name, []):
            m = _OP.search(line)
            if not m or m.group(1) in _FREE:
                continue
            if m.group(1) == "while":
                body = re.search(r"body=%?([\w.\-]+)", line).group(1)
                cond = re.search(r"condition=%?([\w.\-]+)", line).group(1)
                total += _trip(line) * (_count(comps, body, memo) + _count(comps, cond, memo) + 1)
            else:
                total += 1
        memo[name] = total
    return memo[name]


def thunks_per_step(hlo_text, n_steps):
    """Thunks (kernels) the whole program runs, loops expanded, per time step."""
    comps, entry = _computations(hlo_text)
    return _count(comps, entry, {}) / n_steps


def machine():
    """CPU model, cores and the jax version, for table headers."""
    import os
    import platform

    import jax
    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    devs = ", ".join(sorted({d.device_kind for d in jax.devices()}))
    return json.dumps({"cpu": model, "cores": os.cpu_count(), "jax": jax.__version__,
                       "devices": devs})


def columns(rows):
    """Rows of strings as left-aligned text columns, two spaces apart."""
    widths = [max(len(r[i]) for r in rows) + 2 for i in range(len(rows[0]))]
    return "\n".join("".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)
