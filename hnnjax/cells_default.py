"""hnn-core's cell builders (``hnn_core.cells_default``): one cell of a
model cell type, as hnn-core's ``Cell`` vocabulary sees it
(``cells.cell_object.CellObject``) -- for looking at and plotting; a
network's cells are ``net.cell_types[name]['cell_object']``."""
from __future__ import annotations

from ._checks import check_number, check_option
from .cells.cell_object import CellObject
from .cells.cell_types import basket as _basket_type, l2_pyramidal, l5_pyramidal, l5_pyramidal_ca

_PYRAMIDAL = {"L2_pyramidal": l2_pyramidal, "L5_pyramidal": l5_pyramidal}


def _placed(cell_type, pos, gid):
    if not isinstance(pos, (tuple, list)) or len(pos) != 3:
        raise TypeError(f"pos must be an (x, y, z) tuple in µm; got {pos!r}")
    cell = CellObject(cell_type)
    cell.pos = tuple(check_number(f"pos[{k}]", p, unit=" µm") for k, p in enumerate(pos))
    cell.gid = gid
    return cell


def _no_overrides(override_params):
    if override_params is not None:
        raise NotImplementedError("override_params is not supported: hnnjax's cell types are "
                                  "compiled models; edit cell.synapses or del "
                                  "cell.sections[name].mechs[mech]")


def pyramidal(cell_name, pos=(0, 0, 0), override_params=None, gid=None):
    """The L2/3 or L5 pyramidal cell (``cell_name`` 'L2_pyramidal' or
    'L5_pyramidal') with its soma at ``pos`` µm.  ``override_params`` is
    not supported: edit ``synapses`` and ``sections[...].mechs`` instead."""
    check_option("cell_name", cell_name, tuple(_PYRAMIDAL))
    _no_overrides(override_params)
    return _placed(_PYRAMIDAL[cell_name](), pos, gid)


def pyramidal_ca(cell_name, pos=(0, 0, 0), override_params=None, gid=None):
    """The L5 pyramidal cell of ``calcium_model`` (``cell_name``
    'L5_pyramidal'; hnn-core's distance-dependent ca and hh2 conductances)
    with its soma at ``pos`` µm.  ``override_params`` is not supported, as
    in ``pyramidal``."""
    check_option("cell_name", cell_name, ("L5_pyramidal",))
    _no_overrides(override_params)
    return _placed(l5_pyramidal_ca(), pos, gid)


def basket(cell_name, pos=(0, 0, 0), gid=None):
    """The L2/3 or L5 basket cell (``cell_name`` 'L2_basket' or
    'L5_basket') with its soma at ``pos`` µm."""
    check_option("cell_name", cell_name, ("L2_basket", "L5_basket"))
    return _placed(_basket_type(int(cell_name[1])), pos, gid)
