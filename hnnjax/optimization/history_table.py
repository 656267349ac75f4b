"""``generate_opt_history_table``: hnn-core's text report of optimization
runs (its GUI writes one per session), for scripts that keep their runs
the same way."""
from __future__ import annotations

REQUIRED = ("initial_params", "opt_params", "obj_values")
RULE = "=" * 88


def generate_opt_history_table(opt_results, report_timestamp):
    """A text table of each run in ``opt_results``: its solver, objective,
    ``max_iter``, target (``target_data``, ``n_trials``) or bands
    (``psd_f_bands`` in Hz, ``psd_relative_bandpower``), every parameter's
    initial and final value and change, and the objective value of every
    iteration.  Each run is a dict as hnn-core's GUI keeps it:
    ``initial_params`` (name -> value), ``opt_params`` (values in that
    order), ``obj_values`` (one per iteration) and optionally ``solver``,
    ``obj_fun``, ``max_iter``.  ``report_timestamp``: the time shown as the
    report's date."""
    if not opt_results:
        return "No optimization runs have been completed yet."
    if not isinstance(opt_results, (list, tuple)):
        raise TypeError(f"opt_results must be a list of dicts; got {type(opt_results).__name__}")
    lines = [RULE, "OPTIMIZATION HISTORY", f"Generated: {report_timestamp}", RULE]
    for k, run in enumerate(opt_results, start=1):
        missing = [key for key in REQUIRED if not isinstance(run, dict) or key not in run]
        if missing:
            raise ValueError(f"opt_results[{k - 1}] lacks {missing}: each run needs {list(REQUIRED)}")
        names, final = list(run["initial_params"]), list(run["opt_params"])
        if len(final) != len(names):
            raise ValueError(f"opt_results[{k - 1}]: {len(final)} opt_params for {len(names)} "
                             f"initial_params")
        obj_fun = run.get("obj_fun", "unknown")
        lines += ["", f"Run #{k}", f"Solver: {run.get('solver', 'N/A')}",
                  f"Objective function: {obj_fun}", f"Max iterations: {run.get('max_iter', 'N/A')}"]
        if obj_fun == "dipole_rmse" and "target_data" in run:
            lines.append(f"Target dataset: {run['target_data']}")
            if "n_trials" in run:
                lines.append(f"Trials: {run['n_trials']}")
        if obj_fun == "maximize_psd" and "psd_f_bands" in run:
            for i, ((low, high), weight) in enumerate(
                    zip(run["psd_f_bands"], run["psd_relative_bandpower"]), start=1):
                lines.append(f"  Band {i}: {low:.1f}-{high:.1f} Hz, weight {weight:.3f}")
        lines += ["", f"{'Parameter':<40}{'Initial':>16}{'Final':>16}{'Change':>16}"]
        for name, value in zip(names, final):
            start = run["initial_params"][name]
            lines.append(f"{name:<40}{start:>16.6f}{value:>16.6f}{value - start:>+16.6f}")
        values = list(run["obj_values"])
        lines += ["", f"Objective ({obj_fun}) by iteration:"]
        lines += [f"  {i:>4}: {v:>16.6f}" for i, v in enumerate(values)]
        if values:
            lines.append(f"Total change: {values[-1] - values[0]:+.6f}")
        lines.append(RULE)
    return "\n".join(lines)
