"""Flax Linen networks. Each `Module.apply(params, x)` is the pure function the tasks compose."""
