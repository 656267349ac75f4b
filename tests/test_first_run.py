"""A first run's fixed costs: building the network's arrays compiles no XLA
program (casting with ``jnp`` compiled one per leaf shape, 0.6 s of a first
somato run).  Checked in a fresh process, where no program is cached yet."""
import subprocess
import sys

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
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    built, after = map(int, out.stdout.split())
    assert built == 0 and after > 0
