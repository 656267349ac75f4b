from .connectivity import plot_cell_connectivity, plot_connectivity_matrix, plot_drive_strength  # noqa: F401
from .dipole import plot_dipole  # noqa: F401
from .laminar import plot_laminar_csd, plot_laminar_lfp  # noqa: F401
from .network import plot_cell_morphology, plot_cells  # noqa: F401
from .network_plotter import NetworkPlotter  # noqa: F401
from .spectral import plot_psd, plot_tfr_morlet  # noqa: F401
from .spikes import plot_spikes_hist, plot_spikes_raster  # noqa: F401
