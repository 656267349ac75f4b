"""Which of hnn-core's examples run under hnnjax with only the import renamed.

An API check, not a simulation: ``simulate_dipole`` is replaced by a stub
that returns random dipoles, one random spike per gid, flat somatic
voltages when asked to record them and random electrode potentials, so each
example runs in seconds.  Usage::

    python tools/check_hnn_core_examples.py HNN_CORE/examples [OUT_DIR]

Each example is copied to OUT_DIR (default: a temporary folder) with
``hnn_core`` renamed to ``hnnjax``, run on matplotlib's Agg backend, and its
exit status and last error line printed.
"""
import subprocess
import sys
import tempfile
from pathlib import Path

STUB = '''
import runpy, sys
import matplotlib
matplotlib.use("Agg")
import numpy as np
import hnnjax, hnnjax.dipole, hnnjax.network.simulate


def stub_simulate_dipole(net, tstop, dt=0.025, n_trials=None, record_vsec=False, *args,
                         **kwargs):
    times = np.arange(0, tstop + dt / 2, dt)
    rng = np.random.default_rng(0)
    net.cell_response = hnnjax.CellResponse(list(net.cell_types), times=times,
                                            gid_ranges=net.gid_ranges)
    cells = [g for ct in net.cell_types for g in net.gid_ranges[ct]]
    dpls = []
    for _ in range(n_trials or 1):
        secs = {ct: (net.cell_types[ct].section_names if record_vsec == "all" else ["soma"])
                for ct in net.cell_types}
        vsec = ({g: {s: np.full(times.size, -65.0) for s in secs[net.gid_to_type(g)]} for g in cells}
                if record_vsec else None)
        net.cell_response.add_trial(rng.uniform(0, tstop, net._n_gids), range(net._n_gids),
                                    vsec=vsec)
        dpls.append(hnnjax.Dipole(times, rng.standard_normal((times.size, 3))))
    for array in net.rec_arrays.values():
        array._record(times, rng.standard_normal((n_trials or 1, array.n_contacts, times.size)))
    return dpls


for module in (hnnjax, hnnjax.dipole, hnnjax.network.simulate):
    module.simulate_dipole = stub_simulate_dipole
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''


def main(examples, out_dir):
    stub = out_dir / '_stub.py'
    stub.write_text(STUB)
    n_ok = 0
    scripts = sorted(examples.rglob('*.py'))
    for script in scripts:
        ported = out_dir / script.name
        ported.write_text(script.read_text().replace('hnn_core', 'hnnjax'))
        proc = subprocess.run([sys.executable, stub.name, ported.name], cwd=out_dir,
                              capture_output=True, text=True, timeout=300)
        errors = [line for line in proc.stderr.splitlines() if 'Error' in line]
        n_ok += proc.returncode == 0
        print(f"{script.relative_to(examples)}: {'runs' if proc.returncode == 0 else 'fails'}"
              + (f" ({errors[-1][:120]})" if proc.returncode and errors else ''))
    print(f"{n_ok} of {len(scripts)} run")


if __name__ == '__main__':
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out = Path(sys.argv[2]) if len(sys.argv) == 3 else Path(tempfile.mkdtemp())
    out.mkdir(parents=True, exist_ok=True)
    main(Path(sys.argv[1]), out)
