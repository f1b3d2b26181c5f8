"""Data-parallel training helpers: process group, gradient averaging, deterministic sharded sampling.

One process per GPU (or per CPU process), started by ``torchrun``, which sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous address. Every process holds a full copy of
the generator and of the discriminators; parameters are broadcast from rank 0 at start, each
process computes its share of the global batch, and before every optimiser step the gradients of
the network being updated are averaged over processes (:func:`average_gradients`) — the same
arithmetic as ``DistributedDataParallel``, done explicitly because one vid2vid iteration runs
the discriminators in three separate backward passes (G, D, D_T) and the generator over many
forward calls per backward, a pattern DDP's autograd hooks do not support.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Sampler

__all__ = [
    "DistContext",
    "init_distributed",
    "cleanup_distributed",
    "average_gradients",
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


def average_gradients(params: Iterable[nn.Parameter], ctx: DistContext) -> None:
    """Replace every gradient by its mean over processes (one flattened all-reduce).

    Parameters without a gradient get a zero gradient first, so that every process takes part
    in the same collective with the same sizes.
    """
    if not ctx.enabled:
        return
    params = [p for p in params if p.requires_grad]
    if not params:
        return
    grads = []
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        grads.append(p.grad)
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= ctx.world_size
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset : offset + n].view_as(g))
        offset += n


def all_reduce_mean(values: dict[str, float], ctx: DistContext) -> dict[str, float]:
    """Average a dictionary of floats over processes (for logging)."""
    if not ctx.enabled or not values:
        return values
    keys = sorted(values)
    tensor = torch.tensor([values[k] for k in keys], dtype=torch.float64)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    tensor /= ctx.world_size
    return dict(zip(keys, tensor.tolist(), strict=True))


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
