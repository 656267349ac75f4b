"""The differentiable model: events at continuous times (``model``)."""
