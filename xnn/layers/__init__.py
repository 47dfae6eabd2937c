"""One file per layer. Each module registers its layer class; the registry imports them all.

Private helpers shared by several layers live in ``_``-prefixed modules.
"""
