"""The loss curve of a training run as a small SVG: training and validation loss per epoch,
the kept epoch marked. Written by hand (no plotting library): it is one chart of two lines."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from pathlib import Path

_W, _H = 640, 360
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 36, 44


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def loss_svg(
    train: Sequence[float], val: Sequence[float] | None, best_epoch: int, title: str
) -> str:
    """The chart as SVG text; `val` None (or equal to `train`) draws the training line only."""
    lines = [("training loss", list(train), "#1f77b4")]
    if val is not None and list(val) != list(train):
        lines.append(("validation loss", list(val), "#ff7f0e"))
    values = _finite([v for _, series, _ in lines for v in series]) or [0.0, 1.0]
    low, high = min(values), max(values)
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    epochs = max(max(len(series) for _, series, _ in lines) - 1, 1)
    width, height = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(epoch: float) -> float:
        return _LEFT + width * epoch / epochs

    def y(value: float) -> float:
        return _TOP + height * (high - value) / (high - low)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" font-family="sans-serif" font-size="12">',
        f'<rect width="{_W}" height="{_H}" fill="white"/>',
        f'<text x="{_W / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
        f'<rect x="{_LEFT}" y="{_TOP}" width="{width}" height="{height}" fill="none" '
        'stroke="#888"/>',
    ]
    for frac in (0.0, 0.5, 1.0):
        value = low + (high - low) * frac
        out.append(
            f'<text x="{_LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:.4g}</text>'
        )
        epoch = round(epochs * frac)
        out.append(
            f'<text x="{x(epoch):.1f}" y="{_TOP + height + 16}" text-anchor="middle">{epoch}</text>'
        )
    out.append(f'<text x="{_LEFT + width / 2}" y="{_H - 8}" text-anchor="middle">epoch</text>')
    out.append(
        f'<text x="14" y="{_TOP + height / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {_TOP + height / 2})">loss</text>'
    )
    bx = x(min(max(best_epoch, 0), epochs))
    out.append(
        f'<line x1="{bx:.1f}" y1="{_TOP}" x2="{bx:.1f}" y2="{_TOP + height}" stroke="grey" '
        'stroke-dasharray="2,3"/>'
    )
    legend = [*lines, ("kept epoch", [], "grey")]
    for i, (label, series, colour) in enumerate(legend):
        points = " ".join(
            f"{x(e):.1f},{y(v):.1f}" for e, v in enumerate(series) if math.isfinite(v)
        )
        if points:
            out.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
            )
        ly = _TOP + 14 + 16 * i
        out.append(
            f'<line x1="{_LEFT + width - 150}" y1="{ly - 4}" x2="{_LEFT + width - 130}" '
            f'y2="{ly - 4}" stroke="{colour}" stroke-width="2"/>'
        )
        out.append(f'<text x="{_LEFT + width - 124}" y="{ly}">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_loss_svg(
    path: Path, train: Sequence[float], val: Sequence[float] | None, best_epoch: int, title: str
) -> None:
    path.write_text(loss_svg(train, val, best_epoch, title), encoding="utf-8")
