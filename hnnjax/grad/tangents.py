"""Forward mode along every coordinate at once: ``jax.jvp`` vmapped over the
unit vectors, so the primal runs once and each coordinate adds a tangent.
With a model built by ``model.forward_mode`` nothing of the run is stored."""
from __future__ import annotations

import jax
import jax.numpy as jnp


def jvp_along_axes(f, u, has_aux=False):
    """(f(u), the derivatives of f's output along each coordinate of ``u``
    (n,), stacked on a new leading axis of size n[, aux])."""
    def along(t):
        return jax.jvp(f, (u,), (t,), has_aux=has_aux)
    out_axes = (None, 0, None) if has_aux else (None, 0)
    return jax.vmap(along, out_axes=out_axes)(jnp.eye(u.shape[0], dtype=u.dtype))
