"""Finding and weighing connections: hnn-core 0.6.1's ``pick_connection``
and the distance rule behind its connectivity plots.

A connection (an entry of ``net.connectivity``) joins source gids to target
gids through ``gid_pairs``; its weight at xy distance d (µm) is
``A_weight·exp(-d²/(λ·inplane_distance)²)`` µS, the rule the simulator uses
(before the connection's ``gain``).
"""
from __future__ import annotations

import numpy as np

from .._checks import check_option

LOCATIONS = ("proximal", "distal", "soma")
RECEPTORS = ("ampa", "nmda", "gabaa", "gabab")


def _gid_set(net, gids, name, names):
    """``gids`` (None, a name in ``names``, a gid, or a list/range of gids or
    names) as a set of gids; None is the empty set (no condition)."""
    if gids is None:
        return set()
    items = [gids] if isinstance(gids, (str, int, np.integer)) else gids
    if isinstance(gids, bool) or not isinstance(items, (list, tuple, range)):
        raise TypeError(f"{name} must be None, a name, a gid or a list/range of gids; "
                        f"got {gids!r}")
    out = set()
    for item in items:
        if isinstance(item, str):
            check_option(name, item, tuple(names))
            out.update(net.gid_ranges[item])
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if net.gid_to_type(int(item)) is None:
                raise ValueError(f"{name}: gid {item} is not in net.gid_ranges "
                                 f"(0-{net._n_gids - 1})")
            out.add(int(item))
        else:
            raise TypeError(f"{name} must hold gids (int) or names (str); got {item!r}")
    return out


def _str_set(value, name, options):
    if value is None:
        return set()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"{name} must be None, a str or a list of str; got {value!r}")
    return {check_option(name, v, options) for v in items}


def pick_connection(net, src_gids=None, target_gids=None, loc=None, receptor=None):
    """Indices into ``net.connectivity`` of the connections that match.

    Parameters
    ----------
    net : Network
    src_gids : str | int | range | list | None
        Source gids, or names of cell types/drives standing for their gids.
    target_gids : str | int | range | list | None
        Target gids, or names of cell types standing for their gids.
    loc : str | list of str | None
        'proximal', 'distal' and/or 'soma'.
    receptor : str | list of str | None
        'ampa', 'nmda', 'gabaa' and/or 'gabab'.

    Returns
    -------
    conn_indices : list of int
        Sorted.  Values within one argument are OR-ed (a connection matches
        if it has any of the gids or locations given); arguments are AND-ed;
        None places no condition.  With no condition at all, nothing matches
        (as in hnn-core).
    """
    conditions = [
        (_gid_set(net, src_gids, "src_gids", net.gid_ranges), "src_gids"),
        (_gid_set(net, target_gids, "target_gids", net.cell_types), "target_gids"),
        (_str_set(loc, "loc", LOCATIONS), "loc"),
        (_str_set(receptor, "receptor", RECEPTORS), "receptor"),
    ]
    picked = None
    for wanted, key in conditions:
        if not wanted:
            continue
        hits = {i for i, conn in enumerate(net.connectivity)
                if (wanted & conn[key] if key.endswith("gids") else conn[key] in wanted)}
        picked = hits if picked is None else picked & hits
        if not picked:
            return []
    return sorted(picked or ())


def connection_weights(net, conn):
    """(source index, target index, weight µS) of every pair of ``conn``:
    indices count within the source's and target's gid ranges; the weight
    is the distance rule without ``gain``."""
    src_first = net.gid_ranges[conn["src_type"]][0]
    tgt_first = net.gid_ranges[conn["target_type"]][0]
    pairs = np.array([(s, t) for s, ts in conn["gid_pairs"].items() for t in ts], dtype=int)
    if not pairs.size:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    src, tgt = pairs[:, 0] - src_first, pairs[:, 1] - tgt_first
    src_pos = np.asarray(net.pos_dict[conn["src_type"]], dtype=float)[src]
    tgt_pos = np.asarray(net.pos_dict[conn["target_type"]], dtype=float)[tgt]
    d2 = np.sum((tgt_pos[:, :2] - src_pos[:, :2]) ** 2, axis=1)
    lam = conn["nc_dict"]["lamtha"] * net._inplane_distance
    return src, tgt, conn["nc_dict"]["A_weight"] * np.exp(-d2 / lam**2)
