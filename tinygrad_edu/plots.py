"""Tiny SVG line charts for the lessons: curves and dots in a frame, written to a file that any
browser shows, with no plotting library needed.

    line_chart(OUT / "losses.svg", [("training loss", "#1f5fa8", epochs, train_losses),
                                    ("validation loss", "#d2691e", epochs, val_losses)],
               x_label="epoch", log_y=True)

An SVG file is text: `<polyline points="x,y x,y ...">` draws a curve, `<circle>` a dot,
`<text>` a label. The only arithmetic is the change of coordinates from data units to the
picture's pixels, whose y axis points down.
"""
from __future__ import annotations

import math
from pathlib import Path

__all__ = ["line_chart"]

_MAX_POINTS = 500   # a curve of 5000 epochs looks the same drawn with every tenth point


def line_chart(path, curves, *, dots=(), x_label: str = "", y_label: str = "", x_ticks=(),
               x_range=None, y_range=None, log_y: bool = False, legend: str = "left",
               width: int = 560, height: int = 320, pad: int = 45) -> Path:
    """Draw `curves`, each (label, colour, xs, ys), as lines in a frame; write the SVG to `path`
    and return the path.

    - `dots`: points (x, y), drawn as black dots, or (x, y, fill): "white" draws a hollow one.
    - The frame spans `x_range` and `y_range`, (low, high) in data units; by default the data's
      x extent, and y from 0 (or the lowest value, if negative) to the highest value. A curve
      leaving the frame runs along its edge.
    - `log_y`: a logarithmic y axis over whole decades (y_range is then ignored), each labelled;
      otherwise the two ends of the y axis are labelled.
    - `x_ticks`: (x, text) labels under the frame; `legend`: "left" or "right", the top corner
      of the frame that lists the curves' labels in their colours.
    """
    xs = [x for _, _, cxs, _ in curves for x in cxs] + [d[0] for d in dots]
    ys = [y for _, _, _, cys in curves for y in cys] + [d[1] for d in dots]
    to_axis = math.log10 if log_y else float           # y as it is measured along the axis
    x_lo, x_hi = x_range or (min(xs), max(xs))
    if log_y:
        y_lo = math.floor(min(map(math.log10, ys)))
        y_hi = math.ceil(max(map(math.log10, ys)))
        y_labels = [10.0 ** d for d in range(y_lo, y_hi + 1)]
    else:
        y_lo, y_hi = y_range or (min(0.0, min(ys)), max(ys))
        y_labels = [y_lo, y_hi]
    if x_hi == x_lo:            # a single point, or a flat curve: widen the range (no 0 / 0)
        x_hi = x_lo + 1
    if y_hi == y_lo:
        y_hi = y_lo + 1

    def px(x):                  # data to picture coordinates
        return pad + (x - x_lo) / (x_hi - x_lo) * (width - 2 * pad)

    def py(y):
        y = min(max(to_axis(y), y_lo), y_hi)
        return height - pad - (y - y_lo) / (y_hi - y_lo) * (height - 2 * pad)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="12">',
             f'<rect x="{pad}" y="{pad}" width="{width - 2 * pad}" height="{height - 2 * pad}"'
             ' fill="none" stroke="#999"/>']
    if x_label:
        parts.append(f'<text x="{width / 2}" y="{height - 10}" text-anchor="middle">{x_label}'
                     '</text>')
    if y_label:
        parts.append(f'<text x="12" y="{pad - 12}">{y_label}</text>')
    for y in y_labels:
        parts.append(f'<text x="{pad - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:.4g}</text>')
    for x, text in x_ticks:
        parts.append(f'<text x="{px(x):.1f}" y="{height - pad + 16}" text-anchor="middle">'
                     f'{text}</text>')
    label_x, anchor = (pad + 8, "start") if legend == "left" else (width - pad - 8, "end")
    for k, (label, colour, cxs, cys) in enumerate(curves):
        step = max(1, len(cys) // _MAX_POINTS)
        points = " ".join(f"{px(x):.1f},{py(y):.1f}"
                          for i, (x, y) in enumerate(zip(cxs, cys)) if i % step == 0)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                     'stroke-width="2"/>')
        parts.append(f'<text x="{label_x}" y="{pad + 16 + 16 * k}" text-anchor="{anchor}" '
                     f'fill="{colour}">{label}</text>')
    for dot in dots:
        x, y, fill = dot if len(dot) == 3 else (*dot, "black")
        parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" fill="{fill}" '
                     'stroke="black"/>')
    parts.append("</svg>")
    path = Path(path)
    path.write_text("\n".join(parts) + "\n")
    return path
