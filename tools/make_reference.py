#!/usr/bin/env python
"""Generate hnn-core/NEURON reference fixtures for the hnnjax test-suite.

This script only *calls* the public (and a few internal) APIs of hnn-core
0.6.1 and NEURON 8.2.x; it needs nothing but ``hnn_core`` (which pulls in
NEURON) and ``numpy``.  It is not imported by hnnjax itself.  Run it in a
separate environment, one NEURON process at a time::

    python3 -m venv /work/venv-ref
    /work/venv-ref/bin/pip install hnn-core==0.6.1
    OPENBLAS_NUM_THREADS=1 /work/venv-ref/bin/python tools/make_reference.py --all

Command line
------------
``--cells``              write ``cells.npz`` (isolated cells).
``--cells-calcium``      write ``cells_calcium.npz`` (isolated cells of
                         ``calcium_model``).
``--network CASE ...``   write ``net_<CASE>.npz`` for CASE in
                         somato, erp, poisson, bursty, calcium.
``--lfp``                write ``net_lfp.npz`` (extracellular arrays, 3x3 network).
``--law``                write ``net_law.npz`` (``law_2021_model``, 3x3 network).
``--optimizer``          write ``opt_cma.npz`` (``Optimizer(solver='cma')``, 3x3
                         network; needs ``cma`` and ``joblib`` besides hnn-core).
``--optimize-evoked``    write ``opt_evoked.npz`` (``optimize_evoked``, 3x3
                         network).
``--cell-edits``         write ``cells_edited.npz`` (cells edited by
                         ``modify_section``, mechanism parameters and
                         ``override_params``; see ``CELL_EDITS``).
``--cell-configs``       write ``cell_configs.npz`` (hnn-core's network files
                         of ``calcium_model``, ``law_2021_model`` and the
                         ``CELL_EDITS`` networks, 1x1).
``--custom``             write ``net_custom.npz`` (``Network(pos_dict=,
                         cell_types=)``: 14 cells at positions of their own).
``--dipole-hdf5``        write ``dipole_hnn_core.hdf5`` (a Dipole as hnn-core
                         writes it) and ``dipole_hnn_core.npz`` (its arrays).
``--all``                everything above.
``--out DIR``            output folder (default ``tests/fixtures``).
``--summary``            load the files in DIR and print a short summary
                         (can be combined with the options above; runs last).

General conventions (all files)
-------------------------------
* Files are written with ``numpy.savez_compressed``; every array is a plain
  numeric or unicode array, so ``np.load(f)`` works without
  ``allow_pickle``.
* Units: time ms, voltage mV, current nA, conductance/weight µS, length µm,
  area µm², axial resistance MΩ, Ra Ω·cm, cm µF/cm², concentration mM,
  dipole nA·m.
* ``meta`` is a 0-d unicode array holding a JSON string:
  ``json.loads(str(f['meta']))``.  It contains ``tstop``, ``dt``,
  ``record_step`` (down-sampling factor of the down-sampled traces),
  ``hnn_core_version``, ``neuron_version``, ``numpy_version``,
  ``python_version``, run times, and the full description of every case /
  drive (the exact keyword arguments passed to hnn-core plus the drive
  dictionaries and the drive connections as hnn-core stored them).
* The simulation is NEURON's fixed step, ``dt = 0.025`` ms.  ``times`` arrays
  are NEURON's recorded ``t`` (they contain round-off, e.g. 299.99999999986;
  hnn-core's dipole baseline renormalisation compares *these* values with
  37 ms and 750 ms).
* Spike times are float64 exactly as NEURON reported them (grid times with
  round-off for real cells, exact scheduled times for drive cells).
* Dipoles are exactly what ``simulate_dipole`` returns: baseline-renormalised
  (using the network's own N = Nx*Ny) and converted to nA·m, no smoothing, no
  scaling.  Row order agg, L2, L5.

cells.npz -- isolated cells
---------------------------
``neymotin_2020_model(mesh_shape=(1, 1))`` followed by
``net.clear_connectivity()``: exactly one cell of each type, all at the
in-plane origin, unconnected; gid 0 L2_basket, 1 L2_pyramidal, 2 L5_basket,
3 L5_pyramidal.  The drive origin coincides with the cells, so drive weights
and delays are exactly the nominal values.  One NEURON simulation per case
(all four cells at once), ``tstop = 300``, ``dt = 0.025``,
``record_vsec='all'``, ``record_ca='all'``.  Down-sampled traces keep every
4th sample (0.1 ms, t = 0 included): n_t = 3001.

Cases (n_cases = 17, in this order):

* 5 current steps: ``add_tonic_bias(amplitude={every type: amp}, t0=50,
  tstop=250)`` (IClamp at soma(0.5)) for amp = -0.5, 0.1, 0.3, 1.0, 2.0 nA.
* 12 single synaptic events: ``add_spike_train_drive`` with one drive cell
  emitting one spike at 20 ms, ``synaptic_delays`` 0.1 ms for every target
  type (the event reaches the synapses at 20.1 ms), ``cell_specific=False``
  (fixed by hnn-core for spike-train drives), ``conn_seed=3``, for receptor
  in (ampa, nmda) x location in (proximal, distal) x 3 weights.  Weights (µS,
  the same for every targeted type): ampa 1e-4, 5e-4, 2e-3; nmda 1e-4, 3e-4,
  1e-3.  Proximal targets all four types; distal targets L2_basket,
  L2_pyramidal and L5_pyramidal (distal drives cannot target L5_basket).
  Remember that a pyramidal "proximal" target is 3 sections, each receiving
  the full weight.

``cells_calcium.npz`` has the same layout for ``calcium_model(mesh_shape=(1,
1))`` (its L5 pyramidal cell has distance-dependent ca/hh2 conductances) and 9
of the cases: the 5 current steps and the largest weight of each
receptor/location.

Keys:

=====================  ==========================  =========  ===============
key                    shape                       dtype      meaning
=====================  ==========================  =========  ===============
case_kind              (n_cases,)                  str        'step' or 'syn'
case_amplitude         (n_cases,)                  float64    nA (NaN for syn)
case_receptor          (n_cases,)                  str        'ampa'/'nmda'/''
case_location          (n_cases,)                  str        'proximal'/'distal'/''
case_weight            (n_cases,)                  float64    µS (NaN for step)
case_targets           (n_cases,)                  str        comma-separated targeted types
gid_cell_type          (4,)                        str        cell type of gid 0..3
times                  (n_t,)                      float64    ms, every 4th sample
vsec                   (n_cases, 19, n_t)          float32    mV, V at sec(0.5)
vsec_gid               (19,)                       int64      gid of each vsec row
vsec_cell_type         (19,)                       str
vsec_section           (19,)                       str        section name
cai                    (n_cases, 9, n_t)           float32    mM, L5_pyramidal cai at sec(0.5)
cai_section            (9,)                        str
dipole                 (n_cases, 3, n_t)           float64    nA·m, agg/L2/L5, every 4th sample
dipole_full_t40        (n_cases, 3, 41)            float64    first 41 full-rate dipole samples
spike_times            (n_spikes,)                 float64    ms, real cells only
spike_gids             (n_spikes,)                 int64
spike_case             (n_spikes,)                 int64      case index
=====================  ==========================  =========  ===============

vsec rows are ordered by gid, then by the cell's section order in hnn-core
(for pyramidal cells: apical_trunk, apical_1, [apical_2,] apical_tuft,
apical_oblique, basal_1, basal_2, basal_3, soma).

Morphology and initial state (built with hnn-core's ``NetworkBuilder`` for the
same unconnected 1x1 network, i.e. exactly as ``simulate_dipole`` builds it;
``h.finitialize()`` without argument then ``h.fcurrent()``, then
``h.fadvance()`` steps with dt = 0.025, celsius = 37, no input):

=====================  ===========  ========  =================================
key                    shape        dtype     meaning
=====================  ===========  ========  =================================
sec_cell_type          (n_sec,)     str       n_sec = 19 (all 4 cells)
sec_name               (n_sec,)     str
sec_parent             (n_sec,)     str       parent section name ('' = root)
sec_parent_x           (n_sec,)     float64   attachment point on the parent
sec_L, sec_diam        (n_sec,)     float64   µm
sec_nseg               (n_sec,)     int64
sec_Ra                 (n_sec,)     float64   Ω·cm
sec_cm                 (n_sec,)     float64   µF/cm²
sec_ri_end             (n_sec,)     float64   MΩ, h.ri(1): x=1 node <-> last segment
sec_seg_start          (n_sec,)     int64     first row of the section in seg_*
seg_sec_index          (n_seg,)     int64     row in sec_* (n_seg = 89)
seg_x                  (n_seg,)     float64   segment centre x
seg_area               (n_seg,)     float64   µm², seg.area()
seg_ri                 (n_seg,)     float64   MΩ, h.ri(seg.x): to parent node
seg_param_names        (n_par,)     str       e.g. 'gnabar_hh2', 'gbar_ar'
seg_params             (n_seg, n_par) float64 value, NaN if mechanism absent
node_sec_index         (n_node,)    int64     row in sec_* ; one row per node
node_x                 (n_node,)    float64   x of sec.allseg() (0, centres, 1)
node_is_parent_node    (n_node,)    bool      x=0 of a non-root section: this is
                                              the parent's node (not a new node)
node_area              (n_node,)    float64   seg.area() (0 at the ends)
node_v_steps           (3,)         int64     [0, 1, 40] steps after finitialize
node_v                 (3, n_node)  float64   mV at those steps
=====================  ===========  ========  =================================

net_<case>.npz -- network runs (10x10 mesh; ``calcium``: 3x3)
-----------------------------------------------------------
=====================  ==========================  =========  ===============
key                    shape                       dtype      meaning
=====================  ==========================  =========  ===============
times                  (n_times,)                  float64    ms, full rate (dt)
dipoles                (n_trials, 3, n_times)      float64    nA·m, agg/L2/L5
spike_times            (n_spk,)                    float64    ms, ALL spikes that
                                                              hnn-core recorded
                                                              (real and drive cells)
spike_gids             (n_spk,)                    int64      gid >= 270: drive cell
spike_trials           (n_spk,)                    int64
gid_range_names        (n_types,)                  str        cell types, then drives
gid_range_start        (n_types,)                  int64      first gid
gid_range_stop         (n_types,)                  int64      last gid + 1
drive_names            (n_drives,)                 str
drive_event_times      (n_ev,)                     float64    ms, as hnn-core generated
drive_event_gid        (n_ev,)                     int64      drive-cell gid
drive_event_trial      (n_ev,)                     int64
drive_event_drive      (n_ev,)                     int64      index into drive_names
vsoma_gids             (n_rec,)                    int64      recorded cells
vsoma_cell_type        (n_rec,)                    str
vsoma_pos              (n_rec, 3)                  float64    µm, cell position
vsoma_times            (n_t4,)                     float64    every 4th sample
vsoma                  (n_rec, n_t4)               float32    mV, soma(0.5), trial 0
=====================  ==========================  =========  ===============

Recorded cells (n_rec = 6): the two L2 and two L5 pyramidal cells and one
cell of each basket type closest to the drive origin (4, 4) (ties broken by
the distance to the geometric grid centre (4.5, 4.5), then by gid): pyramidal
(4,4) and (4,5), baskets (4,5).  All network runs use ``record_vsec='soma'``.
``net_poisson.npz`` additionally stores every cell's soma voltage of trial 0,
at a coarser step to keep the file small: ``vsoma_all`` (270, 601) float32,
mV, rows = gid 0..269, every 20th sample (0.5 ms), times in
``vsoma_all_times`` (601,) float64.

Cases:

* ``somato``: ``neymotin_2020_model(params=N20.json)`` + the four synchronous
  evoked drives of hnn-core 0.6.1's ``plot_simulate_somato.py`` in its order
  (evprox1, evprox2, evdist1, evdist2), tstop 170, n_trials 3.
* ``erp``: ``neymotin_2020_model()`` +
  ``add_erp_drives_to_jones_model(net)``, tstop 170, n_trials 2.
* ``poisson``: ``neymotin_2020_model()`` (default params, *not* the gamma
  example's ``gamma_L5weak_L2weak.json``) + the Poisson drive of
  ``plot_simulate_gamma.py``, tstop 300, 1 trial.
* ``bursty``: ``neymotin_2020_model()`` + both bursty drives of
  ``plot_simulate_alpha.py`` (alpha_prox, then alpha_dist), tstop 300 (the
  example uses 310), 1 trial.
* ``calcium``: ``calcium_model(mesh_shape=(3, 3))`` (45 cells; the L5
  pyramidal cells with distance-dependent ca/hh2 conductances) + an early
  proximal and a distal evoked drive (``CALCIUM_DRIVES``: the ERP example's
  evprox1 and evdist1 weights at mu 6 and 12 ms), tstop 30, 2 trials.
"""

import argparse
import importlib
import json
import os
import os.path as op
import platform
import sys
import time

import numpy as np

TSTOP_CELLS = 300.0
DT = 0.025
REC_STEP = 4  # keep every 4th sample (0.1 ms)
ALL_SOMA_STEP = 20  # net_poisson: every cell's soma, every 20th sample (0.5 ms)

STEP_AMPS = [-0.5, 0.1, 0.3, 1.0, 2.0]  # nA
STEP_T0, STEP_T1 = 50.0, 250.0
SYN_WEIGHTS = {"ampa": [1e-4, 5e-4, 2e-3], "nmda": [1e-4, 3e-4, 1e-3]}  # µS
SYN_LOCATIONS = ["proximal", "distal"]
SYN_TIME = 20.0
SYN_DELAY = 0.1
CONN_SEED = 3

HERE = op.dirname(op.abspath(__file__))
N20_CANDIDATES = ["/work/shared/data/params/N20.json"]

NETWORK_CASES = ["somato", "erp", "poisson", "bursty", "calcium"]


def _versions():
    import hnn_core
    import neuron

    return {
        "hnn_core_version": hnn_core.__version__,
        "neuron_version": neuron.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
    }


def _jsonable(obj):
    """Convert numpy / range / set objects into JSON-serialisable values."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted(_jsonable(v) for v in obj)
    if isinstance(obj, range):
        return [obj.start, obj.stop]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _str_array(values):
    return np.array([str(v) for v in values], dtype=str)


def _quiet_net(net):
    net._verbose = False
    return net


# ---------------------------------------------------------------------------
# isolated cells
# ---------------------------------------------------------------------------


def _single_cell_net(model="neymotin_2020_model"):
    import hnn_core

    net = getattr(hnn_core, model)(mesh_shape=(1, 1))
    net.clear_connectivity()
    expected = ["L2_basket", "L2_pyramidal", "L5_basket", "L5_pyramidal"]
    got = {ct: list(net.gid_ranges[ct]) for ct in expected}
    if [got[ct] for ct in expected] != [[0], [1], [2], [3]]:
        raise RuntimeError(f"mesh_shape=(1, 1) gave unexpected gid ranges: {got}")
    return net


def _cell_cases():
    cases = []
    for amp in STEP_AMPS:
        cases.append(dict(kind="step", amplitude=amp, receptor="", location="",
                          weight=float("nan")))
    for receptor in ["ampa", "nmda"]:
        for location in SYN_LOCATIONS:
            for w in SYN_WEIGHTS[receptor]:
                cases.append(dict(kind="syn", amplitude=float("nan"),
                                  receptor=receptor, location=location, weight=w))
    return cases


def _apply_cell_case(net, case):
    """Add the stimulus of one case to a fresh 1x1 network; return call args."""
    cell_types = list(net.cell_types.keys())
    if case["kind"] == "step":
        kwargs = dict(amplitude={ct: case["amplitude"] for ct in cell_types},
                      t0=STEP_T0, tstop=STEP_T1)
        net.add_tonic_bias(**kwargs)
        return "add_tonic_bias", kwargs, cell_types
    targets = [ct for ct in cell_types
               if not (case["location"] == "distal" and ct == "L5_basket")]
    weights = {ct: case["weight"] for ct in targets}
    kwargs = dict(
        name="syn_event",
        spike_data={"src0": [SYN_TIME]},
        location=case["location"],
        weights_ampa=weights if case["receptor"] == "ampa" else None,
        weights_nmda=weights if case["receptor"] == "nmda" else None,
        synaptic_delays={ct: SYN_DELAY for ct in targets},
        conn_seed=CONN_SEED,
    )
    net.add_spike_train_drive(**kwargs)
    return "add_spike_train_drive", kwargs, targets


def _morphology_and_initial_state(net, steps=(0, 1, 40)):
    """Build the network the way simulate_dipole does and read NEURON objects."""
    from neuron import h
    from hnn_core.network_builder import NetworkBuilder

    net._instantiate_drives(tstop=TSTOP_CELLS, n_trials=1)
    net._params["record_vsec"] = False
    net._params["record_isec"] = False
    net._params["record_ca"] = False
    net._tstop = TSTOP_CELLS
    net._dt = DT
    _quiet_net(net)
    builder = NetworkBuilder(net, trial_idx=0)
    h.load_file("stdrun.hoc")
    h.tstop = TSTOP_CELLS
    h.dt = DT
    h.celsius = net._params["celsius"]

    param_names = ["gnabar_hh2", "gkbar_hh2", "gl_hh2", "el_hh2", "gbar_km",
                   "gbar_ca", "taur_cad", "gbar_kca", "gbar_cat", "gbar_ar"]
    sec_rows, seg_rows, node_rows, node_refs = [], [], [], []
    cells = sorted(builder._cells, key=lambda c: c.gid)
    for cell in cells:
        cell_type = net.gid_to_type(cell.gid)
        sec_to_name = {sec: name for name, sec in cell._nrn_sections.items()}
        for sec_name, sec in cell._nrn_sections.items():
            psec = sec.parentseg()
            sec_index = len(sec_rows)
            sec_rows.append(dict(
                cell_type=cell_type, name=sec_name,
                parent="" if psec is None else sec_to_name[psec.sec],
                parent_x=float("nan") if psec is None else psec.x,
                L=sec.L, diam=sec.diam, nseg=sec.nseg, Ra=sec.Ra, cm=sec.cm,
                ri_end=h.ri(1, sec=sec), seg_start=len(seg_rows)))
            for seg in sec:
                vals = []
                for pname in param_names:
                    attr, mech = pname.rsplit("_", 1)
                    if hasattr(seg, mech):
                        vals.append(getattr(getattr(seg, mech), attr))
                    else:
                        vals.append(np.nan)
                seg_rows.append(dict(sec_index=sec_index, x=seg.x,
                                     area=seg.area(), ri=h.ri(seg.x, sec=sec),
                                     params=vals))
            for seg in sec.allseg():
                node_rows.append(dict(
                    sec_index=sec_index, x=seg.x, area=seg.area(),
                    is_parent=(seg.x == 0.0 and psec is not None)))
                node_refs.append(seg)

    # initial state and the first steps of an unstimulated run
    h.finitialize()
    h.fcurrent()
    node_v = []
    n_done = 0
    for n_steps in steps:
        while n_done < n_steps:
            h.fadvance()
            n_done += 1
        node_v.append([seg.v for seg in node_refs])

    out = dict(
        sec_cell_type=_str_array([r["cell_type"] for r in sec_rows]),
        sec_name=_str_array([r["name"] for r in sec_rows]),
        sec_parent=_str_array([r["parent"] for r in sec_rows]),
        sec_parent_x=np.array([r["parent_x"] for r in sec_rows], float),
        sec_L=np.array([r["L"] for r in sec_rows], float),
        sec_diam=np.array([r["diam"] for r in sec_rows], float),
        sec_nseg=np.array([r["nseg"] for r in sec_rows], np.int64),
        sec_Ra=np.array([r["Ra"] for r in sec_rows], float),
        sec_cm=np.array([r["cm"] for r in sec_rows], float),
        sec_ri_end=np.array([r["ri_end"] for r in sec_rows], float),
        sec_seg_start=np.array([r["seg_start"] for r in sec_rows], np.int64),
        seg_sec_index=np.array([r["sec_index"] for r in seg_rows], np.int64),
        seg_x=np.array([r["x"] for r in seg_rows], float),
        seg_area=np.array([r["area"] for r in seg_rows], float),
        seg_ri=np.array([r["ri"] for r in seg_rows], float),
        seg_param_names=_str_array(param_names),
        seg_params=np.array([r["params"] for r in seg_rows], float),
        node_sec_index=np.array([r["sec_index"] for r in node_rows], np.int64),
        node_x=np.array([r["x"] for r in node_rows], float),
        node_is_parent_node=np.array([r["is_parent"] for r in node_rows], bool),
        node_area=np.array([r["area"] for r in node_rows], float),
        node_v_steps=np.array(steps, np.int64),
        node_v=np.array(node_v, float),
    )
    return out


def make_cells(out_dir, model="neymotin_2020_model"):
    """cells.npz, or for ``model='calcium_model'`` cells_calcium.npz with the
    current steps and the largest synaptic event of each receptor/location."""
    from hnn_core import simulate_dipole

    cases = _cell_cases()
    if model == "calcium_model":
        cases = [c for c in cases if c["kind"] == "step"
                 or c["weight"] == max(SYN_WEIGHTS[c["receptor"]])]
    n_cases = len(cases)
    vsec = cai = dipole = dipole_t40 = None
    vsec_index = cai_sections = None
    times = None
    spikes_t, spikes_g, spikes_c = [], [], []
    case_meta, targets_col = [], []
    vsec_full_head = None  # first 41 full-rate samples of case 0 (for checks)
    gid_types = None
    t_start = time.time()
    for ci, case in enumerate(cases):
        net = _quiet_net(_single_cell_net(model))
        if gid_types is None:
            gid_types = [net.gid_to_type(g) for g in range(4)]
        method, kwargs, targets = _apply_cell_case(net, case)
        t0 = time.time()
        dpls = simulate_dipole(net, tstop=TSTOP_CELLS, dt=DT, n_trials=1,
                               record_vsec="all", record_ca="all",
                               verbose=False)
        sim_s = time.time() - t0
        cr = net.cell_response
        t_full = np.asarray(cr.times, float)
        if times is None:
            times = t_full[::REC_STEP]
            n_t = len(times)
            vsec_index = [(gid, sec_name) for gid in sorted(cr.vsec[0])
                          for sec_name in cr.vsec[0][gid]]
            l5_gid = list(net.gid_ranges["L5_pyramidal"])[0]
            cai_sections = list(cr.ca[0][l5_gid].keys())
            vsec = np.zeros((n_cases, len(vsec_index), n_t), np.float32)
            cai = np.zeros((n_cases, len(cai_sections), n_t), np.float32)
            dipole = np.zeros((n_cases, 3, n_t), np.float64)
            dipole_t40 = np.zeros((n_cases, 3, 41), np.float64)
        assert np.array_equal(t_full[::REC_STEP], times)
        for row, (gid, sec_name) in enumerate(vsec_index):
            vsec[ci, row] = np.asarray(cr.vsec[0][gid][sec_name])[::REC_STEP]
        if ci == 0:
            vsec_full_head = {key: np.asarray(cr.vsec[0][key[0]][key[1]])[:41]
                              for key in vsec_index}
        for row, sec_name in enumerate(cai_sections):
            cai[ci, row] = np.asarray(cr.ca[0][l5_gid][sec_name])[::REC_STEP]
        for k, key in enumerate(["agg", "L2", "L5"]):
            dipole[ci, k] = np.asarray(dpls[0].data[key])[::REC_STEP]
            dipole_t40[ci, k] = np.asarray(dpls[0].data[key])[:41]
        st = np.asarray(cr.spike_times[0], float)
        sg = np.asarray(cr.spike_gids[0]).astype(np.int64)
        real = sg < 4
        spikes_t.append(st[real])
        spikes_g.append(sg[real])
        spikes_c.append(np.full(real.sum(), ci, np.int64))
        targets_col.append(",".join(targets))
        counts = {gid_types[g]: int((sg[real] == g).sum()) for g in range(4)}
        case_meta.append(dict(case_index=ci, **case, method=method,
                              kwargs=kwargs, targets=targets,
                              sim_seconds=sim_s, spike_counts=counts))
        label = (f"step {case['amplitude']:+.1f} nA" if case["kind"] == "step"
                 else f"{case['receptor']} {case['location']} w={case['weight']:g}")
        print(f"[cells] case {ci:2d} {label:28s} {sim_s:5.2f} s  spikes {counts}",
              flush=True)

    # morphology / initial state, checked against case 0's recorded traces
    morph = _morphology_and_initial_state(_quiet_net(_single_cell_net(model)))
    check = {}
    node_sec = morph["node_sec_index"]
    for s, (ct, sname) in enumerate(zip(morph["sec_cell_type"], morph["sec_name"])):
        gid = gid_types.index(ct)
        nodes = np.where((node_sec == s) & np.isclose(morph["node_x"], 0.5))[0]
        if len(nodes) == 0:  # even nseg never happens here; guard anyway
            continue
        ref = vsec_full_head[(gid, str(sname))]
        for k, n_steps in enumerate(morph["node_v_steps"]):
            d = abs(morph["node_v"][k, nodes[0]] - ref[n_steps])
            check[f"{ct}/{sname}/step{n_steps}"] = float(d)
    max_dev = max(check.values())
    print(f"[cells] builder-vs-simulate_dipole max |dV| at steps 0/1/40: {max_dev:.3g} mV")

    meta = dict(
        description=f"isolated cells, {model}(mesh_shape=(1, 1)) "
                    "+ clear_connectivity()", model=model,
        tstop=TSTOP_CELLS, dt=DT, record_step=REC_STEP,
        step_t0=STEP_T0, step_tstop=STEP_T1, syn_spike_time=SYN_TIME,
        syn_delay=SYN_DELAY, syn_weights=SYN_WEIGHTS, conn_seed=CONN_SEED,
        cases=case_meta,
        initial_state_check_max_abs_dV=max_dev,
        total_seconds=time.time() - t_start,
        **_versions(),
    )
    arrays = dict(
        case_kind=_str_array([c["kind"] for c in cases]),
        case_amplitude=np.array([c["amplitude"] for c in cases], float),
        case_receptor=_str_array([c["receptor"] for c in cases]),
        case_location=_str_array([c["location"] for c in cases]),
        case_weight=np.array([c["weight"] for c in cases], float),
        case_targets=_str_array(targets_col),
        gid_cell_type=_str_array(gid_types),
        times=times,
        vsec=vsec,
        vsec_gid=np.array([g for g, _ in vsec_index], np.int64),
        vsec_cell_type=_str_array([gid_types[g] for g, _ in vsec_index]),
        vsec_section=_str_array([s for _, s in vsec_index]),
        cai=cai,
        cai_section=_str_array(cai_sections),
        dipole=dipole,
        dipole_full_t40=dipole_t40,
        spike_times=np.concatenate(spikes_t),
        spike_gids=np.concatenate(spikes_g),
        spike_case=np.concatenate(spikes_c),
        meta=np.array(json.dumps(_jsonable(meta))),
        **morph,
    )
    fname = op.join(out_dir, "cells.npz" if model == "neymotin_2020_model" else "cells_calcium.npz")
    np.savez_compressed(fname, **arrays)
    print(f"[cells] wrote {fname} ({op.getsize(fname) / 1e6:.2f} MB)")


# ---------------------------------------------------------------------------
# network cases
# ---------------------------------------------------------------------------

# hnn-core 0.6.1 examples/workflows/plot_simulate_somato.py (in its order)
SOMATO_DRIVES = [
    ("add_evoked_drive", dict(
        name="evprox1", mu=21.0, sigma=4.0, numspikes=1, location="proximal",
        n_drive_cells=1, cell_specific=False,
        weights_ampa={"L2_basket": 0.0036, "L2_pyramidal": 0.0039,
                      "L5_basket": 0.0019, "L5_pyramidal": 0.0020},
        weights_nmda={"L2_basket": 0.0029, "L2_pyramidal": 0.0005,
                      "L5_basket": 0.0030, "L5_pyramidal": 0.0019},
        synaptic_delays={"L2_basket": 0.1, "L2_pyramidal": 0.1,
                         "L5_basket": 1.0, "L5_pyramidal": 1.0},
        event_seed=276)),
    ("add_evoked_drive", dict(
        name="evprox2", mu=134.0, sigma=4.5, numspikes=1, location="proximal",
        n_drive_cells=1, cell_specific=False,
        weights_ampa={"L2_basket": 0.003, "L2_pyramidal": 0.0039,
                      "L5_basket": 0.004, "L5_pyramidal": 0.0020},
        weights_nmda={"L2_basket": 0.001, "L2_pyramidal": 0.0005,
                      "L5_basket": 0.002, "L5_pyramidal": 0.0020},
        synaptic_delays={"L2_basket": 0.1, "L2_pyramidal": 0.1,
                         "L5_basket": 1.0, "L5_pyramidal": 1.0},
        event_seed=276)),
    ("add_evoked_drive", dict(
        name="evdist1", mu=32.0, sigma=2.5, numspikes=1, location="distal",
        n_drive_cells=1, cell_specific=False,
        weights_ampa={"L2_basket": 0.0043, "L2_pyramidal": 0.0032,
                      "L5_pyramidal": 0.0009},
        weights_nmda={"L2_basket": 0.0029, "L2_pyramidal": 0.0051,
                      "L5_pyramidal": 0.0010},
        synaptic_delays={"L2_basket": 0.1, "L2_pyramidal": 0.1,
                         "L5_pyramidal": 0.1},
        event_seed=277)),
    ("add_evoked_drive", dict(
        name="evdist2", mu=84.0, sigma=4.5, numspikes=1, location="distal",
        n_drive_cells=1, cell_specific=False,
        weights_ampa={"L2_basket": 0.0041, "L2_pyramidal": 0.0019,
                      "L5_pyramidal": 0.0018},
        weights_nmda={"L2_basket": 0.0032, "L2_pyramidal": 0.0018,
                      "L5_pyramidal": 0.0017},
        synaptic_delays={"L2_basket": 0.1, "L2_pyramidal": 0.1,
                         "L5_pyramidal": 0.1},
        event_seed=275)),
]

# hnn-core 0.6.1 examples/workflows/plot_simulate_gamma.py (first drive)
POISSON_DRIVES = [
    ("add_poisson_drive", dict(
        name="poisson",
        rate_constant={"L2_pyramidal": 140.0, "L5_pyramidal": 40.0},
        weights_ampa={"L2_pyramidal": 0.0008, "L5_pyramidal": 0.0075},
        location="proximal",
        synaptic_delays={"L2_pyramidal": 0.1, "L5_pyramidal": 1.0},
        event_seed=1349)),
]

# hnn-core 0.6.1 examples/workflows/plot_simulate_alpha.py (both drives)
BURSTY_DRIVES = [
    ("add_bursty_drive", dict(
        name="alpha_prox", tstart=50.0, burst_rate=10, burst_std=20,
        numspikes=2, spike_isi=10, n_drive_cells=10, location="proximal",
        weights_ampa={"L2_pyramidal": 5.4e-5, "L5_pyramidal": 5.4e-5},
        synaptic_delays={"L2_pyramidal": 0.1, "L5_pyramidal": 1.0},
        event_seed=284)),
    ("add_bursty_drive", dict(
        name="alpha_dist", tstart=50.0, burst_rate=10, burst_std=15,
        numspikes=2, spike_isi=10, n_drive_cells=10, location="distal",
        weights_ampa={"L2_pyramidal": 5.4e-5, "L5_pyramidal": 5.4e-5},
        synaptic_delays={"L2_pyramidal": 5.0, "L5_pyramidal": 5.0},
        event_seed=296)),
]

# calcium_model on a 3x3 mesh: the ERP's evprox1 and evdist1 weights, early
CALCIUM_DRIVES = [
    ("add_evoked_drive", dict(
        name="evprox1", mu=6.0, sigma=1.0, numspikes=1, location="proximal",
        weights_ampa={"L2_basket": 0.08831, "L2_pyramidal": 0.01525,
                      "L5_basket": 0.19934, "L5_pyramidal": 0.00865},
        synaptic_delays={"L2_basket": 0.1, "L2_pyramidal": 0.1,
                         "L5_basket": 1.0, "L5_pyramidal": 1.0},
        event_seed=544)),
    ("add_evoked_drive", dict(
        name="evdist1", mu=12.0, sigma=1.5, numspikes=1, location="distal",
        weights_ampa={"L2_basket": 0.006562, "L2_pyramidal": 0.000007,
                      "L5_pyramidal": 0.142300},
        weights_nmda={"L2_basket": 0.019482, "L2_pyramidal": 0.004317,
                      "L5_pyramidal": 0.080074},
        synaptic_delays=0.1, event_seed=274)),
]


def _n20_path():
    for p in N20_CANDIDATES:
        if op.exists(p):
            return p
    import hnn_core

    return op.join(op.dirname(hnn_core.__file__), "param", "N20.json")


def _build_network_case(case):
    """Return (net, tstop, n_trials, description dict)."""
    from hnn_core import neymotin_2020_model
    from hnn_core.network_models import add_erp_drives_to_jones_model

    if case == "somato":
        params = _n20_path()
        net = neymotin_2020_model(params=params)
        calls = SOMATO_DRIVES
        import hashlib

        with open(params, "rb") as fid:
            md5 = hashlib.md5(fid.read()).hexdigest()
        desc = dict(model="neymotin_2020_model(params=N20.json)",
                    params_file=params, params_md5=md5,
                    source="hnn-core 0.6.1 examples/workflows/plot_simulate_somato.py")
        tstop, n_trials = 170.0, 3
    elif case == "erp":
        net = neymotin_2020_model()
        calls = []
        desc = dict(model="neymotin_2020_model() (default params)",
                    drives_from="hnn_core.network_models."
                                "add_erp_drives_to_jones_model(net)")
        tstop, n_trials = 170.0, 2
    elif case == "poisson":
        net = neymotin_2020_model()
        calls = POISSON_DRIVES
        desc = dict(model="neymotin_2020_model() (default params; the gamma "
                          "example itself uses gamma_L5weak_L2weak.json)",
                    source="hnn-core 0.6.1 examples/workflows/plot_simulate_gamma.py")
        tstop, n_trials = 300.0, 1
    elif case == "bursty":
        net = neymotin_2020_model()
        calls = BURSTY_DRIVES
        desc = dict(model="neymotin_2020_model() (default params)",
                    source="hnn-core 0.6.1 examples/workflows/plot_simulate_alpha.py "
                           "(alpha_prox and alpha_dist; example tstop is 310)")
        tstop, n_trials = 300.0, 1
    elif case == "calcium":
        from hnn_core import calcium_model

        net = calcium_model(mesh_shape=(3, 3))
        calls = CALCIUM_DRIVES
        desc = dict(model="calcium_model(mesh_shape=(3, 3)) (default params)")
        tstop, n_trials = 30.0, 2
    else:
        raise ValueError(case)
    if case == "erp":
        add_erp_drives_to_jones_model(net)
    for method, kwargs in calls:
        kwargs = dict(kwargs)
        name = kwargs.pop("name")
        getattr(net, method)(name, **kwargs)
    desc["api_calls"] = [dict(method=m, kwargs=k) for m, k in calls]
    return _quiet_net(net), tstop, n_trials, desc


def _choose_recorded_cells(net):
    ox, oy = net.pos_dict["origin"][:2]
    centre = (4.5, 4.5)
    chosen = []
    for ct, n in [("L2_basket", 1), ("L2_pyramidal", 2), ("L5_basket", 1),
                  ("L5_pyramidal", 2)]:
        gids = list(net.gid_ranges[ct])
        keys = []
        for i, gid in enumerate(gids):
            x, y = net.pos_dict[ct][i][:2]
            keys.append((round(np.hypot(x - ox, y - oy), 9),
                         round(np.hypot(x - centre[0], y - centre[1]), 9), gid))
        chosen += [k[2] for k in sorted(keys)[:n]]
    return sorted(chosen)


def _drive_description(net):
    out = {}
    for name, drive in net.external_drives.items():
        d = {k: v for k, v in drive.items() if k != "events"}
        conns = []
        for conn in net.connectivity:
            if conn["src_type"] == name:
                conns.append(dict(target_type=conn["target_type"],
                                  loc=conn["loc"], receptor=conn["receptor"],
                                  nc_dict=conn["nc_dict"],
                                  probability=conn["probability"],
                                  num_srcs=conn["num_srcs"],
                                  num_targets=conn["num_targets"]))
        d["connections"] = conns
        d["gid_range"] = net.gid_ranges[name]
        out[name] = d
    return out


def make_network(case, out_dir):
    import hnn_core.parallel_backends as pb
    from hnn_core import simulate_dipole

    net, tstop, n_trials, desc = _build_network_case(case)
    rec_gids = _choose_recorded_cells(net)
    n_cells = net._n_cells

    # time every trial (build + run) by wrapping hnn-core's per-trial function
    trial_seconds = []
    orig = pb._simulate_single_trial

    def timed(*args, **kwargs):
        t0 = time.time()
        res = orig(*args, **kwargs)
        trial_seconds.append(time.time() - t0)
        print(f"[{case}] trial {len(trial_seconds)}/{n_trials}: "
              f"{trial_seconds[-1]:.1f} s", flush=True)
        return res

    pb._simulate_single_trial = timed
    t0 = time.time()
    try:
        dpls = simulate_dipole(net, tstop=tstop, dt=DT, n_trials=n_trials,
                               record_vsec="soma", verbose=False)
    finally:
        pb._simulate_single_trial = orig
    total_s = time.time() - t0
    cr = net.cell_response

    times = np.asarray(dpls[0].times, float)
    dipoles = np.stack([np.stack([np.asarray(d.data[k], float)
                                  for k in ("agg", "L2", "L5")]) for d in dpls])
    sp_t, sp_g, sp_tr = [], [], []
    for tr in range(n_trials):
        sp_t.append(np.asarray(cr.spike_times[tr], float))
        sp_g.append(np.asarray(cr.spike_gids[tr]).astype(np.int64))
        sp_tr.append(np.full(len(cr.spike_times[tr]), tr, np.int64))
    sp_t, sp_g, sp_tr = map(np.concatenate, (sp_t, sp_g, sp_tr))

    names = list(net.gid_ranges.keys())
    drive_names = list(net.external_drives.keys())
    ev_t, ev_g, ev_tr, ev_d = [], [], [], []
    for di, name in enumerate(drive_names):
        drive = net.external_drives[name]
        gids = list(net.gid_ranges[name])
        assert len(drive["events"]) == n_trials
        for tr in range(n_trials):
            per_cell = drive["events"][tr]
            assert len(per_cell) == len(gids), (name, len(per_cell), len(gids))
            for gid, evs in zip(gids, per_cell):
                evs = np.asarray(evs, float).ravel()
                ev_t.append(evs)
                ev_g.append(np.full(len(evs), gid, np.int64))
                ev_tr.append(np.full(len(evs), tr, np.int64))
                ev_d.append(np.full(len(evs), di, np.int64))
    ev_t, ev_g, ev_tr, ev_d = map(np.concatenate, (ev_t, ev_g, ev_tr, ev_d))

    t_cr = np.asarray(cr.times, float)
    vsoma_times = t_cr[::REC_STEP]
    vsoma = np.stack([np.asarray(cr.vsec[0][g]["soma"], float)[::REC_STEP]
                      for g in rec_gids]).astype(np.float32)
    rec_types = [net.gid_to_type(g) for g in rec_gids]
    rec_pos = [net.pos_dict[ct][g - net.gid_ranges[ct][0]]
               for ct, g in zip(rec_types, rec_gids)]

    counts = {}
    for tr in range(n_trials):
        sel = sp_tr == tr
        counts[tr] = {ct: int(np.isin(sp_g[sel], list(net.gid_ranges[ct])).sum())
                      for ct in net.cell_types}
    meta = dict(
        case=case, tstop=tstop, dt=DT, n_trials=n_trials,
        record_step=REC_STEP, n_cells=n_cells, n_gids=net._n_gids,
        vsoma_all_step=ALL_SOMA_STEP if case == "poisson" else None,
        mesh_shape=[net._N_pyr_x, net._N_pyr_y],
        celsius=net._params["celsius"], threshold=net._params["threshold"],
        local_weights={k: v for k, v in net._params.items()
                       if k.startswith("gbar_L")},
        drives=_drive_description(net),
        recorded_cells=dict(zip(map(str, rec_gids), rec_types)),
        trial_seconds=trial_seconds, total_seconds=total_s,
        spike_counts_per_trial=counts,
        **desc, **_versions(),
    )
    arrays = dict(
        times=times, dipoles=dipoles,
        spike_times=sp_t, spike_gids=sp_g, spike_trials=sp_tr,
        gid_range_names=_str_array(names),
        gid_range_start=np.array([net.gid_ranges[n][0] if len(net.gid_ranges[n])
                                  else -1 for n in names], np.int64),
        gid_range_stop=np.array([net.gid_ranges[n][-1] + 1
                                 if len(net.gid_ranges[n]) else -1
                                 for n in names], np.int64),
        drive_names=_str_array(drive_names),
        drive_event_times=ev_t, drive_event_gid=ev_g, drive_event_trial=ev_tr,
        drive_event_drive=ev_d,
        vsoma_gids=np.array(rec_gids, np.int64),
        vsoma_cell_type=_str_array(rec_types),
        vsoma_pos=np.array(rec_pos, float),
        vsoma_times=vsoma_times, vsoma=vsoma,
        meta=np.array(json.dumps(_jsonable(meta))),
    )
    if case == "poisson":
        # all cells, coarser sampling to keep the fixtures small
        arrays["vsoma_all_times"] = t_cr[::ALL_SOMA_STEP]
        arrays["vsoma_all"] = np.stack(
            [np.asarray(cr.vsec[0][g]["soma"], float)[::ALL_SOMA_STEP]
             for g in range(n_cells)]).astype(np.float32)
    fname = op.join(out_dir, f"net_{case}.npz")
    np.savez_compressed(fname, **arrays)
    print(f"[{case}] total {total_s:.1f} s, per trial {np.round(trial_seconds, 1)}; "
          f"spikes {counts}")
    print(f"[{case}] wrote {fname} ({op.getsize(fname) / 1e6:.2f} MB)")


def make_law(out_dir):
    """net_law.npz: hnn-core's law_2021_model (edited GABA-B kinetics, L5 ca
    channels removed on soma and basal dendrites, changed and added
    inhibitory connections) on a 3x3 mesh with the ERP drives, 80 ms,
    1 trial: dipoles, spikes and every cell's somatic voltage."""
    from hnn_core import simulate_dipole
    from hnn_core.network_models import add_erp_drives_to_jones_model, law_2021_model

    net = law_2021_model(mesh_shape=(3, 3))
    add_erp_drives_to_jones_model(net)
    tstop = 80.0
    dpls = simulate_dipole(_quiet_net(net), tstop=tstop, dt=DT, n_trials=1, record_vsec="soma")
    cr = net.cell_response
    gids = sorted(cr.vsec[0])
    arrays = dict(
        times=np.asarray(dpls[0].times, float),
        dipoles=np.stack([np.asarray(dpls[0].data[k], float) for k in ("agg", "L2", "L5")]),
        spike_times=np.asarray(cr.spike_times[0], float),
        spike_gids=np.asarray(cr.spike_gids[0], np.int64),
        vsoma_gids=np.array(gids, np.int64),
        vsoma=np.stack([np.asarray(cr.vsec[0][g]["soma"], float)[::REC_STEP] for g in gids]),
        meta=np.array(json.dumps(_jsonable(dict(
            case="law", tstop=tstop, dt=DT, mesh_shape=[3, 3], record_step=REC_STEP,
            model="law_2021_model(mesh_shape=(3, 3)); add_erp_drives_to_jones_model",
            n_connections=len(net.connectivity), **_versions())))),
    )
    fname = op.join(out_dir, "net_law.npz")
    np.savez_compressed(fname, **arrays)
    print(f"[law] wrote {fname} ({op.getsize(fname) / 1e6:.2f} MB); {len(cr.spike_times[0])} spikes")


LFP_TSTOP = 40.0
LFP_ARRAYS = {  # name -> (electrode positions µm, method); a laminar shank and off-axis points
    "shank_psa": ([(1.5, 1.5, z) for z in (-200.0, 0.0, 400.0, 800.0, 1300.0, 1700.0)], "psa"),
    "shank_lsa": ([(1.5, 1.5, z) for z in (-200.0, 0.0, 400.0, 800.0, 1300.0, 1700.0)], "lsa"),
    "near_lsa": ([(-40.0, 2.0, 300.0), (0.0, 0.0, 600.0), (3.0, -5.0, 1200.0)], "lsa"),
}


def make_lfp(out_dir):
    """net_lfp.npz: extracellular potentials (µV) of electrode arrays on a
    3x3 network with the ERP drives and a tonic bias (an electrode current),
    and the synaptic currents (record_isec='all') of one cell of each type."""
    from hnn_core import jones_2009_model, simulate_dipole
    from hnn_core.network_models import add_erp_drives_to_jones_model

    net = jones_2009_model(mesh_shape=(3, 3))
    net.set_cell_positions(inplane_distance=300.0)
    add_erp_drives_to_jones_model(net)
    net.add_tonic_bias(cell_type="L5_pyramidal", amplitude=0.5, t0=5.0, tstop=30.0)
    for name, (pos, method) in LFP_ARRAYS.items():
        net.add_electrode_array(name, pos, conductivity=0.3, method=method, min_distance=0.5)
    dpls = simulate_dipole(_quiet_net(net), tstop=LFP_TSTOP, dt=DT, n_trials=1, record_isec="all")
    arrays = dict(times=np.asarray(dpls[0].times, float),
                  dipoles=np.stack([np.asarray(dpls[0].data[k], float) for k in ("agg", "L2", "L5")]))
    # synaptic currents (nA) of one cell per type, every section and receptor
    isec = net.cell_response.isec[0]
    keys = [(gid, sec, key) for ct in net.cell_types for gid in [net.gid_ranges[ct][len(net.gid_ranges[ct]) // 2]]
            for sec in isec[gid] for key in isec[gid][sec]]
    arrays["isec_keys"] = _str_array([f"{gid}|{sec}|{key}" for gid, sec, key in keys])
    arrays["isec"] = np.stack([np.asarray(isec[gid][sec][key], float) for gid, sec, key in keys])
    for name in LFP_ARRAYS:
        arr = net.rec_arrays[name]
        arrays[f"{name}_times"] = np.asarray(arr.times, float)
        arrays[f"{name}_voltages"] = np.asarray(arr.voltages, float)  # (trials, contacts, times)
        arrays[f"{name}_positions"] = np.asarray(arr.positions, float)
    meta = dict(case="lfp", tstop=LFP_TSTOP, dt=DT, mesh_shape=[3, 3], inplane_distance=300.0,
                tonic_bias=dict(cell_type="L5_pyramidal", amplitude=0.5, t0=5.0, tstop=30.0),
                arrays={k: dict(positions=v[0], method=v[1], conductivity=0.3, min_distance=0.5)
                        for k, v in LFP_ARRAYS.items()},
                model="jones_2009_model(mesh_shape=(3, 3)); set_cell_positions(inplane_distance=300);"
                      " add_erp_drives_to_jones_model", **_versions())
    arrays["meta"] = np.array(json.dumps(_jsonable(meta)))
    fname = op.join(out_dir, "net_lfp.npz")
    np.savez_compressed(fname, **arrays)
    print(f"[lfp] wrote {fname} ({op.getsize(fname) / 1e6:.2f} MB)")


OPT_TSTOP = 20.0
OPT_CONSTRAINTS = {"mu": (5.0, 13.0), "w": (0.01, 0.3)}  # ms, µS
OPT_TRUTH = {"mu": 8.0, "w": 0.1}


def opt_set_params(net, params):
    """The Optimizer case's parameters: one proximal evoked drive, its time
    ``mu`` (ms) and its AMPA weight ``w`` (µS) onto both pyramidal types."""
    w = params["w"]
    net.add_evoked_drive("evprox", mu=params["mu"], sigma=1.0, numspikes=1, location="proximal",
                         event_seed=1, weights_ampa={"L2_pyramidal": w, "L5_pyramidal": w})


def make_optimizer(out_dir):
    """opt_cma.npz: hnn-core's ``Optimizer(solver='cma')`` recovering
    ``OPT_TRUTH`` on a 3x3 ``neymotin_2020_model`` over 20 ms: the target
    dipole, every generation's parameter sets and RMSE (nAm), ``obj_`` and
    ``opt_params_`` (3 generations of 4, seed 123, sigma0 0.25, tolfun 1e-9
    so that all 3 run)."""
    from hnn_core import neymotin_2020_model, simulate_dipole
    from hnn_core.optimization import Optimizer
    from hnn_core.optimization.objective_functions import _rmse_evoked

    net = neymotin_2020_model(mesh_shape=(3, 3))
    truth = net.copy()
    opt_set_params(truth, OPT_TRUTH)
    target = simulate_dipole(_quiet_net(truth), tstop=OPT_TSTOP, dt=DT, n_trials=1)[0]
    sets, values = [], []

    def recorded(**kwargs):  # hnn-core's objective, keeping what the solver asked and got
        sets.append(np.array(kwargs["predicted_params"], float))
        values.append(np.array(_rmse_evoked(**kwargs), float))
        return values[-1].tolist()

    fit = dict(popsize=4, seed=123, sigma0=0.25, tolfun=1e-9, n_trials=1)
    opt = Optimizer(net, tstop=OPT_TSTOP, constraints=OPT_CONSTRAINTS, set_params=opt_set_params,
                    solver="cma", obj_fun=recorded, max_iter=3)
    start = time.perf_counter()
    opt.fit(target=target, **fit)
    arrays = dict(
        target_times=np.asarray(target.times, float),
        target_agg=np.asarray(target.data["agg"], float),
        sets=np.stack(sets), values=np.stack(values),
        obj=np.asarray(opt.obj_, float), opt_params=np.asarray(opt.opt_params_, float),
        meta=np.array(json.dumps(_jsonable(dict(
            case="optimizer_cma", tstop=OPT_TSTOP, dt=DT, mesh_shape=[3, 3],
            constraints=OPT_CONSTRAINTS, truth=OPT_TRUTH, fit=fit, max_iter=3,
            seconds=time.perf_counter() - start, cma_version=__import__("cma").__version__,
            **_versions())))),
    )
    fname = op.join(out_dir, "opt_cma.npz")
    np.savez_compressed(fname, **arrays)
    print(f"[optimizer] wrote {fname} ({op.getsize(fname) / 1e6:.2f} MB); best {opt.opt_params_}")


EVOKED_TSTOP = 100.0  # ms
EVOKED_FIT = dict(n_trials=1, maxiter=12, scale_factor=3000.0, smooth_window_len=20.0,
                  which_drives=["evprox1", "evdist1"], return_rmse=True)


def _evoked_plan(net, fit):
    """hnn-core's chunks of ``optimize_evoked`` (its private helpers, with
    its default multipliers), as arrays: per chunk its inputs, parameter
    names, initial/min/max values, window (ms) and weights."""
    oe = importlib.import_module("hnn_core.optimization.optimize_evoked")
    names = [d for d in np.unique(fit["which_drives"])]
    dynamics, weights, _ = oe._get_drive_params(net, names)
    inputs = oe._split_by_evinput(names, dynamics, weights, EVOKED_TSTOP, 50.0, 3.0, 500.0)
    chunks = oe._consolidate_chunks(oe._generate_weights(inputs, EVOKED_TSTOP, DT, 1.6))
    out = dict(plan_inputs=_str_array([",".join(c["inputs"]) for c in chunks]),
               plan_window=np.array([[c["opt_start"], c["opt_end"]] for c in chunks], float),
               plan_weights=np.stack([c["weights"] for c in chunks]))
    rows = [(k, name, r) for k, c in enumerate(chunks) for name, r in c["ranges"].items()]
    out.update(plan_param_chunk=np.array([k for k, _, _ in rows]),
               plan_param_names=_str_array([name for _, name, _ in rows]),
               plan_param_ranges=np.array([[r["initial"], r["minval"], r["maxval"]]
                                           for _, _, r in rows], float))
    return out


def make_optimize_evoked(out_dir):
    """opt_evoked.npz: hnn-core's ``optimize_evoked`` on a 3x3
    ``jones_2009_model`` with the ERP drives over 100 ms, fitting evprox1
    and evdist1 to the shipped yes-trial ERP (``EVOKED_FIT``): its chunk
    plan, and every simulation it ran (step, parameter vector, weighted and
    unweighted RMSE in nAm, the scaled and smoothed average dipole)."""
    from hnn_core import jones_2009_model, read_dipole, simulate_dipole
    from hnn_core.network_models import add_erp_drives_to_jones_model

    oe = importlib.import_module("hnn_core.optimization.optimize_evoked")  # the module, not its function

    net = jones_2009_model(mesh_shape=(3, 3))
    add_erp_drives_to_jones_model(net)
    target = read_dipole(op.join(HERE, "..", "hnnjax", "data", "meg", "yes_trial_S1_ERP_all_avg.txt"))
    initial = simulate_dipole(net, tstop=EVOKED_TSTOP, dt=DT, n_trials=1)[0]
    initial.scale(EVOKED_FIT["scale_factor"]).smooth(EVOKED_FIT["smooth_window_len"])
    arrays = _evoked_plan(net, EVOKED_FIT)
    runs = []
    optrun = oe._optrun

    def recorded(x, **kwargs):  # hnn-core's simulation, keeping what COBYLA asked and got
        value = optrun(x, **kwargs)
        p = kwargs["opt_params"]
        runs.append((p["cur_step"], np.array(x, float), value,
                     np.array(kwargs["opt_dpls"]["best_dpl"].data["agg"], float),
                     [p["opt_start"], p["opt_end"]]))
        return value

    oe._optrun = recorded
    start = time.perf_counter()
    try:
        _, rmse = oe.optimize_evoked(net, EVOKED_TSTOP, target_dpl=target, initial_dpl=initial,
                                     dt=DT, **EVOKED_FIT)
    finally:
        oe._optrun = optrun
    n_params = max(len(x) for _, x, _, _, _ in runs)
    arrays.update(
        target_times=np.asarray(target.times, float), target_agg=np.asarray(target.data["agg"], float),
        initial_agg=np.asarray(initial.data["agg"], float),
        run_step=np.array([r[0] for r in runs]),
        run_params=np.array([np.pad(r[1], (0, n_params - len(r[1])), constant_values=np.nan)
                             for r in runs]),
        run_wrmse=np.array([r[2] for r in runs], float), run_rmse=np.asarray(rmse, float),
        run_window=np.array([r[4] for r in runs], float),
        run_agg=np.stack([r[3] for r in runs]),
        meta=np.array(json.dumps(_jsonable(dict(
            case="optimize_evoked", tstop=EVOKED_TSTOP, dt=DT, mesh_shape=[3, 3],
            fit=EVOKED_FIT, drives=_drive_description(net),
            seconds=time.perf_counter() - start, **_versions())))),
    )
    fname = op.join(out_dir, "opt_evoked.npz")
    np.savez_compressed(fname, **arrays)
    print(f"[optimize_evoked] wrote {fname} ({op.getsize(fname) / 1e6:.2f} MB); "
          f"{len(runs)} simulations")


# cells_edited.npz: hnn-core's cell edits, each an op applied through its public API
CELL_EDITS = {
    "edits": [  # Cell.modify_section, mechanism parameters and receptors of the default cells
        ["modify_section", "L5_pyramidal", {"sec_name": "apical_1", "L": 800.0, "diam": 6.0}],
        ["modify_section", "L5_pyramidal", {"sec_name": "basal_2", "cm": 1.2, "Ra": 150.0}],
        ["modify_section", "L5_pyramidal", {"sec_name": "soma", "v0": -70.0}],
        ["modify_section", "L2_pyramidal", {"sec_name": "apical_oblique", "L": 300.0, "diam": 3.5}],
        ["modify_section", "L2_pyramidal", {"sec_name": "soma", "diam": 20.0, "v0": -68.0}],
        ["modify_section", "L2_basket", {"sec_name": "soma", "L": 30.0, "diam": 25.0}],
        ["mech", "L5_pyramidal", ["soma", "hh2", "gkbar_hh2", 0.02]],
        ["mech", "L5_pyramidal", ["apical_tuft", "ca", "gbar_ca", 80.0]],
        ["mech", "L2_pyramidal", ["apical_1", "km", "gbar_km", 300.0]],
        ["mech", "L2_pyramidal", ["soma", "hh2", "el_hh2", -68.0]],
        ["mech", "L5_basket", ["soma", "hh2", "gnabar_hh2", 0.1]],
        ["synapse", "L5_pyramidal", ["ampa", "tau2", 4.0]],
    ],
    "override": [  # cells_default.pyramidal(override_params=...) put into the network
        ["pyramidal", "L2_pyramidal", {"L2Pyr_apicaltuft_L": 300.0, "L2Pyr_soma_cm": 0.7,
                                       "L2Pyr_dend_gnabar_hh2": 0.13, "L2Pyr_nmda_tau2": 25.0}],
        ["pyramidal", "L5_pyramidal", {"L5Pyr_apical2_L": 800.0, "L5Pyr_dend_Ra": 180.0,
                                       "L5Pyr_soma_gbar_km": 150.0, "L5Pyr_soma_gkbar_hh2": 0.015,
                                       "L5Pyr_dend_gbar_ca": {"exp": [60.0, -5e-4]}}],
    ],
}
CELL_EDIT_TSTOP = 80.0


def _distance_function(value):
    """{'exp': [g0, k]} -> g0·exp(k·d), a conductance by path distance d (µm)."""
    if isinstance(value, dict):
        g0, k = value["exp"]
        return lambda d: g0 * np.exp(k * d)
    return value


def apply_cell_edits(net, edits, cells_default):
    """Apply ``CELL_EDITS`` ops to ``net`` with a library's public API
    (hnn-core's or hnnjax's: the same calls; the tests import this)."""
    for op_name, cell_type, args in edits:
        cell = net.cell_types[cell_type]["cell_object"]
        if op_name == "modify_section":
            cell.modify_section(**args)
        elif op_name == "mech":
            section, mech, param, value = args
            cell.sections[section].mechs[mech][param] = value
        elif op_name == "synapse":
            receptor, key, value = args
            cell.synapses[receptor][key] = value
        else:
            override = {k: _distance_function(v) for k, v in args.items()}
            net.cell_types[cell_type]["cell_object"] = cells_default.pyramidal(
                cell_type, override_params=override)


def make_cell_edits(out_dir):
    """cells_edited.npz: the isolated cells (1x1 network, unconnected) with
    each variant of ``CELL_EDITS`` applied, under a 0.3 nA current step
    (10-60 ms) and the largest proximal AMPA event of ``cells.npz`` (20 ms),
    80 ms each."""
    from hnn_core import cells_default, simulate_dipole

    cases = [dict(kind="step", amplitude=0.3, receptor="", location="", weight=float("nan")),
             dict(kind="syn", amplitude=float("nan"), receptor="ampa", location="proximal",
                  weight=2e-3)]
    vsec, dipoles, spikes, case_meta, rows = [], [], [], [], None
    for vi, variant in enumerate(CELL_EDITS):
        for ci, case in enumerate(cases):
            net = _quiet_net(_single_cell_net())
            apply_cell_edits(net, CELL_EDITS[variant], cells_default)
            if case["kind"] == "step":  # from 10 to 60 ms, within the shorter run
                method, kwargs = "add_tonic_bias", dict(
                    amplitude={ct: case["amplitude"] for ct in net.cell_types}, t0=10.0, tstop=60.0)
                net.add_tonic_bias(**kwargs)
            else:
                method, kwargs, _ = _apply_cell_case(net, case)
            dpl = simulate_dipole(net, tstop=CELL_EDIT_TSTOP, dt=DT, n_trials=1,
                                  record_vsec="all", verbose=False)[0]
            cr = net.cell_response
            if rows is None:
                rows = [(gid, sec) for gid in sorted(cr.vsec[0]) for sec in cr.vsec[0][gid]]
                times = np.asarray(cr.times, float)
            vsec.append([np.asarray(cr.vsec[0][g][s])[::REC_STEP] for g, s in rows])
            dipoles.append([np.asarray(dpl.data[k], float) for k in ("agg", "L2", "L5")])
            spikes += [(vi, ci, g, t) for g, t in zip(cr.spike_gids[0], cr.spike_times[0])]
            case_meta.append(dict(variant=variant, method=method, kwargs=kwargs))
    n_var, n_case = len(CELL_EDITS), len(cases)
    spikes = np.array(spikes, float).reshape(-1, 4)
    fname = op.join(out_dir, "cells_edited.npz")
    np.savez_compressed(
        fname, times=times, vsec=np.array(vsec, np.float32).reshape(n_var, n_case, len(rows), -1),
        vsec_gid=np.array([g for g, _ in rows]), vsec_section=_str_array([s for _, s in rows]),
        dipole=np.array(dipoles).reshape(n_var, n_case, 3, -1),
        spike_variant=spikes[:, 0].astype(int), spike_case=spikes[:, 1].astype(int),
        spike_gids=spikes[:, 2].astype(int), spike_times=spikes[:, 3],
        meta=np.array(json.dumps(_jsonable(dict(
            tstop=CELL_EDIT_TSTOP, dt=DT, record_step=REC_STEP, variants=list(CELL_EDITS),
            edits=CELL_EDITS, cases=case_meta, **_versions())))))
    print(f"[cell_edits] wrote {fname} ({op.getsize(fname) / 1e6:.2f} MB); {len(spikes)} spikes")


def make_cell_configs(out_dir):
    """cell_configs.npz: hnn-core's ``write_network_configuration`` of 1x1
    networks whose cells differ from the defaults, one JSON string each:
    ``calcium`` (``calcium_model``), ``law`` (``law_2021_model``), and
    ``edits`` and ``override`` (the default network with ``CELL_EDITS``)."""
    import io

    from hnn_core import calcium_model, cells_default, law_2021_model, neymotin_2020_model
    from hnn_core import write_network_configuration

    nets = {"calcium": calcium_model(mesh_shape=(1, 1)), "law": law_2021_model(mesh_shape=(1, 1))}
    for variant, edits in CELL_EDITS.items():
        nets[variant] = neymotin_2020_model(mesh_shape=(1, 1))
        apply_cell_edits(nets[variant], edits, cells_default)
    configs = {}
    for name, net in nets.items():
        buf = io.StringIO()
        write_network_configuration(net, buf)
        configs[f"config_{name}"] = np.array(buf.getvalue())
    fname = op.join(out_dir, "cell_configs.npz")
    np.savez_compressed(fname, **configs, meta=np.array(json.dumps(_jsonable(dict(
        configs=list(nets), mesh_shape=[1, 1], edits=CELL_EDITS, **_versions())))))
    print(f"[cell_configs] wrote {fname} ({op.getsize(fname) / 1e6:.2f} MB)")


# net_custom.npz: Network(params, pos_dict=, cell_types=) with cells of its own positions
CUSTOM_POS = {
    "L2_basket": [[0.0, 0.0, 1045.92], [2.0, 1.0, 1045.92]],
    "L2_pyramidal": [[0.0, 0.0, 1307.4], [1.0, 0.0, 1307.4], [0.0, 2.0, 1307.4], [3.0, 1.0, 1307.4]],
    "L5_basket": [[1.0, 0.0, 261.48], [0.0, 1.0, 261.48], [2.0, 2.0, 261.48]],
    "L5_pyramidal": [[0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [3.0, 3.0, 0.0]],
    "origin": [1.0, 1.0, 653.0],
}
CUSTOM_L5_OVERRIDE = {"L5Pyr_soma_gkbar_hh2": 0.015}  # the L5 pyramidal cells' template
CUSTOM_CONNECTIONS = [  # src, target, loc, receptor, weight µS, delay ms, lamtha
    ["L2_pyramidal", "L2_pyramidal", "proximal", "ampa", 5e-4, 1.0, 3.0],
    ["L2_basket", "L2_pyramidal", "soma", "gabaa", 0.05, 1.0, 50.0],
    ["L2_pyramidal", "L2_basket", "soma", "ampa", 5e-4, 1.0, 3.0],
    ["L2_pyramidal", "L5_pyramidal", "proximal", "ampa", 2.5e-4, 1.0, 3.0],
    ["L5_basket", "L5_pyramidal", "soma", "gabaa", 0.025, 1.0, 70.0],
    ["L5_pyramidal", "L5_basket", "soma", "ampa", 9e-4, 1.0, 20.0],
]
CUSTOM_TSTOP = 80.0


def make_custom(out_dir):
    """net_custom.npz: ``Network({"threshold": 0.0, "celsius": 37.0}, pos_dict=CUSTOM_POS,
    cell_types=...)`` (hnn-core's four cell types, the L5 pyramidal one from
    ``pyramidal(..., override_params=CUSTOM_L5_OVERRIDE)``; 14 cells at
    positions of their own), ``CUSTOM_CONNECTIONS`` and the ERP drives, 80 ms,
    2 trials: dipoles, every spike, the drive events."""
    from hnn_core import Network, cells_default, neymotin_2020_model, simulate_dipole
    from hnn_core.network_models import add_erp_drives_to_jones_model

    cell_types = neymotin_2020_model(mesh_shape=(1, 1)).cell_types
    cell_types["L5_pyramidal"]["cell_object"] = cells_default.pyramidal(
        "L5_pyramidal", override_params=dict(CUSTOM_L5_OVERRIDE))
    pos = {k: (tuple(v) if k == "origin" else [tuple(p) for p in v]) for k, v in CUSTOM_POS.items()}
    net = Network({"threshold": 0.0, "celsius": 37.0}, pos_dict=pos, cell_types=cell_types)
    for src, tgt, loc, receptor, weight, delay, lamtha in CUSTOM_CONNECTIONS:
        net.add_connection(src, tgt, loc, receptor, weight, delay, lamtha)
    add_erp_drives_to_jones_model(net)
    dpls = simulate_dipole(_quiet_net(net), tstop=CUSTOM_TSTOP, dt=DT, n_trials=2)
    cr = net.cell_response
    names = list(net.gid_ranges)
    arrays = dict(
        times=np.asarray(dpls[0].times, float),
        dipoles=np.stack([[np.asarray(d.data[k], float) for k in ("agg", "L2", "L5")] for d in dpls]),
        spike_times=np.concatenate([np.asarray(t, float) for t in cr.spike_times]),
        spike_gids=np.concatenate([np.asarray(g, np.int64) for g in cr.spike_gids]),
        spike_trials=np.concatenate([np.full(len(t), i) for i, t in enumerate(cr.spike_times)]),
        gid_range_names=_str_array(names),
        gid_range_start=np.array([net.gid_ranges[n].start for n in names]),
        gid_range_stop=np.array([net.gid_ranges[n].stop for n in names]),
        meta=np.array(json.dumps(_jsonable(dict(
            case="custom", tstop=CUSTOM_TSTOP, dt=DT, n_trials=2, pos_dict=CUSTOM_POS,
            l5_override=CUSTOM_L5_OVERRIDE, connections=CUSTOM_CONNECTIONS,
            drives=_drive_description(net), **_versions())))),
    )
    fname = op.join(out_dir, "net_custom.npz")
    np.savez_compressed(fname, **arrays)
    print(f"[custom] wrote {fname} ({op.getsize(fname) / 1e6:.2f} MB); "
          f"{[len(t) for t in cr.spike_times]} spikes per trial")


def make_dipole_hdf5(out_dir):
    """dipole_hnn_core.hdf5: a 3-layer Dipole (10 ms at 0.025 ms, nave 2,
    scaled by 3000) written by hnn-core's ``Dipole.write``; its times,
    layers (nAm), nave and scale in dipole_hnn_core.npz."""
    from hnn_core import Dipole

    times = np.arange(0, 10.025, DT)
    layers = np.random.default_rng(0).normal(size=(len(times), 3)) * 1e-3
    dpl = Dipole(times, layers, nave=2).scale(3000.0)
    fname = op.join(out_dir, "dipole_hnn_core.hdf5")
    dpl.write(fname)
    np.savez_compressed(op.join(out_dir, "dipole_hnn_core.npz"), times=dpl.times,
                        **{k: np.asarray(v, float) for k, v in dpl.data.items()},
                        nave=dpl.nave, scale_applied=dpl.scale_applied, sfreq=dpl.sfreq,
                        meta=np.array(json.dumps(_jsonable(dict(case="dipole_hdf5", **_versions())))))
    print(f"[dipole] wrote {fname} ({op.getsize(fname) / 1e3:.1f} kB)")


# ---------------------------------------------------------------------------
# summary
# ---------------------------------------------------------------------------


def summarize(out_dir):
    total = 0
    for fname in sorted(os.listdir(out_dir)):
        if not fname.endswith(".npz"):
            continue
        path = op.join(out_dir, fname)
        size = op.getsize(path)
        total += size
        f = np.load(path)
        meta = json.loads(str(f["meta"]))
        print(f"== {fname}  {size / 1e6:.2f} MB  hnn-core {meta['hnn_core_version']}"
              f"  NEURON {meta['neuron_version']}")
        for k in f.files:
            if k != "meta":
                print(f"   {k:22s} {str(f[k].shape):18s} {f[k].dtype}")
        if fname.startswith("cells"):
            for ci in range(len(f["case_kind"])):
                sel = f["spike_case"] == ci
                cnt = [int((f["spike_gids"][sel] == g).sum()) for g in range(4)]
                vs = f["vsec"][ci, f["vsec_section"] == "soma"]
                print(f"   case {ci:2d} {f['case_kind'][ci]:4s} "
                      f"amp={f['case_amplitude'][ci]:+5.1f} "
                      f"{f['case_receptor'][ci]:4s} {f['case_location'][ci]:8s} "
                      f"w={f['case_weight'][ci]:8.1e} spikes(L2B,L2P,L5B,L5P)={cnt} "
                      f"soma Vmax={np.round(vs.max(axis=1), 1).tolist()} "
                      f"dpl agg [{f['dipole'][ci, 0].min():.3g}, "
                      f"{f['dipole'][ci, 0].max():.3g}]")
            print(f"   node_v at steps {f['node_v_steps'].tolist()}: zero-area "
                  f"nodes {np.round(f['node_v'][:, f['node_area'] == 0][:, :6], 3).tolist()}")
            continue
        if fname == "dipole_hnn_core.npz":
            print(f"   {len(f['times'])} samples, nave {int(f['nave'])}, scale {float(f['scale_applied'])}")
            continue
        if fname == "opt_evoked.npz":
            print(f"   {len(f['run_step'])} simulations; weighted RMSE by step "
                  + ", ".join(f"{f['run_wrmse'][f['run_step'] == k].min():.4g}"
                              for k in np.unique(f['run_step'])) + " (nAm)")
            continue
        if fname.startswith("opt"):
            print(f"   best RMSE by generation {f['obj'].tolist()} (nAm) at {f['opt_params'].tolist()}")
            continue
        if "gid_range_names" not in f.files:  # net_law, net_lfp: the arrays above are all
            continue
        names = list(f["gid_range_names"])
        starts, stops = f["gid_range_start"], f["gid_range_stop"]
        for tr in np.unique(f["spike_trials"]):
            sel = f["spike_trials"] == tr
            cnt = {}
            for n, a, b in zip(names, starts, stops):
                g = f["spike_gids"][sel]
                cnt[str(n)] = int(((g >= a) & (g < b)).sum())
            print(f"   trial {tr}: spikes {cnt}")
        for tr in range(f["dipoles"].shape[0]):
            rng = [(float(f['dipoles'][tr, k].min()), float(f['dipoles'][tr, k].max()))
                   for k in range(3)]
            print(f"   trial {tr}: dipole agg/L2/L5 ranges (nAm) "
                  + ", ".join(f"[{a:.4g}, {b:.4g}]" for a, b in rng))
        print(f"   trial seconds {np.round(meta['trial_seconds'], 1).tolist()}")
    print(f"total fixture size {total / 1e6:.2f} MB")


def _fixtures():
    """Each fixture file's option (``--<name>``, underscores as dashes), its
    writer (called with the output folder) and help, in the order --all
    writes them; the network cases have ``--network``."""
    return {
        "cells": (make_cells, "write cells.npz"),
        "cells_calcium": (lambda out: make_cells(out, "calcium_model"),
                          "write cells_calcium.npz (calcium_model's cells)"),
        "lfp": (make_lfp, "write net_lfp.npz (electrode arrays)"),
        "law": (make_law, "write net_law.npz (law_2021_model)"),
        "optimizer": (make_optimizer, "write opt_cma.npz (Optimizer with solver='cma')"),
        "optimize_evoked": (make_optimize_evoked, "write opt_evoked.npz (optimize_evoked)"),
        "cell_edits": (make_cell_edits,
                       "write cells_edited.npz (modify_section, mechanisms, override_params)"),
        "cell_configs": (make_cell_configs,
                         "write cell_configs.npz (hnn-core's network files of edited cells)"),
        "custom": (make_custom, "write net_custom.npz (Network(pos_dict=, cell_types=))"),
        "dipole_hdf5": (make_dipole_hdf5, "write dipole_hnn_core.hdf5 (+ .npz): hnn-core's Dipole file"),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    fixtures = _fixtures()
    for name, (_, text) in fixtures.items():
        parser.add_argument("--" + name.replace("_", "-"), action="store_true", help=text)
    parser.add_argument("--network", nargs="+", choices=NETWORK_CASES,
                        default=[], metavar="CASE",
                        help=f"network cases to write: {NETWORK_CASES}")
    parser.add_argument("--all", action="store_true", help="write everything")
    parser.add_argument("--out", default=op.join(HERE, "..", "tests", "fixtures"),
                        help="output directory (default tests/fixtures)")
    parser.add_argument("--summary", action="store_true",
                        help="print a summary of the files in --out")
    args = parser.parse_args(argv)
    out_dir = op.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    chosen = [name for name in fixtures if args.all or getattr(args, name)]
    networks = NETWORK_CASES if args.all else args.network
    if not (chosen or networks or args.summary):
        parser.error("nothing to do: use --" + ", --".join(n.replace("_", "-") for n in fixtures)
                     + ", --network, --all or --summary")
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    for case in networks:
        make_network(case, out_dir)
    for name in chosen:
        fixtures[name][0](out_dir)
    if args.summary:
        summarize(out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
