"""The vid2vid training objective (§3.2, Eq. 4–5; the original's ``vid2vid_model_D``).

For a chunk of generated frames (flattened into the batch axis) :meth:`Vid2VidObjective.image_losses`
computes

* ``G_GAN``, ``G_GAN_Feat``, ``D_real``, ``D_fake``: the image discriminator ``D_I`` on
  ``(labels, frame)``, applied to the final frame *and* to the hallucinated (raw) frame, with
  feature matching ×``lambda_feat``;
* ``G_VGG``: VGG19 perceptual loss of the final and of the raw frame ×``lambda_vgg``;
* ``F_Flow``: L1 of the generated flow vs the reference flow ×``lambda_F / 2**(S-1)``;
* ``F_Warp``: the previous real frame warped by the generated flow vs the real frame ×``lambda_T``;
* ``G_Warp``: the previous generated frame warped by the reference flow (a fixed target) vs the
  generated frame ×``lambda_T``;
* ``W``: the occlusion mask pushed to 0 (×``lambda_W``, only for models without first frames);

every flow/warp term masked by the reference flow's confidence. :meth:`Vid2VidObjective.temporal_losses`
computes, per temporal scale, ``G_T_GAN``, ``G_T_GAN_Feat``, ``D_T_real``, ``D_T_fake`` on windows
of ``n_frames_D`` frames sampled every ``n_frames_D**s`` frames, together with their reference
flows (the temporal discriminator divides them by 20). :class:`TemporalWindows` collects those
windows across the chunks of one sequence (the original's ``get_all_skipped_frames``).

The generator's loss is ``G_GAN + G_GAN_Feat + G_VGG + G_Warp + F_Flow + F_Warp + W`` plus
``G_T_GAN + G_T_GAN_Feat`` of every temporal scale; each discriminator's is ``(real + fake) / 2``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from vid2vid.flow.warp import flow_warp
from vid2vid.losses import FeatureMatchingLoss, FlowLoss, GANLoss, OcclusionMaskLoss, VGGLoss, WarpLoss
from vid2vid.nn.discriminator import MultiScaleDiscriminator
from vid2vid.nn.temporal_discriminator import TemporalDiscriminator
from vid2vid.training.face_region import face_region

__all__ = [
    "FrameBatch",
    "LossTerms",
    "Vid2VidObjective",
    "ImageObjective",
    "TemporalWindows",
    "compose_flows",
    "FlowFunction",
    "PairFlowFunction",
    "IMAGE_LOSS_NAMES",
    "TEMPORAL_LOSS_NAMES",
    "FACE_LOSS_NAMES",
    "SparseTemporalWindows",
]

IMAGE_LOSS_NAMES: tuple[str, ...] = (
    "G_VGG",
    "G_GAN",
    "G_GAN_Feat",
    "D_real",
    "D_fake",
    "G_Warp",
    "F_Flow",
    "F_Warp",
    "W",
)
TEMPORAL_LOSS_NAMES: tuple[str, ...] = ("G_T_GAN", "G_T_GAN_Feat", "D_T_real", "D_T_fake")
#: the face discriminator's terms (``add_face_disc``)
FACE_LOSS_NAMES: tuple[str, ...] = ("G_f_GAN", "G_f_GAN_Feat", "D_f_real", "D_f_fake")


@dataclass
class FrameBatch:
    """One chunk of generated frames with everything the image losses need (``N = B * frames``).

    Attributes:
        real: ``(N, 3, H, W)`` real frames ``t`` in ``[-1, 1]``.
        fake: ``(N, 3, H, W)`` generated frames ``t`` (with graph).
        raw: ``(N, 3, H, W)`` hallucinated frames ``t`` (with graph).
        inputs: ``(N, frame_nc, H, W)`` encoded input maps of frames ``t`` (one-hot + edges).
        real_prev: ``(N, 3, H, W)`` real frames ``t - 1``.
        fake_prev: ``(N, 3, H, W)`` generated frames ``t - 1`` (detached; the real frame before
            the first generated one).
        flow: ``(N, 2, H, W)`` generated flow in pixels, or ``None`` (``no_flow``).
        weight: ``(N, 1, H, W)`` occlusion weight in ``[0, 1]``, or ``None``.
        flow_ref: ``(N, 2, H, W)`` reference flow of frames ``t`` onto ``t - 1`` in pixels.
        conf_ref: ``(N, 1, H, W)`` its confidence in ``{0, 1}``.
    """

    real: Tensor
    fake: Tensor
    raw: Tensor
    inputs: Tensor
    real_prev: Tensor
    fake_prev: Tensor
    flow: Tensor | None
    weight: Tensor | None
    flow_ref: Tensor
    conf_ref: Tensor


@dataclass
class LossTerms:
    """Named loss terms (scalar tensors) and the totals each optimiser minimises.

    Attributes:
        terms: every term by the original's name (weights already applied).
        generator: the generator's part of the loss (with graph).
        discriminator: the discriminator's loss ``(real + fake) / 2`` (``None`` until
            :meth:`finish` when deferred).
        pending: the deferred discriminator computation, if any.
    """

    terms: dict[str, Tensor] = field(default_factory=dict)
    generator: Tensor | None = None
    discriminator: Tensor | None = None
    pending: Callable[[], tuple[dict[str, Tensor], Tensor]] | None = None

    def finish(self) -> LossTerms:
        """Run the deferred discriminator forwards (on detached fakes): fills ``discriminator``.

        Deferring them until after the generator's backward pass and step lets every backward
        pass follow its own discriminator forward, as ``DistributedDataParallel`` requires; the
        values are the same (the discriminators do not change in between).
        """
        if self.pending is not None:
            terms, self.discriminator = self.pending()
            self.terms.update(terms)
            self.pending = None
        return self

    def scalars(self, suffix: str = "") -> dict[str, float]:
        """The terms as Python floats (for logging), names suffixed with ``suffix``."""
        return {f"{k}{suffix}": float(v.detach()) for k, v in self.terms.items()}


class _AdversarialTerms(nn.Module):
    """GAN + feature-matching terms of one discriminator (the original's ``compute_loss_D``)."""

    def __init__(
        self, gan_mode: str, lambda_feat: float, n_layers_D: int, use_gan_feat: bool, num_D: int | None = None
    ) -> None:
        super().__init__()
        self.gan = GANLoss(gan_mode)
        self.feature_matching = FeatureMatchingLoss(n_layers_D, num_D)
        self.lambda_feat = lambda_feat
        self.use_gan_feat = use_gan_feat

    def generator_side(
        self, discriminator: Callable[[Tensor], list[list[Tensor]]], real: Tensor, fake: Tensor
    ) -> tuple[Tensor, Tensor, list[list[Tensor]]]:
        """``(G_GAN, G_GAN_Feat, predictions on real)`` for discriminator inputs ``real`` and ``fake``."""
        pred_real = discriminator(real)
        pred_fake = discriminator(fake)
        g_gan = self.gan(pred_fake, True, for_discriminator=False)
        if self.use_gan_feat:
            g_feat = self.feature_matching(pred_fake, pred_real) * self.lambda_feat
        else:
            g_feat = torch.zeros_like(g_gan)
        return g_gan, g_feat, pred_real

    def discriminator_side(
        self,
        discriminator: Callable[[Tensor], list[list[Tensor]]],
        pred_real: list[list[Tensor]],
        fake: Tensor,
    ) -> tuple[Tensor, Tensor]:
        """``(D_real, D_fake)``: the real predictions and the discriminator on the detached fake."""
        return self.gan(pred_real, True), self.gan(discriminator(fake.detach()), False)


class ImageObjective(nn.Module):
    """Image-only losses (pix2pixHD §3.2): image D with GAN + feature matching, and VGG.

    Used by :class:`Vid2VidObjective` and by the first-frame (image) model's trainer.

    Args:
        input_nc: channels of the conditioning map given to the discriminator (labels + edges).
        output_nc: channels of a frame.
        ndf, n_layers_D, num_D, norm_D, ndf_max: the image discriminator.
        gan_mode, lambda_feat, lambda_vgg, use_gan_feat: losses.
        vgg: the VGG loss module, or ``None`` for no VGG term.
    """

    def __init__(
        self,
        input_nc: int,
        output_nc: int = 3,
        *,
        ndf: int = 64,
        n_layers_D: int = 3,
        num_D: int = 2,
        norm_D: str = "batch",
        ndf_max: int = 64,
        gan_mode: str = "lsgan",
        lambda_feat: float = 10.0,
        lambda_vgg: float = 10.0,
        use_gan_feat: bool = True,
        vgg: VGGLoss | None = None,
    ) -> None:
        super().__init__()
        self.image_d = MultiScaleDiscriminator(input_nc + output_nc, ndf, n_layers_D, num_D, norm_D, ndf_max)
        self.adversarial = _AdversarialTerms(gan_mode, lambda_feat, n_layers_D, use_gan_feat)
        self.vgg = vgg
        self.lambda_vgg = lambda_vgg
        # callables that run the discriminators (e.g. their DistributedDataParallel wrappers);
        # a plain dict, so that wrappers are not registered as sub-modules
        self._runners: dict[str, Callable[[Tensor], list[list[Tensor]]]] = {}

    def set_runners(self, runners: dict[str, Callable[[Tensor], list[list[Tensor]]]]) -> None:
        """Run the discriminators through these callables: ``"image_d"`` and ``"temporal_d<s>"``
        (each temporal one takes the concatenated frames + flows/20, like the module's scales)."""
        self._runners = dict(runners)

    def vgg_term(self, fake: Tensor, real: Tensor) -> Tensor:
        """``lambda_vgg * VGG(fake, real)``, zero without a VGG module. Shapes ``(N, 3, H, W)``."""
        if self.vgg is None:
            return fake.new_zeros(())
        dtype = next(self.vgg.parameters()).dtype  # float32 under autocast; float64 runs stay float64
        with torch.autocast(device_type=fake.device.type, enabled=False):  # VGG in full precision
            return self.vgg(fake.to(dtype), real.to(dtype)) * self.lambda_vgg

    def image_terms(self, inputs: Tensor, real: Tensor, fakes: list[Tensor]) -> LossTerms:
        """GAN, feature matching and VGG terms, summed over the frames in ``fakes``.

        Args:
            inputs: ``(N, C, H, W)`` conditioning maps.
            real: ``(N, 3, H, W)`` real frames in ``[-1, 1]``.
            fakes: generated versions of ``real`` (final and raw), each ``(N, 3, H, W)``.

        Returns:
            Terms ``G_VGG``, ``G_GAN``, ``G_GAN_Feat`` now, ``D_real``, ``D_fake`` pending
            (:meth:`LossTerms.finish`); ``generator`` is left to the caller.
        """
        disc = self._runners.get("image_d", self.image_d)
        real_in = torch.cat([inputs, real], dim=1)
        fake_ins = [torch.cat([inputs, fake], dim=1) for fake in fakes]
        terms: dict[str, Tensor] = {}
        preds_real = []
        for fake, fake_in in zip(fakes, fake_ins, strict=True):
            g_gan, g_feat, pred_real = self.adversarial.generator_side(disc, real_in, fake_in)
            preds_real.append(pred_real)
            for k, v in (("G_VGG", self.vgg_term(fake, real)), ("G_GAN", g_gan), ("G_GAN_Feat", g_feat)):
                terms[k] = v if k not in terms else terms[k] + v

        def pending() -> tuple[dict[str, Tensor], Tensor]:
            d_terms: dict[str, Tensor] = {}
            for pred_real, fake_in in zip(preds_real, fake_ins, strict=True):
                d_real, d_fake = self.adversarial.discriminator_side(disc, pred_real, fake_in)
                d_terms["D_real"] = d_real + d_terms["D_real"] if "D_real" in d_terms else d_real
                d_terms["D_fake"] = d_fake + d_terms["D_fake"] if "D_fake" in d_terms else d_fake
            return d_terms, (d_terms["D_real"] + d_terms["D_fake"]) * 0.5

        return LossTerms(terms, pending=pending)

    def forward(
        self, inputs: Tensor, real: Tensor, fake: Tensor, defer_discriminator: bool = False
    ) -> LossTerms:
        """Losses of one generated image batch (the image model): see :meth:`image_terms`.

        With ``defer_discriminator`` the discriminator's loss is computed by ``.finish()``.
        """
        losses = self.image_terms(inputs, real, [fake])
        t = losses.terms
        losses.generator = t["G_GAN"] + t["G_GAN_Feat"] + t["G_VGG"]
        return losses if defer_discriminator else losses.finish()


class Vid2VidObjective(ImageObjective):
    """Every loss of vid2vid, with the image and temporal discriminators it trains.

    Args:
        input_nc: channels of an encoded input frame (``frame_nc`` of the generator).
        output_nc: channels of a frame.
        n_scales_spatial: spatial scales ``S`` of the generator (flow loss ×1/2**(S-1)).
        no_first_frame: the generator starts from zeros: add the occlusion-mask loss ``W``.
        n_frames_D, n_scales_temporal: temporal discriminator windows and scales.
        lambda_F, lambda_T, lambda_W: flow, warp and mask weights.
        add_face_disc: add the original's face discriminator (pose → body): terms ``G_f_GAN``,
            ``G_f_GAN_Feat`` (×2) and ``D_f_real``, ``D_f_fake`` on a ``face_crop``-pixel square
            around the face (:func:`~vid2vid.training.face_region.face_region`, with
            ``openpose_only`` choosing the face rule); zero in chunks without a visible face.
        Other arguments: see :class:`ImageObjective`.
    """

    def __init__(
        self,
        input_nc: int,
        output_nc: int = 3,
        *,
        n_scales_spatial: int = 1,
        no_first_frame: bool = False,
        ndf: int = 64,
        n_layers_D: int = 3,
        num_D: int = 2,
        norm_D: str = "batch",
        ndf_max: int = 64,
        n_frames_D: int = 3,
        n_scales_temporal: int = 2,
        gan_mode: str = "lsgan",
        lambda_feat: float = 10.0,
        lambda_vgg: float = 10.0,
        lambda_F: float = 10.0,
        lambda_T: float = 10.0,
        lambda_W: float = 1.0,
        use_gan_feat: bool = True,
        vgg: VGGLoss | None = None,
        add_face_disc: bool = False,
        face_crop: int = 16,
        openpose_only: bool = False,
    ) -> None:
        super().__init__(
            input_nc,
            output_nc,
            ndf=ndf,
            n_layers_D=n_layers_D,
            num_D=num_D,
            norm_D=norm_D,
            ndf_max=ndf_max,
            gan_mode=gan_mode,
            lambda_feat=lambda_feat,
            lambda_vgg=lambda_vgg,
            use_gan_feat=use_gan_feat,
            vgg=vgg,
        )
        self.temporal_d = TemporalDiscriminator(
            n_frames_D, output_nc, ndf, n_layers_D, num_D, norm_D, ndf_max, n_scales_temporal
        )
        # the original's face discriminator: max(1, num_D - 2) scales on a crop around the face,
        # its feature matching weighted with the main discriminator's 1 / num_D, its G terms x2
        self.face_d: MultiScaleDiscriminator | None = None
        if add_face_disc:
            self.face_d = MultiScaleDiscriminator(
                input_nc + output_nc, ndf, n_layers_D, max(1, num_D - 2), norm_D, ndf_max
            )
            self.face_adversarial = _AdversarialTerms(gan_mode, lambda_feat, n_layers_D, use_gan_feat, num_D)
        self.face_crop = face_crop
        self.openpose_only = openpose_only
        self.flow_loss = FlowLoss()
        self.warp_loss = WarpLoss()
        self.warp_loss_detached = WarpLoss(detach_warped=True)
        self.mask_loss = OcclusionMaskLoss()
        self.n_scales_spatial = n_scales_spatial
        self.no_first_frame = no_first_frame
        self.lambda_F = lambda_F
        self.lambda_T = lambda_T
        self.lambda_W = lambda_W

    @property
    def n_scales_temporal(self) -> int:
        """Number of temporal discriminators."""
        return len(self.temporal_d.scales)

    def image_losses(self, batch: FrameBatch, defer_discriminator: bool = False) -> LossTerms:
        """Image, flow and warp losses of one chunk (see the module docstring).

        With ``defer_discriminator`` the discriminator's terms are computed by ``.finish()``
        (after the generator's update; see :meth:`LossTerms.finish`).
        """
        b = batch
        losses = self.image_terms(b.inputs, b.real, [b.fake, b.raw])
        terms = losses.terms
        zero = b.real.new_zeros(())
        if b.flow is not None:
            terms["F_Flow"] = self.flow_loss(b.flow, b.flow_ref, b.conf_ref) * (
                self.lambda_F / 2 ** (self.n_scales_spatial - 1)
            )
            terms["F_Warp"] = self.warp_loss(b.real_prev, b.flow, b.real, b.conf_ref) * self.lambda_T
            if self.no_first_frame and b.weight is not None:
                terms["W"] = self.mask_loss(b.weight, b.conf_ref) * self.lambda_W
            else:
                terms["W"] = zero
        else:
            terms["F_Flow"] = terms["F_Warp"] = terms["W"] = zero
        terms["G_Warp"] = self.warp_loss_detached(b.fake_prev, b.flow_ref, b.fake, b.conf_ref) * self.lambda_T
        generator = (
            terms["G_GAN"]
            + terms["G_GAN_Feat"]
            + terms["G_VGG"]
            + terms["G_Warp"]
            + terms["F_Flow"]
            + terms["F_Warp"]
            + terms["W"]
        )
        if self.face_d is not None:
            generator = generator + self._face_terms(b, losses)
        losses.generator = generator
        if not defer_discriminator:
            losses.finish()
            names = IMAGE_LOSS_NAMES + (FACE_LOSS_NAMES if self.face_d is not None else ())
            losses.terms = {k: losses.terms[k] for k in names}
        return losses

    def _face_terms(self, b: FrameBatch, losses: LossTerms) -> Tensor:
        """Add the face discriminator's terms to ``losses`` (its D terms to the pending ones);
        returns its part of the generator's loss (the original's ``face_weight`` 2)."""
        assert self.face_d is not None
        terms = losses.terms
        zero = b.real.new_zeros(())
        box = face_region(b.inputs, self.face_crop, self.openpose_only)
        if box is None:
            terms.update(G_f_GAN=zero, G_f_GAN_Feat=zero)
            previous = losses.pending

            def no_face() -> tuple[dict[str, Tensor], Tensor]:
                assert previous is not None
                d_terms, d_loss = previous()
                return {**d_terms, "D_f_real": zero, "D_f_fake": zero}, d_loss

            losses.pending = no_face
            return zero
        y0, y1, x0, x1 = box
        disc = self._runners.get("face_d", self.face_d)
        crop_in = b.inputs[..., y0:y1, x0:x1]
        real_in = torch.cat([crop_in, b.real[..., y0:y1, x0:x1]], dim=1)
        fake_in = torch.cat([crop_in, b.fake[..., y0:y1, x0:x1]], dim=1)
        g_gan, g_feat, pred_real = self.face_adversarial.generator_side(disc, real_in, fake_in)
        terms["G_f_GAN"], terms["G_f_GAN_Feat"] = g_gan * 2, g_feat * 2
        previous = losses.pending

        def with_face() -> tuple[dict[str, Tensor], Tensor]:
            assert previous is not None
            d_terms, d_loss = previous()
            d_real, d_fake = self.face_adversarial.discriminator_side(disc, pred_real, fake_in)
            return {**d_terms, "D_f_real": d_real, "D_f_fake": d_fake}, d_loss + (d_real + d_fake) * 0.5

        losses.pending = with_face
        return terms["G_f_GAN"] + terms["G_f_GAN_Feat"]

    def temporal_losses(
        self, scale: int, real: Tensor, fake: Tensor, flows: Tensor, defer_discriminator: bool = False
    ) -> LossTerms:
        """Temporal GAN + feature matching at temporal ``scale``.

        Args:
            real: ``(N, n_frames_D, 3, H, W)`` windows of real frames.
            fake: ``(N, n_frames_D, 3, H, W)`` the same windows of generated frames (with graph).
            flows: ``(N, n_frames_D - 1, 2, H, W)`` reference flows (pixels) of frames 1.. of each
                window onto their predecessor in the window.
            defer_discriminator: leave ``D_T_real``/``D_T_fake`` to ``.finish()``.
        """
        flows = flows.detach()
        runner = self._runners.get(f"temporal_d{scale}")

        def discriminator(frames: Tensor) -> list[list[Tensor]]:
            if runner is None:
                return self.temporal_d(frames, flows, scale)
            x = torch.cat([frames.flatten(1, 2), flows.flatten(1, 2) * self.temporal_d.flow_scale], dim=1)
            return runner(x)

        g_gan, g_feat, pred_real = self.adversarial.generator_side(discriminator, real, fake)

        def pending() -> tuple[dict[str, Tensor], Tensor]:
            d_real, d_fake = self.adversarial.discriminator_side(discriminator, pred_real, fake)
            return {"D_T_real": d_real, "D_T_fake": d_fake}, (d_real + d_fake) * 0.5

        losses = LossTerms({"G_T_GAN": g_gan, "G_T_GAN_Feat": g_feat}, g_gan + g_feat, pending=pending)
        return losses if defer_discriminator else losses.finish()


def compose_flows(unit_flows: Tensor) -> Tensor:
    """Chain consecutive backward flows into one flow spanning them all.

    Args:
        unit_flows: ``(B, k, 2, H, W)`` pixels; ``unit_flows[:, i]`` is the backward flow of
            frame ``j - k + 1 + i`` onto its predecessor (oldest first).

    Returns:
        ``(B, 2, H, W)``: the backward flow of frame ``j`` onto frame ``j - k``,
        ``F = f_j + warp(f_{j-1}, f_j) + ...`` (each older flow is read where the newer ones point).
    """
    total = unit_flows[:, -1]
    for m in range(unit_flows.shape[1] - 2, -1, -1):
        total = total + flow_warp(unit_flows[:, m], total)
    return total


#: ``flow_fn(frame, prev_frame) -> flow`` for frames ``(B, 3, H, W)``.
FlowFunction = Callable[[Tensor, Tensor], Tensor]

#: ``pair_flow(frame, prev_frame, t, t_prev) -> flow``: the reference flow ``(B, 2, H, W)`` (pixels)
#: of frame ``t`` onto frame ``t_prev`` of the generated sequence (0-based positions, ``t_prev < t``),
#: given the two real frames ``(B, 3, H, W)``.
PairFlowFunction = Callable[[Tensor, Tensor, int, int], Tensor]


class TemporalWindows:
    """Windows for the temporal discriminators, gathered across the chunks of one sequence.

    Keeps the last ``n_frames_D**(S_T - 1) * (n_frames_D - 1)`` real and generated frames (the
    generated ones detached) and their unit reference flows; each call to :meth:`add` with a
    new chunk returns, per temporal scale ``s``, every window of ``n_frames_D`` frames spaced
    ``n_frames_D**s`` apart that ends in the chunk (stepping back ``n_frames_D`` frames between
    windows, as the original's ``get_skipped_frames``), with the reference flows between the
    window's frames: the unit flows at scale 0, and at coarser scales ``pair_flow`` run on the
    window's frames (the original runs its flow network there) or, without one, the chained unit
    flows (:func:`compose_flows`).

    Args:
        n_frames_D: frames per window.
        n_scales_temporal: number of temporal scales.
        pair_flow: optional flow function for the coarser scales (positions are those of the
            generated sequence since the last :meth:`reset`).
    """

    def __init__(
        self, n_frames_D: int, n_scales_temporal: int, pair_flow: PairFlowFunction | None = None
    ) -> None:
        self.n_frames_D = n_frames_D
        self.n_scales = n_scales_temporal
        self.pair_flow = pair_flow
        self.max_prev = n_frames_D ** (n_scales_temporal - 1) * (n_frames_D - 1)
        self.reset()

    def reset(self) -> None:
        """Start a new sequence."""
        self.real: Tensor | None = None
        self.fake: Tensor | None = None
        self.flow: Tensor | None = None
        self.start = 0  # sequence position of the first kept frame

    @staticmethod
    def _append(old: Tensor | None, new: Tensor) -> Tensor:
        return new if old is None else torch.cat([old.detach(), new], dim=1)

    def add(self, real: Tensor, fake: Tensor, flow_ref: Tensor) -> list[tuple[Tensor, Tensor, Tensor] | None]:
        """Add a chunk and return the windows per temporal scale (``None`` where there is none yet).

        Args:
            real: ``(B, n, 3, H, W)`` real frames of the chunk.
            fake: ``(B, n, 3, H, W)`` generated frames of the chunk (with graph).
            flow_ref: ``(B, n, 2, H, W)`` unit reference flows of the chunk's frames.

        Returns:
            Per scale ``(real, fake, flows)``: ``(N, K, 3, H, W)``, ``(N, K, 3, H, W)``,
            ``(N, K - 1, 2, H, W)`` with windows stacked on the batch axis (newest window first).
        """
        k = self.n_frames_D
        n_new = real.shape[1]
        self.real = self._append(self.real, real.detach())
        self.fake = self._append(self.fake, fake)
        self.flow = self._append(self.flow, flow_ref.detach())
        length = self.real.shape[1]
        result: list[tuple[Tensor, Tensor, Tensor] | None] = []
        for s in range(self.n_scales):
            stride = k**s
            span = stride * (k - 1)
            n_groups = min(length - span, n_new)
            if n_groups <= 0:
                result.append(None)
                continue
            reals, fakes, flows = [], [], []
            for t in range(0, n_groups, k):
                end = length - 1 - t
                idx = list(range(end - span, end + 1, stride))
                reals.append(self.real[:, idx])
                fakes.append(self.fake[:, idx])
                flows.append(self._window_flows(idx, stride))
            result.append((torch.cat(reals), torch.cat(fakes), torch.cat(flows)))
        if length > self.max_prev:
            self.start += length - self.max_prev
            self.real = self.real[:, -self.max_prev :]
            self.fake = self.fake[:, -self.max_prev :].detach()
            self.flow = self.flow[:, -self.max_prev :]
        return result

    def _window_flows(self, idx: list[int], stride: int) -> Tensor:
        assert self.real is not None and self.flow is not None
        if stride == 1:
            return self.flow[:, idx[1:]]
        flows = []
        for prev, cur in zip(idx[:-1], idx[1:], strict=True):
            if self.pair_flow is not None:
                flows.append(
                    self.pair_flow(self.real[:, cur], self.real[:, prev], self.start + cur, self.start + prev)
                )
            else:
                flows.append(compose_flows(self.flow[:, prev + 1 : cur + 1]))
        return torch.stack(flows, dim=1)


class SparseTemporalWindows:
    """Windows for the temporal discriminators with the original's ``sparse_D``.

    Per temporal scale ``s`` a buffer receives every ``n_frames_D**s``-th frame of the sequence
    (the original's ``get_skipped_frames_sparse``); whenever it holds at least ``n_frames_D``
    frames, its last whole multiple of ``n_frames_D`` frames is cut into non-overlapping windows,
    and the buffer keeps its last ``n_frames_D - 1`` frames once its length is such a multiple.
    The flows given with a window are the *unit* reference flows of its frames 1.. (each frame
    onto the frame before it in the sequence, also at the coarser scales — as the original).
    Same interface as :class:`TemporalWindows`.

    Args:
        n_frames_D: frames per window.
        n_scales_temporal: number of temporal scales.
    """

    def __init__(self, n_frames_D: int, n_scales_temporal: int) -> None:
        self.n_frames_D = n_frames_D
        self.n_scales = n_scales_temporal
        self.reset()

    def reset(self) -> None:
        """Start a new sequence."""
        self.buffers: list[list[Tensor | None]] = [[None] * self.n_scales for _ in range(3)]
        self.offset = 0  # generated frames of the sequence so far (the original's loop index i)

    def _skip(self, streams: int, s: int, new: Tensor) -> Tensor | None:
        k = self.n_frames_D
        buf = self.buffers[streams][s]
        if buf is not None and buf.shape[1] > 0 and buf.shape[1] % k == 0:
            buf = buf[:, -(k - 1) :]
        if s == 0:
            picked: Tensor | None = new
        else:
            stride = k**s
            start = 0 if self.offset == 0 else stride - ((self.offset - 1) % stride + 1)
            picked = new[:, start::stride] if start < new.shape[1] else None
        if picked is not None:
            buf = picked if buf is None else torch.cat([buf.detach(), picked], dim=1)
        windows = None
        if buf is not None and buf.shape[1] >= k:
            buf = buf[:, buf.shape[1] % k :]
            windows = buf.reshape(-1, k, *buf.shape[2:])
        self.buffers[streams][s] = buf
        return windows

    def add(self, real: Tensor, fake: Tensor, flow_ref: Tensor) -> list[tuple[Tensor, Tensor, Tensor] | None]:
        """Add a chunk and return the windows per temporal scale (``None`` where there is none yet).

        Args and returns: as :meth:`TemporalWindows.add`.
        """
        result: list[tuple[Tensor, Tensor, Tensor] | None] = []
        for s in range(self.n_scales):
            r = self._skip(0, s, real.detach())
            f = self._skip(1, s, fake)
            w = self._skip(2, s, flow_ref.detach())
            result.append(None if r is None or f is None or w is None else (r, f, w[:, 1:]))
        self.offset += real.shape[1]
        return result
