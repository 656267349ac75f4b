"""hnn-core's parallel backends, kept so that scripts port unchanged.

hnn-core runs trials in separate processes (joblib) or splits cells over MPI
ranks.  hnnjax needs neither: every trial of a ``simulate_dipole`` call runs in
one vectorised, compiled call on the JAX device.  These context managers only
check their arguments; entering them changes nothing.
"""
from ._checks import check_bool, check_int


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
        if n_jobs is not None and check_int("n_jobs (or None)", n_jobs) == 0:
            raise ValueError("n_jobs must be None or a nonzero int; got 0")
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
        if n_procs is not None:
            check_int("n_procs (or None)", n_procs, ge=1)
        if not isinstance(mpi_cmd, str) or not mpi_cmd:
            raise ValueError(f"mpi_cmd must be a non-empty str; got {mpi_cmd!r}")
        check_bool("use_hwthreading_if_found", use_hwthreading_if_found)
        check_bool("sensible_default_cores", sensible_default_cores)
        for name, value in (("override_hwthreading_option", override_hwthreading_option),
                            ("override_oversubscribe_option", override_oversubscribe_option)):
            if value is not None:
                check_bool(f"{name} (or None)", value)
        self.n_procs = n_procs
        self.mpi_cmd = mpi_cmd

    def __repr__(self):
        return f"<MPIBackend | n_procs={self.n_procs}>"

    def terminate(self):
        """hnn-core's way to stop a running MPI simulation; hnnjax starts no
        MPI processes, so there is none to stop (a simulation is stopped with
        Ctrl-C)."""
        return None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None
