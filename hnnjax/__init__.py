"""hnnjax: the HNN neocortical column model in JAX.

float64 is enabled on import (``jax_enable_x64``) because validation against
NEURON needs it; pass ``dtype='float32'`` to the simulators for speed.
"""
import jax

jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"
