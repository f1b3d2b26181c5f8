"""Optical flow: backward warping, photometric confidence, colouring and flow estimators."""

from vid2vid.flow.confidence import DEFAULT_CONFIDENCE_THRESHOLD, flow_confidence
from vid2vid.flow.dis import DISFlow
from vid2vid.flow.estimator import FlowEstimator
from vid2vid.flow.factory import FLOW_ESTIMATORS, get_flow_estimator
from vid2vid.flow.precomputed import PrecomputedFlow
from vid2vid.flow.prepare import prepare_flow
from vid2vid.flow.raft import RAFTFlow
from vid2vid.flow.visualize import flow_to_color
from vid2vid.flow.warp import FlowWarp, base_grid, flow_warp

__all__ = [
    "FlowWarp",
    "flow_warp",
    "base_grid",
    "flow_confidence",
    "DEFAULT_CONFIDENCE_THRESHOLD",
    "flow_to_color",
    "FlowEstimator",
    "get_flow_estimator",
    "FLOW_ESTIMATORS",
    "RAFTFlow",
    "DISFlow",
    "PrecomputedFlow",
    "prepare_flow",
]
