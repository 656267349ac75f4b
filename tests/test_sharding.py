"""Trials sharded over several (virtual CPU) devices give the same dipoles."""
import os
import subprocess
import sys
import textwrap

import numpy as np

SCRIPT = textwrap.dedent("""
    import sys, numpy as np, jax, hnnjax as hnn
    net = hnn.jones_2009_model(mesh_shape=(3, 3))
    hnn.add_erp_drives_to_jones_model(net)
    dpls = hnn.simulate_dipole(net, tstop=40.0, n_trials=3)
    np.save(sys.argv[1], np.stack([d.data['agg'] for d in dpls]))
    print(len(jax.devices()))
""")


def _run(path, n_devices):
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={n_devices}",
               OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], env=env,
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def test_four_devices_match_one(tmp_path):
    assert _run(tmp_path / "one.npy", 1) == 1
    assert _run(tmp_path / "four.npy", 4) == 4
    one, four = np.load(tmp_path / "one.npy"), np.load(tmp_path / "four.npy")
    assert one.shape == (3, 1601)
    np.testing.assert_allclose(four, one, rtol=0, atol=1e-12 * np.abs(one).max())
