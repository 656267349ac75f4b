"""Hierarchical network configuration (JSON), hnn-core 0.6.1's format:
``network_to_dict``, ``write_network_configuration``, ``dict_to_network``,
``read_network_configuration`` and ``convert_to_json``.

A configuration holds the grid, gid ranges, positions (µm), drives, biases
and every connection with its gid pairs, so a network moves between hnnjax
and hnn-core in either direction.  Cells are hnnjax's four cell types, with
any geometry, biophysics and receptors (``cell_config``: e.g. hnn-core's
``calcium_model`` and ``law_2021_model`` files, or cells edited by
``modify_section``).
Electrode arrays (``rec_arrays``) keep their recordings only with ``write_output``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .._checks import check_bool
from ..cells.cell_object import CellObject
from ..cells.cell_types import CELL_TYPES
from .cell_config import cell_type_from_dict, cell_type_to_dict
from .params import read_params

_CONN_KEYS = ("target_type", "target_gids", "num_targets", "src_type", "src_gids", "num_srcs",
              "gid_pairs", "loc", "receptor", "nc_dict", "allow_autapses", "probability")


def _plain(obj):
    """``obj`` with arrays, tuples, sets and ranges as lists and NumPy
    scalars as Python numbers (JSON-ready)."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, range, np.ndarray)):
        return [_plain(v) for v in (sorted(obj) if isinstance(obj, set) else obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _conn_to_dict(conn):
    out = {key: conn[key] for key in _CONN_KEYS}
    out["gid_pairs"] = {str(src): list(tgts) for src, tgts in conn["gid_pairs"].items()}
    out["allow_autapses"] = int(conn["allow_autapses"])
    return out


def network_to_dict(net, write_output=False):
    """The network as a dict in hnn-core's layout (see the module doc).

    ``write_output`` also keeps drive events and ``cell_response`` (spikes
    and traces of the last simulation); otherwise both are left empty.
    """
    from ..network.network import Network

    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network; got {type(net).__name__}")
    check_bool("write_output", write_output)
    drives = {}
    for name, drive in net.external_drives.items():
        drives[name] = dict(drive, events=drive["events"] if write_output else [])
    respond = write_output and net.cell_response is not None
    return _plain({
        "object_type": "Network", "legacy_mode": net._legacy_mode,
        "N_pyr_x": net.mesh_shape[0], "N_pyr_y": net.mesh_shape[1], "celsius": net.celsius,
        "cell_types": {name: cell_type_to_dict(ct) for name, ct in net.cell_types.items()},
        "gid_ranges": {name: {"start": r.start, "stop": r.stop}
                       for name, r in net.gid_ranges.items()},
        "pos_dict": dict(net.pos_dict),
        "cell_response": net.cell_response.to_dict() if respond else {},
        "external_drives": drives,
        "external_biases": {kind: b for kind, b in net.external_biases.items() if b},
        "connectivity": [_conn_to_dict(conn) for conn in net.connectivity],
        "rec_arrays": {name: dict(arr.to_dict(), **({} if write_output else {"times": [], "voltages": []}))
                       for name, arr in net.rec_arrays.items()},
        "threshold": net.threshold, "delay": net.delay,
    })


def write_network_configuration(net, output, overwrite=True):
    """Write ``net`` as indented JSON (outputs of simulations left out).

    ``output`` is a path (str or Path; an existing file is an error unless
    ``overwrite``) or a text buffer, rewound after writing.
    """
    check_bool("overwrite", overwrite)
    data = network_to_dict(net, write_output=False)
    if isinstance(output, (str, os.PathLike)):
        if not overwrite and os.path.exists(output):
            raise FileExistsError(f"{output} exists; pass overwrite=True to replace it")
        with open(output, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=4)
    elif hasattr(output, "write") and hasattr(output, "seek"):
        json.dump(data, output, ensure_ascii=False, indent=4)
        output.seek(0)
    else:
        raise TypeError(f"output must be a path or a text buffer; got {type(output).__name__}")


def _add_drive(net, drive):
    """Re-add a drive of the file with its own arguments (events cleared)."""
    name, kind, dyn = drive["name"], drive["type"], drive["dynamics"]
    common = dict(location=drive["location"], weights_ampa=drive["weights_ampa"] or None,
                  weights_nmda=drive["weights_nmda"] or None,
                  synaptic_delays=drive["synaptic_delays"], probability=drive["probability"])
    if "space_constant" in drive:  # hnnjax's files; hnn-core's keep it in the connections only
        common["space_constant"] = drive["space_constant"]
    if kind == "spike_train":
        spike_data = list(zip(dyn["times"], dyn["gids"]))
        return net.add_spike_train_drive(name, spike_data=spike_data,
                                         conn_seed=drive["conn_seed"], **common)
    common.update(cell_specific=drive["cell_specific"], event_seed=drive["event_seed"],
                  conn_seed=drive["conn_seed"],
                  n_drive_cells="n_cells" if drive["cell_specific"] else drive["n_drive_cells"])
    if kind in ("evoked", "gaussian"):
        net.add_evoked_drive(name, mu=dyn["mu"], sigma=dyn["sigma"],
                             numspikes=dyn["numspikes"], **common)
    elif kind == "poisson":
        net.add_poisson_drive(name, tstart=dyn["tstart"], tstop=dyn["tstop"],
                              rate_constant=dyn["rate_constant"], **common)
    elif kind == "bursty":
        net.add_bursty_drive(name, **{k: dyn[k] for k in (
            "tstart", "tstart_std", "tstop", "burst_rate", "burst_std", "numspikes",
            "spike_isi")}, **common)
    else:
        raise ValueError(f"external_drives[{name!r}]: unknown drive type {kind!r}")


def _add_connection(net, conn):
    """Re-create a connection of the file with exactly its gid pairs."""
    pairs = {int(src): list(tgts) for src, tgts in conn["gid_pairs"].items()}
    nc = conn["nc_dict"]
    # a source with no targets left (its autapse removed, as on a 1x1 grid) is given the
    # connection's targets, so that their type is known; its pairs are the file's
    targets = [tgts or sorted(conn["target_gids"]) for tgts in pairs.values()]
    net.add_connection(list(pairs), targets, conn["loc"], conn["receptor"],
                       weight=nc["A_weight"], delay=nc["A_delay"], lamtha=nc["lamtha"],
                       threshold=nc.get("threshold"), gain=nc.get("gain", 1.0),
                       allow_autapses=bool(conn["allow_autapses"]))
    # pairs already drawn; the gid sets describe the connection before pruning
    net.connectivity[-1].update(gid_pairs=pairs, probability=conn["probability"],
                                src_gids=set(conn["src_gids"]),
                                target_gids=set(conn["target_gids"]),
                                num_srcs=conn["num_srcs"], num_targets=conn["num_targets"])


def dict_to_network(net_data, read_drives=True, read_external_biases=True):
    """A Network from a dict in hnn-core's layout (:func:`network_to_dict`).

    Connections keep exactly the file's gid pairs: pairs that a probability
    < 1 removed stay removed (none are drawn again).  ``read_drives`` and
    ``read_external_biases`` False leave those out.  Simulation outputs in
    the dict are ignored, as in hnn-core.
    """
    from ..network.network import Network

    if not isinstance(net_data, dict):
        raise TypeError(f"net_data must be a dict; got {type(net_data).__name__}")
    check_bool("read_drives", read_drives)
    check_bool("read_external_biases", read_external_biases)
    missing = [k for k in ("N_pyr_x", "N_pyr_y", "celsius", "threshold", "cell_types",
                           "gid_ranges", "pos_dict", "external_drives", "external_biases",
                           "connectivity") if k not in net_data]
    if missing:
        raise ValueError(f"net_data lacks {missing}: not a network configuration")
    names = list(net_data["cell_types"])
    if names != list(CELL_TYPES):
        raise ValueError(f"net_data's cell types {names} are not hnn-core's "
                         f"{list(CELL_TYPES)}, the only ones hnnjax simulates")
    cells = {name: cell_type_from_dict(name, net_data["cell_types"][name]) for name in names}
    params = read_params({"celsius": net_data["celsius"], "threshold": net_data["threshold"]})
    pos_dict = {name: net_data["pos_dict"].get(name) for name in [*names, "origin"]}
    net = Network(params, legacy_mode=net_data.get("legacy_mode", False),
                  mesh_shape=(net_data["N_pyr_x"], net_data["N_pyr_y"]), pos_dict=pos_dict,
                  cell_types={name: {"cell_object": CellObject(ct)} for name, ct in cells.items()})
    gid_ranges = {name: range(r["start"], r["stop"]) for name, r in net_data["gid_ranges"].items()}
    unplaced = [name for name in net_data["external_drives"] if name not in gid_ranges]
    if unplaced:
        raise ValueError(f"net_data's gid_ranges have no gids for the drive(s) {unplaced}")
    drives = sorted(net_data["external_drives"].values(), key=lambda d: gid_ranges[d["name"]].start)
    for drive in drives:
        _add_drive(net, drive)
    if dict(net.gid_ranges) != gid_ranges:
        raise ValueError(f"net_data's gid_ranges {gid_ranges} do not match its cells and "
                         f"drives, which give {dict(net.gid_ranges)}")
    net.connectivity = []
    for conn in net_data["connectivity"]:
        _add_connection(net, conn)
    if read_external_biases:
        for kind, biases in net_data["external_biases"].items():
            if kind != "tonic":
                raise ValueError(f"external_biases: unknown bias type {kind!r} (only 'tonic')")
            for cell_type, bias in biases.items():
                net.add_tonic_bias(cell_type=cell_type, **bias)
    net.delay = net_data.get("delay", net.delay)
    if not read_drives:
        net.clear_drives()
    for name, arr in (net_data.get("rec_arrays") or {}).items():  # recordings are outputs: not read
        missing = [k for k in ("positions", "conductivity", "method", "min_distance") if k not in arr]
        if missing:
            raise ValueError(f"net_data['rec_arrays'][{name!r}] lacks {missing}")
        net.add_electrode_array(name, [tuple(p) for p in arr["positions"]],
                                conductivity=arr["conductivity"], method=arr["method"],
                                min_distance=arr["min_distance"])
    return net


def read_network_configuration(fname, read_drives=True, read_external_biases=True):
    """Read a network written by :func:`write_network_configuration` or
    hnn-core (see :func:`dict_to_network`)."""
    if not isinstance(fname, (str, os.PathLike)):
        raise TypeError(f"fname must be a str or path; got {fname!r}")
    with open(fname, encoding="utf-8") as f:
        try:
            net_data = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f"{fname} is not JSON: {err}") from None
    if not isinstance(net_data, dict) or net_data.get("object_type") != "Network":
        raise ValueError(f"{fname} does not hold a Network (its object_type is "
                         f"{net_data.get('object_type') if isinstance(net_data, dict) else None!r})")
    return dict_to_network(net_data, read_drives, read_external_biases)


def _nulled(drive):
    """Legacy files switch drives off with start after stop, negative
    times or no positive weight."""
    dyn = drive["dynamics"]
    tstart, tstop = dyn.get("tstart"), dyn.get("tstop")
    if tstart is not None and tstop is not None and (tstart > tstop or min(tstart, tstop) < 0):
        return True
    return not any(w > 0 for key in ("weights_ampa", "weights_nmda")
                   for w in (drive[key] or {}).values())


def convert_to_json(params_fname, out_fname, include_drives=True, overwrite=True):
    """Write the network a flat parameter file (.json or legacy .param)
    describes as a hierarchical configuration (``out_fname``, '.json'
    appended if missing); drives switched off in the file are left out and
    the rest renumbered, as in hnn-core.  The network is built as hnnjax
    builds it, in non-legacy mode (hnn-core converts .param files in legacy
    mode, whose drives can differ; see ``Network``'s ``legacy_mode``)."""
    from ..network_models import neymotin_2020_model

    for name, value in (("params_fname", params_fname), ("out_fname", out_fname)):
        if not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"{name} must be a str or path; got {value!r}")
    check_bool("include_drives", include_drives)
    out_fname = Path(out_fname)
    if out_fname.suffix != ".json":
        out_fname = out_fname.with_suffix(".json")
    net = neymotin_2020_model(read_params(params_fname), add_drives_from_params=include_drives)
    kept = [drive for drive in net.external_drives.values() if not _nulled(drive)]
    if len(kept) < len(net.external_drives):
        net.clear_drives()
        for drive in kept:
            _add_drive(net, drive)
    write_network_configuration(net, out_fname, overwrite=overwrite)
