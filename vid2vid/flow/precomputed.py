"""Reference flow precomputed to disk (design notes §3): read the per-clip flow cache.

``vid2vid prepare-flow`` (:func:`vid2vid.flow.prepare.prepare_flow`) writes one safetensors file
per clip at ``<root>/{phase}_flow/<clip>.safetensors``; training reads it back instead of
running an estimator on every step.
"""

from __future__ import annotations

from pathlib import Path

from torch import Tensor

__all__ = ["PrecomputedFlow"]


class PrecomputedFlow:
    """Reader of the flow cache of one dataset split.

    Args:
        root: dataset root (the folder holding ``{phase}_B``).
        phase: split name, e.g. ``"train"``.

    Unlike :class:`~vid2vid.flow.estimator.FlowEstimator` it does not compute flow from frames:
    :meth:`load` returns a whole clip's cached flow.
    """

    name = "precomputed"

    def __init__(self, root: str | Path, phase: str = "train") -> None:
        self.root = Path(root)
        self.phase = phase

    def path(self, clip: str) -> Path:
        """Cache file of ``clip``: ``<root>/{phase}_flow/<clip>.safetensors``."""
        from vid2vid.data.flow_cache import flow_cache_path

        return Path(flow_cache_path(self.root, self.phase, clip))

    def __contains__(self, clip: str) -> bool:
        return self.path(clip).is_file()

    def load(self, clip: str) -> tuple[Tensor, Tensor]:
        """Cached flow of ``clip``.

        Returns:
            ``flow`` ``(T, 2, H, W)`` float32 pixels (``flow[0]`` zeros, ``flow[t]`` the backward
            flow of frame t onto t-1) and ``confidence`` ``(T, 1, H, W)`` float32 in ``{0, 1}``.
        """
        from vid2vid.data.flow_cache import load_flow_cache

        path = self.path(clip)
        if not path.is_file():
            raise FileNotFoundError(
                f"no cached flow for clip {clip!r} of phase {self.phase!r}: {path} does not exist; "
                f"compute it with `vid2vid prepare-flow --root {self.root} --phase {self.phase}`"
            )
        flow, confidence, _ = load_flow_cache(path)
        return flow, confidence

    def __repr__(self) -> str:
        return f"PrecomputedFlow(root={str(self.root)!r}, phase={self.phase!r})"
