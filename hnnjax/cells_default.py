"""hnn-core's cell builders (``hnn_core.cells_default``): one cell of a
model cell type, as hnn-core's ``Cell`` vocabulary sees it
(``cells.cell_object.CellObject``) -- for looking at, plotting and
putting in a network (``net.cell_types[name]['cell_object'] = cell``); a
network's cells are ``net.cell_types[name]['cell_object']``."""
from __future__ import annotations

from ._checks import check_number, check_option
from .cells.cell import Cell, Section  # noqa: F401  (hnn-core's cells_default has them)
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


def pyramidal(cell_name, pos=(0, 0, 0), override_params=None, gid=None):
    """The L2/3 or L5 pyramidal cell (``cell_name`` 'L2_pyramidal' or
    'L5_pyramidal') with its soma at ``pos`` µm.  ``override_params``:
    hnn-core's flat parameters to change, e.g. ``{'L5Pyr_apicaltuft_L':
    500.0, 'L5Pyr_dend_gnabar_hh2': 0.12}`` (keys as in hnn-core's
    ``get_L5Pyr_params_default``; mechanism parameters may be functions
    of path distance from soma(0), µm).  Unknown keys are an
    error, where hnn-core ignores them.  Put the cell in a network with
    ``net.cell_types[cell_name]['cell_object'] = cell``."""
    check_option("cell_name", cell_name, tuple(_PYRAMIDAL))
    return _placed(_PYRAMIDAL[cell_name](override_params), pos, gid)


def pyramidal_ca(cell_name, pos=(0, 0, 0), override_params=None, gid=None):
    """The L5 pyramidal cell of ``calcium_model`` (``cell_name``
    'L5_pyramidal'; hnn-core's distance-dependent ca and hh2 conductances)
    with its soma at ``pos`` µm; ``override_params`` as in ``pyramidal``,
    except for the soma's and dendrites' hh2 gnabar and gkbar and the
    dendrites' ca gbar, which the model sets (as hnn-core does)."""
    check_option("cell_name", cell_name, ("L5_pyramidal",))
    return _placed(l5_pyramidal_ca(override_params), pos, gid)


def basket(cell_name, pos=(0, 0, 0), gid=None):
    """The L2/3 or L5 basket cell (``cell_name`` 'L2_basket' or
    'L5_basket') with its soma at ``pos`` µm."""
    check_option("cell_name", cell_name, ("L2_basket", "L5_basket"))
    return _placed(_basket_type(int(cell_name[1])), pos, gid)
