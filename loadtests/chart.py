"""Small time-series charts drawn with Pillow (no plotting dependency).

A :class:`Panel` holds named series of (x, y) points; :func:`draw_chart` stacks panels in
one PNG with a shared x axis (seconds), shaded phase bands, axis ticks and a legend each.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from PIL import Image, ImageDraw, ImageFont

__all__ = ["Band", "Panel", "Series", "draw_chart", "nice_ticks"]

_WIDTH: Final = 1200
_PANEL_HEIGHT: Final = 260
_MARGIN_LEFT: Final = 80
_MARGIN_RIGHT: Final = 230
_MARGIN_TOP: Final = 46
_GAP: Final = 44
_MARGIN_BOTTOM: Final = 50
_AXIS: Final = (60, 60, 60)
_GRID: Final = (225, 225, 225)
_TEXT: Final = (30, 30, 30)


@dataclass(frozen=True, slots=True)
class Series:
    """One line: a name, a colour and its points."""

    name: str
    color: tuple[int, int, int]
    points: tuple[tuple[float, float], ...]
    width: int = 2


@dataclass(frozen=True, slots=True)
class Band:
    """A shaded stretch of the x axis (a phase), labelled at the top of the first panel."""

    start: float
    end: float
    label: str
    color: tuple[int, int, int]


@dataclass
class Panel:
    """A chart panel: title, y-axis label and its series."""

    title: str
    y_label: str
    series: list[Series] = field(default_factory=list)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``low``..``high``."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step / 2:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError):  # a Pillow without FreeType: the bitmap font
        return ImageFont.load_default()


def _label(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:g}"


def draw_chart(
    panels: Sequence[Panel], bands: Sequence[Band], path: Path, *, title: str, x_label: str
) -> None:
    """Draw ``panels`` stacked, sharing the x axis, and save a PNG at ``path``."""
    height = _MARGIN_TOP + len(panels) * (_PANEL_HEIGHT + _GAP) + _MARGIN_BOTTOM
    image = Image.new("RGB", (_WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    small, normal, large = _font(12), _font(14), _font(18)
    draw.text((_MARGIN_LEFT, 12), title, fill=_TEXT, font=large)
    xs = [x for panel in panels for s in panel.series for x, _ in s.points] or [0.0, 1.0]
    x_low, x_high = 0.0, max(max(xs), max((b.end for b in bands), default=0.0), 1.0)
    plot_left, plot_right = _MARGIN_LEFT, _WIDTH - _MARGIN_RIGHT

    def x_at(value: float) -> float:
        return plot_left + (value - x_low) / (x_high - x_low) * (plot_right - plot_left)

    for index, panel in enumerate(panels):
        top = _MARGIN_TOP + index * (_PANEL_HEIGHT + _GAP) + 20
        bottom = top + _PANEL_HEIGHT - 20
        ys = [y for s in panel.series for _, y in s.points] or [0.0]
        y_ticks = nice_ticks(0.0, max(max(ys), 1.0))
        y_high = y_ticks[-1]

        def y_at(
            value: float, top: int = top, bottom: int = bottom, y_high: float = y_high
        ) -> float:
            return bottom - value / y_high * (bottom - top)

        for band in bands:
            draw.rectangle((x_at(band.start), top, x_at(band.end), bottom), fill=band.color)
            if index == 0:
                draw.text((x_at(band.start) + 4, top + 2), band.label, fill=_AXIS, font=small)
        for tick in y_ticks:
            y = y_at(tick)
            draw.line((plot_left, y, plot_right, y), fill=_GRID)
            draw.text((plot_left - 8, y), _label(tick), fill=_TEXT, font=small, anchor="rm")
        for tick in nice_ticks(x_low, x_high, 10):
            if tick <= x_high:
                x = x_at(tick)
                draw.line((x, bottom, x, bottom + 4), fill=_AXIS)
                draw.text((x, bottom + 6), _label(tick), fill=_TEXT, font=small, anchor="mt")
        draw.rectangle((plot_left, top, plot_right, bottom), outline=_AXIS)
        draw.text((plot_left, top - 20), panel.title, fill=_TEXT, font=normal)
        draw.text((plot_right + 12, top - 20), panel.y_label, fill=_AXIS, font=small)
        for rank, series in enumerate(panel.series):
            points = [(x_at(x), y_at(y)) for x, y in series.points]
            if len(points) > 1:
                draw.line(points, fill=series.color, width=series.width, joint="curve")
            elif points:
                x, y = points[0]
                draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=series.color)
            legend_y = top + 4 + rank * 18
            draw.line(
                (plot_right + 12, legend_y + 7, plot_right + 32, legend_y + 7),
                fill=series.color,
                width=3,
            )
            draw.text((plot_right + 38, legend_y), series.name, fill=_TEXT, font=small)
    draw.text(
        ((plot_left + plot_right) / 2, height - 22), x_label, fill=_TEXT, font=normal, anchor="mm"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", optimize=True)
