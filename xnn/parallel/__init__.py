"""Framework-neutral parts of parallel training: validation, stage balancing, sharding, staleness,
and the local launcher. Backend mechanics live in ``xnn/backends/<name>/parallel/``.

Never imports torch or tensorflow.
"""
from __future__ import annotations

from .plan import balance_stages, check_data_size, check_parallel, resolve_stages, shard, split_counts, valid_cuts
from .staleness import StalenessLog

__all__ = ["StalenessLog", "balance_stages", "check_data_size", "check_parallel", "resolve_stages", "shard",
           "split_counts", "valid_cuts"]
