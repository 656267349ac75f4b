"""``BatchSimulate``: hnn-core's parameter sweeps, as compiled batches.

hnn-core runs each parameter set as its own NEURON simulation (joblib
processes).  Here the sets of one batch that leave the cells and their local
connections as they were -- sets that change only drives: their timing,
weights, delays, or drives added or removed -- share one compiled network,
and all their trials (sets x ``n_trials``) run as one trial axis: the same
vmapped calls ``simulate_dipole`` makes (several sets per call, all of them
on a GPU).  Sets that change the cells or local connections run as groups of
their own.  Each set's results equal ``simulate_dipole`` on that set alone
(spikes equal, dipoles within 1e-12 of their peak where one of them ran a
lone trial in two parts of its cells, ``network/split.py``).
"""
from __future__ import annotations

import os
import pickle
import time
from itertools import product

import jax
import numpy as np

from ._checks import check_bool, check_int, check_option
from .network.compile import compile_network, connection_table
from .network.grid import Events
from .network.network import Network
from .network.simulate import _DTYPES, _check_args, prepare_events, run_events, store_results

_BACKENDS = ("loky", "threading", "multiprocessing", "dask")
_OUTPUTS = ("dpl", "spiking", "lfp", "voltages", "currents", "calcium")


class BatchSimulate:
    """Simulate a network for every parameter set of a grid (hnn-core's API).

    ``set_params(param_values, net)`` edits a copy of ``net`` for one set
    (hnn-core's argument order).  ``net`` defaults to
    ``neymotin_2020_model()``; ``tstop`` and ``dt`` are in ms.  Results are
    grouped into batches of ``batch_size`` sets; ``save_outputs`` writes each
    batch to ``save_folder/sim_run_{start}-{end}.npz``; ``summary_func(list
    of result dicts)`` reduces each batch.  ``save_lfp`` keeps a copy of
    each set's electrode arrays (``net.rec_arrays``); ``save_calcium`` records
    calcium at the ``record_vsec`` sites (hnn-core records none).  ``dtype``
    (keyword only) is 'float64' (NEURON-faithful) or 'float32'.
    """

    def __init__(self, set_params, net=None, tstop=170, dt=0.025, n_trials=1,
                 save_folder="./sim_results", batch_size=100, overwrite=True,
                 save_outputs=False, save_dpl=True, save_spiking=False, save_lfp=False,
                 save_voltages=False, save_currents=False, save_calcium=False,
                 record_vsec=False, record_isec=False, postproc=False, clear_cache=False,
                 summary_func=None, *, dtype="float64"):
        if not callable(set_params):
            raise TypeError(f"set_params must be a callable function; got {set_params!r}")
        if summary_func is not None and not callable(summary_func):
            raise TypeError(f"summary_func must be a callable function; got {summary_func!r}")
        if net is None:
            from .network_models import neymotin_2020_model
            net = neymotin_2020_model()
        if not isinstance(net, Network):
            raise TypeError(f"net must be a Network; got {type(net).__name__}")
        if not isinstance(save_folder, (str, os.PathLike)):
            raise TypeError(f"save_folder must be a path; got {save_folder!r}")
        for name, value in (("overwrite", overwrite), ("save_outputs", save_outputs),
                            ("postproc", postproc), ("clear_cache", clear_cache)):
            check_bool(name, value)
        for name in _OUTPUTS:
            check_bool(f"save_{name}", locals()[f"save_{name}"])
        _check_args(net, tstop, dt, n_trials, record_vsec, record_isec, False, dtype, None)
        self.set_params, self.net, self.summary_func = set_params, net, summary_func
        self.tstop, self.dt, self.n_trials = tstop, dt, n_trials
        self.save_folder = save_folder
        self.batch_size = check_int("batch_size", batch_size, ge=1)
        self.overwrite, self.save_outputs = overwrite, save_outputs
        self.save_dpl, self.save_spiking, self.save_lfp = save_dpl, save_spiking, save_lfp
        self.save_voltages, self.save_currents = save_voltages, save_currents
        self.save_calcium = save_calcium
        self.record_vsec, self.record_isec = record_vsec, record_isec
        self.postproc, self.clear_cache, self.dtype = postproc, clear_cache, dtype
        self._verbose = True

    def run(self, param_grid, return_output=True, combinations=True, n_jobs=1,
            backend="loky", verbose=True):
        """Simulate every parameter set of ``param_grid`` (name -> values):
        their Cartesian product, or with ``combinations=False`` the i-th
        values together.  ``n_jobs`` and ``backend`` are checked as in
        hnn-core and otherwise unused (sets run in vmapped compiled calls).
        Returns ``{'summary_statistics': [per batch], 'simulated_data':
        [per batch: list of result dicts]}`` (without 'simulated_data' when
        ``clear_cache``), or None when ``return_output`` is False."""
        if not isinstance(param_grid, dict) or not param_grid:
            raise TypeError(f"param_grid must be a non-empty dict; got {param_grid!r}")
        check_bool("return_output", return_output)
        check_bool("combinations", combinations)
        check_int("n_jobs", n_jobs)
        check_option("backend", backend, _BACKENDS)
        self._verbose = check_bool("verbose", verbose)
        sets = self._generate_param_combinations(param_grid, combinations)
        size = min(self.batch_size, len(sets))
        summaries, data = [], []
        for start in range(0, len(sets), size):
            end = min(start + size, len(sets))
            results = self.simulate_batch(sets[start:end], n_jobs=n_jobs, backend=backend)
            if self.save_outputs:
                self._save(results, start, end)
            if self.summary_func is not None:
                summaries.append(self.summary_func(results))
            if (return_output or self.summary_func is not None) and not self.clear_cache:
                data.append(results)
        if not return_output:
            return None
        if self.clear_cache:
            return {"summary_statistics": summaries}
        return {"summary_statistics": summaries, "simulated_data": data}

    def simulate_batch(self, param_combinations, n_jobs=1, backend="loky"):
        """One result dict per parameter set ('net', 'param_values' and the
        outputs chosen by the ``save_*`` flags), in the order given."""
        if not isinstance(param_combinations, list):
            raise TypeError(f"param_combinations must be a list; got {type(param_combinations).__name__}")
        check_int("n_jobs", n_jobs)
        check_option("backend", backend, _BACKENDS)
        nets = []
        for values in param_combinations:
            net = self.net.copy()
            self.set_params(values, net)
            _check_args(net, self.tstop, self.dt, self.n_trials, self.record_vsec,
                        self.record_isec, False, self.dtype, None)
            nets.append(net)
        simulate = any(getattr(self, f"save_{k}") for k in _OUTPUTS)
        dpls = self._simulate(nets) if simulate else [None] * len(nets)
        return [self._result(net, values, dpl)
                for net, values, dpl in zip(nets, param_combinations, dpls)]

    def _simulate(self, nets):
        """Dipoles of every network, one compiled run per group of networks
        whose cells and local connections are the same but for the values
        of membrane-channel parameters (each trial carries its set's)."""
        groups = {}
        for i, net in enumerate(nets):
            groups.setdefault(_cells_fingerprint(net), []).append(i)
        dpls = [None] * len(nets)
        for members in groups.values():
            for i, d in zip(members, self._simulate_group([nets[i] for i in members])):
                dpls[i] = d
        return dpls

    def _simulate_group(self, nets):
        """Networks with the same compiled cells (channel values aside):
        their trials, all sets together, in the calls ``simulate_dipole``
        would make for one set."""
        n_trials = self.n_trials
        tstop, dt, _ = _check_args(nets[0], self.tstop, self.dt, n_trials * len(nets),
                                   self.record_vsec, self.record_isec, False, self.dtype, None)  # memory of all
        if self._verbose:
            print(f"hnnjax: simulating {len(nets)} parameter set(s) x {n_trials} trial(s) "
                  f"of {tstop:g} ms (dt={dt:g} ms, {self.dtype})")
            begin = time.perf_counter()
        np_dtype = _DTYPES[self.dtype]
        record_ca = self.record_vsec if self.save_calcium else False
        arrays, _, layout, rec_index, n_steps = compile_network(
            nets[0], tstop, dt, np_dtype, self.record_vsec, record_ca,
            capacity=nets[0]._delivery_capacity, record_isec=self.record_isec)
        drawn = [prepare_events(net, _drive_table(net, layout), tstop, dt, n_steps, n_trials,
                                np_dtype) for net in nets]
        events = _concat_events([ev for _, ev in drawn])
        values = _channel_values(nets, layout, np_dtype, n_trials)
        out, arrays = run_events(arrays, (events, values) if values else events, n_steps, dt,
                                 progress=self._verbose)
        dpls = []
        for k, (net, (spikes_by_trial, _)) in enumerate(zip(nets, drawn)):
            net._delivery_capacity = arrays.capacity
            trials = slice(k * n_trials, (k + 1) * n_trials)
            mine = tuple(_take_trials(o, trials) for o in out)
            dpls.append(store_results(net, layout, rec_index, mine, spikes_by_trial, tstop, dt,
                                      n_steps, self.postproc))
        if self._verbose:
            print(f"hnnjax: done in {time.perf_counter() - begin:.1f} s")
        return dpls

    def _result(self, net, param_values, dpl):
        res = {"net": net, "param_values": param_values}
        if self.save_dpl:
            res["dpl"] = dpl
        if self.save_spiking:
            cr = net.cell_response
            res["spiking"] = {"spike_times": cr.spike_times, "spike_types": cr.spike_types,
                              "spike_gids": cr.spike_gids}
        if self.save_lfp:
            res["lfp"] = {name: arr.copy() for name, arr in net.rec_arrays.items()}
        if self.save_voltages:
            res["voltages"] = net.cell_response.vsec
        if self.save_currents:
            res["currents"] = net.cell_response.isec
        if self.save_calcium:
            res["calcium"] = net.cell_response.ca
        return res

    def _generate_param_combinations(self, param_grid, combinations=True):
        """List of dicts name -> value: the product of the value lists, or
        (``combinations=False``) their i-th elements together."""
        keys, values = zip(*param_grid.items())
        rows = product(*values) if combinations else zip(*values)
        return [dict(zip(keys, row)) for row in rows]

    def _save(self, results, start_idx, end_idx):
        """Write one batch as ``sim_run_{start_idx}-{end_idx}.npz`` (pickled
        objects, hnn-core's layout)."""
        os.makedirs(self.save_folder, exist_ok=True)
        fname = os.path.join(self.save_folder, f"sim_run_{start_idx}-{end_idx}.npz")
        if os.path.exists(fname) and not self.overwrite:
            raise FileExistsError(f"File {fname} already exists and overwrite is set to False.")
        data = {"param_values": [r["param_values"] for r in results]}
        for key in _OUTPUTS:
            if getattr(self, f"save_{key}") and key in results[0]:
                data[key] = [r[key] for r in results]
        data["metadata"] = {"batch_size": self.batch_size, "n_trials": self.n_trials,
                            "tstop": self.tstop, "dt": self.dt}
        np.savez(fname, **{k: _object_array(v) if isinstance(v, list) else v
                           for k, v in data.items()})

    def load_results(self, file_path, return_data=None):
        """The saved outputs of one file (``return_data``: which of 'dpl',
        'spiking', ...; default those this object saves) and 'param_values'."""
        if return_data is None:
            return_data = [k for k in _OUTPUTS if getattr(self, f"save_{k}")]
        data = np.load(file_path, allow_pickle=True)
        return {k: data[k].tolist() for k in data.files if k in return_data or k == "param_values"}

    def load_all_results(self):
        """``load_results`` of every ``sim_run_*.npz`` in ``save_folder``."""
        return [self.load_results(os.path.join(self.save_folder, f))
                for f in sorted(os.listdir(self.save_folder))
                if f.startswith("sim_run_") and f.endswith(".npz")]


def _object_array(values):
    """A list as a 1-D object array: NumPy would turn a list of equal-length
    lists (trials of Dipoles) into a 2-D array, or fail on ragged ones."""
    arr = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        arr[i] = v
    return arr


def _cells_fingerprint(net):
    """Bytes of everything the compiled network (``NetArrays``) depends on
    but the values of membrane-channel parameters: cells (trees, initial
    voltages, sites, receptors; the channels' kinds and shapes), their gids
    and positions, local connections, biases, threshold, electrode arrays.
    Equal bytes mean compiled arrays that differ at most in channel values
    (``_channel_values``); drives are not part of it."""
    cells = list(net.cell_types)
    structure = [(ct.name, ct.tree, ct.v_init, ct.synapses, ct.groups, ct.receptors, ct.directions,
                  ct.has_calcium, str(jax.tree_util.tree_structure(ct.channels)),
                  [np.shape(x) for x in jax.tree_util.tree_leaves(ct.channels)])
                 for ct in net.cell_types.values()]
    return pickle.dumps((
        structure, [net.gid_ranges[c] for c in cells], [net.pos_dict[c] for c in cells],
        [c for c in net.connectivity if c["src_type"] in net.cell_types],
        net.external_biases, net.threshold, net._inplane_distance, net.mesh_shape,
        [(a.positions, a.conductivity, a.method, a.min_distance) for a in net.rec_arrays.values()]))


def _channel_values(nets, layout, dtype, n_trials):
    """The membrane-channel parameters that differ between ``nets`` (cells
    of one structure, ``_cells_fingerprint``), each trial's: leaf position
    (``NetArrays.with_channel_values``) -> (sets x trials, ...) array at
    ``dtype``; empty where every set has the same channels."""
    def leaves(net):
        return [np.asarray(x).astype(dtype) if np.issubdtype(np.asarray(x).dtype, np.floating)
                else np.asarray(x) for x in jax.tree_util.tree_leaves(
                    tuple(net.cell_types[t].membrane_channels() for t in layout.types))]
    per_net = [leaves(net) for net in nets]
    return {i: np.repeat(np.stack(column), n_trials, axis=0)
            for i, column in enumerate(zip(*per_net))
            if any(not np.array_equal(column[0], x) for x in column[1:])}


def _drive_table(net, layout):
    """The drive connections of ``net`` as ``compile_network`` returns them
    (source gid, flat synapse, weight, delay ms), in connectivity order."""
    tabs = [connection_table(net, layout, c)[:4] for c in net.connectivity
            if c["src_type"] in net.external_drives]
    if not tabs:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(0)
    return tuple(np.concatenate(cols) for cols in zip(*tabs))


def _concat_events(events):
    """Several ``Events`` (leading trial axis) as one: trials one after the
    other, each padded to the longest (synapse -1 and weight 0: inert)."""
    n_max = max(e.dst.shape[1] for e in events)
    pad = lambda a, v: np.pad(np.asarray(a), ((0, 0), (0, n_max - a.shape[1])), constant_values=v)
    return Events(ptr=np.concatenate([np.asarray(e.ptr) for e in events]),
                  dst=np.concatenate([pad(e.dst, -1) for e in events]),
                  w=np.concatenate([pad(e.w, 0) for e in events]),
                  max_per_step=max(e.max_per_step for e in events))


def _take_trials(tree, trials):
    """The trials ``trials`` (a slice) of every array in an output pytree."""
    return jax.tree_util.tree_map(lambda a: a[trials], tree)
