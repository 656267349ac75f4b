"""Argument checks shared by the public API.

Each check names the parameter, shows the value and says what is accepted.
Numbers may be Python or NumPy scalars; a bool is never a number.  A value
of the wrong kind raises ``TypeError``, one of the right kind but out of
range ``ValueError`` (hnn-core's convention).
"""
from __future__ import annotations

import os
import warnings
from numbers import Integral, Real

import numpy as np

NEURON_DT = 0.025  # ms, NEURON's (and hnn-core's) default time step


def _is_number(value, kind=Real):
    return isinstance(value, kind) and not isinstance(value, (bool, np.bool_))


def _range_text(ge, gt, le, lt, unit):
    bounds = [f"{op} {b:g}{unit}" for op, b in ((">=", ge), (">", gt), ("<=", le), ("<", lt))
              if b is not None]
    return " and ".join(bounds)


def check_number(name, value, *, ge=None, gt=None, le=None, lt=None, unit=""):
    """``value`` as a float: a finite real number within the given bounds
    (``unit`` such as ' ms' is shown after them)."""
    bounds = _range_text(ge, gt, le, lt, unit)
    what = "a finite number" + (f" {bounds}" if bounds else (f" ({unit.strip()})" if unit else ""))
    if not _is_number(value):
        raise TypeError(f"{name} must be {what}; got {value!r} ({type(value).__name__})")
    ok = (np.isfinite(value) and (ge is None or value >= ge) and (gt is None or value > gt)
          and (le is None or value <= le) and (lt is None or value < lt))
    if not ok:
        raise ValueError(f"{name} must be {what}; got {value!r}")
    return float(value)


def check_nonzero(name, value):
    """``value`` as a float: a finite number other than 0 (a scale factor)."""
    if _is_number(value) and value == 0:
        raise ValueError(f"{name} must be a finite non-zero number; got {value!r}")
    return check_number(name, value)


def check_int(name, value, *, ge=None, le=None, integral_float=False):
    """``value`` as an int within the bounds; ``integral_float`` also takes
    floats such as 3.0 (hnn-core's params files write counts that way)."""
    bounds = _range_text(ge, None, le, None, "")
    what = "an integer" + (f" {bounds}" if bounds else "")
    is_int = _is_number(value, Integral) or (
        integral_float and _is_number(value) and float(value).is_integer())
    if not is_int:
        raise TypeError(f"{name} must be {what}; got {value!r} ({type(value).__name__})")
    if (ge is not None and value < ge) or (le is not None and value > le):
        raise ValueError(f"{name} must be {what}; got {value!r}")
    return int(value)


def check_bool(name, value):
    """``value`` as a bool (Python or NumPy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def check_option(name, value, options):
    """``value``, one of ``options`` (compared with ==; True and False
    never stand for 1 and 0, nor other objects for strings)."""
    def same(o):
        return (isinstance(value, (bool, np.bool_)) == isinstance(o, bool)
                and isinstance(value, (str, bool, np.bool_, int, float, type(None)))
                and value == o)
    if not any(same(o) for o in options):
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def check_array(name, values, *, ndim=1, min_size=1):
    """``values`` as a finite float array of ``ndim`` dimensions with at
    least ``min_size`` rows."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a {ndim}-D array of numbers; got "
                        f"{type(values).__name__}") from None
    if arr.ndim != ndim or arr.shape[0] < min_size:
        raise ValueError(f"{name} must be a {ndim}-D array with at least {min_size} rows; "
                         f"got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr.reshape(arr.shape[0], -1)).all(axis=1))
    if bad.size:
        raise ValueError(f"{name} has {bad.size} non-finite (NaN/inf) value(s), the first at "
                         f"index {bad[0]}")
    return arr


def neuron_steps(tstop, dt):
    """The fixed steps of ``dt`` ms NEURON takes in a run to ``tstop`` ms:
    the whole steps that fit, so the run ends at or before ``tstop`` (a
    millionth of a step allows for round-off; hnn-core 0.6.1 to 9.9749 ms
    ends at 9.95, to 10.024 ms at 10.0)."""
    return int(np.floor(tstop / dt + 1e-6))


def check_time_grid(tstop, dt, *, names=("tstop", "dt"), partial_step=False):
    """(tstop, dt, number of steps): 0 < dt <= tstop (ms), a whole number of
    steps, or with ``partial_step`` (hnn-core's entry points) any tstop: the
    run then ends at the last whole step, as NEURON's does, and a warning
    says where; warns (at the public function's caller) if dt is far coarser
    than NEURON's 0.025 ms."""
    tstop_name, dt_name = names
    tstop = check_number(tstop_name, tstop, gt=0, unit=" ms")
    dt = check_number(dt_name, dt, gt=0, unit=" ms")
    if dt > tstop:
        raise ValueError(f"{dt_name} ({dt:g} ms) must not exceed {tstop_name} ({tstop:g} ms)")
    n_steps = neuron_steps(tstop, dt)
    if abs(n_steps * dt - tstop) > 1e-6 * tstop:  # float32 inputs stay well inside
        if not partial_step:
            raise ValueError(f"{dt_name}={dt:g} ms does not divide {tstop_name}={tstop:g} ms "
                             f"({tstop / dt:.6g} steps): the run would end at {n_steps * dt:g} "
                             f"ms; choose {dt_name} with a whole number of steps")
        warnings.warn(f"{tstop_name}={tstop:g} ms is not a whole number of {dt_name}={dt:g} ms "
                      f"steps ({tstop / dt:.6g}): the run ends at {n_steps * dt:g} ms, the last "
                      "whole step, as NEURON's does", UserWarning, stacklevel=4)
    if dt > 10 * NEURON_DT:
        warnings.warn(f"{dt_name}={dt:g} ms is over 10x NEURON's {NEURON_DT} ms: spikes and "
                      "dipoles will be inaccurate or unstable", UserWarning, stacklevel=4)
    return tstop, dt, n_steps


def check_memory(n_bytes, what, hint):
    """Raise ``ValueError`` before allocating when ``n_bytes`` exceeds this
    machine's physical memory; ``what`` and ``hint`` go in the message."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    if n_bytes > total:
        raise ValueError(f"{what} needs about {n_bytes / 2**30:.3g} GiB, more than this "
                         f"machine's {total / 2**30:.3g} GiB; {hint}")
