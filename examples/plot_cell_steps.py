"""Each HNN cell type under somatic current steps (hnn-core's API, in hnnjax).

Runs the isolated cells of ``neymotin_2020_model(mesh_shape=(1, 1))`` under
0.1, 0.3 and 1.0 nA steps (50-250 ms) and writes the soma voltages to
``cell_steps.png`` (or the path given as the first argument).
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import hnnjax as hnn  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "cell_steps.png"
amplitudes = (0.1, 0.3, 1.0)  # nA
fig, axes = plt.subplots(4, 1, figsize=(8, 9), sharex=True, constrained_layout=True)
for amp in amplitudes:
    net = hnn.neymotin_2020_model(mesh_shape=(1, 1))
    net.clear_connectivity()
    net.add_tonic_bias(amplitude={ct: amp for ct in net.cell_types}, t0=50.0, tstop=250.0)
    hnn.simulate_dipole(net, tstop=300.0, dt=0.025, n_trials=1, record_vsec="soma")
    cr = net.cell_response
    for ax, ct in zip(axes, net.cell_types):
        gid = net.gid_ranges[ct][0]
        ax.plot(cr.times, cr.vsec[0][gid]["soma"], lw=0.8, label=f"{amp} nA")
        ax.set_title(ct)
        ax.set_ylabel("V soma (mV)")
axes[0].legend(loc="upper right", title="step 50-250 ms")
axes[-1].set_xlabel("Time (ms)")
fig.savefig(out, dpi=120)
print(f"wrote {out}")
