"""Static PNG overview of a run, region, Kreis or Gemeinde (matplotlib, Agg, no web tiles).

Drawn in the working CRS (EPSG:25832, metres), so the scale bar is exact: Gemeinde
choropleth of the eligible share, Kreis outlines, gap areas, legend, scale bar, north arrow,
title, attribution and the synthetic-data note when the manifest carries one.
"""

from __future__ import annotations

import io
import math
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Patch, Rectangle

from coverage.io.rundir import RunData, select
from maps import i18n, layers


def _nice_length(span_m: float) -> float:
    """A round scale-bar length of about a fifth of the map width."""
    target = span_m / 5
    exp = 10 ** math.floor(math.log10(target))
    return max(m * exp for m in (1, 2, 5) if m * exp <= target)


def _scale_bar(ax: plt.Axes, lang: str) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    x, y, h = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0), 0.012 * (y1 - y0)
    for i in range(2):
        ax.add_patch(
            Rectangle(
                (x + i * length / 2, y),
                length / 2,
                h,
                facecolor="black" if i == 0 else "white",
                edgecolor="black",
                lw=0.8,
                zorder=10,
            )
        )
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x, y + 1.8 * h, "0", fontsize=7, ha="center", zorder=10)
    ax.text(
        x + length,
        y + 1.8 * h,
        label.replace(".", ",") if lang == "de" else label,
        fontsize=7,
        ha="center",
        zorder=10,
    )


def _north_arrow(ax: plt.Axes, lang: str) -> None:
    ax.annotate(
        i18n.labels(lang)["north"],
        xy=(0.95, 0.95),
        xytext=(0.95, 0.84),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=12,
        fontweight="bold",
        arrowprops={"facecolor": "black", "width": 4, "headwidth": 12},
        zorder=10,
    )


def render_overview_png(
    run: RunData, *, ags: str | None = None, lang: str = "de", dpi: int = 150
) -> bytes:
    """A PNG map (A4-landscape proportions) of the run or of the Kreis/Gemeinde ``ags``."""
    lab = i18n.labels(i18n.check_lang(lang))
    if ags is not None and ags != run.ags:
        run = select(run, ags)
    gem = run.boundaries[run.boundaries["level"] == "gemeinde"].copy()
    kreis = run.boundaries[run.boundaries["level"] == "kreis"]
    s = run.summary_gemeinde.set_index("ags")
    share = [
        (s.loc[a, "eligible"] / s.loc[a, "addresses"])
        if a in s.index and s.loc[a, "addresses"]
        else None
        for a in gem["ags"]
    ]
    gem["colour"] = [
        layers.binned_colour(v, layers.SHARE_BINS, layers.SHARE_COLOURS) for v in share
    ]

    fig, ax = plt.subplots(figsize=(11.7, 8.3), dpi=dpi)
    gem.plot(ax=ax, color=gem["colour"], edgecolor="#666666", linewidth=0.5)
    if not kreis.empty:
        kreis.boundary.plot(ax=ax, color="#222222", linewidth=1.4)
    if not run.gap_areas.empty:
        colours = [
            layers.REMAINDER_COLOUR
            if k == "remainder"
            else layers.binned_colour(p, layers.PRIORITY_BINS, layers.PRIORITY_COLOURS)
            for p, k in zip(run.gap_areas["screening_score"], run.gap_areas["kind"], strict=True)
        ]
        run.gap_areas.plot(ax=ax, color=colours, edgecolor="#3f007d", linewidth=0.3, alpha=0.85)
    if len(gem) <= 15:
        for geom, name in zip(gem.geometry, gem["name"], strict=True):
            p = geom.representative_point()
            ax.annotate(str(name), (p.x, p.y), fontsize=7, ha="center", color="#111111")
    minx, miny, maxx, maxy = gem.total_bounds
    pad = 0.04 * max(maxx - minx, maxy - miny)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticks([])
    ax.set_yticks([])
    _scale_bar(ax, lang)
    _north_arrow(ax, lang)

    handles = [
        Patch(facecolor=c, edgecolor="#666666", label=t)
        for c, t in zip(
            layers.SHARE_COLOURS, layers.bin_labels(layers.SHARE_BINS, lang), strict=True
        )
    ]
    leg = ax.legend(
        handles=handles,
        title=lab["eligible_share"],
        loc="upper left",
        fontsize=7,
        title_fontsize=8,
        framealpha=0.9,
    )
    ax.add_artist(leg)
    pr = [
        Patch(facecolor=c, edgecolor="#3f007d", label=t)
        for c, t in zip(
            layers.PRIORITY_COLOURS,
            layers.bin_labels(layers.PRIORITY_BINS, lang, pct=False),
            strict=True,
        )
    ]
    pr.append(Patch(facecolor=layers.REMAINDER_COLOUR, edgecolor="#3f007d", label=lab["remainder"]))
    ax.legend(
        handles=pr,
        title=f"{lab['gap_areas']}: {lab['priority_legend']}",
        loc="lower right",
        fontsize=7,
        title_fontsize=8,
        framealpha=0.9,
    )

    profile = run.profile
    # the stamp names the rule set's full title: wrap it within the figure's width
    stamp = textwrap.fill(i18n.stamp_line(run.manifest, lang), 95, break_on_hyphens=False)
    ax.set_title(f"{lab['overview_title']} – {run.area_name}\n{stamp}", fontsize=11)
    credits = (
        f"{lab['bkg']}"
        + (f" · {lab['geonames']}" if run.synthetic_note else "")
        + f" · {lab['gapmap']} ({profile.get('id', '')} {profile.get('version', '')}) · EPSG:25832"
    )
    fig.text(0.01, 0.01, credits, fontsize=6.5, color="#333333")
    if run.synthetic_note:
        fig.text(
            0.5,
            0.955,
            lab["synthetic"].upper(),
            fontsize=11,
            color="#b30000",
            ha="center",
            fontweight="bold",
        )
    fig.tight_layout(rect=(0, 0.02, 1, 0.95))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()
