"""A first run's fixed costs: building the network's arrays compiles no XLA
program, and the batched time scan is traced in one pass."""
import functools
import subprocess
import sys

import jax
import numpy as np
from jax._src.interpreters import batching

import hnnjax as hnn
from hnnjax.network.compile import compile_network, drive_events
from hnnjax.network.grid import run
from hnnjax.network.simulate import _run_trials, instantiate_drives

CHILD = """
import jax, jax.monitoring, numpy as np
import hnnjax as hnn
from hnnjax.network.compile import compile_network

compiles = []
jax.monitoring.register_event_duration_secs_listener(
    lambda event, _, **__: compiles.append(event)
    if event == "/jax/core/compile/backend_compile_duration" else None)
net = hnn.neymotin_2020_model(mesh_shape=(2, 2))
hnn.add_erp_drives_to_jones_model(net)
for dtype in (np.float64, np.float32):
    arrays = compile_network(net, 20.0, 0.025, dtype)[0]
    assert {leaf.dtype for leaf in jax.tree_util.tree_leaves(arrays)
            if np.issubdtype(leaf.dtype, np.floating)} == {np.dtype(dtype)}
built = len(compiles)
jax.numpy.ones(3).astype(np.float32).block_until_ready()  # the listener hears a compile
print(built, len(compiles) - built)
"""


def test_building_the_arrays_compiles_nothing():
    """Casting with ``jnp`` compiled one program per leaf shape (0.6 s of a
    first somato run).  Checked in a fresh process, where none is cached."""
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    built, after = map(int, out.stdout.split())
    assert built == 0 and after > 0


def test_the_batched_time_scan_is_traced_in_one_pass(monkeypatch):
    """``simulate_dipole``'s call starts the scan from a carry broadcast over
    the trials (``grid.initial_carries``): ``vmap`` batches the scan's body
    once, where from an unbatched carry it retraced it until the carry's
    batching settled (three passes; 0.4 s of a somato compile)."""
    net = hnn.neymotin_2020_model(mesh_shape=(2, 2))
    hnn.add_erp_drives_to_jones_model(net)
    arrays, tab, _, _, n_steps = compile_network(net, 10.0, 0.025, np.float64)
    events = drive_events(tab, instantiate_drives(net, 10.0, 2), 0.025, n_steps, np.float64)
    calls = []
    real = batching.batch_jaxpr
    monkeypatch.setattr(batching, "batch_jaxpr", lambda *a, **k: calls.append(1) or real(*a, **k))
    _run_trials.trace(arrays, events, n_steps, 0.025)
    ours = len(calls)
    one = functools.partial(run, skip_idle=True, batch_axis="trials")
    jax.jit(lambda ev: jax.vmap(one, in_axes=(None, 0, None, None), axis_name="trials")(
        arrays, ev, n_steps, 0.025)).trace(events)
    unbatched_start = len(calls) - ours
    assert 0 < ours and 2 * ours < unbatched_start, (ours, unbatched_start)
