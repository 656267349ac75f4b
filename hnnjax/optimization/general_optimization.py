"""``Optimizer``: hnn-core 0.6.1's parameter optimization of a network.

The solvers search the box ``constraints`` for the parameters that minimize
an objective of the simulated dipole: 'cobyla' (SciPy's ``fmin_cobyla``, with
hnn-core's settings), 'bayesian' (a Gaussian-process search,
``bayesopt.bayes_opt``), 'cma' (CMA-ES from ``cma``, the package and
options hnn-core uses, so a seed gives hnn-core's populations; each
generation is simulated by one ``BatchSimulate`` run) and, beyond hnn-core,
'gradient': hnnjax's differentiable ``fit_drives`` (Adam on the RMSE or
anticorrelation; then the constraints' names are drive parameters as
``fit_drives`` names them, e.g. ``'evprox1.mu'``).
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import fmin_cobyla

from .._checks import check_array, check_int, check_number
from ..network.network import Network
from .bayesopt import bayes_opt
from .objective_functions import _anticorr_evoked, _maximize_psd, _rmse_evoked

SOLVERS = ("bayesian", "cobyla", "cma", "gradient")
OBJECTIVES = {"dipole_rmse": _rmse_evoked, "dipole_corr": _anticorr_evoked,
              "maximize_psd": _maximize_psd}
YLABELS = {"dipole_rmse": "Best RMSE (nAm)", "dipole_corr": "Best 1 - correlation",
           "maximize_psd": "Best minus relative band power"}


def _update_params(initial_params, predicted_params):
    """name -> value: the names of ``initial_params``, the values in order."""
    return dict(zip(initial_params, (float(v) for v in predicted_params)))


def box_constraints(bounds):
    """``fmin_cobyla``'s constraints (each >= 0 where allowed) keeping every
    x[i] within its own (low, high) of ``bounds``."""
    return [c for i, (low, high) in enumerate(bounds)
            for c in (lambda x, i=i, high=high: high - x[i], lambda x, i=i, low=low: x[i] - low)]


def _get_initial_params(constraints):
    """The midpoint of every parameter's (low, high) range."""
    return {name: (low + high) / 2 for name, (low, high) in constraints.items()}


class Optimizer:
    """Optimize the parameters that ``set_params(net, params)`` sets on a copy
    of ``initial_net`` (hnn-core's order: network, then name -> value).

    ``tstop`` (ms): the simulated duration.  ``constraints``: name -> (low,
    high).  ``initial_params``: name -> start value (default: midpoints).
    ``solver``: 'bayesian', 'cobyla', 'cma' or 'gradient' (module docstring).
    ``obj_fun``: 'dipole_rmse', 'dipole_corr', 'maximize_psd' or a function
    with hnn-core's objective signature (``objective_functions``).
    ``max_iter``: calls of the objective (generations for 'cma', gradient
    steps for 'gradient').  After ``fit``: ``opt_params_`` (values in the
    constraints' order), ``obj_`` (the best objective so far, call by call,
    or generation by generation: ``max_iter`` values, as in hnn-core, the
    last one carried on where the solver stopped early), ``n_iter_`` (the
    calls or generations that ran) and ``net_`` (the network with the
    optimized parameters).
    """

    def __init__(self, initial_net, tstop, constraints, set_params, initial_params=None,
                 solver="bayesian", obj_fun="dipole_rmse", max_iter=200):
        if not isinstance(initial_net, Network):
            raise TypeError(f"initial_net must be a Network; got {type(initial_net).__name__}")
        self.tstop = check_number("tstop", tstop, gt=0, unit=" ms")
        if not isinstance(constraints, dict) or not constraints:
            raise TypeError(f"constraints must be a non-empty dict name -> (low, high); "
                            f"got {constraints!r}")
        for name, bounds in constraints.items():
            if not (isinstance(bounds, (tuple, list)) and len(bounds) == 2):
                raise TypeError(f"constraints[{name!r}] must be a (low, high) pair; got {bounds!r}")
            low = check_number(f"constraints[{name!r}][0]", bounds[0])
            check_number(f"constraints[{name!r}][1]", bounds[1], gt=low)
        if not callable(set_params):
            raise TypeError(f"set_params must be a function set_params(net, params); "
                            f"got {set_params!r}")
        if solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}; got {solver!r}")
        if callable(obj_fun):
            if solver == "gradient":
                raise ValueError("solver='gradient' needs obj_fun 'dipole_rmse' or 'dipole_corr'")
            self.obj_fun, self.obj_fun_name = obj_fun, None
        elif obj_fun in OBJECTIVES:
            if solver == "gradient" and obj_fun == "maximize_psd":
                raise ValueError("solver='gradient' needs obj_fun 'dipole_rmse' or 'dipole_corr'")
            self.obj_fun, self.obj_fun_name = OBJECTIVES[obj_fun], obj_fun
        else:
            raise ValueError(f"obj_fun must be one of {tuple(OBJECTIVES)} or a function; "
                             f"got {obj_fun!r}")
        if initial_params is None:
            initial_params = _get_initial_params(constraints)
        elif not isinstance(initial_params, dict) or set(initial_params) != set(constraints):
            raise ValueError("The keys of initial_params must match the keys of constraints.")
        for name, value in initial_params.items():
            low, high = constraints[name]
            check_number(f"initial_params[{name!r}]", value, ge=low, le=high)
        self._initial_net, self._set_params = initial_net, set_params
        self.constraints, self.solver = constraints, solver
        self.initial_params = {name: float(initial_params[name]) for name in constraints}
        self.max_iter = check_int("max_iter", max_iter, ge=1)
        self.net_, self.obj_, self.opt_params_, self.n_iter_ = None, [], None, 0

    def __repr__(self):
        return f"<{type(self).__name__}\nsolver={self.solver}\nfit={self.net_ is not None}>"

    def fit(self, **obj_fun_kwargs):
        """Run the optimization.  Keywords, as in hnn-core: ``target``
        (Dipole; for 'dipole_rmse'/'dipole_corr'), ``n_trials`` (default 1),
        ``f_bands`` [(low, high)] Hz and ``relative_bandpower`` (for
        'maximize_psd'), ``dt`` (ms, default 0.025), ``scale_factor`` and
        ``smooth_window_len`` (ms; applied to each simulated dipole before
        the comparison; none by default), ``verbose`` (print each loss).
        'cma' also takes hnn-core's ``popsize`` (parameter sets per
        generation, default 16), ``sigma0`` (the initial standard deviation:
        a float times each parameter's range, default 0.25, or one value per
        parameter in its units), ``tolfun`` (stop when the best values of
        recent generations and all of the last lie within this range,
        default 0.01), ``seed`` (default 123) and ``n_jobs`` (unused: a
        generation runs as compiled batches)."""
        cma_options = _cma_options(self, obj_fun_kwargs) if self.solver == "cma" else None
        if self.obj_fun_name in ("dipole_rmse", "dipole_corr"):
            if "target" not in obj_fun_kwargs:
                raise ValueError("target must be specified")
            obj_fun_kwargs.setdefault("n_trials", 1)
        elif self.obj_fun_name == "maximize_psd" and not {
                "f_bands", "relative_bandpower"} <= set(obj_fun_kwargs):
            raise ValueError("f_bands and relative_bandpower must be specified")
        if self.solver == "cma":
            self.opt_params_, obj_values, self.net_ = _fit_cma(self, obj_fun_kwargs, cma_options)
        else:
            run = _fit_gradient if self.solver == "gradient" else _fit_search
            self.opt_params_, obj_values, self.net_ = run(self, obj_fun_kwargs)
        # a generation's list: its best; NaN (a failed set) never counts as best
        lowest = [np.fmin.reduce(np.atleast_1d(np.asarray(v, float))) for v in obj_values]
        best = [float(v) for v in np.fmin.accumulate(lowest)[:self.max_iter]]
        # hnn-core's obj_ has max_iter entries: a solver that stopped early carries its best
        self.n_iter_ = len(best)
        self.obj_ = best + best[-1:] * (self.max_iter - len(best))

    def plot_convergence(self, ax=None, show=True):
        """The best objective value so far (its unit for the named
        objectives) against the number of calls (of generations for 'cma')."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(constrained_layout=True)
        n = self.n_iter_
        ax.plot(np.arange(1, n + 1), self.obj_[:n], color="black")
        unit = "generations" if self.solver == "cma" else "calls"
        if n < len(self.obj_):  # stopped early: its best carried to max_iter, drawn apart
            ax.plot(np.arange(n, len(self.obj_) + 1), self.obj_[n - 1:], color="gray",
                    linestyle="--", label=f"stopped after {n} {unit} (best carried)")
            ax.legend()
        ax.set_title("Convergence")
        ax.set_xlabel("Generation" if self.solver == "cma" else "Number of calls")
        ax.set_ylabel(YLABELS.get(self.obj_fun_name, "Objective value"))
        ax.grid(visible=True)
        if show:
            plt.show()
        return ax.get_figure()


def _fit_search(opt, obj_fun_kwargs):
    """'cobyla' or 'bayesian': the objective called ``max_iter`` times at
    most.  Returns (best values, every objective value, network)."""
    obj_values, best = [], {"obj": np.inf, "params": None}

    def objective(x):
        return opt.obj_fun(initial_net=opt._initial_net, initial_params=opt.initial_params,
                           set_params=opt._set_params, predicted_params=list(x),
                           update_params=_update_params, obj_values=obj_values,
                           tstop=opt.tstop, obj_fun_kwargs=obj_fun_kwargs, best=best)

    bounds = list(opt.constraints.values())
    x0 = list(opt.initial_params.values())
    if opt.solver == "cobyla":
        last = fmin_cobyla(objective, x0, box_constraints(bounds), rhobeg=0.1, rhoend=1e-4,
                           maxfun=opt.max_iter, catol=0.0, disp=0)
        x = last if best["params"] is None else best["params"]  # a user objective may not keep best
    else:
        x, _ = bayes_opt(objective, x0, bounds, opt.max_iter)
    net = opt._initial_net.copy()
    opt._set_params(net, _update_params(opt.initial_params, x))
    return [float(v) for v in x], obj_values, net


def _cma_options(opt, obj_fun_kwargs):
    """``cma.CMAEvolutionStrategy``'s options from ``fit``'s keywords, with
    hnn-core's defaults, checked before anything is simulated."""
    names = list(opt.constraints)
    low, high = (np.array([opt.constraints[n][k] for n in names], float) for k in (0, 1))
    sigma0 = obj_fun_kwargs.get("sigma0", 0.25)
    if np.ndim(sigma0) == 0:
        stds = check_number("sigma0", sigma0, gt=0) * (high - low)
    else:
        stds = check_array("sigma0", sigma0)
        if stds.shape != (len(names),) or not np.all(stds > 0):
            raise ValueError(f"sigma0 must be a positive float (times each parameter's range) or "
                             f"{len(names)} positive values, one per parameter {names}; "
                             f"got {sigma0!r}")
    n_jobs = obj_fun_kwargs.get("n_jobs")
    if n_jobs is not None:
        check_int("n_jobs", n_jobs)
    seed = check_int("seed", obj_fun_kwargs.get("seed", 123), ge=1)  # cma: 0 draws from the clock
    return {"bounds": [list(low), list(high)], "CMA_stds": list(stds), "seed": seed,
            "popsize": check_int("popsize", obj_fun_kwargs.get("popsize", 16), ge=2),
            "tolfun": check_number("tolfun", obj_fun_kwargs.get("tolfun", 0.01), ge=0),
            "maxiter": opt.max_iter,
            "verbose": 0 if obj_fun_kwargs.get("verbose", True) else -9}


def _fit_cma(opt, obj_fun_kwargs, options):
    """'cma': ``max_iter`` generations at most, each population passed to
    the objective at once (2-D ``predicted_params``).  Returns (best values,
    each generation's objective values, network)."""
    import cma

    obj_values = []
    numpy_state = np.random.get_state()  # cma seeds NumPy's global generator and draws from it
    try:
        es = cma.CMAEvolutionStrategy(list(opt.initial_params.values()), 1, options)
        _generations(opt, es, obj_values, obj_fun_kwargs, options["verbose"] == 0)
    finally:
        np.random.set_state(numpy_state)
    if es.result.xbest is None:
        raise FloatingPointError(f"CMA-ES: the objective was not finite at any of the "
                                 f"{es.countevals} parameter sets it was given")
    x = [float(v) for v in es.result.xbest]
    net = opt._initial_net.copy()
    opt._set_params(net, _update_params(opt.initial_params, x))
    return x, obj_values, net


def _generations(opt, es, obj_values, obj_fun_kwargs, verbose):
    """Ask, evaluate and tell until ``es`` stops."""
    while not es.stop():
        population = es.ask()
        if verbose:
            print(f"CMA-ES generation {es.countiter + 1} of at most {opt.max_iter}: "
                  f"{len(population)} parameter sets")
        values = opt.obj_fun(initial_net=opt._initial_net, initial_params=opt.initial_params,
                             set_params=opt._set_params, predicted_params=np.array(population),
                             update_params=_update_params, obj_values=obj_values,
                             tstop=opt.tstop, obj_fun_kwargs=obj_fun_kwargs)
        if np.shape(values) != (len(population),):
            raise ValueError(f"with solver='cma' the objective gets a generation's "
                             f"{len(population)} parameter sets (predicted_params, one per row) "
                             f"and must return one value per set; got {values!r}")
        values = [float(v) for v in values]
        for i in np.flatnonzero(~np.isfinite(values)):
            warnings.warn(f"CMA-ES generation {es.countiter + 1}: the objective is {values[i]} at "
                          f"{_update_params(opt.initial_params, population[i])}; CMA-ES ranks "
                          f"that set last", UserWarning, stacklevel=4)
        es.tell(population, values)
    if verbose:
        es.result_pretty()


def _fit_gradient(opt, obj_fun_kwargs):
    """'gradient': ``fit_drives`` on the network ``set_params`` builds at
    the initial values, ``max_iter`` Adam steps within the constraints."""
    from ..fit import fit_drives

    net = opt._initial_net.copy()
    opt._set_params(net, dict(opt.initial_params))
    scale = obj_fun_kwargs.get("scale_factor", 1.0)
    res = fit_drives(net, obj_fun_kwargs["target"], list(opt.constraints),
                     n_trials=obj_fun_kwargs["n_trials"], tstop=opt.tstop,
                     dt=obj_fun_kwargs.get("dt", 0.025),
                     smooth_window=obj_fun_kwargs.get("smooth_window_len"), scale=scale,
                     loss="rmse" if opt.obj_fun_name == "dipole_rmse" else "corr",
                     n_steps=opt.max_iter, bounds={k: tuple(v) for k, v in opt.constraints.items()},
                     draws="hnn-core", progress=obj_fun_kwargs.get("verbose", True),
                     score_trials=0)  # the Optimizer reports its objective only
    return [float(res.values[k]) for k in opt.constraints], res.loss_history, res.net
