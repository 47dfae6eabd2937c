"""One .mat layout per layer kind (``<kind>.py``, a ``MatLayout`` subclass); a kind without a
file has no weights. ``_``-prefixed modules are helpers shared by several kinds."""
