"""What this process runs on: the JAX devices it sees and the CPU cores it may use."""
from __future__ import annotations

import os

import jax


def one_cpu_device():
    """Whether JAX sees a single device and it is the CPU."""
    devices = jax.devices()
    return len(devices) == 1 and devices[0].platform == "cpu"


def usable_cores():
    """CPU cores this process may run on (its affinity, e.g. a container's share)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def calls_at_once():
    """Compiled calls to run at the same time: one per core on one CPU device
    (each from its own thread; one call keeps about one core busy); one on
    GPUs or several devices, where one call fills them."""
    return usable_cores() if one_cpu_device() else 1
