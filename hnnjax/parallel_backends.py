"""hnn-core's parallel backends, kept so that scripts port unchanged.

hnn-core runs trials in separate processes (joblib) or splits cells over MPI
ranks.  hnnjax needs neither: every trial of a ``simulate_dipole`` call runs in
one vectorised, compiled call on the JAX device.  These context managers only
check their arguments; entering them changes nothing.
"""
import numbers


def _check_optional_bool(value, name):
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{name} must be None, True or False; got {value!r}")


class JoblibBackend:
    """Accepted for hnn-core compatibility; simulation is unaffected.

    hnnjax already runs all trials of a ``simulate_dipole`` call together in
    one vectorised compiled call, so no worker processes are started.

    Parameters
    ----------
    n_jobs : int | None
        Number of parallel jobs hnn-core would use (an int other than 0, as
        in joblib, or None).
    """

    def __init__(self, n_jobs=1):
        if n_jobs is not None and (isinstance(n_jobs, bool)
                                   or not isinstance(n_jobs, numbers.Integral)
                                   or n_jobs == 0):
            raise ValueError(f"n_jobs must be None or a nonzero int; got {n_jobs!r}")
        self.n_jobs = n_jobs

    def __repr__(self):
        return f"<JoblibBackend | n_jobs={self.n_jobs}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None


class MPIBackend:
    """Accepted for hnn-core compatibility; simulation is unaffected.

    hnnjax already runs all trials of a ``simulate_dipole`` call together in
    one vectorised compiled call, so no MPI processes are launched and
    neither MPI nor ``mpi4py`` is needed.

    Parameters
    ----------
    n_procs : int | None
        Number of MPI processes hnn-core would start (>= 1, or None).
    mpi_cmd : str
        The MPI launcher hnn-core would call.
    use_hwthreading_if_found, sensible_default_cores : bool
        hnn-core's core-count options.
    override_hwthreading_option, override_oversubscribe_option : bool | None
        hnn-core's MPI flag overrides.
    """

    def __init__(self, n_procs=None, mpi_cmd="mpiexec", use_hwthreading_if_found=True,
                 sensible_default_cores=True, override_hwthreading_option=None,
                 override_oversubscribe_option=None):
        if n_procs is not None and (isinstance(n_procs, bool)
                                    or not isinstance(n_procs, numbers.Integral)
                                    or n_procs < 1):
            raise ValueError(f"n_procs must be None or an int >= 1; got {n_procs!r}")
        if not isinstance(mpi_cmd, str) or not mpi_cmd:
            raise ValueError(f"mpi_cmd must be a non-empty str; got {mpi_cmd!r}")
        for name, value in (("use_hwthreading_if_found", use_hwthreading_if_found),
                            ("sensible_default_cores", sensible_default_cores)):
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be True or False; got {value!r}")
        _check_optional_bool(override_hwthreading_option, "override_hwthreading_option")
        _check_optional_bool(override_oversubscribe_option, "override_oversubscribe_option")
        self.n_procs = n_procs
        self.mpi_cmd = mpi_cmd

    def __repr__(self):
        return f"<MPIBackend | n_procs={self.n_procs}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None
