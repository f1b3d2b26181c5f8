"""Build a reference-flow estimator from its name (the estimators' one factory).

Kept apart from :mod:`vid2vid.flow.estimator` (the interface the estimators subclass) so that
the dependency runs one way: ``raft``/``dis`` → ``estimator``; ``factory`` → all of them.
"""

from __future__ import annotations

from typing import Any

from vid2vid.flow.dis import DISFlow
from vid2vid.flow.estimator import FlowEstimator
from vid2vid.flow.precomputed import PrecomputedFlow
from vid2vid.flow.raft import RAFTFlow

__all__ = ["FLOW_ESTIMATORS", "get_flow_estimator"]

FLOW_ESTIMATORS: tuple[str, ...] = ("raft_small", "raft_large", "dis", "precomputed")
"""Names accepted by :func:`get_flow_estimator`."""


def get_flow_estimator(name: str, **kwargs: Any) -> FlowEstimator | PrecomputedFlow:
    """Build a reference-flow estimator from its name.

    Args:
        name: ``"raft_small"`` / ``"raft_large"`` (:class:`~vid2vid.flow.raft.RAFTFlow`, keyword
            arguments ``weights``, ``device``, ``num_flow_updates``), ``"dis"``
            (:class:`~vid2vid.flow.dis.DISFlow`, keyword ``preset``) or ``"precomputed"``
            (:class:`~vid2vid.flow.precomputed.PrecomputedFlow`, keywords ``root``, ``phase``;
            it reads flow per clip with ``.load(clip)`` instead of computing it from frames).
        **kwargs: passed to the estimator's constructor.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    if name in ("raft_small", "raft_large"):
        return RAFTFlow(variant=name.split("_", 1)[1], **kwargs)
    if name == "dis":
        return DISFlow(**kwargs)
    if name == "precomputed":
        return PrecomputedFlow(**kwargs)
    raise ValueError(f"unknown flow estimator {name!r}; expected one of {', '.join(FLOW_ESTIMATORS)}")
