"""The differentiable model: events at continuous times (``model``); forward
mode along every parameter at once (``tangents``)."""
