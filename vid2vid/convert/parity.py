"""Run a converted network on a reference fixture of the original and measure the difference.

A fixture folder (see ``tests/fixtures/nvidia-vid2vid/README.md``; full or compact copy, read
through :mod:`vid2vid.reference_fixtures`) holds the original's
weights (``*.pth``), its options (``config.json``, the original's flag names plus ``kind``,
``weights`` and frame size) and ``io.safetensors`` with the inputs fed and the outputs it
produced. :func:`check_fixture` converts the weights, replays the inputs with the original's
protocol and returns the largest absolute difference.

Generator fixtures are recurrent: every output frame is fed back as history. Their tiny random
networks amplify float rounding through that loop (a few times per frame: ~3e-5 after one frame,
~0.4 after seven), so the free-running replay matches the original to 1e-4 only where the
convolution and normalisation kernels round exactly as on the machine that made the fixture.
:func:`check_fixture` therefore also replays every window with the finest scale's history taken
from the original's own outputs (teacher forcing: a one-step comparison), and, where even that
frame is rounding-sensitive (coarser scales keep their own history; an all-zero history is
normalised as a constant plane), measures the frame's rounding floor (our float32 runs, as is and
with ulp-perturbed weights, against our float64) and accepts ``forced <= tolerance + 3 * floor``. A difference of architecture or
protocol shows at the first window far above both.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from vid2vid.convert.original import convert_original, load_original_state_dict
from vid2vid.data.labels import one_hot
from vid2vid.nn.pyramid import build_pyramid
from vid2vid.nn.sequential_generator import SequentialGenerator
from vid2vid.reference_fixtures import FixtureCase

__all__ = [
    "PARITY_TOLERANCE",
    "ROUNDING_MARGIN",
    "ROUNDING_RUNS",
    "ParityResult",
    "WindowParity",
    "check_fixture",
    "encode_fixture_inputs",
    "perturb_last_place_",
    "replay_generator_windows",
    "run_fixture",
    "teacher_forced_frames",
]

PARITY_TOLERANCE = 1e-4
"""Absolute tolerance of every parity check (the fixtures' README: above it is a real difference)."""
ROUNDING_MARGIN = 3.0
"""A rounding-sensitive frame passes within ``tolerance + ROUNDING_MARGIN * floor``."""
ROUNDING_RUNS = 3
"""Float32 replays with weights perturbed by one unit in the last place that join the floor."""


@dataclass
class WindowParity:
    """One generated frame of a generator fixture, compared three ways.

    Attributes:
        index: window index ``i`` (the output for input frame ``i + n_frames_G - 1``).
        free: largest ``|ours - original|`` when our generator runs on its own outputs
            (the original's protocol, free-running).
        forced: the same with the finest scale's history taken from the original's outputs
            (teacher forcing): a one-step comparison wherever the original's history is known.
            Coarser scales keep their own outputs (the fixtures do not record them).
        floor: how far float32 rounding alone moves this frame: the largest ``|float32 - float64|``
            of our generator under the same forced protocol, as is and with its weights perturbed
            by one unit in the last place (:data:`ROUNDING_RUNS` runs; which kernels run decides
            by chance how far a float32 result lands). ``None`` when not needed (``forced``
            within the tolerance).
        tolerance: the absolute tolerance (``1e-4``).
    """

    index: int
    free: float
    forced: float
    floor: float | None
    tolerance: float = PARITY_TOLERANCE

    @property
    def strict(self) -> bool:
        """Within the tolerance without appeal to rounding sensitivity."""
        return self.forced <= self.tolerance

    @property
    def passed(self) -> bool:
        """Within the tolerance, or within :data:`ROUNDING_MARGIN` times the rounding floor of
        a frame that float rounding alone moves more than the tolerance."""
        if self.strict:
            return True
        return self.floor is not None and self.forced <= self.tolerance + ROUNDING_MARGIN * self.floor


@dataclass
class ParityResult:
    """Outcome of :func:`check_fixture` (and of the pipeline replay).

    Attributes:
        name: fixture folder name.
        kind: network kind.
        max_abs_diff: largest absolute difference over every compared value, free-running.
        n_values: number of compared values.
        windows: per-window comparison of a generator fixture (empty for other kinds).
        other_diff: largest difference of the non-recurrent values compared alongside the
            windows (e.g. generated first frames), which must be within the tolerance.
        self_diff: largest ``|pipeline - our generator|`` on the same inputs, when a pipeline
            was replayed (it must add nothing to the generator: ``<= 1e-5``).
        tolerance: the absolute tolerance.
    """

    name: str
    kind: str
    max_abs_diff: float
    n_values: int
    windows: list[WindowParity] = field(default_factory=list)
    other_diff: float = 0.0
    self_diff: float | None = None
    tolerance: float = PARITY_TOLERANCE

    @property
    def exact(self) -> bool:
        """The free-running replay is within the tolerance everywhere (as on the fixture's machine)."""
        return self.max_abs_diff <= self.tolerance

    @property
    def passed(self) -> bool:
        """Parity holds: exact, or every window passes (:attr:`WindowParity.passed`) and the
        non-recurrent values are within the tolerance."""
        if self.self_diff is not None and self.self_diff > 1e-5:
            return False
        if self.exact:
            return True
        return (
            bool(self.windows) and self.other_diff <= self.tolerance and all(w.passed for w in self.windows)
        )

    def summary(self) -> str:
        """One line: verdict, free-running difference and, if needed, the per-window replay."""
        text = f"{self.name}: max |ours - original| = {self.max_abs_diff:.3g} over {self.n_values:,} values"
        if not self.exact and self.windows:
            strict = sum(w.strict for w in self.windows)
            worst = max(self.windows, key=lambda w: w.forced)
            text += (
                f" (free-running; rounding differs from the fixture's machine); teacher-forced windows: "
                f"{strict}/{len(self.windows)} within {self.tolerance:g}, worst {worst.forced:.3g} at "
                f"window {worst.index}"
                + (f" (rounding floor {worst.floor:.3g})" if worst.floor is not None else "")
            )
        if self.self_diff is not None:
            text += f"; pipeline vs generator {self.self_diff:.3g}"
        return text + (" -> PASS" if self.passed else " -> FAIL")


def run_fixture(
    folder: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Convert the fixture's network and run it on the fixture's inputs (free-running).

    Args:
        folder: the fixture folder.
        device: where to run the converted network (outputs come back on the CPU).

    Returns:
        ``(ours, expected)``: dictionaries of output tensors with the same keys.
    """
    _, ours, expected, _ = _run(FixtureCase.read(folder), device)
    return ours, expected


def encode_fixture_inputs(generator: SequentialGenerator, io: Mapping[str, Tensor]) -> Tensor:
    """A fixture's clip encoded for ``generator``: ``(1, T, frame_nc, H, W)``.

    Args:
        generator: the generator whose :meth:`~SequentialGenerator.encode_inputs` is used.
        io: the fixture's tensors: ``labels`` / ``instances`` ``(T, H, W)`` integer ids (any
            integer dtype) and/or continuous ``inputs`` ``(T, C, H, W)``.
    """
    clip = {k: io[k][None] for k in ("labels", "instances", "inputs") if k in io}
    labels = clip["labels"].long() if "labels" in clip else None
    instances = clip["instances"].long() if "instances" in clip else None
    return generator.encode_inputs(labels, instances, clip.get("inputs"))


def _run(
    case: FixtureCase, device: str | torch.device
) -> tuple[torch.nn.Module, dict[str, Tensor], dict[str, Tensor], tuple[Tensor, Tensor | None] | None]:
    """Converted network (in training mode, on ``device``), its outputs, the expected ones and,
    for a generator, its encoded inputs and first frames (``None`` for other kinds)."""
    cfg = case.config
    expected_io = case.tensors()
    io = {k: v.to(device) for k, v in expected_io.items()}
    paths = case.weight_paths()
    state_dicts = [load_original_state_dict(p) for p in paths]
    kind = case.kind
    model, _ = convert_original(kind, cfg, state_dicts, source_names=[p.name for p in paths])
    model.to(device).train()  # the original computed every fixture with per-call normalisation statistics
    with torch.no_grad():
        if kind == "vid2vid_generator":
            assert isinstance(model, SequentialGenerator)
            inputs = encode_fixture_inputs(model, io)
            first = None if cfg.get("no_first_img") else io["real"][None, : model.config.n_frames_G - 1]
            out = model.generate(inputs, first_frames=first)
            ours = {"expected": out.image[0].cpu()}
            return model, ours, {"expected": expected_io["expected"]}, (inputs, first)
        if kind in ("pix2pixhd_global", "pix2pixhd_local"):
            ours = {"expected": model(one_hot(io["labels"], int(cfg["input_nc"]))).cpu()}
            return model, ours, {"expected": expected_io["expected"]}, None
        if kind == "multiscale_patch_discriminator":
            features = model(io["input"])
            ours = {
                f"scale{i}.layer{j}": f.cpu() for i, scale in enumerate(features) for j, f in enumerate(scale)
            }
            return model, ours, {k: expected_io[k] for k in ours}, None
        if kind == "instance_feature_encoder":
            ours = {"expected": model(io["image"], io["instances"]).cpu()}
            return model, ours, {"expected": expected_io["expected"]}, None
    raise ValueError(f"fixture {case.folder} has unknown kind {kind!r}")


def teacher_forced_frames(
    generator: SequentialGenerator, inputs: Tensor, first_frames: Tensor | None, expected: Tensor
) -> Tensor:
    """Our outputs when the finest scale's history after window ``i`` is ``expected[i]``.

    Args:
        generator: the generator (its parameters' dtype is used throughout).
        inputs: ``(1, T, frame_nc, H, W)`` encoded inputs.
        first_frames: ``(1, n_frames_G - 1, output_nc, H, W)`` history before window 0, or ``None``.
        expected: ``(N, output_nc, H, W)`` reference outputs, ``N <= T - n_frames_G + 1``.

    Returns:
        ``(N, output_nc, H, W)`` our frame of every window.
    """
    tg = generator.config.n_frames_G
    dtype = next(generator.parameters()).dtype
    inputs = inputs.to(dtype)
    state = generator.init_state(
        None if first_frames is None else first_frames.to(dtype),
        batch_size=inputs.shape[0],
        height=inputs.shape[-2],
        width=inputs.shape[-1],
        device=inputs.device,
        dtype=dtype,
    )
    pyramid = build_pyramid(inputs, generator.config.n_scales)
    frames = []
    for i in range(expected.shape[0]):
        out, state = generator.step([lvl[:, i : i + tg] for lvl in pyramid], state)
        frames.append(out.image[0])
        finest = state.history[0].clone()
        finest[:, -1] = expected[i].to(finest)
        state.history[0] = finest
    return torch.stack(frames)


def perturb_last_place_(modules: Iterable[torch.nn.Module], seed: int) -> None:
    """Multiply every parameter of ``modules`` in place by ``1 + u * 2**-23`` (``u`` uniform in
    [-1, 1], one seeded draw sequence over the modules in order): another float32 rounding of
    the same function, for measuring a rounding floor."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in modules:
            for param in module.parameters():
                noise = torch.rand(param.shape, generator=gen, dtype=torch.float64) * 2 - 1
                param.mul_((1 + noise * 2.0**-23).to(device=param.device, dtype=param.dtype))


def _perturbed(generator: SequentialGenerator, seed: int) -> SequentialGenerator:
    """A copy of ``generator`` perturbed by :func:`perturb_last_place_`."""
    copied = copy.deepcopy(generator)
    perturb_last_place_([copied], seed)
    return copied


def replay_generator_windows(
    generator: SequentialGenerator,
    inputs: Tensor,
    first_frames: Tensor | None,
    expected: Tensor,
    free: Tensor,
    tolerance: float = PARITY_TOLERANCE,
) -> list[WindowParity]:
    """Compare a generator with the original window by window (see :class:`WindowParity`).

    Args:
        generator: our converted generator, in the mode the fixture prescribes (per-call
            normalisation statistics); not modified (the float64 replay runs on a copy).
        inputs: ``(1, T, frame_nc, H, W)`` float, encoded inputs (:meth:`SequentialGenerator.encode_inputs`).
        first_frames: ``(1, n_frames_G - 1, output_nc, H, W)`` in ``[-1, 1]``, the original's history
            before the first window, or ``None`` for zeros.
        expected: ``(N, output_nc, H, W)`` the original's outputs, ``N = T - n_frames_G + 1``.
        free: ``(N, output_nc, H, W)`` our free-running outputs for the same inputs.
        tolerance: absolute tolerance.

    Returns:
        One :class:`WindowParity` per window.
    """
    expected = expected.to(inputs.device)
    with torch.no_grad():
        forced = teacher_forced_frames(generator, inputs, first_frames, expected)
        forced_diff = (forced.double() - expected.double()).abs().flatten(1).amax(1)
        floors: list[float | None] = [None] * expected.shape[0]
        if bool((forced_diff > tolerance).any()):
            double = copy.deepcopy(generator).double()
            exact = teacher_forced_frames(double, inputs.double(), first_frames, expected.double())
            runs = [forced] + [
                teacher_forced_frames(_perturbed(generator, seed), inputs, first_frames, expected)
                for seed in range(ROUNDING_RUNS)
            ]
            spread = torch.stack([(run.double() - exact).abs().flatten(1).amax(1) for run in runs])
            floors = spread.amax(0).tolist()
    free_diff = (free.to(expected.device).double() - expected.double()).abs().flatten(1).amax(1)
    return [
        WindowParity(i, float(free_diff[i]), float(forced_diff[i]), floors[i], tolerance)
        for i in range(expected.shape[0])
    ]


def check_fixture(folder: str | os.PathLike[str], device: str | torch.device = "cpu") -> ParityResult:
    """Compare our converted network (run on ``device``) with the original on a fixture.

    Non-recurrent networks are compared directly; generators free-running and, where their
    rounding differs from the fixture's machine, window by window (see the module docstring).
    Check :attr:`ParityResult.passed`.
    """
    folder = Path(folder)
    case = FixtureCase.read(folder)
    model, ours, expected, generator_inputs = _run(case, device)
    missing = sorted(set(expected) - set(ours))
    if missing:
        raise ValueError(f"fixture {folder.name}: outputs not produced: {missing}")
    diff = 0.0
    count = 0
    for key, ref in expected.items():
        if ours[key].shape != ref.shape:
            raise ValueError(
                f"fixture {folder.name}: {key} has shape {tuple(ours[key].shape)}, expected {tuple(ref.shape)}"
            )
        diff = max(diff, float((ours[key].float() - ref.float()).abs().max()))
        count += ref.numel()
    result = ParityResult(folder.name, case.kind, diff, count)
    if generator_inputs is not None and not result.exact:
        assert isinstance(model, SequentialGenerator)
        inputs, first = generator_inputs
        result.windows = replay_generator_windows(
            model, inputs, first, expected["expected"], ours["expected"]
        )
    return result
