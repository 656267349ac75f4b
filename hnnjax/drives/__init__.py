"""Exogenous drives: their specifications (``spec``), their spike times as
hnn-core draws them (``events``) and NumPy's legacy draws for many seeds at
once (``legacy_random``)."""
