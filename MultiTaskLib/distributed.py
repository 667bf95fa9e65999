"""Data-parallel training across processes (torchrun) with DistributedDataParallel.

Launch with ``torchrun --nproc_per_node N script.py``; the script calls
:func:`setup_distributed` first and :func:`cleanup` last. torchrun sets RANK,
WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; without them (a plain
``python script.py``) everything here is a no-op and the :class:`Trainer` runs in one
process. Backend: NCCL on CUDA, gloo on CPU. Only rank 0 writes logs and checkpoints
(:attr:`DistContext.is_main`); every rank reads checkpoints on resume, so the output
folder must be on a file system all ranks see.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset, DistributedSampler


@dataclass(frozen=True)
class DistContext:
    """Where this process sits in the job: rank, world size and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True on the process that writes logs and checkpoints (rank 0)."""
        return self.rank == 0


def resolve_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """Device from its name: "auto" is the process's GPU if CUDA is available, else CPU.

    "cuda" means cuda:LOCAL_RANK, so each torchrun process gets its own GPU.
    """
    name = name.strip().lower()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available; use 'cpu'")
    if name == "cuda":
        return torch.device("cuda", local_rank)
    return torch.device(name)


def setup_distributed(device: str = "auto", backend: str | None = None,
                      timeout_s: float = 1800.0) -> DistContext:
    """Join the process group described by torchrun's environment variables.

    Reads RANK, WORLD_SIZE and LOCAL_RANK; with WORLD_SIZE unset or 1 returns a
    single-process context without initialising anything. Otherwise initialises the
    default process group (``env://``; NCCL on CUDA, gloo on CPU unless ``backend`` is
    given) and, on CUDA, makes cuda:LOCAL_RANK this process's current device.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    target = resolve_device(device, local_rank)
    if world_size <= 1:
        return DistContext(device=target)
    if target.type == "cuda":
        torch.cuda.set_device(target)
    chosen = backend or ("nccl" if target.type == "cuda" else "gloo")
    if not dist.is_initialized():
        dist.init_process_group(chosen, init_method="env://", rank=rank,
                                world_size=world_size, timeout=timedelta(seconds=timeout_s))
    return DistContext(rank=rank, world_size=world_size, local_rank=local_rank,
                       backend=chosen, device=target)


def current_context(device: str = "auto") -> DistContext:
    """The context of an already initialised process group, or a single-process one."""
    if not (dist.is_available() and dist.is_initialized()):
        return DistContext(device=resolve_device(device))
    local_rank = int(os.environ.get("LOCAL_RANK", str(dist.get_rank())))
    return DistContext(rank=dist.get_rank(), world_size=dist.get_world_size(),
                       local_rank=local_rank, backend=str(dist.get_backend()),
                       device=resolve_device(device, local_rank))


def cleanup() -> None:
    """Leave the process group (no-op in a single process)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap_model(model: nn.Module, context: DistContext,
               find_unused_parameters: bool = False) -> nn.Module:
    """Wrap in DistributedDataParallel when distributed (rank 0's weights are broadcast)."""
    if not context.is_distributed or isinstance(model, DistributedDataParallel):
        return model
    device_ids = [context.device.index] if context.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids,
                                   find_unused_parameters=find_unused_parameters)


def unwrap_model(model: nn.Module) -> nn.Module:
    """The plain module inside a DistributedDataParallel wrapper (or the module itself)."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def distributed_sampler(dataset: Dataset, context: DistContext, shuffle: bool, seed: int,
                        drop_last: bool = False) -> DistributedSampler:
    """A DistributedSampler giving each rank its share of the dataset.

    Without ``drop_last`` the sampler repeats a few samples so every rank gets the same
    number of batches (required by DDP), which weights those samples slightly more.
    """
    return DistributedSampler(dataset, num_replicas=context.world_size, rank=context.rank,
                              shuffle=shuffle, seed=seed, drop_last=drop_last)


def all_reduce_sum(values: torch.Tensor, context: DistContext) -> torch.Tensor:
    """Element-wise sum over ranks (a copy; the input is unchanged)."""
    if not context.is_distributed:
        return values.clone()
    reduced = values.detach().to(context.device, copy=True)
    dist.all_reduce(reduced, op=dist.ReduceOp.SUM)
    return reduced.to(values.device)


def union_of_names(names: Iterable[str], context: DistContext) -> list[str]:
    """Sorted union of ``names`` over all ranks (each rank may know different ones).

    Ranks must pack the same tensor for a collective; a step function that reports a
    metric only for some batches (e.g. when a crop holds no reference pixel) would
    otherwise make ranks disagree on its size and the reduction fail or hang.
    """
    local = sorted(set(names))
    if not context.is_distributed:
        return local
    gathered: list[list[str] | None] = [None] * context.world_size
    dist.all_gather_object(gathered, local)
    return sorted({name for part in gathered for name in (part or [])})


def average_gradients(parameters: Iterable[nn.Parameter], context: DistContext) -> None:
    """Average the gradients of parameters that DDP does not manage (loss weighting σ).

    Missing gradients count as zero so every rank reduces the same tensor (otherwise
    ranks would disagree on its size and hang).
    """
    if not context.is_distributed:
        return
    params = [p for p in parameters if p.requires_grad]
    if not params:
        return
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    flat = torch.cat([p.grad.reshape(-1) for p in params]).to(context.device)
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= context.world_size
    offset = 0
    for p in params:
        count = p.numel()
        p.grad.copy_(flat[offset:offset + count].view_as(p.grad))
        offset += count


def barrier(context: DistContext) -> None:
    """Wait for every rank (no-op in a single process)."""
    if context.is_distributed:
        dist.barrier()
