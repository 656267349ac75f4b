"""``hnnjax._jit.jit``: the float64 faithful forward compiled with hnnjax's XLA
options (512-bit vectors on CPU) gives the same bits as with XLA's defaults,
so the NEURON fixtures hold whichever the CPU; the reverse-mode options keep
a gradient's bits and drop copies."""
import jax
import jax.numpy as jnp
import numpy as np

import hnnjax as hnn
from hnnjax._jit import jit
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
    """On a two-level checkpointed scan like the integrator's (chunks of
    checkpointed steps, a carry of several states): copy insertion's region
    analysis saves copies of the carried states and changes no bit."""
    def step(c, n):
        v, gates = c
        new = tuple(g + (1.0 - jnp.exp(-0.025 / (1.0 + g * g))) * (jnp.tanh(v) - g) for g in gates)
        return (v + 0.01 * sum(new) - 0.001 * v ** 3, new), v.sum()

    def loss(theta):
        c0 = (jnp.full((16, 8), theta), tuple(jnp.full((16, 8), 0.1 * k) for k in range(6)))
        chunk = jax.checkpoint(lambda c, ns: jax.lax.scan(jax.checkpoint(step), c, ns))
        _, out = jax.lax.scan(chunk, c0, jnp.arange(64).reshape(8, 8))
        return jnp.mean(out ** 2)

    theta = jnp.asarray(0.3)
    ours = jit(jax.value_and_grad(loss), reverse_mode=True).lower(theta).compile()
    default = jax.jit(jax.value_and_grad(loss)).lower(theta).compile()
    (v, g), (v0, g0) = ours(theta), default(theta)
    assert np.isfinite(g) and g != 0
    np.testing.assert_array_equal(v, v0)
    np.testing.assert_array_equal(g, g0)
    assert ours.as_text().count(" copy(") < default.as_text().count(" copy(")
