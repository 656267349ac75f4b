"""Network event delivery: a step with more connection chunks due than the
scatter holds is detected and rerun with more room, giving the same result."""
import dataclasses

import numpy as np

import hnnjax as hnn
from hnnjax.network.compile import compile_network, stack_events, trial_events
from hnnjax.network.simulate import _run_trials, instantiate_drives, run_batch

TSTOP, DT = 60.0, 0.025


def _setup():
    net = hnn.jones_2009_model(mesh_shape=(3, 3))
    hnn.add_erp_drives_to_jones_model(net)
    arrays, drive_tab, _, _, n_steps = compile_network(net, TSTOP, DT, np.float64)
    per_trial = [trial_events(drive_tab, sp, DT, n_steps) for sp in instantiate_drives(net, TSTOP, 2)]
    return arrays, per_trial, n_steps


def test_small_capacity_overflows_and_the_retry_is_exact():
    arrays, per_trial, n_steps = _setup()
    tiny = dataclasses.replace(arrays, capacity=1)
    events = stack_events(per_trial, n_steps, np.float64)
    spikes, _, _, overflow = _run_trials(tiny, events, n_steps, DT)
    assert np.asarray(spikes).sum() > 20  # the network spikes, so chunks are due
    assert np.all(np.asarray(overflow))  # one chunk per step is too few
    ref_spikes, ref_dip, _ = run_batch(arrays, per_trial, n_steps, DT, np.float64)
    got_spikes, got_dip, _ = run_batch(tiny, per_trial, n_steps, DT, np.float64)
    np.testing.assert_array_equal(got_spikes, ref_spikes)
    np.testing.assert_array_equal(got_dip, ref_dip)


def test_default_capacity_does_not_overflow_here():
    arrays, per_trial, n_steps = _setup()
    _, _, _, overflow = _run_trials(arrays, stack_events(per_trial, n_steps, np.float64),
                                    n_steps, DT)
    assert not np.any(np.asarray(overflow))
