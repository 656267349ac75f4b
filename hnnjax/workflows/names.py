"""The choices the workflows accept, in a module that imports nothing heavy:
the ``hnnjax`` command parses its arguments with them before it imports
JAX, MNE or matplotlib."""
SHIPPED_PARAMS = ('default', 'N20')
DTYPES = ('float64', 'float32')
TARGETS = ('auto', 'somato', 'erp', 'synthetic', 'waveform')
