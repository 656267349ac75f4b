"""Differentiable simulation and drive fitting."""
