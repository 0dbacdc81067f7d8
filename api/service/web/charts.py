"""Server-rendered SVG charts (no chart library, no script): every label is escaped.

* ``class_shares``: one stacked bar per Gemeinde, the shares of the profile's classes
  (best served first, colours of the static maps); rows without a figure
  are drawn grey and say so.
* ``eligible_by_rurality``: eligible addresses summed per DEGURBA class of the Gemeinde.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

import pandas as pd

from maps.i18n import class_label
from maps.layers import DEGURBA_COLOURS, NA_COLOUR, class_colour

_FONT = 'font-family="sans-serif" font-size="12"'


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def class_shares(
    summary: pd.DataFrame,
    classes: Sequence[str],
    lang: str,
    hidden_label: str,
    width: int = 760,
) -> str:
    """Stacked horizontal bars of class shares, one per Gemeinde (sorted by name)."""
    rows = summary.sort_values("name", kind="stable") if "name" in summary else summary
    label_w, bar_h, gap, top = 190, 14, 4, 28
    plot_w = width - label_w - 20
    height = top + len(rows) * (bar_h + gap) + 10
    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" {_FONT}>'
        )
    ]
    x = label_w
    for i, cls in enumerate(classes):  # legend
        out.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{class_colour(cls, i)}"/>')
        label = class_label(cls, lang)
        out.append(f'<text x="{x + 16}" y="14">{_e(label)}</text>')
        x += 26 + 7 * len(label)
    for j, (_, r) in enumerate(rows.iterrows()):
        y = top + j * (bar_h + gap)
        name = str(r.get("name") or r.get("ags"))
        out.append(
            f'<text x="{label_w - 6}" y="{y + bar_h - 3}" text-anchor="end">{_e(name[:28])}</text>'
        )
        shares = [r.get(f"share_{c}") for c in classes]
        if any(s is None or pd.isna(s) for s in shares):
            out.append(
                f'<rect x="{label_w}" y="{y}" width="{plot_w}" height="{bar_h}" fill="{NA_COLOUR}">'
                f"<title>{_e(name)}: {_e(hidden_label)}</title></rect>"
            )
            continue
        x0 = float(label_w)
        for i, (cls, share) in enumerate(zip(classes, shares, strict=True)):
            w = max(float(share), 0.0) * plot_w
            tip = f"{name}: {class_label(cls, lang)} {float(share) * 100:.1f} %"
            if lang == "de":
                tip = tip.replace(".", ",")
            out.append(
                f'<rect x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                f'fill="{class_colour(cls, i)}"><title>{_e(tip)}</title></rect>'
            )
            x0 += w
    out.append("</svg>")
    return "".join(out)


def eligible_by_rurality(
    summary: pd.DataFrame,
    labels: Callable[[int], str],
    fmt: Callable[[float], str],
    width: int = 760,
) -> str | None:
    """Vertical bars: eligible addresses per DEGURBA class (None without a degurba column)."""
    if "degurba" not in summary or "eligible" not in summary:
        return None
    sums = (
        summary.dropna(subset=["degurba"])
        .assign(degurba=lambda f: f["degurba"].astype(int))
        .groupby("degurba")["eligible"]
        .sum(min_count=1)
        .reindex([1, 2, 3])
    )
    peak = float(sums.max()) if sums.notna().any() else 0.0
    height, base, bar_w = 220, 180, 140
    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" {_FONT}>'
        )
    ]
    for i, (klass, value) in enumerate(sums.items()):
        x = 60 + i * (bar_w + 90)
        h = 0.0 if pd.isna(value) or peak <= 0 else float(value) / peak * 150
        colour = DEGURBA_COLOURS.get(int(klass), NA_COLOUR)
        shown = "–" if pd.isna(value) else fmt(float(value))
        out.append(
            f'<rect x="{x}" y="{base - h:.1f}" width="{bar_w}" height="{h:.1f}" fill="{colour}">'
            f"<title>{_e(labels(int(klass)))}: {_e(shown)}</title></rect>"
        )
        out.append(
            f'<text x="{x + bar_w / 2}" y="{base - h - 6:.1f}" text-anchor="middle">{_e(shown)}</text>'
        )
        out.append(
            f'<text x="{x + bar_w / 2}" y="{base + 18}" text-anchor="middle">{_e(labels(int(klass)))}</text>'
        )
    out.append(f'<line x1="40" y1="{base}" x2="{width - 20}" y2="{base}" stroke="#444"/>')
    out.append("</svg>")
    return "".join(out)
