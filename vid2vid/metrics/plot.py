"""Figures of an evaluation without a plotting library (PIL only): metric curves and image strips."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["plot_curves", "image_strip", "PALETTE"]


PALETTE: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
)


def _fmt(v: float) -> str:
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    return f"{v:.4g}" if 1e-3 <= abs(v) < 1e4 else f"{v:.2e}"


def plot_curves(
    panels: Mapping[str, Mapping[str, Sequence[float]]],
    panel_size: tuple[int, int] = (360, 220),
    columns: int = 3,
) -> Image.Image:
    """Draw one line chart per panel.

    Args:
        panels: panel title → series label → y values (x = frame index; ``nan``/``inf`` are gaps).
        panel_size: ``(width, height)`` of each panel in pixels.
        columns: panels per row.

    Returns:
        The RGB figure.
    """
    font = ImageFont.load_default()
    names = list(panels)
    if not names:
        raise ValueError("plot_curves needs at least one panel")
    rows = math.ceil(len(names) / columns)
    pw, ph = panel_size
    img = Image.new("RGB", (pw * min(columns, len(names)), ph * rows), "white")
    draw = ImageDraw.Draw(img)
    for i, title in enumerate(names):
        ox, oy = (i % columns) * pw, (i // columns) * ph
        n_rows = math.ceil(len(panels[title]) / 3)
        left, right, top, bottom = ox + 52, ox + pw - 10, oy + 22, oy + ph - 28 - 12 * n_rows
        series = panels[title]
        vals = [v for ys in series.values() for v in ys if math.isfinite(v)]
        draw.text((ox + 8, oy + 4), title, fill="black", font=font)
        draw.rectangle([left, top, right, bottom], outline=(90, 90, 90))
        if not vals:
            draw.text((left + 8, top + 8), "no finite values", fill="gray", font=font)
            continue
        lo, hi = min(vals), max(vals)
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5 * (abs(lo) or 1), hi + 0.5 * (abs(hi) or 1)
        n = max(len(ys) for ys in series.values())
        for frac in (0.0, 0.5, 1.0):
            y = bottom - frac * (bottom - top)
            draw.line([left - 3, y, left, y], fill="black")
            draw.text((ox + 4, y - 6), _fmt(lo + frac * (hi - lo)), fill="black", font=font)
        for k in range(0, n, max(1, math.ceil(n / 6))):
            x = left + (right - left) * k / max(n - 1, 1)
            draw.line([x, bottom, x, bottom + 3], fill="black")
            draw.text((x - 4, bottom + 4), str(k), fill="black", font=font)
        draw.text(((left + right) // 2 - 16, bottom + 14), "frame", fill="black", font=font)
        for j, (label, ys) in enumerate(series.items()):
            color = PALETTE[j % len(PALETTE)]
            segment: list[tuple[float, float]] = []
            for k, v in enumerate(ys):
                if not math.isfinite(v):
                    if len(segment) > 1:
                        draw.line(segment, fill=color, width=2)
                    segment = []
                    continue
                x = left + (right - left) * k / max(n - 1, 1)
                y = bottom - (v - lo) / (hi - lo) * (bottom - top)
                segment.append((x, y))
            if len(segment) > 1:
                draw.line(segment, fill=color, width=2)
            elif len(segment) == 1:
                x, y = segment[0]
                draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=color)
            lx = left + 4 + (j % 3) * ((right - left) // 3)
            ly = bottom + 26 + 12 * (j // 3)
            draw.line([lx, ly + 5, lx + 10, ly + 5], fill=color, width=2)
            draw.text((lx + 13, ly), str(label)[:14], fill="black", font=font)
    return img


def image_strip(rows: Sequence[Sequence[np.ndarray]], row_titles: Sequence[str], gap: int = 2) -> Image.Image:
    """A grid of ``(H, W, 3)`` uint8 images (one row per title, one column per frame).

    Args:
        rows: ``rows[r][c]`` images of one size.
        row_titles: one label per row, drawn in a left margin.
        gap: pixels between images.
    """
    if not rows or not rows[0]:
        raise ValueError("image_strip needs at least one image")
    if len(row_titles) != len(rows):
        raise ValueError(f"{len(rows)} rows but {len(row_titles)} titles")
    h, w = rows[0][0].shape[:2]
    margin = 90
    cols = max(len(r) for r in rows)
    img = Image.new("RGB", (margin + cols * (w + gap), len(rows) * (h + gap)), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    for r, (images, title) in enumerate(zip(rows, row_titles, strict=False)):
        draw.text((4, r * (h + gap) + h // 2 - 6), title[:14], fill="black", font=font)
        for c, im in enumerate(images):
            if im.shape[:2] != (h, w):
                raise ValueError(f"image {r},{c} is {im.shape[:2]}, expected {(h, w)}")
            img.paste(Image.fromarray(np.ascontiguousarray(im)), (margin + c * (w + gap), r * (h + gap)))
    return img
