"""Ready-made workflows behind the ``hnnjax`` command and the examples.

``simulate``: a params file -> trials, dipole files and a figure.
``somato``: hnn-core's median-nerve (S1) workflow, target vs simulation.
"""
