"""Ready-made workflows behind the ``hnnjax`` command and the examples.

``simulate``: a params file -> trials, dipole files and a figure.
``somato``: hnn-core's median-nerve (S1) workflow: target, seed network,
a gradient fit of its drives (``somato_fit``), one figure
(``somato_figure``). ``outputs``: where their files go; ``interrupt``:
Ctrl-C; ``names``: the choices they accept.
"""
