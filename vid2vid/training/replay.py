"""Replay one training iteration of the original NVIDIA/vid2vid and compare it with ours.

A *training fixture* (the protocol of ``shared/fixtures/nvidia-vid2vid-train/README.md``) holds
what the original's ``train.py`` computed in one iteration: its networks' weights before the
iteration (``latest_net_G<s>.pth``, ``latest_net_D.pth``, ``latest_net_D_T<s>.pth``), its options
(``config.json``), the inputs and the reference flows that replaced FlowNet2 with their
confidences and the outputs (``io.safetensors``), and every loss term, combined loss and
gradient norm per chunk (``losses.json``).

:func:`replay_training_fixture` builds a :class:`~vid2vid.training.trainer.Vid2VidTrainer` from
those options, loads the converted weights into its generator and discriminators, and runs
:meth:`~vid2vid.training.trainer.Vid2VidTrainer.train_iteration` — the code path of real
training — on the fixture's clip with the learning rate at 0 (as the fixture was made), with an
:class:`~vid2vid.training.trainer.IterationObserver` recording each chunk's outputs, losses and
gradients. :class:`ReplayReport` holds every comparison; ``vid2vid verify-training`` prints it.

Tolerances (float32, CPU): loss terms and combined losses within ``1e-5`` relative (``1e-6``
absolute near zero); generated frames, flows, weights and handed-over histories within ``1e-5``
absolute; gradient norms within ``1e-4`` relative, except for parameters whose gradient is zero in
exact arithmetic (a convolution's bias directly followed by a batch-statistics normalisation:
the norm removes it), whose exported norm is rounding noise: ours and the original's must both stay
below ``1e-2`` of the largest gradient norm of the same network.

These tolerances hold where our kernels round as those of the machine that made the fixture.
Elsewhere (another CPU's vector width or oneDNN kernels) they cannot: the generator feeds its
outputs back as history, and the fixtures' small random networks amplify float32 rounding
several-fold per frame. Then, in the order given:

1. *teacher forcing* — the iteration is replayed again with the generator given the original's
   history wherever the fixture holds it (:meth:`IterationObserver.generator_history`): the
   finest scale's previous outputs at every frame, every scale's handed-over history at a
   chunk's start; the substitute keeps our history's gradient path. Each frame is then one step
   from the original's, and losses and outputs agree to the tolerances above;
2. *float32 rounding floor* — where even that leaves checks out of tolerance (gradients: sums with
   cancellation amplified through the normalisations' backward; an all-zero history normalised
   as constant planes; the coarse scales' own history, which the fixture does not hold), every
   check gets a floor measured on our side only: the largest distance of our float32 replays
   (as is, and :data:`ROUNDING_RUNS` with weights perturbed by one unit in the last place) from
   our float64 replay, and passes within ``tolerance + ROUNDING_MARGIN * floor``. A real
   difference of the computation shows in float64 as in float32 and does not widen the floor.

:attr:`ReplayReport.mode` says which replay the report holds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import default_collate

from vid2vid.checkpoint import load_state_dict, read_json
from vid2vid.convert.original import (
    convert_multiscale_discriminator,
    convert_sequential_generator,
    load_original_state_dict,
    sequential_generator_config_from_options,
)
from vid2vid.convert.parity import perturb_last_place_
from vid2vid.training.config import TrainConfig
from vid2vid.training.trainer import IterationObserver, Vid2VidTrainer

__all__ = [
    "TrainingFixture",
    "ReplayCheck",
    "ReplayReport",
    "replay_training_fixture",
    "fixture_train_config",
    "fixture_vgg19_state_dict",
    "write_fixture_vgg19",
    "LOSS_RTOL",
    "LOSS_ATOL",
    "OUTPUT_ATOL",
    "GRAD_RTOL",
    "GRAD_NOISE_RTOL",
    "ROUNDING_MARGIN",
    "ROUNDING_RUNS",
]

LOSS_RTOL = 1e-5
LOSS_ATOL = 1e-6
OUTPUT_ATOL = 1e-5
GRAD_RTOL = 1e-4
#: gradient norms that are rounding noise (zero in exact arithmetic) must stay below this fraction of
#: the largest gradient norm of the same network, in ours and in the original
GRAD_NOISE_RTOL = 1e-2
ROUNDING_RUNS = 6
"""Float32 replays with weights perturbed by one unit in the last place that measure the floor."""
ROUNDING_MARGIN = 5.0
"""A check passes within ``tolerance + ROUNDING_MARGIN * floor``. Wider than the network replay's
3 (:data:`vid2vid.convert.parity.ROUNDING_MARGIN`): a training step's gradients are heavy-tailed
(a sum with cancellation, amplified through the normalisations' backward), and seven runs
still under-sample the tail; with several spatial scales the coarse scale's own history within a chunk
is not in the fixture and runs free (its chaos reaches ~0.2 relative on some gradient norms)."""


_GAN_MODES = {"ls": "lsgan", "hinge": "hinge", "original": "vanilla"}
_VGG_LAYERS = (
    (3, 64, 0),
    (64, 64, 2),
    (64, 128, 5),
    (128, 128, 7),
    (128, 256, 10),
    (256, 256, 12),
    (256, 256, 14),
    (256, 256, 16),
    (256, 512, 19),
    (512, 512, 21),
    (512, 512, 23),
    (512, 512, 25),
    (512, 512, 28),
)


def fixture_vgg19_state_dict(recipe: dict[str, Any]) -> dict[str, Tensor]:
    """The fixtures' deterministic random VGG19 weights, rebuilt from their recipe and verified.

    The recipe (``config.json`` key ``vgg``): ``np.random.RandomState(0)``; for each of the 13
    convolutions of ``features[0..29]`` in order, ``w = standard_normal((out, in, 3, 3)) *
    sqrt(2 / (in * 9))`` then ``b = uniform(-0.05, 0.05, out)``, both rounded to float16. Each
    tensor is checked against the recipe's sha256 of its float32 bytes.

    Returns:
        ``features.N.weight`` / ``features.N.bias`` float32 tensors (torchvision names).

    Raises:
        ValueError: a rebuilt tensor's hash differs from the recipe's.
    """
    rng = np.random.RandomState(0)
    state: dict[str, Tensor] = {}
    for c_in, c_out, index in _VGG_LAYERS:
        w = (rng.standard_normal((c_out, c_in, 3, 3)) * np.sqrt(2.0 / (c_in * 9))).astype(np.float16)
        b = rng.uniform(-0.05, 0.05, c_out).astype(np.float16)
        state[f"features.{index}.weight"] = torch.from_numpy(w.astype(np.float32))
        state[f"features.{index}.bias"] = torch.from_numpy(b.astype(np.float32))
    hashes = recipe.get("sha256_float32_per_tensor", {})
    bad = [
        key
        for key, digest in hashes.items()
        if key not in state or hashlib.sha256(state[key].numpy().tobytes()).hexdigest() != digest
    ]
    if bad or not hashes:
        raise ValueError(
            f"the rebuilt fixture VGG19 weights do not match the recipe's hashes: {bad or 'none given'}"
        )
    return state


@dataclass
class TrainingFixture:
    """A training-step fixture folder, read (see the module docstring for its files).

    Attributes:
        folder: the folder.
        config: ``config.json`` (``options`` holds the original's flags).
        tensors: ``io.safetensors``.
        losses: ``losses.json``.
    """

    folder: Path
    config: dict[str, Any]
    tensors: dict[str, Tensor]
    losses: dict[str, Any]

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> TrainingFixture:
        """Read a fixture folder; clear errors for missing files."""
        folder = Path(folder)
        for name in ("config.json", "io.safetensors", "losses.json"):
            if not (folder / name).is_file():
                raise FileNotFoundError(
                    f"{folder} is not a training fixture: {name} is missing (expected config.json, "
                    "io.safetensors, losses.json and the original's latest_net_*.pth files)"
                )
        config = read_json(folder / "config.json")
        for key in ("options", "weights", "frames_per_chunk", "n_chunks"):
            if key not in config:
                raise ValueError(f"{folder / 'config.json'} lacks the key {key!r}")
        with open(folder / "losses.json", encoding="utf-8") as f:
            losses = json.load(f)
        return cls(folder, config, load_state_dict(folder / "io.safetensors"), losses)

    @property
    def options(self) -> dict[str, Any]:
        """The original's options (flag names)."""
        return self.config["options"]

    @property
    def name(self) -> str:
        """The fixture's name."""
        return str(self.config.get("fixture", self.folder.name))

    def weights(self, name: str) -> dict[str, Tensor]:
        """The original's state dict ``latest_net_<name>.pth`` (``G0``, ``D``, ``D_T1`` ...)."""
        return load_original_state_dict(self.folder / f"latest_net_{name}.pth")

    def vgg_weights(self, cache_dir: str | os.PathLike[str] | None = None) -> Path | None:
        """Path of the VGG19 weights the fixture's VGG loss used (``None`` with ``no_vgg``).

        The file named in ``config.json`` when it exists beside the fixture; otherwise the
        weights are rebuilt from their recipe (:func:`fixture_vgg19_state_dict`, verified against
        its hashes) into ``cache_dir`` (default: ``$XDG_CACHE_HOME/vid2vid``, i.e.
        ``~/.cache/vid2vid``) and that file is returned.
        """
        if self.options.get("no_vgg"):
            return None
        vgg = self.config.get("vgg")
        if not vgg:
            raise ValueError(f"{self.folder / 'config.json'} describes no VGG weights ('vgg')")
        given = (self.folder / vgg["file"]).resolve()
        if given.is_file():
            return given
        if cache_dir is None:
            cache_dir = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vid2vid"
        digest = str(vgg.get("sha256_float32_all", "recipe"))[:16]
        path = Path(cache_dir) / f"fixture_vgg19_{digest}.safetensors"
        if not path.is_file():
            write_fixture_vgg19(vgg, path)
        return path

    def flow(self, t: int, t_prev: int) -> tuple[Tensor, Tensor]:
        """Reference flow ``(2, H, W)`` and confidence ``(1, H, W)`` of data frame ``t`` onto ``t_prev``."""
        key = f"flow_ref.{t}_{t_prev}"
        if key not in self.tensors:
            raise KeyError(f"fixture {self.name} has no reference flow {key!r}")
        return self.tensors[key], self.tensors[f"conf_ref.{t}_{t_prev}"]


def write_fixture_vgg19(recipe: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Rebuild the fixtures' VGG19 weights (:func:`fixture_vgg19_state_dict`) into a safetensors file (atomic)."""
    from safetensors.torch import save_file

    from vid2vid.atomic import atomic_path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = fixture_vgg19_state_dict(recipe)
    with atomic_path(path) as tmp:
        save_file(state, str(tmp))
    return path


def fixture_train_config(fixture: TrainingFixture, vgg_weights: str | os.PathLike[str] | None) -> TrainConfig:
    """Our :class:`TrainConfig` for the original's options of ``fixture`` (CPU, float32, lr 0)."""
    opt = fixture.options
    gan_mode = _GAN_MODES.get(str(opt.get("gan_mode", "ls")))
    if gan_mode is None:
        raise ValueError(f"fixture {fixture.name}: unknown gan_mode {opt.get('gan_mode')!r}")
    generator = sequential_generator_config_from_options(opt)
    return TrainConfig(
        model="vid2vid",
        generator=generator,
        ndf=int(opt["ndf"]),
        n_layers_D=int(opt["n_layers_D"]),
        num_D=int(opt["num_D"]),
        norm_D=str(opt.get("norm", "batch")),
        n_frames_D=int(opt["n_frames_D"]),
        n_scales_temporal=int(opt["n_scales_temporal"]),
        gan_mode=gan_mode,
        lambda_feat=float(opt["lambda_feat"]),
        lambda_vgg=float(opt["lambda_feat"]),  # the original weighs VGG with lambda_feat
        lambda_F=float(opt["lambda_F"]),
        lambda_T=float(opt["lambda_T"]),
        lambda_W=1.0,
        no_ganFeat=bool(opt.get("no_ganFeat", False)),
        vgg_weights="none" if vgg_weights is None else str(vgg_weights),
        sparse_D=bool(opt.get("sparse_D", False)),
        add_face_disc=bool(opt.get("add_face_disc", False)),
        openpose_only=bool(opt.get("openpose_only", False)),
        fine_size=int(opt.get("fineSize", 512)),
        load_size=int(opt.get("loadSize", opt.get("fineSize", 512))),
        beta1=float(opt.get("beta1", 0.5)),
        TTUR=bool(opt.get("TTUR", False)),
        n_frames_total=int(opt["n_frames_total"]),
        max_frames_per_gpu=int(opt["max_frames_per_gpu"]),
        n_gpus_gen=int(opt.get("n_gpus_gen", 1)),
        max_frames_backpropagate=int(opt.get("max_frames_backpropagate", 1)),
        # the fixtures ran the original with nn.DataParallel as a pass-through (see TrainConfig)
        g_warp_chunk_start="chunk_last",
        # the fixtures export the original's 0/1 confidence: a pixel near the threshold could flip
        flow_confidence="cache",
        batch_size=int(opt.get("batchSize", 1)),
        flip=False,
        num_workers=0,
        flow_source="cache",
        device="cpu",
        dtype="float32",
        tensorboard=False,
        progress=False,
        seed=int(fixture.config.get("seed", 0)),
    )


class _FixtureClip(torch.utils.data.Dataset):
    """The fixture's clip as a one-sample dataset with the keys of a :class:`ClipDataset` sample."""

    def __init__(self, fixture: TrainingFixture) -> None:
        t = fixture.tensors
        self.fixture = fixture
        self.load_flow = True
        n, _, h, w = t["real"].shape
        flow = torch.zeros(n, 2, h, w)
        conf = torch.zeros(n, 1, h, w)
        for d in range(1, n):
            key = f"flow_ref.{d}_{d - 1}"
            if key in t:
                flow[d], conf[d] = fixture.flow(d, d - 1)
        self.sample: dict[str, Any] = {"frames": t["real"], "flow": flow, "flow_confidence": conf}
        for key in ("labels", "instances", "inputs"):
            if key in t:
                self.sample[key] = t[key]
        self.clips = [_ClipLength(n)]

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> dict[str, Any]:
        return dict(self.sample)

    def set_n_frames(self, n_frames: int, min_frames: int | None = None) -> None:
        """Unused: the fixture's clip is used whole."""

    def set_epoch(self, epoch: int) -> None:
        """Unused: the fixture's clip has no randomness."""


@dataclass
class _ClipLength:
    length: int


@dataclass
class ReplayCheck:
    """One compared quantity.

    Attributes:
        chunk: chunk index; ``kind``: ``"loss"``, ``"output"``, ``"grad_norm"`` or ``"grad"``.
        name: the original's name of the quantity.
        ours, original: the values (for tensors: ours is the largest absolute difference and
            original the largest absolute reference value).
        error: the measured difference (relative or absolute, see ``mode``).
        tolerance: the bound it must stay within; ``mode``: ``"rel"`` or ``"abs"``.
        floor: how far float32 rounding alone moves this value: the largest distance, in the
            check's own measure, of our float32 replays (as is, and with weights perturbed by
            one unit in the last place) from our float64 replay; ``None`` when not measured.
            A bug shows in both precisions alike, so it does not widen the floor.
        value: our tensor, for output and full-gradient checks (to measure ``floor``).
    """

    chunk: int
    kind: str
    name: str
    ours: float
    original: float
    error: float
    tolerance: float
    mode: str
    floor: float | None = None
    value: Tensor | None = field(default=None, repr=False, compare=False)

    @property
    def bound(self) -> float:
        """What ``error`` must stay within: ``tolerance``, plus ``ROUNDING_MARGIN * floor`` when measured."""
        return self.tolerance + (ROUNDING_MARGIN * self.floor if self.floor is not None else 0.0)

    @property
    def ok(self) -> bool:
        """Within :attr:`bound` (and finite)."""
        return math.isfinite(self.error) and self.error <= self.bound

    def describe_bound(self) -> str:
        """The bound in words, e.g. ``tolerance 1e-04`` or ``tolerance 1e-04 + 5 x floor 2.0e-03``."""
        text = f"tolerance {self.tolerance:.0e}"
        if self.floor is not None:
            text += f" + {ROUNDING_MARGIN:g} x floor {self.floor:.1e}"
        return text


@dataclass
class ReplayReport:
    """Every comparison of one replay (see :func:`replay_training_fixture`)."""

    fixture: str
    checks: list[ReplayCheck] = field(default_factory=list)
    mode: str = "free-running"
    free_running: ReplayReport | None = None

    @property
    def ok(self) -> bool:
        """Every check within tolerance."""
        return bool(self.checks) and all(c.ok for c in self.checks)

    def failures(self) -> list[ReplayCheck]:
        """The checks out of tolerance."""
        return [c for c in self.checks if not c.ok]

    def worst(self, kind: str) -> ReplayCheck | None:
        """The check of ``kind`` closest to (or furthest past) its bound."""
        of_kind = [c for c in self.checks if c.kind == kind]
        return max(
            of_kind, key=lambda c: c.error / c.bound if math.isfinite(c.error) else math.inf, default=None
        )

    def format(self) -> str:
        """A table of the loss terms and the worst output and gradient differences."""
        lines = [f"fixture {self.fixture} ({self.mode})"]
        if self.free_running is not None:
            lines.append(
                f"free-running: {len(self.free_running.failures())} of {len(self.free_running.checks)} checks "
                "out of tolerance (this machine rounds differently from the fixture's, and the recurrence "
                "amplifies it); replayed again with the original's history:"
            )
        lines.append(f"{'chunk':>5}  {'loss term':<20} {'ours':>16} {'original':>16} {'rel. diff':>10}")
        for c in self.checks:
            if c.kind == "loss":
                flag = "" if c.ok else "  <-- out of tolerance"
                lines.append(
                    f"{c.chunk:>5}  {c.name:<20} {c.ours:>16.9g} {c.original:>16.9g} {c.error:>10.2e}{flag}"
                )
        for kind, label in (
            ("output", "outputs"),
            ("grad_norm", "gradient norms"),
            ("grad", "full gradients"),
        ):
            w = self.worst(kind)
            if w is not None:
                n = sum(c.kind == kind for c in self.checks)
                bad = sum(not c.ok for c in self.checks if c.kind == kind)
                lines.append(
                    f"{label}: {n} compared, {bad} out of tolerance; worst: chunk {w.chunk} {w.name} "
                    f"{w.mode} diff {w.error:.2e} ({w.describe_bound()})"
                )
        lines.append("PASS" if self.ok else f"FAIL: {len(self.failures())} checks out of tolerance")
        return "\n".join(lines)


class _Recorder(IterationObserver):
    def __init__(self) -> None:
        self.grad_norms: list[dict[str, dict[str, float | None]]] = [{}]
        self.grads: list[dict[str, dict[str, Tensor]]] = [{}]
        self.chunks: list[tuple[dict[str, Tensor], dict[str, Tensor]]] = []

    def gradients(self, name: str, module: nn.Module) -> None:
        norms: dict[str, float | None] = {}
        grads: dict[str, Tensor] = {}
        for pname, p in module.named_parameters():
            norms[pname] = None if p.grad is None else float(p.grad.double().norm())
            if p.grad is not None:
                grads[pname] = p.grad.detach().clone()
        self.grad_norms[-1][name] = norms
        self.grads[-1][name] = grads

    def chunk(self, index: int, tensors: dict[str, Tensor], losses: dict[str, Tensor]) -> None:
        self.chunks.append((tensors, losses))
        self.grad_norms.append({})
        self.grads.append({})


class _TeacherForcingRecorder(_Recorder):
    """Records like :class:`_Recorder` and gives the generator the original's history wherever
    the fixture holds it: the finest scale's at every frame (the first frames, then the
    original's generated frames), every scale's at a chunk's first frame (the handed-over
    ``c<k>.fake_B_last.scale<s>``). The substitute keeps our history's gradient path."""

    def __init__(self, fx: TrainingFixture, n_frames_G: int, n_scales: int, frames_per_chunk: int) -> None:
        super().__init__()
        io = fx.tensors
        first = io["real"][: n_frames_G - 1]
        if fx.options.get("no_first_img"):
            first = torch.zeros_like(first)
        generated = []
        for k in range(int(fx.config["n_chunks"])):
            if f"c{k}.fake_B" not in io:
                break  # the original's frames are known up to here; later frames run free
            generated.append(io[f"c{k}.fake_B"])
        self.sequence = torch.cat([first, *generated])  # finest scale: history, then every output
        self.handed = {
            (k + 1) * frames_per_chunk: [
                io[f"c{k}.fake_B_last.scale{s}"]
                for s in range(n_scales)
                if f"c{k}.fake_B_last.scale{s}" in io
            ]
            for k in range(int(fx.config["n_chunks"]))
        }
        self.n_frames_G = n_frames_G

    def generator_history(self, frame: int, history: list[Tensor]) -> list[Tensor]:
        known = dict(enumerate(self.handed.get(frame, [])))
        if frame + self.n_frames_G - 1 <= self.sequence.shape[0]:
            known[0] = self.sequence[frame : frame + self.n_frames_G - 1]
        out = list(history)
        for s, ref in known.items():
            if s < len(out):
                ours = out[s]
                original = ref.to(ours).unsqueeze(0).expand_as(ours)
                out[s] = ours + (original - ours).detach() if ours.requires_grad else original
        return out


def _noise_parameters(module: nn.Module) -> set[str]:
    """Names of conv biases whose gradient is 0 in exact arithmetic: each is followed directly by a
    batch-statistics normalisation (BatchNorm in training mode, instance norm) that removes it."""
    names: set[str] = set()
    normalising = (nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm)
    modules = dict(module.named_modules())
    for name, mod in modules.items():
        children = list(mod.named_children())
        for (a_name, a), (_, b) in zip(children, children[1:], strict=False):
            if (
                isinstance(a, nn.Conv2d | nn.ConvTranspose2d)
                and isinstance(b, normalising)
                and a.bias is not None
            ):
                names.add(f"{name}.{a_name}.bias" if name else f"{a_name}.bias")
    # residual blocks hold conv1/norm1 and conv2/norm2 as named attributes
    for name, mod in modules.items():
        for k in (1, 2):
            conv, norm = getattr(mod, f"conv{k}", None), getattr(mod, f"norm{k}", None)
            if isinstance(conv, nn.Conv2d) and isinstance(norm, normalising) and conv.bias is not None:
                names.add(f"{name}.conv{k}.bias" if name else f"conv{k}.bias")
    return names


def _rel(ours: float, ref: float) -> float:
    return abs(ours - ref) / abs(ref) if ref != 0 else abs(ours - ref)


def replay_training_fixture(
    folder: str | os.PathLike[str],
    *,
    vgg_weights: str | os.PathLike[str] | None = None,
    trainer_hook: Any = None,
    teacher_forcing: bool = True,
    fallback: bool = False,
) -> ReplayReport:
    """Replay one training iteration of the original through our trainer and compare everything.

    Args:
        folder: a training fixture folder.
        vgg_weights: VGG19 weights for the VGG loss (default: the fixture's, see
            :meth:`TrainingFixture.vgg_weights`).
        trainer_hook: optional ``hook(trainer)`` called before the iteration (tests use it to
            break the trainer on purpose).
        teacher_forcing: when the free-running replay is out of tolerance, replay again with
            the generator given the original's history wherever the fixture holds it (see the
            module docstring) and return that report (``mode == "teacher-forced"``, the first
            one in ``free_running``), and if that is out of tolerance too, measure every check's
            rounding floor (``mode`` says so).
        fallback: skip the free-running replay and go straight to teacher forcing with the
            rounding floors measured (what a CPU that rounds unlike the fixture's machine gets),
            so that this path can be checked on any machine.

    Returns:
        The :class:`ReplayReport` (``.ok`` tells whether everything is within tolerance).

    Raises:
        ValueError: the fixture's protocol does not match our schedule (chunks, frames), or its
            weights do not fit the architecture its options describe.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the fixtures were made single-threaded: same summation order
    try:
        free = None
        if not fallback:
            free = _replay(folder, vgg_weights, trainer_hook, teacher_forcing=False)
            if free.ok or not teacher_forcing:
                return free
        forced = _replay(folder, vgg_weights, trainer_hook, teacher_forcing=True)
        forced.mode = "teacher-forced"
        forced.free_running = free
        if fallback or not forced.ok:
            _set_rounding_floors(forced, folder, vgg_weights, trainer_hook)
            forced.mode = "teacher-forced, with the float32 rounding floor"
        return forced
    finally:
        torch.set_num_threads(threads)


def _replay(
    folder: str | os.PathLike[str],
    vgg_weights: str | os.PathLike[str] | None,
    trainer_hook: Any,
    teacher_forcing: bool,
    dtype: str = "float32",
) -> ReplayReport:
    fx = TrainingFixture.load(folder)
    vgg = Path(vgg_weights) if vgg_weights is not None else fx.vgg_weights()
    config = dataclasses.replace(fixture_train_config(fx, vgg), dtype=dtype)
    tg = config.generator.n_frames_G

    def pair_flow(frame: Tensor, prev: Tensor, t: int, t_prev: int) -> Tensor:
        # sequence position p is data frame p + n_frames_G - 1 of the fixture's clip
        flow, _ = fx.flow(t + tg - 1, t_prev + tg - 1)
        return flow.to(frame).unsqueeze(0).expand(frame.shape[0], -1, -1, -1)

    torch.manual_seed(0)
    trainer = Vid2VidTrainer(config, dataset=_FixtureClip(fx), pair_flow=pair_flow)
    key_maps = _load_original_weights(trainer, fx, config)
    sched = trainer.schedule(0)
    n_chunks = sched.n_frames_generated // sched.frames_per_chunk
    if (sched.frames_per_chunk, n_chunks) != (int(fx.config["frames_per_chunk"]), int(fx.config["n_chunks"])):
        raise ValueError(
            f"fixture {fx.name}: our schedule generates {n_chunks} chunk(s) of {sched.frames_per_chunk} "
            f"frames, the original's protocol {fx.config['n_chunks']} of {fx.config['frames_per_chunk']}"
        )
    for opt in [trainer.optimizer_G, trainer.optimizer_D, *trainer.optimizers_D_T]:
        for group in opt.param_groups:
            group["lr"] = 0.0  # the fixture ran with --lr 0: every chunk sees the exported weights
    recorder = (
        _TeacherForcingRecorder(fx, tg, config.generator.n_scales, sched.frames_per_chunk)
        if teacher_forcing
        else _Recorder()
    )
    trainer.observer = recorder
    trainer.generator.train()
    trainer.objective.train()
    if trainer_hook is not None:
        trainer_hook(trainer)
    batch = default_collate([trainer.dataset[0]])
    trainer.train_iteration(batch, sched)
    return _compare(fx, trainer, recorder, key_maps)


def _load_original_weights(
    trainer: Vid2VidTrainer, fx: TrainingFixture, config: TrainConfig
) -> dict[str, dict[str, str]]:
    """Convert the fixture's weights into the trainer's networks; returns original → our names per network."""
    gen_cfg = config.generator
    g_map: dict[str, str] = {}
    names = [f"G{s}" for s in range(gen_cfg.n_scales)]
    converted = convert_sequential_generator(
        [fx.weights(n) for n in names], gen_cfg, str(fx.options.get("norm", "batch")), names, key_map=g_map
    )
    trainer.generator.load_state_dict(converted.state_dict())
    maps = {"G": g_map}
    d_kwargs = {
        "ndf": config.ndf,
        "n_layers": config.n_layers_D,
        "num_D": config.num_D,
        "norm": config.norm_D,
        "ndf_max": config.ndf_max,
    }
    d_map: dict[str, str] = {}
    image_d = convert_multiscale_discriminator(
        fx.weights("D"), trainer.objective.image_d.input_nc, source_name="D", key_map=d_map, **d_kwargs
    )
    trainer.objective.image_d.load_state_dict(image_d.state_dict())
    face_d = trainer.objective.face_d
    if face_d is None:
        maps["D"] = {f"D.{k}": v for k, v in d_map.items()}
    else:  # the observer sees image_d and face_d together (they share the original's optimizer_D)
        maps["D"] = {f"D.{k}": f"image_d.{v}" for k, v in d_map.items()}
        f_map: dict[str, str] = {}
        conv = convert_multiscale_discriminator(
            fx.weights("D_f"),
            face_d.input_nc,
            source_name="D_f",
            key_map=f_map,
            **{**d_kwargs, "num_D": len(face_d.scales)},
        )
        face_d.load_state_dict(conv.state_dict())
        maps["D"].update({f"D_f.{k}": f"face_d.{v}" for k, v in f_map.items()})
        maps["D_f"] = maps["D"]
    for s, scale in enumerate(trainer.objective.temporal_d.scales):
        t_map: dict[str, str] = {}
        conv = convert_multiscale_discriminator(
            fx.weights(f"D_T{s}"), scale.input_nc, source_name=f"D_T{s}", key_map=t_map, **d_kwargs
        )
        scale.load_state_dict(conv.state_dict())
        maps[f"D_T{s}"] = {f"D_T{s}.{k}": v for k, v in t_map.items()}
    return maps


def _compare(
    fx: TrainingFixture, trainer: Vid2VidTrainer, rec: _Recorder, key_maps: dict[str, dict[str, str]]
) -> ReplayReport:
    report = ReplayReport(fx.name)
    chunks = fx.losses["chunks"]
    if len(rec.chunks) != len(chunks):
        raise ValueError(f"fixture {fx.name}: we ran {len(rec.chunks)} chunks, the original {len(chunks)}")
    modules = {"G": trainer.generator, "D": trainer._d_module()}
    modules["D_f"] = modules["D"]
    for s, scale in enumerate(trainer.objective.temporal_d.scales):
        modules[f"D_T{s}"] = scale
    noise = {name: _noise_parameters(mod) for name, mod in modules.items()}
    io = fx.tensors
    for k, ref in enumerate(chunks):
        tensors, losses = rec.chunks[k]
        # ---- loss terms and combined losses
        expected = {**ref["losses"], **ref["combined"]}
        for name, value in expected.items():
            if value is None:
                continue
            ours_name = name if name in losses else name.removeprefix("loss_")
            if ours_name in losses:
                ours = float(losses[ours_name])
            elif ours_name.startswith("G_T_Warp"):
                ours = 0.0  # the original's temporal warp term is always 0
            else:
                raise ValueError(
                    f"chunk {k}: the original has {name} but we computed no such term (a temporal scale "
                    "that was not active, or a term we do not compute)"
                )
            ref_v = float(value)
            err = abs(ours - ref_v) if abs(ref_v) < LOSS_ATOL / LOSS_RTOL else _rel(ours, ref_v)
            tol = LOSS_ATOL if abs(ref_v) < LOSS_ATOL / LOSS_RTOL else LOSS_RTOL
            report.checks.append(
                ReplayCheck(k, "loss", name, ours, ref_v, err, tol, "abs" if tol == LOSS_ATOL else "rel")
            )
        extra = sorted(
            n
            for n in losses
            if f"loss_{n}" not in expected and n not in expected and not n.startswith("G_T_Warp")
        )
        if extra:
            raise ValueError(f"chunk {k}: we computed loss terms the original did not: {extra}")
        # ---- outputs
        for ours_key, ref_key in (
            ("fake", "fake_B"),
            ("raw", "fake_B_raw"),
            ("flow", "flow"),
            ("weight", "weight"),
        ):
            key = f"c{k}.{ref_key}"
            if key not in io:
                continue
            if ours_key not in tensors:
                raise ValueError(f"chunk {k}: the original produced {ref_key} but we did not")
            _check_tensor(report, k, ref_key, tensors[ours_key][0], io[key])
        for s in range(trainer.generator.config.n_scales):
            key = f"c{k}.fake_B_last.scale{s}"
            if key in io:
                _check_tensor(report, k, f"fake_B_last.scale{s}", tensors[f"last.scale{s}"][0], io[key])
        # ---- gradient norms
        for net, norms in ref["grad_norms"].items():
            if net == "D_f":  # the face discriminator is updated with the image one (optimizer_D)
                rec.grad_norms[k].setdefault("D_f", rec.grad_norms[k].get("D", {}))
            if net not in rec.grad_norms[k]:
                if any(v for v in norms.values()):
                    raise ValueError(f"chunk {k}: the original updated {net}, we did not")
                continue
            ours_norms = rec.grad_norms[k][net]
            largest = max((v for v in norms.values() if v is not None), default=1.0)
            for orig_name, ref_norm in norms.items():
                our_name = key_maps[net].get(orig_name)
                if our_name is None:
                    raise ValueError(f"{orig_name}: no parameter of ours corresponds to it")
                ours_norm = ours_norms[our_name]
                if ref_norm is None or ours_norm is None:
                    both_none = (ref_norm or 0.0) == 0.0 and (ours_norm or 0.0) == 0.0
                    report.checks.append(
                        ReplayCheck(
                            k,
                            "grad_norm",
                            orig_name,
                            ours_norm or 0.0,
                            ref_norm or 0.0,
                            0.0 if both_none else math.inf,
                            GRAD_RTOL,
                            "rel",
                        )
                    )
                    continue
                if our_name in noise[net]:
                    # rounding noise: both must stay negligible next to the network's gradients
                    tol = GRAD_NOISE_RTOL * largest
                    err = max(ours_norm, ref_norm)
                    report.checks.append(
                        ReplayCheck(k, "grad_norm", orig_name, ours_norm, ref_norm, err, tol, "abs")
                    )
                else:
                    report.checks.append(
                        ReplayCheck(
                            k,
                            "grad_norm",
                            orig_name,
                            ours_norm,
                            ref_norm,
                            _rel(ours_norm, ref_norm),
                            GRAD_RTOL,
                            "rel",
                        )
                    )
        # ---- full gradients of a few parameters
        prefix = f"c{k}.grad."
        for key, ref_grad in io.items():
            if not key.startswith(prefix):
                continue
            orig_name = key[len(prefix) :]
            net = orig_name.split(".", 1)[0]
            net = "G" if net.startswith("G") else ("D" if net == "D_f" else net)
            our_name = key_maps[net][orig_name]
            ours_grad = rec.grads[k].get(net, {}).get(our_name)
            if ours_grad is None:
                err = math.inf
            else:
                err = float(
                    (ours_grad.double() - ref_grad.double()).norm()
                    / ref_grad.double().norm().clamp_min(1e-30)
                )
            report.checks.append(
                ReplayCheck(
                    k, "grad", orig_name, err, float(ref_grad.norm()), err, GRAD_RTOL, "rel", value=ours_grad
                )
            )
    return report


def _set_rounding_floors(
    report: ReplayReport, folder: str | os.PathLike[str], vgg_weights: Any, trainer_hook: Any
) -> None:
    """Set every check's ``floor``: the largest distance of a float32 replay from the float64 one.

    How far float32 lands from exact arithmetic depends on the kernels' rounding; which kernels
    ran decides it by chance (an unlucky rounding of a sum with cancellation, amplified by the
    normalisations' backward). The floor is measured on our side only: this replay and
    :data:`ROUNDING_RUNS` more whose weights are multiplied by ``1 + u * 2**-23`` (``u`` uniform in
    [-1, 1], every network), each against the float64 replay of the same protocol; the
    original's values play no part, so a real difference does not widen it.
    """

    def perturbed(seed: int) -> Any:
        def hook(trainer: Vid2VidTrainer) -> None:
            if trainer_hook is not None:
                trainer_hook(trainer)
            perturb_last_place_([trainer.generator, trainer.objective], seed)

        return hook

    exact = _replay(folder, vgg_weights, trainer_hook, teacher_forcing=True, dtype="float64")
    runs = [report] + [
        _replay(folder, vgg_weights, perturbed(seed), teacher_forcing=True) for seed in range(ROUNDING_RUNS)
    ]
    centre = {(c.chunk, c.kind, c.name): c for c in exact.checks}
    by_key = [{(c.chunk, c.kind, c.name): c for c in run.checks} for run in runs]
    for c in report.checks:
        key = (c.chunk, c.kind, c.name)
        if key not in centre:
            continue
        spreads = [_own_rounding(run[key], centre[key]) for run in by_key if key in run]
        known = [x for x in spreads if x is not None]
        c.floor = max(known) if known else None
    # A few runs under-sample a single gradient's spread; rounding in the backward pass reaches
    # every parameter upstream, so a gradient norm's floor is at least the median floor of its
    # network's gradient norms in the same chunk.
    groups: dict[tuple[int, str], list[float]] = {}
    for c in report.checks:
        if c.kind == "grad_norm" and c.mode == "rel" and c.floor is not None:
            groups.setdefault((c.chunk, c.name.split(".", 1)[0]), []).append(c.floor)
    for c in report.checks:
        floors = groups.get((c.chunk, c.name.split(".", 1)[0])) if c.kind == "grad_norm" else None
        if floors and c.floor is not None and c.mode == "rel":
            c.floor = max(c.floor, float(np.median(floors)))


def _own_rounding(ours32: ReplayCheck, ours64: ReplayCheck) -> float | None:
    """How far our float32 value is from our float64 one, in the check's measure."""
    if ours32.kind in ("output", "grad"):
        if ours32.value is None or ours64.value is None:
            return None
        diff = ours32.value.double() - ours64.value.double()
        if ours32.kind == "output":
            return float(diff.abs().max())
        return float(diff.norm()) / max(ours32.original, 1e-30)
    if ours32.mode == "abs":
        return abs(ours32.ours - ours64.ours)
    return _rel(ours32.ours, ours64.ours)


def _check_tensor(report: ReplayReport, chunk: int, name: str, ours: Tensor, ref: Tensor) -> None:
    if tuple(ours.shape) != tuple(ref.shape):
        raise ValueError(
            f"chunk {chunk}: {name} has shape {tuple(ours.shape)}, the original's {tuple(ref.shape)}"
        )
    err = float((ours.double() - ref.double()).abs().max())
    report.checks.append(
        ReplayCheck(chunk, "output", name, err, float(ref.abs().max()), err, OUTPUT_ATOL, "abs", value=ours)
    )
