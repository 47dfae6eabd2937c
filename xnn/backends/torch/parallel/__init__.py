"""Parallel training on torch's own engine: DDP (sync), a parameter server on torch.distributed
point-to-point messages (async), torch.distributed.pipelining (model parallel)."""
