"""The published HNN column (hnn-core's ``neymotin_2020_model``) and its ERP drives."""
from __future__ import annotations

import warnings

from ._checks import check_bool, check_number
from .cells.cell_types import l5_pyramidal_ca
from .io.params import drive_specs_from_params, params_path, read_params
from .network.network import Network

# (source, target, loc, receptor, params key, λ (µm), autapses allowed), in
# hnn-core's creation order (spec §5.3).  A_delay is 1 ms for all.
_LOCAL_CONNECTIONS = (
    ("L2_pyramidal", "L2_pyramidal", "proximal", "nmda", "gbar_L2Pyr_L2Pyr_nmda", 3.0, False),
    ("L2_pyramidal", "L2_pyramidal", "proximal", "ampa", "gbar_L2Pyr_L2Pyr_ampa", 3.0, False),
    ("L5_pyramidal", "L5_pyramidal", "proximal", "nmda", "gbar_L5Pyr_L5Pyr_nmda", 3.0, False),
    ("L5_pyramidal", "L5_pyramidal", "proximal", "ampa", "gbar_L5Pyr_L5Pyr_ampa", 3.0, False),
    ("L2_basket", "L2_pyramidal", "soma", "gabaa", "gbar_L2Basket_L2Pyr_gabaa", 50.0, True),
    ("L2_basket", "L2_pyramidal", "soma", "gabab", "gbar_L2Basket_L2Pyr_gabab", 50.0, True),
    ("L5_basket", "L5_pyramidal", "soma", "gabaa", "gbar_L5Basket_L5Pyr_gabaa", 70.0, True),
    ("L5_basket", "L5_pyramidal", "soma", "gabab", "gbar_L5Basket_L5Pyr_gabab", 70.0, True),
    ("L2_pyramidal", "L5_pyramidal", "proximal", "ampa", "gbar_L2Pyr_L5Pyr", 3.0, True),
    ("L2_pyramidal", "L5_pyramidal", "distal", "ampa", "gbar_L2Pyr_L5Pyr", 3.0, True),
    ("L2_basket", "L5_pyramidal", "distal", "gabaa", "gbar_L2Basket_L5Pyr", 50.0, True),
    ("L2_pyramidal", "L2_basket", "soma", "ampa", "gbar_L2Pyr_L2Basket", 3.0, True),
    ("L2_basket", "L2_basket", "soma", "gabaa", "gbar_L2Basket_L2Basket", 20.0, True),
    ("L5_basket", "L5_basket", "soma", "gabaa", "gbar_L5Basket_L5Basket", 20.0, False),
    ("L5_pyramidal", "L5_basket", "soma", "ampa", "gbar_L5Pyr_L5Basket", 3.0, True),
    ("L2_pyramidal", "L5_basket", "soma", "ampa", "gbar_L2Pyr_L5Basket", 3.0, True),
)


def neymotin_2020_model(params=None, add_drives_from_params=False, legacy_mode=False,
                        mesh_shape=(10, 10)):
    """The HNN column with all 16 local connection types.

    ``params``: a params dict or file (.json / .param); ``None`` uses the
    shipped ``default.json``.  Weights come from its ``gbar_*`` keys.
    """
    check_bool("add_drives_from_params", add_drives_from_params)
    if params is None:
        params = params_path("default")
    if not isinstance(params, dict):
        params = read_params(params)
    net = Network(params, add_drives_from_params=False, legacy_mode=legacy_mode,
                  mesh_shape=mesh_shape)
    for src, tgt, loc, receptor, key, lamtha, autapses in _LOCAL_CONNECTIONS:
        weight = check_number(f"params[{key!r}]", net._params.get(key, 0.0), ge=0, unit=" µS")
        net.add_connection(src, tgt, loc, receptor, weight=weight, delay=1.0, lamtha=lamtha,
                           allow_autapses=autapses)
    if add_drives_from_params:
        add_drives_from_params_to_net(net)
    return net


def jones_2009_model(params=None, add_drives_from_params=False, legacy_mode=False,
                     mesh_shape=(10, 10)):
    """:func:`neymotin_2020_model` under its old name, deprecated as in
    hnn-core 0.6.1 (``DeprecationWarning``)."""
    warnings.warn("jones_2009_model is deprecated, as in hnn-core: call the same model "
                  "by its accurate name, neymotin_2020_model; the old name stays "
                  "available for backwards compatibility", DeprecationWarning, stacklevel=2)
    return neymotin_2020_model(params, add_drives_from_params, legacy_mode, mesh_shape)


def law_2021_model(params=None, add_drives_from_params=False, legacy_mode=False,
                   mesh_shape=(10, 10)):
    """:func:`neymotin_2020_model` as Law et al. (Cereb. Cortex 2022) changed it
    for beta events, as hnn-core builds it: GABA-B on the pyramidal cells
    rises in 45 ms and decays in 200 ms; L5 pyramidal recurrent NMDA weight
    0.0004 µS, L5 basket -> L5 pyramidal GABA-A 0.02 and GABA-B 0.005 µS;
    no ca channel on the L5 soma and basal dendrites; L2 basket -> L5
    pyramidal inhibition distal GABA-B (0.0002 µS, λ 50) instead of GABA-A;
    and a distal L5 basket -> L5 pyramidal GABA-A connection (λ 70)."""
    net = neymotin_2020_model(params, add_drives_from_params, legacy_mode, mesh_shape)
    for name in ("L2_pyramidal", "L5_pyramidal"):
        net.cell_types[name]["cell_object"].synapses["gabab"].update(tau1=45.0, tau2=200.0)
    # connectivity indices are hnn-core's (neymotin_2020_model's order)
    net.connectivity[2]["nc_dict"]["A_weight"] = 0.0004  # L5 pyr -> L5 pyr nmda
    net.connectivity[6]["nc_dict"]["A_weight"] = 0.02  # L5 basket -> L5 pyr gabaa
    net.connectivity[7]["nc_dict"]["A_weight"] = 0.005  # L5 basket -> L5 pyr gabab
    sections = net.cell_types["L5_pyramidal"]["cell_object"].sections
    for sec in ("soma", "basal_1", "basal_2", "basal_3"):
        del sections[sec].mechs["ca"]
    del net.connectivity[10]  # L2 basket -> L5 pyr gabaa
    net.add_connection("L2_basket", "L5_pyramidal", "distal", "gabab", 0.0002, net.delay, 50.0)
    net.add_connection("L5_basket", "L5_pyramidal", "distal", "gabaa",
                       net._params["gbar_L5Basket_L5Pyr_gabaa"], net.delay, 70.0)
    return net


def calcium_model(params=None, add_drives_from_params=False, legacy_mode=False,
                  mesh_shape=(10, 10)):
    """:func:`neymotin_2020_model` with hnn-core's ``calcium_model`` L5
    pyramidal cells (Kohl et al. 2022): conductances that vary with the
    distance from the soma, dendritic calcium rising towards the tuft (see
    :func:`hnnjax.cells.cell_types.l5_pyramidal_ca`)."""
    net = neymotin_2020_model(params, add_drives_from_params, legacy_mode, mesh_shape)
    net.cell_types["L5_pyramidal"] = l5_pyramidal_ca()
    return net


def add_drives_from_params_to_net(net, tstop=None):
    """Add the drives a params file describes, then shift every drive's
    event seed by the gid of its first drive cell (hnn-core's rule, §6.3)."""
    if tstop is not None:
        tstop = check_number("tstop", tstop, gt=0, unit=" ms")
    specs = drive_specs_from_params(net._params, tstop=tstop)
    for name, spec in specs.items():
        spec = dict(spec)
        kind = spec.pop("type")
        if kind == "gaussian":
            kind = "evoked"
        try:
            getattr(net, f"add_{kind}_drive")(name, **spec)
        except (TypeError, ValueError) as err:  # say where the bad value came from
            raise type(err)(f"drive {name!r} from the params: {err}") from None
    for name in specs:
        net.external_drives[name]["event_seed"] += net.gid_ranges[name][0]
    return net


def add_erp_drives_to_jones_model(net, tstart=0.0):
    """The canonical ERP: evdist1, evprox1, evprox2 (spec §6.4), cell specific."""
    tstart = check_number("tstart", tstart, unit=" ms")
    prox_delays = {"L2_basket": 0.1, "L2_pyramidal": 0.1, "L5_basket": 1.0, "L5_pyramidal": 1.0}
    net.add_evoked_drive(
        "evdist1", mu=63.53 + tstart, sigma=3.85, numspikes=1, location="distal",
        weights_ampa={"L2_basket": 0.006562, "L2_pyramidal": 0.000007, "L5_pyramidal": 0.142300},
        weights_nmda={"L2_basket": 0.019482, "L2_pyramidal": 0.004317, "L5_pyramidal": 0.080074},
        synaptic_delays={"L2_basket": 0.1, "L2_pyramidal": 0.1, "L5_pyramidal": 0.1}, event_seed=274)
    net.add_evoked_drive(
        "evprox1", mu=26.61 + tstart, sigma=2.47, numspikes=1, location="proximal",
        weights_ampa={"L2_basket": 0.08831, "L2_pyramidal": 0.01525, "L5_basket": 0.19934,
                      "L5_pyramidal": 0.00865},
        synaptic_delays=prox_delays, event_seed=544)
    net.add_evoked_drive(
        "evprox2", mu=137.12 + tstart, sigma=8.33, numspikes=1, location="proximal",
        weights_ampa={"L2_basket": 0.000003, "L2_pyramidal": 1.438840, "L5_basket": 0.008958,
                      "L5_pyramidal": 0.684013},
        synaptic_delays=prox_delays, event_seed=814)
    return net


def somato_model(params=None):
    """The median-nerve (N20) network of hnn-core's somatosensory example:
    ``N20.json`` local weights plus its four synchronous evoked drives."""
    net = neymotin_2020_model(params_path("N20") if params is None else params)
    return add_somato_drives_to_jones_model(net)


def add_somato_drives_to_jones_model(net):
    """The four drives of hnn-core 0.6.1's somatosensory example (spec §9.2):
    one synchronous source each (``n_drive_cells=1, cell_specific=False``)."""
    prox_delays = {"L2_basket": 0.1, "L2_pyramidal": 0.1, "L5_basket": 1.0, "L5_pyramidal": 1.0}
    common = dict(numspikes=1, n_drive_cells=1, cell_specific=False)
    net.add_evoked_drive(
        "evprox1", mu=21.0, sigma=4.0, location="proximal", synaptic_delays=prox_delays,
        weights_ampa={"L2_basket": 0.0036, "L2_pyramidal": 0.0039, "L5_basket": 0.0019, "L5_pyramidal": 0.0020},
        weights_nmda={"L2_basket": 0.0029, "L2_pyramidal": 0.0005, "L5_basket": 0.0030, "L5_pyramidal": 0.0019},
        event_seed=276, **common)
    net.add_evoked_drive(
        "evprox2", mu=134.0, sigma=4.5, location="proximal", synaptic_delays=prox_delays,
        weights_ampa={"L2_basket": 0.003, "L2_pyramidal": 0.0039, "L5_basket": 0.004, "L5_pyramidal": 0.0020},
        weights_nmda={"L2_basket": 0.001, "L2_pyramidal": 0.0005, "L5_basket": 0.002, "L5_pyramidal": 0.0020},
        event_seed=276, **common)
    net.add_evoked_drive(
        "evdist1", mu=32.0, sigma=2.5, location="distal", synaptic_delays=0.1,
        weights_ampa={"L2_basket": 0.0043, "L2_pyramidal": 0.0032, "L5_pyramidal": 0.0009},
        weights_nmda={"L2_basket": 0.0029, "L2_pyramidal": 0.0051, "L5_pyramidal": 0.0010},
        event_seed=277, **common)
    net.add_evoked_drive(
        "evdist2", mu=84.0, sigma=4.5, location="distal", synaptic_delays=0.1,
        weights_ampa={"L2_basket": 0.0041, "L2_pyramidal": 0.0019, "L5_pyramidal": 0.0018},
        weights_nmda={"L2_basket": 0.0032, "L2_pyramidal": 0.0018, "L5_pyramidal": 0.0017},
        event_seed=275, **common)
    return net
