"""``hnnjax._jit.jit``: the float64 faithful forward compiled with hnnjax's XLA
options (512-bit vectors on CPU) gives the same bits as with XLA's defaults,
so the NEURON fixtures hold whichever the CPU; a gradient compiled with the
reverse-mode options too, with fewer copies."""
import jax
import jax.numpy as jnp
import numpy as np

import hnnjax as hnn
from hnnjax._jit import jit
from hnnjax.fit import dipole_fn, trial_draws
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


def test_reverse_mode_options_change_no_bit_of_the_gradient_and_drop_copies():
    net = hnn.jones_2009_model(mesh_shape=(2, 2))
    net.add_evoked_drive("evprox1", mu=10.0, sigma=2.0, numspikes=1, location="proximal",
                         n_drive_cells=1, cell_specific=False,
                         weights_ampa={"L5_pyramidal": 0.004, "L2_pyramidal": 0.002},
                         synaptic_delays=0.1, event_seed=1)
    fn, gn, names, th0, times = dipole_fn(net, 20.0)
    z = trial_draws(net, gn, 1, 20.0, "key", jax.random.PRNGKey(0))

    def loss(th):
        return jnp.mean(fn(th, z)[0] ** 2)

    th0 = jnp.asarray(th0)
    ours = jit(jax.value_and_grad(loss), reverse_mode=True).lower(th0).compile()
    default = jax.jit(jax.value_and_grad(loss)).lower(th0).compile()
    (v, g), (v0, g0) = ours(th0), default(th0)
    assert np.all(np.isfinite(g)) and np.any(np.asarray(g) != 0)
    np.testing.assert_array_equal(v, v0)
    np.testing.assert_array_equal(g, g0)
    assert ours.as_text().count(" copy(") < default.as_text().count(" copy(")
