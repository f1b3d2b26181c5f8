"""Data-parallel training helpers: process group, gradient averaging, deterministic sharded sampling.

One process per GPU (or per CPU process), started by ``torchrun``, which sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous address. Every process holds a full copy of
the generator and of the discriminators, each wrapped separately in
``DistributedDataParallel`` (:func:`wrap_ddp`), which averages its gradients over processes
during every backward pass; each process computes its share of the global batch, and
:class:`ShardedEpochSampler` gives it a deterministic, resumable share of each epoch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Sampler

__all__ = [
    "DistContext",
    "init_distributed",
    "cleanup_distributed",
    "wrap_ddp",
    "broadcast_parameters",
    "all_reduce_mean",
    "ShardedEpochSampler",
]


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: ``rank`` of ``world_size`` processes, ``local_rank`` on its node."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints and logs."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """A process group with more than one process is active."""
        return self.world_size > 1


def init_distributed(device_type: str = "cpu") -> DistContext:
    """Join the process group described by torchrun's environment variables (if any).

    Uses NCCL on CUDA and gloo on CPU. Without ``WORLD_SIZE`` (or with ``WORLD_SIZE=1``) it does
    nothing and returns a single-process context.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        if device_type == "cuda":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
    return DistContext(rank=rank, world_size=world, local_rank=local_rank)


def cleanup_distributed() -> None:
    """Leave the process group (no-op when none is active)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def broadcast_parameters(module: nn.Module, ctx: DistContext) -> None:
    """Copy rank 0's parameters and buffers to every process (in place)."""
    if not ctx.enabled:
        return
    with torch.no_grad():
        for tensor in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(tensor.data, src=0)


def wrap_ddp(module: nn.Module, device: torch.device, find_unused_parameters: bool = False) -> nn.Module:
    """``DistributedDataParallel`` around ``module`` (on ``device``; CPU processes use gloo)."""
    from torch.nn.parallel import DistributedDataParallel

    device_ids = (
        [device.index if device.index is not None else torch.cuda.current_device()]
        if device.type == "cuda"
        else None
    )
    return DistributedDataParallel(
        module, device_ids=device_ids, find_unused_parameters=find_unused_parameters
    )


def all_reduce_mean(
    values: dict[str, float], ctx: DistContext, device: torch.device | str = "cpu"
) -> dict[str, float]:
    """Average a dictionary of floats over processes (for logging); ``device``: the backend's (CUDA for NCCL)."""
    if not ctx.enabled or not values:
        return values
    keys = sorted(values)
    tensor = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    tensor /= ctx.world_size
    return dict(zip(keys, tensor.cpu().tolist(), strict=True))


class ShardedEpochSampler(Sampler[int]):
    """Deterministic shuffled order per epoch, sharded over processes, resumable mid-epoch.

    Epoch ``e``'s order is ``randperm(n)`` drawn from a generator seeded with ``seed + e``; it
    is padded (by repeating its start) to a multiple of ``world_size`` and process ``rank``
    takes every ``world_size``-th index starting at ``rank`` (like ``DistributedSampler``). With
    ``batch_size`` per process, global step ``k`` therefore covers the indices
    ``order[k*B*W : (k+1)*B*W]`` whatever the number of processes. :meth:`set_position` skips the
    first samples of this process's share (resuming inside an epoch).

    Args:
        length: dataset length.
        seed: base seed.
        rank, world_size: this process and the number of processes.
        shuffle: shuffle (else the natural order).
    """

    def __init__(self, length: int, seed: int = 0, rank: int = 0, world_size: int = 1, shuffle: bool = True):
        if length < 1:
            raise ValueError(f"the dataset is empty (length {length})")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} must lie in [0, world_size={world_size})")
        self.length = length
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.shuffle = shuffle
        self.epoch = 0
        self.position = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the order of 0-based ``epoch`` and restart at its beginning."""
        self.epoch = int(epoch)
        self.position = 0

    def set_position(self, position: int) -> None:
        """Skip the first ``position`` samples of this process's share of the current epoch."""
        self.position = int(position)

    def order(self) -> list[int]:
        """This process's share of the current epoch, from its beginning."""
        if self.shuffle:
            gen = torch.Generator().manual_seed(self.seed + self.epoch)
            indices = torch.randperm(self.length, generator=gen).tolist()
        else:
            indices = list(range(self.length))
        total = -(-self.length // self.world_size) * self.world_size
        indices += indices[: total - len(indices)]
        return indices[self.rank :: self.world_size]

    def __iter__(self) -> Iterator[int]:
        return iter(self.order()[self.position :])

    def __len__(self) -> int:
        return -(-self.length // self.world_size)
