"""The README's code runs as written (on a reduced network and a short window)."""
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import hnnjax.fit
import hnnjax.network_models as models
from hnnjax.io.params import params_path

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_block(heading):
    """The first ```python block after ``heading``."""
    text = README.read_text()
    return re.search(r"```python\n(.*?)```", text[text.index(heading):], re.S).group(1)


def test_readme_fit_snippet_runs(monkeypatch):
    """The fit snippet, verbatim, with somato_model on a 2x2 mesh and
    fit_drives cut to 40 ms and one step (its other arguments as written:
    the shipped waveform by bare name, 2 trials, hnn-core draws)."""
    matplotlib.use("Agg")
    small = lambda: models.add_somato_drives_to_jones_model(
        models.neymotin_2020_model(params_path("N20"), mesh_shape=(2, 2)))
    calls, fit = [], hnnjax.fit.fit_drives

    def short_fit(net, target, params, **kw):
        calls.append((target, params, dict(kw)))
        assert kw["tstop"] == 170.0 and kw["n_steps"] == 20
        return fit(net, target, params, **{**kw, "tstop": 40.0, "n_steps": 1, "progress": False})

    monkeypatch.setattr(models, "somato_model", small)
    monkeypatch.setattr(hnnjax.fit, "fit_drives", short_fit)
    scope = {}
    exec(readme_block("## Gradients and fitting"), scope)
    (target, params, kw), = calls
    assert isinstance(target, hnnjax.Dipole) and params == ["evprox1.mu", "evdist1.*"]
    assert kw["n_trials"] == 2 and kw["draws"] == "hnn-core"
    res = scope["res"]
    assert "evprox1.mu" in res.values and "evdist1.weights_ampa.L2_pyramidal" in res.values
    assert len(res.loss_history) == 2 and np.all(np.isfinite(res.loss_history))
    assert res.dipole.times[-1] == pytest.approx(40.0)
