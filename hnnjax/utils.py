"""hnn-core's ``hnn_core.utils``: waveform smoothing shared by dipoles and
electrode recordings."""
from __future__ import annotations

import numpy as np

from ._checks import check_number


def smooth_waveform(data, window_len, sfreq):
    """``data`` (1-D) convolved ('same' length) with a unit-sum Hamming
    window of ``window_len`` ms, i.e. ``round(1e-3·window_len·sfreq)``
    samples at ``sfreq`` Hz, between 1 and ``len(data)``."""
    data = np.asarray(data, dtype=float)
    if data.ndim != 1:
        raise ValueError(f"data must be 1-D; got shape {data.shape}")
    check_number('window_len', window_len, gt=0, unit=' ms')
    check_number('sfreq', sfreq, gt=0, unit=' Hz')
    n_win = int(np.round(1e-3 * window_len * sfreq))
    if not 1 <= n_win <= len(data):
        raise ValueError(
            f"window_len={window_len} ms spans {n_win} samples at {sfreq:g} Hz; it must "
            f"span 1 to {len(data)} samples (the length of the trace)")
    window = np.hamming(n_win)
    window /= window.sum()
    return np.convolve(data, window, mode='same')
