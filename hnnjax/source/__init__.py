"""MEG sensor data -> target Dipole (nAm) with MNE-Python, and a synthetic
offline recording to test and demonstrate it."""
from .inverse import label_dipole
from .somato import SomatoDataNotFoundError, somato_paths, somato_target
from .synthetic import SyntheticMEG, make_synthetic_meg

__all__ = ['label_dipole', 'somato_target', 'somato_paths',
           'SomatoDataNotFoundError', 'make_synthetic_meg', 'SyntheticMEG']
