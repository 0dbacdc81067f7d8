"""Static PNG maps of an MEV (matplotlib, Agg, no web tiles; drawn in the working CRS).

``render_area_png``: the project area with its addresses coloured by eligibility as published
(or grey when no earlier classification exists). ``render_result_png``: the addresses after
the MEV, with those that changed eligibility marked. Labels are German.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import geopandas as gpd
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D

from maps.overview import _north_arrow, _scale_bar

_ELIGIBLE, _SERVED, _UNKNOWN = "#d7301f", "#2c7fb8", "#9e9e9e"
_CHANGED = "#000000"


def _frame(outline: gpd.GeoDataFrame, title: str) -> tuple[plt.Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=(11.7, 8.3), dpi=120)
    outline.plot(ax=ax, facecolor="#f7f7f7", edgecolor="#333333", linewidth=1.2)
    minx, miny, maxx, maxy = outline.total_bounds
    pad = 0.04 * max(maxx - minx, maxy - miny)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(title, fontsize=12)
    return fig, ax


def _finish(
    fig: plt.Figure, ax: plt.Axes, handles: list[Line2D], note: str, synthetic: bool = False
) -> bytes:
    if synthetic:
        fig.text(0.99, 0.01, "SYNTHETISCHE DEMO-DATEN", fontsize=11, color="#b30000", ha="right",
                 fontweight="bold")  # fmt: skip
    _scale_bar(ax, "de")
    _north_arrow(ax, "de")
    ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.9)
    fig.text(0.01, 0.01, note, fontsize=6.5, color="#333333")
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _dot(colour: str, label: str, n: int) -> Line2D:
    return Line2D([], [], marker="o", linestyle="", color=colour, markersize=6,
                  label=f"{label} ({n:,})".replace(",", "."))  # fmt: skip


def render_area_png(
    outline: gpd.GeoDataFrame,
    addresses: gpd.GeoDataFrame,
    eligible: pd.Series | None,
    title: str,
    *,
    synthetic: bool = False,
) -> bytes:
    """The project area and its addresses (``eligible`` aligned to ``addresses`` or None)."""
    fig, ax = _frame(outline, f"Projektgebiet – {title}")
    pts = addresses.geometry
    handles = []
    if eligible is None:
        ax.scatter(pts.x, pts.y, s=4, color=_UNKNOWN)
        handles.append(_dot(_UNKNOWN, "Adresse", len(pts)))
    else:
        e = eligible.astype("boolean").to_numpy(dtype=object)
        for value, colour, label in ((True, _ELIGIBLE, "förderfähig nach heutiger Datenlage"),
                                     (False, _SERVED, "versorgt nach heutiger Datenlage"),
                                     (None, _UNKNOWN, "ohne Einstufung")):  # fmt: skip
            sel = [(v is pd.NA or v is None) if value is None else v is value for v in e]
            n = int(sum(sel))
            if n:
                ax.scatter(pts.x[sel], pts.y[sel], s=4, color=colour)
                handles.append(_dot(colour, label, n))
    return _finish(
        fig, ax, handles, "Grenzen: © GeoBasis-DE / BKG · gapmap · EPSG:25832", synthetic
    )


def render_result_png(
    outline: gpd.GeoDataFrame, addresses: gpd.GeoDataFrame, eligible: pd.Series,
    changed: pd.Series, title: str, note: str = "", *, synthetic: bool = False,
) -> bytes:  # fmt: skip
    """Addresses after the MEV: eligible / not eligible, addresses whose eligibility changed ringed in black."""
    fig, ax = _frame(outline, f"Ergebnis der Markterkundung – {title}")
    pts = addresses.geometry
    e = eligible.fillna(False).astype(bool).to_numpy()
    ax.scatter(pts.x[~e], pts.y[~e], s=4, color=_SERVED)
    ax.scatter(pts.x[e], pts.y[e], s=4, color=_ELIGIBLE)
    c = changed.fillna(False).astype(bool).to_numpy()
    ax.scatter(pts.x[c], pts.y[c], s=28, facecolors="none", edgecolors=_CHANGED, linewidths=0.8)
    handles = [
        _dot(_ELIGIBLE, "förderfähig", int(e.sum())),
        _dot(_SERVED, "nicht förderfähig", int((~e).sum())),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markerfacecolor="none",
            markeredgecolor=_CHANGED,
            markersize=8,
            label=f"Förderfähigkeit geändert ({int(c.sum()):,})".replace(",", "."),
        ),
    ]
    credit = ("Grenzen: © GeoBasis-DE / BKG · gapmap · EPSG:25832 " + note).strip()
    return _finish(fig, ax, handles, credit, synthetic)
