"""``hnnjax._jit.jit``: the float64 faithful forward compiled with hnnjax's XLA
options (512-bit vectors on CPU) gives the same bits as with XLA's defaults,
so the NEURON fixtures hold whichever the CPU."""
import jax
import numpy as np

import hnnjax as hnn
from hnnjax.network.compile import compile_network, drive_events
from hnnjax.network.simulate import _run_trials, instantiate_drives

TSTOP, DT = 40.0, 0.025


def test_the_options_change_no_bit_of_the_float64_forward():
    net = hnn.jones_2009_model(mesh_shape=(3, 3))
    hnn.add_erp_drives_to_jones_model(net)
    arrays, drive_tab, _, _, n_steps = compile_network(net, TSTOP, DT, np.float64)
    events = drive_events(drive_tab, instantiate_drives(net, TSTOP, 2), DT, n_steps, np.float64)
    ours = jax.device_get(_run_trials(arrays, events, n_steps, DT))
    default = jax.device_get(jax.jit(_run_trials.__wrapped__, static_argnums=(2, 3))(
        arrays, events, n_steps, DT))
    assert np.asarray(ours[0]).sum() > 0  # the network spikes
    for a, b in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(default)):
        np.testing.assert_array_equal(a, b)
