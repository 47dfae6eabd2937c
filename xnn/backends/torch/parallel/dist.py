"""torch.distributed plumbing shared by the data-parallel, pipeline and parameter-server modes.

- :func:`init` joins the process group from torchrun-style environment variables with a
  collective timeout (gloo's default of 30 minutes would let a dead peer hang a job).
- :func:`sync_batchnorm` makes BatchNorm statistics global across ranks: on CUDA through
  ``torch.nn.SyncBatchNorm``'s kernel, on CPU (where SyncBatchNorm refuses tensors) through
  ``torch.distributed.nn.functional.all_reduce``, which carries gradients back to every rank.
- :class:`WeightedAverage` is a DDP communication hook that weights each rank's gradient by its
  share of the global loss normaliser, so uneven shards still give the single-process gradient.
"""
from __future__ import annotations

import datetime
import os
import warnings

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.nn.functional import all_reduce as diff_all_reduce

# the differentiable all_reduce is what keeps BatchNorm gradients global on CPU; its suggested
# replacement (_functional_collectives) is private and not differentiable
warnings.filterwarnings("ignore", message=r"torch\.distributed\.nn\.functional\.all_reduce is deprecated")

from ..layers.batchnorm import XBatchNorm


def env_rank_world() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment (0, 1, 0 when absent)."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0))


def init(timeout_s: float, device: str = "cpu") -> tuple[int, int]:
    """Join the default process group (gloo on CPU, nccl on CUDA); returns (rank, world size)."""
    if not dist.is_initialized():
        backend = "nccl" if str(device).startswith("cuda") else "gloo"
        td = datetime.timedelta(seconds=float(timeout_s))
        attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT")
        if attempt is None:
            dist.init_process_group(backend, timeout=td)
        else:
            # under torchrun: keys of this attempt under their own prefix, so a restarted group
            # never reads a peer address published by the previous attempt (pytorch#167288)
            rank, world, _ = env_rank_world()
            agent = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"
            store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), world,
                                  is_master=(rank == 0 and not agent), timeout=td)
            dist.init_process_group(backend, store=dist.PrefixStore(f"xnn/attempt_{attempt}", store), rank=rank,
                                    world_size=world, timeout=td)
    return dist.get_rank(), dist.get_world_size()


def shutdown() -> None:
    """Leave the process group if joined (safe to call twice)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def device_for(devices: list[str], local_rank: int) -> torch.device:
    """This rank's device: ``parallel.devices[local_rank]``, else ``cuda:<local_rank>`` when CUDA
    is available and the run asked for it, else CPU."""
    if devices:
        return torch.device(devices[local_rank])
    return torch.device("cpu")


# ------------------------------------------------------------------------------ BatchNorm
class _SyncXBatchNorm(XBatchNorm):
    """XBatchNorm whose training-mode statistics are over the global batch (all ranks).

    Same parameter/buffer names as XBatchNorm (canonical weights still load and save).
    Input ``(N, C, ...)`` channels-first or ``(N, ..., C)`` when ``channel_last``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and not self.frozen and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        move = self.channel_last and x.dim() >= 3
        if move:
            x = x.movedim(-1, 1)
        y = _cuda_sync_bn(self, x) if x.is_cuda else _cpu_sync_bn(self, x)
        return y.movedim(1, -1) if move else y


def _cpu_sync_bn(m: XBatchNorm, x: torch.Tensor) -> torch.Tensor:
    """Two-pass global statistics (mean, then centred squares) through differentiable all_reduce."""
    dims = [0] + list(range(2, x.dim()))
    c = x.shape[1]
    n_local = torch.tensor([x.numel() / c], dtype=x.dtype, device=x.device)
    s = diff_all_reduce(torch.cat([x.sum(dims), n_local]))
    n = s[-1]
    mean = s[:c] / n
    shape = [1, c] + [1] * (x.dim() - 2)
    xc = x - mean.view(shape)
    var = diff_all_reduce((xc * xc).sum(dims)) / n  # biased, used for normalisation
    with torch.no_grad():
        mom = m.momentum
        m.running_mean.mul_(1 - mom).add_(mom * mean.detach())
        m.running_var.mul_(1 - mom).add_(mom * var.detach() * n / (n - 1))
    return xc / torch.sqrt(var.view(shape) + m.eps) * m.weight.view(shape) + m.bias.view(shape)


def _cuda_sync_bn(m: XBatchNorm, x: torch.Tensor) -> torch.Tensor:
    helper = getattr(m, "_xnn_sync", None)
    if helper is None:
        helper = nn.SyncBatchNorm(x.shape[1], eps=m.eps, momentum=m.momentum).to(x.device, x.dtype)
        # share storage, so the canonical weights stay in m's own parameters and buffers
        helper.weight, helper.bias = m.weight, m.bias
        helper.running_mean, helper.running_var = m.running_mean, m.running_var
        object.__setattr__(m, "_xnn_sync", helper)
    helper.train(True)
    return helper(x)


def sync_batchnorm(model: nn.Module) -> int:
    """Turn every XBatchNorm in ``model`` into its synchronised form (in place); returns how many."""
    n = 0
    for mod in model.modules():
        if type(mod) is XBatchNorm:
            mod.__class__ = _SyncXBatchNorm
            n += 1
    return n


# ------------------------------------------------------------------------------ DDP hook
class WeightedAverage:
    """DDP communication hook: ``g = sum_r w_r g_r`` where ``w_r = norm_r / sum_r norm_r``.

    ``g_r`` is rank r's gradient of its mean loss; ``norm_r`` its loss normaliser (samples, or the
    sum of class weights). Set :attr:`weight` before each backward. Equal shards give DDP's mean.
    """

    def __init__(self) -> None:
        self.weight = 1.0



def weighted_hook(state, bucket):  # no annotations: DDP checks them literally (future import makes strings)
    """The hook function for ``ddp.register_comm_hook(WeightedAverage(), weighted_hook)``."""
    t = bucket.buffer()
    t.mul_(state.weight)
    fut = dist.all_reduce(t, async_op=True).get_future()
    return fut.then(lambda f: f.value()[0])


def global_weight(local_norm: float, device: torch.device | str = "cpu") -> float:
    """This rank's share ``local_norm / sum over ranks`` (one small all_reduce)."""
    t = torch.tensor([float(local_norm)], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return float(local_norm) / float(t.item())
