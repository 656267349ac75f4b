"""The host-side network description, in hnn-core's vocabulary.

A ``Network`` holds cell types and positions, gid ranges, the connectivity
list, drives and tonic biases.  Nothing here touches JAX: ``compile.py``
turns it into arrays for the integrator.  Attribute names and layouts
(``gid_ranges``, ``pos_dict``, ``connectivity``, ``external_drives``,
``external_biases``, ``cell_response``) follow hnn-core 0.6.1 so that user
scripts port by changing the import.
"""
from __future__ import annotations

import copy
import itertools
import warnings
from collections import OrderedDict

import numpy as np

from .._checks import check_bool, check_int, check_number
from ..cells.cell_types import CELL_METADATA, CELL_TYPES, CellType, cell_types as default_cell_types
from ..drives.spec import make_drive
from ..io.params import Params, check_params, read_params
from .connectivity import pick_connection  # hnn-core scripts import it from here


GAIN_TYPES = ("e_e", "e_i", "i_e", "i_i")  # source -> target electro types


def _cell_coords(n_x: int, n_y: int, layer_separation: float, inplane: float) -> dict:
    """hnn-core's grid: pyramidal cells on every node, baskets on a sparse
    staggered subset sorted by y; drive cells sit at the grid 'origin'."""
    xs, ys = np.arange(n_x) * inplane, np.arange(n_y) * inplane

    def pyramidal(z):
        return [(float(x), float(y), float(z)) for x, y in itertools.product(xs, ys)]

    def basket(z):
        pts = list(itertools.product(np.arange(0, n_x, 3) * inplane, np.arange(0, n_y, 2) * inplane))
        pts += list(itertools.product(np.arange(1, n_x, 3) * inplane, np.arange(1, n_y, 2) * inplane))
        return [(float(x), float(y), float(z)) for x, y in sorted(pts, key=lambda p: p[1])]

    origin = (float(xs[(n_x - 1) // 2]), float(ys[(n_y - 1) // 2]), float(np.floor(layer_separation / 2)))
    return {
        "L2_basket": basket(0.8 * layer_separation),
        "L2_pyramidal": pyramidal(layer_separation),
        "L5_basket": basket(0.2 * layer_separation),
        "L5_pyramidal": pyramidal(0.0),
        "origin": origin,
    }


def _own_cells(pos_dict, cell_types):
    """``Network(pos_dict=, cell_types=)``, checked: the cell types (copies)
    and the positions (µm) in ``_cell_coords``' layout."""
    from ..cells.cell_object import CellObject

    for name, value in (("pos_dict", pos_dict), ("cell_types", cell_types)):
        if not isinstance(value, dict):
            raise TypeError(f"{name} must be a dict; got {type(value).__name__}")
    if list(cell_types) != list(CELL_TYPES):
        raise ValueError(f"cell_types must hold hnnjax's four cell types in hnn-core's order "
                         f"{list(CELL_TYPES)}; got {list(cell_types)}")
    if set(pos_dict) != {*CELL_TYPES, "origin"}:
        raise ValueError(f"pos_dict must hold the positions of {list(CELL_TYPES)} and 'origin'; "
                         f"got {list(pos_dict)}")
    types, coords = {}, {}
    for name, entry in cell_types.items():
        cell = entry.get("cell_object") if isinstance(entry, dict) else None
        if not isinstance(cell, CellObject) or cell._ct.name != name:
            raise TypeError(f"cell_types[{name!r}] must be {{'cell_object': cell}} with a {name} cell "
                            f"(hnnjax.cells_default or a network's cell_types[{name!r}]['cell_object'])")
        metadata = entry.get("cell_metadata", CELL_METADATA[name])
        if metadata != CELL_METADATA[name]:
            raise ValueError(f"cell_types[{name!r}]['cell_metadata'] must be hnn-core's "
                             f"{CELL_METADATA[name]}; got {metadata}")
        types[name] = copy.deepcopy(cell._ct)
    for name in [*CELL_TYPES, "origin"]:
        points = [pos_dict[name]] if name == "origin" else pos_dict[name]
        if not isinstance(points, (list, tuple, np.ndarray)):
            raise TypeError(f"pos_dict[{name!r}] must be a list of (x, y, z) positions in µm")
        for k, p in enumerate(points):
            if not isinstance(p, (list, tuple, np.ndarray)) or len(p) != 3:
                raise TypeError(f"pos_dict[{name!r}][{k}] must be an (x, y, z) position in µm; got {p!r}")
        coords[name] = [tuple(check_number(f"pos_dict[{name!r}][{k}][{i}]", x, unit=" µm")
                              for i, x in enumerate(p)) for k, p in enumerate(points)]
    coords["origin"] = coords["origin"][0]
    return types, coords


def _as_gid_list(net, gids, name):
    if isinstance(gids, str):
        if gids not in net.gid_ranges:
            raise ValueError(f"{name} {gids!r} is not a cell type or drive; use one of {list(net.gid_ranges)}")
        return list(net.gid_ranges[gids])
    if isinstance(gids, (int, np.integer)) and not isinstance(gids, bool):
        return [int(gids)]
    if not (isinstance(gids, (list, tuple, range, np.ndarray)) and all(
            isinstance(g, (int, np.integer)) and not isinstance(g, bool) for g in gids)):
        raise TypeError(f"{name} must be a cell type or drive name, a gid or a list of gids; "
                        f"got {gids!r}")
    return [int(g) for g in gids]


class _Drives(OrderedDict):
    """``Network.external_drives``: drive name -> drive dict.

    Deleting a drive (``del net.external_drives[name]``, as hnn-core scripts
    do, or ``pop``, ``popitem``, ``clear``) also removes its connections, so it no longer fires into the
    network; its gids stay reserved in ``gid_ranges`` as in hnn-core, where
    a deleted drive's cells are simply never built.
    """

    def __init__(self, net):
        super().__init__()
        self._net = net

    def __delitem__(self, name):
        super().__delitem__(name)
        self._net.connectivity = [c for c in self._net.connectivity if c["src_type"] != name]

    def pop(self, name, *default):
        if name not in self:
            return super().pop(name, *default)
        drive = self[name]
        del self[name]
        return drive

    def popitem(self, last=True):
        if not self:
            raise KeyError("popitem(): there are no drives")
        name = next(reversed(self)) if last else next(iter(self))
        return name, self.pop(name)

    def clear(self):
        for name in list(self):
            del self[name]

    def __reduce__(self):  # copy and pickle with the owning network
        return type(self), (self._net,), None, None, iter(self.items())


class Network:
    """The HNN column: cells, their positions, connections and drives.

    Parameters
    ----------
    params : dict | str | Path
        hnn-core parameters (a ``Params`` dict or a .json/.param file).
    add_drives_from_params : bool
        Add the drives that the parameter file describes.
    legacy_mode : bool
        hnn-core's compatibility mode for the old HNN GUI's .param files,
        deprecated there.  ``True`` gives hnn-core's ``DeprecationWarning``
        and a ``UserWarning``: hnnjax builds the non-legacy network (legacy
        mode's zero-weight drive targets, which renumber drive gids and so
        their random draws, and its params-file quirks are not reproduced).
    mesh_shape : tuple of int
        Pyramidal cells along x and y (100 each for (10, 10)).
    pos_dict, cell_types : dict | None
        Given together, the network's own cells instead of hnn-core's grid:
        ``cell_types`` maps each of the four cell types, in hnn-core's order,
        to ``{'cell_object': cell}`` (a cell of ``hnnjax.cells_default`` or
        a network's ``cell_types[name]['cell_object']``, edits included) and
        ``pos_dict`` maps each to its cells' (x, y, z) positions (µm), one
        cell per position, and 'origin' to the drives' position.
    """

    def __init__(self, params, add_drives_from_params=False, legacy_mode=False, mesh_shape=(10, 10),
                 pos_dict=None, cell_types=None):
        if check_bool("legacy_mode", legacy_mode):
            warnings.warn("legacy_mode only serves the old HNN GUI's .param files and will be "
                          "deprecated, as in hnn-core", DeprecationWarning, stacklevel=2)
            warnings.warn("legacy_mode=True: hnnjax builds the non-legacy network (drive gids "
                          "and random draws may differ from hnn-core's legacy mode)",
                          UserWarning, stacklevel=2)
        self._legacy_mode = bool(legacy_mode)
        check_bool("add_drives_from_params", add_drives_from_params)
        if not isinstance(mesh_shape, (tuple, list)) or len(mesh_shape) != 2:
            raise TypeError(f"mesh_shape must be a pair of integers >= 1; got {mesh_shape!r}")
        for i, m in enumerate(mesh_shape):
            check_int(f"mesh_shape[{i}]", m, ge=1)
        if isinstance(params, Params):
            check_params(params)
        self._params = params if isinstance(params, Params) else read_params(params)
        self.mesh_shape = tuple(int(m) for m in mesh_shape)
        self._inplane_distance = 1.0  # µm
        self._delivery_capacity = None  # connection chunks per step a run needed (simulate_dipole)
        self._layer_separation = 1307.4  # µm
        self.delay = 1.0  # ms, hnn-core's default local connection delay (informative)
        self.threshold = float(self._params.get("threshold", 0.0))
        self.celsius = float(self._params.get("celsius", 37.0))
        if self.celsius != 37.0:
            raise ValueError(f"celsius must be 37.0 (hnnjax's tables are built for it), got {self.celsius}")
        if (pos_dict is None) != (cell_types is None):
            raise ValueError("pos_dict and cell_types go together: give both (the network's own "
                             "cells and positions) or neither (hnn-core's grid of mesh_shape)")
        if pos_dict is None:
            coords = _cell_coords(*self.mesh_shape, self._layer_separation, self._inplane_distance)
            self.cell_types: dict[str, CellType] = default_cell_types()
        else:
            self.cell_types, coords = _own_cells(pos_dict, cell_types)
        self.pos_dict = OrderedDict()
        self.gid_ranges = OrderedDict()
        self._n_gids = 0
        for ct in CELL_TYPES:
            self._add_gids(ct, coords[ct])
        self.pos_dict["origin"] = coords["origin"]
        self.connectivity: list[dict] = []
        self.external_drives = _Drives(self)
        self.external_biases = {"tonic": OrderedDict()}
        self.rec_arrays = OrderedDict()  # name -> ExtracellularArray
        self.cell_response = None
        if add_drives_from_params:
            from ..network_models import add_drives_from_params_to_net
            add_drives_from_params_to_net(self)

    # ------------------------------------------------------------------ gids
    def _add_gids(self, name, positions):
        self.pos_dict[name] = list(positions)
        self.gid_ranges[name] = range(self._n_gids, self._n_gids + len(positions))
        self._n_gids += len(positions)

    def gid_to_type(self, gid):
        """Name of the cell type or drive owning ``gid`` (None if none)."""
        for name, r in self.gid_ranges.items():
            if gid in r:
                return name
        return None

    def copy(self):
        """A deep copy (drive events and results included)."""
        return copy.deepcopy(self)

    def to_dict(self, write_output=False):
        """The network as a dict in hnn-core's configuration layout; see
        :func:`hnnjax.network_to_dict`."""
        from ..io.network_config import network_to_dict

        return network_to_dict(self, write_output=write_output)

    def write_configuration(self, fname, overwrite=True):
        """Write the network as hnn-core's JSON configuration; see
        :func:`hnnjax.write_network_configuration`."""
        from ..io.network_config import write_network_configuration

        write_network_configuration(self, fname, overwrite)

    def set_cell_positions(self, *, inplane_distance=None, layer_separation=None):
        """Re-place the cells on the grid: pyramidal somas ``inplane_distance``
        µm apart, layers 2/3 and 5 ``layer_separation`` µm apart (None keeps
        the current value).  Drive cells move to the new origin.  Connection
        space constants scale with the in-plane distance, so weights and
        delays, like the dipole, do not change."""
        if inplane_distance is None:
            inplane_distance = self._inplane_distance
        if layer_separation is None:
            layer_separation = self._layer_separation
        inplane_distance = check_number("inplane_distance", inplane_distance, gt=0, unit=" µm")
        layer_separation = check_number("layer_separation", layer_separation, gt=0, unit=" µm")
        coords = _cell_coords(*self.mesh_shape, layer_separation, inplane_distance)
        for name in self.pos_dict:
            self.pos_dict[name] = (coords[name] if name in coords
                                   else [coords["origin"]] * len(self.gid_ranges[name]))
        self._inplane_distance, self._layer_separation = inplane_distance, layer_separation

    def filter_cell_types(self, **metadata_filters):
        """Names of the cell types whose metadata (:data:`CELL_METADATA`:
        morpho_type, electro_type, layer, measure_dipole, reference) has all
        the given values, e.g. ``electro_type='excitatory'``."""
        return [name for name in self.cell_types
                if all(k in CELL_METADATA[name] and CELL_METADATA[name][k] == v
                       for k, v in metadata_filters.items())]

    def _gain_connections(self):
        """Gain type ('e_e', 'e_i', 'i_e', 'i_i') -> indices of the local
        connections from cells of the first electro type to the second."""
        gids = {t[0]: [g for ct in self.filter_cell_types(electro_type=t)
                       for g in self.gid_ranges[ct]] for t in ("excitatory", "inhibitory")}
        return {key: pick_connection(self, src_gids=gids[key[0]], target_gids=gids[key[2]])
                for key in GAIN_TYPES}

    def set_global_synaptic_gains(self, e_e=None, e_i=None, i_e=None, i_i=None, copy=False):
        """Set the ``gain`` of all local connections between excitatory (e)
        and inhibitory (i) cells, by source and target type; None leaves a
        type unchanged.  Drives keep their gains.  ``copy=True`` changes and
        returns a copy, else the network changes in place (returns None)."""
        check_bool("copy", copy)
        gains = {key: check_number(key, g, ge=0)
                 for key, g in zip(GAIN_TYPES, (e_e, e_i, i_e, i_i)) if g is not None}
        net = self.copy() if copy else self
        for key, indices in net._gain_connections().items():
            for idx in indices if key in gains else ():
                net.connectivity[idx]["nc_dict"]["gain"] = gains[key]
        return net if copy else None

    def get_global_synaptic_gains(self):
        """Gain type ('e_e', 'e_i', 'i_e', 'i_i') -> the gain of its first
        connection; warns if gains differ within a type (then one number
        cannot describe it)."""
        values = {}
        for key, indices in self._gain_connections().items():
            gains = [self.connectivity[i]["nc_dict"]["gain"] for i in indices]
            if gains:
                values[key] = gains[0]
            if not np.allclose(gains, gains[:1]):
                warnings.warn(f"the {key} connections have different gains {sorted(set(gains))}; "
                              f"{key} reports the first", UserWarning, stacklevel=2)
        return values

    def plot_cells(self, ax=None, show=True):
        """3-D scatter of the cell positions by type; see :func:`hnnjax.viz.plot_cells`."""
        from ..viz.network import plot_cells

        return plot_cells(self, ax=ax, show=show)

    def __repr__(self):
        counts = ", ".join(f"{len(self.gid_ranges[c])} {c}" for c in self.cell_types)
        return f"<Network | {counts}; {len(self.connectivity)} connections; drives {list(self.external_drives)}>"

    # ----------------------------------------------------------- connections
    def add_connection(self, src_gids, target_gids, loc, receptor, weight, delay, lamtha,
                       threshold=None, gain=1.0, allow_autapses=True, probability=1.0,
                       conn_seed=None):
        """Connect sources to targets with hnn-core's Gaussian weight/delay rule.

        ``weight`` (µS) and ``delay`` (ms) apply at zero distance; at xy
        distance d they become ``weight·exp(-d²/λ²)`` and ``delay·exp(d²/λ²)``.
        ``target_gids`` may be a cell type name, a gid, a list/range of gids
        (shared by all sources) or a list of lists (one per source).
        """
        src = _as_gid_list(self, src_gids, "src_gids")
        if isinstance(target_gids, str):
            if target_gids not in self.cell_types:
                raise ValueError(f"target_gids {target_gids!r} must be a cell type: {list(self.cell_types)}")
            tgt = [list(self.gid_ranges[target_gids]) for _ in src]
        elif not isinstance(target_gids, (list, tuple, range, np.ndarray)) or all(
                not isinstance(t, (list, tuple, range, np.ndarray)) for t in target_gids):
            tgt = [_as_gid_list(self, target_gids, "target_gids") for _ in src]
        else:
            tgt = [_as_gid_list(self, ts, "target_gids") for ts in target_gids]
        if len(tgt) != len(src):
            raise ValueError("target_gids must hold one list of targets per source gid")
        target_types = {self.gid_to_type(t) for ts in tgt for t in ts}
        if len(target_types) != 1 or next(iter(target_types)) not in self.cell_types:
            raise ValueError(f"target_gids must all be cells of one type, got types {target_types}")
        target_type = target_types.pop()
        src_type = self.gid_to_type(src[0])
        if src_type is None or any(self.gid_to_type(s) != src_type for s in src):
            raise ValueError("src_gids must all exist and belong to one cell type or drive")
        ct = self.cell_types[target_type]
        for sec in ct.sections_for(loc):
            ct.synapse_index(sec, receptor)
        weight = check_number("weight", weight, ge=0, unit=" µS")
        delay = check_number("delay", delay, ge=0, unit=" ms")
        lamtha = check_number("lamtha", lamtha, gt=0)
        gain = check_number("gain", gain, ge=0)
        if threshold is not None:
            threshold = check_number("threshold", threshold, unit=" mV")
        probability = check_number("probability", probability, gt=0, le=1)
        check_bool("allow_autapses", allow_autapses)
        if conn_seed is not None:
            check_int("conn_seed", conn_seed, ge=0)
        gid_pairs = {}
        for s, ts in zip(src, tgt):
            gid_pairs[s] = [t for t in ts if allow_autapses or t != s]
        conn = {
            "src_type": src_type, "target_type": target_type,
            "src_gids": set(src), "num_srcs": len(src),
            "target_gids": {t for ts in tgt for t in ts}, "num_targets": len({t for ts in tgt for t in ts}),
            "gid_pairs": gid_pairs, "loc": loc, "receptor": receptor,
            "nc_dict": {"A_delay": float(delay), "A_weight": float(weight), "lamtha": float(lamtha),
                        "threshold": self.threshold if threshold is None else float(threshold),
                        "gain": float(gain)},
            "probability": probability, "allow_autapses": allow_autapses,
        }
        if probability != 1.0:
            _prune(conn, probability, conn_seed)
        self.connectivity.append(conn)

    def clear_connectivity(self):
        """Remove the local (cell-to-cell) connections; drives stay connected."""
        self.connectivity = [c for c in self.connectivity if c["src_type"] in self.external_drives]

    def clear_drives(self):
        """Remove every drive, its gids and its connections."""
        for name in list(self.external_drives):
            del self.gid_ranges[name]
            del self.pos_dict[name]
        self.connectivity = [c for c in self.connectivity if c["src_type"] not in self.external_drives]
        self.external_drives = _Drives(self)
        self._n_gids = sum(len(r) for r in self.gid_ranges.values())

    # ---------------------------------------------------------------- drives
    def add_evoked_drive(self, name, *, mu, sigma, numspikes, location, n_drive_cells="n_cells",
                         cell_specific=True, weights_ampa=None, weights_nmda=None,
                         space_constant=3.0, synaptic_delays=0.1, probability=1.0,
                         event_seed=2, conn_seed=3):
        """Gaussian-timed volley(s): ``numspikes`` events ~ N(mu, sigma²) ms."""
        self._add_drive("evoked", name, mu=mu, sigma=sigma, numspikes=numspikes, location=location,
                        n_drive_cells=n_drive_cells, cell_specific=cell_specific,
                        weights_ampa=weights_ampa, weights_nmda=weights_nmda,
                        space_constant=space_constant, synaptic_delays=synaptic_delays,
                        probability=probability, event_seed=event_seed, conn_seed=conn_seed)

    def add_poisson_drive(self, name, *, tstart=0, tstop=None, rate_constant, location,
                          n_drive_cells="n_cells", cell_specific=True, weights_ampa=None,
                          weights_nmda=None, space_constant=100.0, synaptic_delays=0.1,
                          probability=1.0, event_seed=2, conn_seed=3):
        """Poisson process at ``rate_constant`` Hz between tstart and tstop (ms)."""
        self._add_drive("poisson", name, tstart=tstart, tstop=tstop, rate_constant=rate_constant,
                        location=location, n_drive_cells=n_drive_cells, cell_specific=cell_specific,
                        weights_ampa=weights_ampa, weights_nmda=weights_nmda,
                        space_constant=space_constant, synaptic_delays=synaptic_delays,
                        probability=probability, event_seed=event_seed, conn_seed=conn_seed)

    def add_bursty_drive(self, name, *, tstart=0, tstart_std=0, tstop=None, location, burst_rate,
                         burst_std=0, numspikes=2, spike_isi=10, n_drive_cells=1,
                         cell_specific=False, weights_ampa=None, weights_nmda=None,
                         synaptic_delays=0.1, space_constant=100.0, probability=1.0,
                         event_seed=2, conn_seed=3):
        """Rhythmic bursts at ``burst_rate`` Hz with jitter ``burst_std`` ms."""
        self._add_drive("bursty", name, tstart=tstart, tstart_std=tstart_std, tstop=tstop,
                        location=location, burst_rate=burst_rate, burst_std=burst_std,
                        numspikes=numspikes, spike_isi=spike_isi, n_drive_cells=n_drive_cells,
                        cell_specific=cell_specific, weights_ampa=weights_ampa,
                        weights_nmda=weights_nmda, synaptic_delays=synaptic_delays,
                        space_constant=space_constant, probability=probability,
                        event_seed=event_seed, conn_seed=conn_seed)

    def add_spike_train_drive(self, name, *, spike_data, location, weights_ampa=None,
                              weights_nmda=None, synaptic_delays=0.1, space_constant=3.0,
                              probability=1.0, conn_seed=None):
        """Drive cells firing at given times (ms); no randomness."""
        self._add_drive("spike_train", name, spike_data=spike_data, location=location,
                        weights_ampa=weights_ampa, weights_nmda=weights_nmda,
                        synaptic_delays=synaptic_delays, space_constant=space_constant,
                        probability=probability, conn_seed=conn_seed)

    def _add_drive(self, drive_type, name, **kwargs):
        counts = OrderedDict((ct, len(self.gid_ranges[ct])) for ct in self.cell_types)
        drive = make_drive(drive_type, name, cell_types=counts,
                           existing_names=list(self.external_drives), **kwargs)
        for ct in drive["target_types"]:
            self.cell_types[ct].sections_for(drive["location"])
        self.external_drives[name] = drive
        self._add_gids(name, [self.pos_dict["origin"]] * drive["n_drive_cells"])
        delays = drive["synaptic_delays"]
        src_all = list(self.gid_ranges[name])
        start = 0
        for inc, ct in enumerate(drive["target_types"]):
            targets = list(self.gid_ranges[ct])
            if drive["cell_specific"]:
                src, tgt = src_all[start:start + len(targets)], [[t] for t in targets]
                start += len(targets)
            else:
                src, tgt = src_all, [targets for _ in src_all]
            for receptor, weights in (("ampa", drive["weights_ampa"]), ("nmda", drive["weights_nmda"])):
                if weights is None or ct not in weights:
                    continue
                prob = drive["probability"][ct] if isinstance(drive["probability"], dict) else drive["probability"]
                seed = None if drive["conn_seed"] is None else drive["conn_seed"] + inc
                self.add_connection(src, tgt, drive["location"], receptor, float(weights[ct]),
                                    float(delays[ct] if isinstance(delays, dict) else delays),
                                    float(drive["space_constant"]), probability=prob, conn_seed=seed)

    # ---------------------------------------------------------------- biases
    def add_electrode_array(self, name, electrode_pos, *, conductivity=0.3, method="psa",
                            min_distance=0.5):
        """Record the extracellular potential (µV) at ``electrode_pos`` (an
        (x, y, z) µm triplet or a list of them) in a conductor of
        ``conductivity`` S/m, by the point- (``'psa'``) or line-source
        (``'lsa'``) approximation, no source nearer than ``min_distance`` µm;
        after ``simulate_dipole`` the traces are in ``net.rec_arrays[name]``."""
        from ..extracellular import ExtracellularArray

        if not isinstance(name, str):
            raise TypeError(f"name must be a str; got {type(name).__name__}")
        if name in self.rec_arrays:
            raise ValueError(f"{name} already exists, use another name!")
        self.rec_arrays[name] = ExtracellularArray(electrode_pos, conductivity=conductivity,
                                                   method=method, min_distance=min_distance)

    def add_tonic_bias(self, *, cell_type=None, section="soma", bias_name="tonic", amplitude,
                       t0=0.0, tstop=None):
        """A constant current (nA) into ``section(0.5)`` of every cell of a type,
        on for t0 <= t < tstop ms (NEURON's IClamp).  ``amplitude`` may be a
        dict cell type -> nA (then ``cell_type`` must be None).  ``bias_name``
        must be 'tonic': hnnjax simulates one tonic bias per cell type."""
        if bias_name != "tonic":
            raise ValueError(f"bias_name must be 'tonic' (hnnjax simulates one tonic bias per "
                             f"cell type); got {bias_name!r}")
        if isinstance(amplitude, dict):
            if cell_type is not None:
                raise ValueError("cell_type must be None when amplitude is a dict")
            amps = amplitude
        else:
            if cell_type is None:
                raise ValueError("cell_type is required when amplitude is a number")
            amps = {cell_type: amplitude}
        for ct, amp in amps.items():
            if ct not in self.cell_types:
                raise ValueError(f"amplitude: unknown cell type {ct!r}; use one of {list(self.cell_types)}")
            if section not in self.cell_types[ct].section_names:
                raise ValueError(f"section {section!r} does not exist in {ct}: {self.cell_types[ct].section_names}")
            check_number(f"amplitude for {ct}", amp, unit=" nA")
            t0 = check_number("t0", t0, ge=0, unit=" ms")
            if tstop is not None:
                check_number("tstop", tstop, ge=t0, unit=" ms")
            if ct in self.external_biases["tonic"]:
                raise ValueError(f"a tonic bias for {ct} already exists")
            self.external_biases["tonic"][ct] = {"amplitude": float(amp), "t0": float(t0),
                                                 "tstop": None if tstop is None else float(tstop),
                                                 "section": section}


def _prune(conn, probability, conn_seed):
    """Keep a random ``probability`` share of the pairs (hnn-core's rule)."""
    rng = np.random.default_rng(conn_seed)
    n_all = sum(len(t) for t in conn["gid_pairs"].values())
    keep = set(rng.choice(range(n_all), int(np.round(n_all * probability)), replace=False).tolist())
    idx, pairs = 0, {}
    for s, ts in conn["gid_pairs"].items():
        kept = [t for j, t in enumerate(ts, start=idx) if j in keep]
        idx += len(ts)
        if kept:
            pairs[s] = kept
    conn["gid_pairs"] = pairs
