"""Thunks (CPU) or kernels (GPU) per time step, read from compiled HLO.

Each instruction of a computation that does work (a fusion, a custom call, a
scatter, a copy, ...) is one thunk on the CPU runtime and one kernel launch
on a GPU; a ``while`` runs its body ``known_trip_count`` times.  All of it,
divided by the number of time steps, is the cost of one step (the forward's
time scan, or a gradient's checkpointed scans forward and backward).

``traffic_by_kernel`` and ``bytes_per_step`` estimate the memory traffic of
the same kernels: a GPU step of a thousand trials is bound by it, not by its
launches.
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


_SIZE = {"pred": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "f16": 2, "bf16": 2, "s32": 4, "u32": 4,
         "f32": 4, "s64": 8, "u64": 8, "f64": 8}
_DEF = re.compile(r"^\s*(ROOT\s+)?%([\w.\-]+)\s*=\s*(.*?)\s([a-z][\w\-]*)\((.*)$")
_IN_PLACE = ("dynamic-update-slice", "scatter")  # operand 0 aliases the output


def _nbytes(shape):
    total = 0
    for dtype, dims in re.findall(r"(\w+)\[([\d,]*)\]", shape):
        n = _SIZE.get(dtype, 0)
        for d in filter(None, dims.split(",")):
            n *= int(d)
        total += n
    return total


def _instructions(lines):
    """name -> (shape, op, operand names, is root)."""
    out = {}
    for line in lines:
        m = _DEF.match(line)
        if m:
            root, name, shape, op, rest = m.groups()
            operands = [] if op == "parameter" else re.findall(r"%([\w.\-]+)", rest.split("), ")[0])
            out[name] = (shape, op, operands, bool(root))
    return out


def _written(ins, name):
    """Bytes an instruction writes: an in-place update writes its update only."""
    shape, op, operands, _ = ins[name]
    if op == "tuple":
        return sum(_written(ins, a) for a in operands)
    if op == "bitcast":
        return _written(ins, operands[0])
    if op in _IN_PLACE:
        return _nbytes(ins[operands[-1] if op == "scatter" else operands[1]][0])
    return _nbytes(shape)


def _fusion_traffic(lines):
    """(read, written) bytes of one fusion: a parameter that is only sliced,
    gathered from or updated in place counts what it touches, a gather at
    most its whole table (a small table stays in cache)."""
    ins = _instructions(lines)
    users = {}
    for name, (_, _, operands, _) in ins.items():
        for k, a in enumerate(operands):
            users.setdefault(a, []).append((name, k))

    def touched(name, whole):
        total = 0
        for user, k in users.get(name, []):
            shape, op, _, _ = ins[user]
            if op in ("bitcast", "reshape"):
                t = touched(user, whole)
            elif k == 0 and op in ("slice", "dynamic-slice"):
                t = _nbytes(shape)
            elif k == 0 and op == "gather":
                t = min(_nbytes(shape), whole)
            elif k == 0 and op in _IN_PLACE:
                t = 0
            else:
                return whole
            total += t
        return min(total, whole)

    read = sum(touched(n, _nbytes(s)) for n, (s, op, *_) in ins.items() if op == "parameter")
    root = next(n for n, i in ins.items() if i[3])
    return read, _written(ins, root)


def _kernels(comps, name):
    """(instruction, result shape, bytes, times run) of every kernel of ``name``,
    loops expanded; of a conditional, the branch that moves more bytes."""
    ins, out = _instructions(comps.get(name, [])), []
    for line in comps.get(name, []):
        m = _DEF.match(line)
        if not m or m.group(4) in _FREE:
            continue
        op, operands = m.group(4), ins[m.group(2)][2]
        if op == "while":
            trip = _trip(line)
            out += [(k, r, b, n * trip) for k, r, b, n in
                    _kernels(comps, re.search(r"body=%?([\w.\-]+)", line).group(1))]
        elif op == "conditional":
            branches = re.findall(r"%([\w.\-]+)", line.split("branch_computations=")[-1]
                                  if "branch_computations=" in line else
                                  " ".join(re.findall(r"(?:true|false)_computation=%[\w.\-]+", line)))
            out += max((_kernels(comps, b) for b in branches),
                       key=lambda ks: sum(b * n for _, _, b, n in ks), default=[])
        elif op == "call":
            out += _kernels(comps, re.search(r"to_apply=%?([\w.\-]+)", line).group(1))
        elif op == "fusion":
            b = sum(_fusion_traffic(comps[re.search(r"calls=%?([\w.\-]+)", line).group(1)]))
        elif op in _IN_PLACE:
            b = 2 * _written(ins, m.group(2))
        else:
            b = sum(_nbytes(ins[a][0]) for a in operands if a in ins) + _nbytes(m.group(3))
        if op not in ("while", "conditional", "call"):
            out.append((m.group(2), m.group(3), b, 1))
    return out


def traffic_by_kernel(hlo_text, n_steps):
    """``{kernel: (estimated bytes per time step, its result's shape)}``, the
    largest first; the clones of XLA's two-step loop bodies are counted with
    their originals.  Each kernel reads its operands and writes its result
    once, counting only what a fused slice, gather or in-place update touches
    (a gather at most its table).  Caches and re-reads inside a kernel are
    not modelled: a floor for a memory-bound step once the arrays outgrow the
    caches."""
    comps, entry = _computations(hlo_text)
    total = {}
    for kernel, shape, b, n in _kernels(comps, entry):
        kernel = kernel.removesuffix(".double_buffer_clone")
        total[kernel] = (total.get(kernel, (0, ""))[0] + b * n / n_steps, shape)
    return dict(sorted(total.items(), key=lambda kv: -kv[1][0]))


def bytes_per_step(hlo_text, n_steps):
    """Estimated memory traffic of the whole program per time step (bytes),
    ``traffic_by_kernel`` summed."""
    return sum(b for b, _ in traffic_by_kernel(hlo_text, n_steps).values())


def short_shape(shape):
    """An HLO result shape without layouts, repeated arrays counted:
    ``3 x f32[1000,55,100]``."""
    parts = re.findall(r"\w+\[[\d,]*\]", shape)
    counts = {p: parts.count(p) for p in parts}
    return ", ".join(p if n == 1 else f"{n} x {p}" for p, n in counts.items())


def cpu_model(cpuinfo="/proc/cpuinfo"):
    """The CPU's model name with its family and model numbers and whether it
    has AVX-512 (from ``cpuinfo``): two hosts may share a name ("AMD EPYC"),
    not their speed."""
    import platform
    try:
        with open(cpuinfo) as f:
            first = f.read().split("\n\n")[0]  # the first processor's block
    except OSError:
        return platform.processor() or "?"
    info = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in first.splitlines() if ":" in line)}
    avx512 = ", AVX-512" if "avx512f" in info.get("flags", "").split() else ""
    return (f"{info.get('model name', '?')} (family {info.get('cpu family', '?')}, "
            f"model {info.get('model', '?')}{avx512})")


def machine():
    """CPU model, cores and the jax version, for table headers."""
    import os

    import jax
    devs = ", ".join(sorted({d.device_kind for d in jax.devices()}))
    return json.dumps({"cpu": cpu_model(), "cores": os.cpu_count(), "jax": jax.__version__,
                       "devices": devs})


def columns(rows):
    """Rows of strings as left-aligned text columns, two spaces apart."""
    widths = [max(len(r[i]) for r in rows) + 2 for i in range(len(rows[0]))]
    return "\n".join("".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)
