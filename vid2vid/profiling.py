"""Memory measurement that does not depend on the allocator: live tensor bytes.

``LiveTensorBytes`` is a ``TorchDispatchMode`` that counts the storage bytes of every tensor a
torch op creates while any Python tensor still references it (tracked with weak references).
It sees CPU tensors, which ``tracemalloc`` cannot, and is unaffected by the caching allocator
and RSS noise. Tensors created before the mode is entered (weights, inputs) are not counted, so
``peak`` is the activation peak of the code run under it.

Example::

    with LiveTensorBytes() as meter:
        for frame in pipe.stream(labels):
            ...
    print(meter.peak / 2**20, "MiB")
"""

from __future__ import annotations

import weakref

import torch
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = ["LiveTensorBytes"]


class LiveTensorBytes(TorchDispatchMode):
    """Bytes of live tensor storages created by torch ops (peak and current), allocator-independent.

    Every op output's storage is counted once while any Python tensor referencing it lives
    (weak references); CPU allocator caching and RSS noise play no part.
    """

    def __init__(self) -> None:
        super().__init__()
        self.refs: dict[int, list[int]] = {}
        self.weak: dict[int, weakref.ref] = {}
        self.live = 0
        self.peak = 0

    def _track(self, tensor: torch.Tensor) -> None:
        storage = tensor.untyped_storage()
        key, nbytes = storage.data_ptr(), storage.nbytes()
        entry = self.refs.get(key)
        if entry is None:
            entry = self.refs[key] = [0, nbytes]
            self.live += nbytes
            self.peak = max(self.peak, self.live)
        entry[0] += 1

        def release(ref: weakref.ref, key: int = key) -> None:
            self.weak.pop(id(ref), None)
            e = self.refs[key]
            e[0] -= 1
            if e[0] == 0:
                self.live -= e[1]
                del self.refs[key]

        ref = weakref.ref(tensor, release)
        self.weak[id(ref)] = ref

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor):
                self._track(t)
        return out
