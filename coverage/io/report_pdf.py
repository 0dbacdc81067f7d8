"""The gap report: a few-page PDF an economic development office forwards to its council.

Built with ReportLab (platypus): pure Python wheels with no system libraries (WeasyPrint
needs Pango/Cairo/GDK-PixBuf from the distribution), long maintained, PDF fonts embedded, so
the same report renders on a laptop, in CI and in the service's container.

Pages: (1) title, Stichtag, rule set and version, the overview map and the key figures per
class; (2) the gap areas of highest priority with their Gemeinden, addresses, cost and
priority; (3) the method in plain language, the interpretations, sources and licences. The
overview map PNG comes from the caller (``maps.overview`` via the CLI: the engine does not
draw maps). Text is in German or English (``lang``); numbers in the reader's format.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from coverage import __version__, methodology, texts
from coverage.evidence import class_counts, input_provenance
from coverage.evidence_sheets import area_sheet
from coverage.io.evidence_pack import run_profile
from coverage.io.rundir import RunData
from coverage.io.writers import atomic_path

TOP_AREAS = 15
#: DejaVu Sans (Debian fonts-dejavu-core) holds every character of the texts (≥, €, „“);
#: without it the PDF uses Helvetica and writes >= for ≥.
_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))

_T = {
    "de": {
        "title": "Breitband-Lückenbericht", "as_of": "Stichtag", "profile": "Regelwerk",
        "created": "Erstellt", "figures": "Kennzahlen je Klasse", "class": "Klasse",
        "eligible": "förderfähig", "addresses": "Adressen", "households": "Haushalte",
        "share": "Anteil", "areas": "Lückengebiete mit der höchsten Priorität",
        "areas_none": "In diesem Gebiet gibt es keine Lückengebiete.",
        "rank": "Rang", "area": "Gebiet", "gemeinden": "Gemeinden", "cost": "Kosten",
        "per_address": "je Anschluss", "priority": "Screening",
        "areas_note": "Kosten: mittlere Schätzung aus dem Kostensatz der Auswertung (Trassenlänge mal Tiefbaukosten je Meter plus Hausanschlüsse; die Spanne steht in gap_areas.parquet). Rangfolge: Screening-Wert von gapmap (0–100), nicht der amtliche Kriterienkatalog. {n} Lückengebiete insgesamt.",
        "method": "Methode", "interp": "Auslegungen", "sources": "Quellen und Lizenzen",
        "gap_method": "Lückengebiete: förderfähige Adressen, die über Schritte von höchstens {d} m miteinander verbunden sind, bilden ein Gebiet, das ein Ausbauprojekt gemeinsam erschließen kann. Die Gebietsflächen enthalten nur die Adressen des Gebiets und liegen innerhalb der Gemeindegrenzen.",
        "map": "Übersichtskarte: Anteil förderfähiger Adressen je Gemeinde und Lückengebiete nach Priorität.",
        "page": "Seite", "yes": "ja", "licence": "Lizenz",
    },
    "en": {
        "title": "Broadband gap report", "as_of": "Reference date", "profile": "Rule set",
        "created": "Created", "figures": "Key figures per class", "class": "Class",
        "eligible": "eligible", "addresses": "Addresses", "households": "Households",
        "share": "Share", "areas": "Gap areas of highest priority",
        "areas_none": "There are no gap areas in this area.",
        "rank": "Rank", "area": "Area", "gemeinden": "Gemeinden", "cost": "Cost",
        "per_address": "per connection", "priority": "Screening",
        "areas_note": "Cost: central estimate from the run's cost set (route length times civil works per metre plus house connections; the range is in gap_areas.parquet). Rank: gapmap's screening score (0-100), not the official Kriterienkatalog. {n} gap areas in all.",
        "method": "Method", "interp": "Interpretations", "sources": "Sources and licences",
        "gap_method": "Gap areas: eligible addresses joined by steps of at most {d} m form an area one roll-out project can serve together. Area polygons hold only the area's addresses and lie within the Gemeinde boundaries.",
        "map": "Overview map: share of eligible addresses per Gemeinde and gap areas by priority.",
        "page": "Page", "yes": "yes", "licence": "licence",
    },
}  # fmt: skip


@dataclass(frozen=True)
class _Fonts:
    regular: str
    bold: str
    unicode: bool


def _fonts() -> _Fonts:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for folder in _FONT_DIRS:
        reg, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if reg.is_file() and bold.is_file():
            if "GapmapSans" not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont("GapmapSans", str(reg)))
                pdfmetrics.registerFont(TTFont("GapmapSans-Bold", str(bold)))
            return _Fonts("GapmapSans", "GapmapSans-Bold", True)
    return _Fonts("Helvetica", "Helvetica-Bold", False)


def _clean(fonts: _Fonts, text: object) -> str:
    """``text`` escaped for a ReportLab paragraph, with ASCII stand-ins where the fonts lack
    the typographic characters."""
    from xml.sax.saxutils import escape

    value = str(text)
    if not fonts.unicode:
        value = value.replace("≥", ">=").replace("„", '"').replace("“", '"').replace("–", "-")
    return escape(value)


@dataclass(frozen=True)
class _Styles:
    body: Any
    small: Any
    h1: Any
    h2: Any
    warn: Any


def _styles(fonts: _Fonts) -> _Styles:
    """The paragraph styles the gapmap reports share."""
    from reportlab.lib.styles import ParagraphStyle

    body = ParagraphStyle("body", fontName=fonts.regular, fontSize=9.5, leading=12.5)
    return _Styles(
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=8, leading=10, textColor="#333333"),
        h1=ParagraphStyle("h1", parent=body, fontName=fonts.bold, fontSize=17, leading=21),
        h2=ParagraphStyle(
            "h2",
            parent=body,
            fontName=fonts.bold,
            fontSize=12,
            leading=15,
            spaceBefore=8,
            spaceAfter=4,
        ),
        warn=ParagraphStyle("warn", parent=body, fontName=fonts.bold, textColor="#b30000"),
    )


def _date(value: object, lang: str) -> str:
    if not value:
        return "?"
    day = pd.Timestamp(str(value)[:10])
    return day.strftime("%d.%m.%Y" if lang == "de" else "%d %B %Y")


def _eur(value: float, lang: str) -> str:
    text = texts.number(value, lang, 0)
    return f"{text} €" if lang == "de" else f"€{text}"


def report_pdf(run: RunData, *, lang: str = "de", overview_png: bytes | None = None) -> bytes:
    """The report of ``run`` (already restricted to its Gemeinde or Kreis) as PDF bytes."""

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import (
        Image,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
    )

    t = _T[texts.check_lang(lang)]
    fonts = _fonts()

    clean = partial(_clean, fonts)
    st = _styles(fonts)
    body, small, h1, h2, warn = st.body, st.small, st.h1, st.h2, st.warn

    manifest = run.manifest
    profile = run_profile(manifest)
    params = manifest.get("parameters", {})
    name = run.area_name
    story: list[Any] = [Paragraph(clean(f"{t['title']}: {name}"), h1), Spacer(1, 2 * mm)]
    facts = [
        (t["as_of"], _date(params.get("as_of"), lang)),
        (t["profile"], f"{methodology.title(profile, lang)} ({profile.id}, {profile.version})"),
        (t["created"], _date(manifest.get("created"), lang) + f" · gapmap {__version__}"),
    ]
    # values wrap inside their cell (a rule set's title runs longer than one line)
    cell = ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5)
    wrapped = [(k, Paragraph(clean(v), cell)) for k, v in facts]
    story.append(_table(wrapped, fonts, header=False, widths=(32 * mm, 140 * mm)))
    if manifest.get("synthetic_data"):
        story += [
            Spacer(1, 2 * mm),
            Paragraph(clean(methodology.synthetic_note(manifest, lang)), warn),
        ]
    if overview_png:
        reader = ImageReader(io.BytesIO(overview_png))
        w, h = reader.getSize()
        width = 178 * mm
        story += [Spacer(1, 3 * mm), Image(io.BytesIO(overview_png), width, width * h / w)]
        story.append(Paragraph(clean(t["map"]), small))
    counts = class_counts(run.addresses, profile)
    total = max(int(counts.loc[counts["class"] == "total", "addresses"].iloc[0]), 1)
    rows = [(t["class"], t["eligible"], t["addresses"], t["households"], t["share"])]
    for r in counts.itertuples(index=False):
        eligible = t["yes"] if r.eligible and r[0] not in ("eligible", "total") else ""
        rows.append((texts.class_label(r[0], lang), eligible, texts.number(r.addresses, lang),
                     texts.number(r.households, lang), texts.percent(r.addresses / total, lang)))  # fmt: skip
    story += [Paragraph(clean(t["figures"]), h2),
              _table(rows, fonts, widths=(70 * mm, 22 * mm, 28 * mm, 28 * mm, 24 * mm), numeric_from=2)]  # fmt: skip

    story += [PageBreak(), Paragraph(clean(t["areas"]), h2)]
    areas = run.gap_areas
    if areas is None or not len(areas):
        story.append(Paragraph(clean(t["areas_none"]), body))
    else:
        top = area_sheet(areas, lang).frame.head(TOP_AREAS)  # unranked remainders last
        rows = [(t["rank"], t["area"], t["gemeinden"], t["addresses"], t["cost"],
                 t["per_address"], t["priority"])]  # fmt: skip
        for r in top.itertuples(index=False):
            rank = "–" if pd.isna(r.rank) else str(int(r.rank))
            rows.append((rank, r.area_id, Paragraph(clean(r.gemeinde_names), small),
                         texts.number(r.addresses, lang), _eur(r.cost, lang),
                         _eur(r.per_address, lang), texts.number(r.score, lang, 1)))  # fmt: skip
        widths = (12 * mm, 36 * mm, 44 * mm, 18 * mm, 24 * mm, 22 * mm, 18 * mm)
        story.append(_table(rows, fonts, widths=widths, numeric_from=3))
        story += [Spacer(1, 2 * mm), Paragraph(clean(t["areas_note"].format(n=texts.number(len(areas), lang))), small)]  # fmt: skip

    desc, interpretations, _ = methodology.rule_texts(profile, lang)
    link = params.get("gap_link_distance_m", 250)
    story += [PageBreak(), Paragraph(clean(t["method"]), h2), Paragraph(clean(desc), body),
              Spacer(1, 2 * mm), Paragraph(clean(t["gap_method"].format(d=texts.number(link, lang))), body)]  # fmt: skip
    if interpretations:
        story.append(Paragraph(clean(t["interp"]), h2))
        story += [Paragraph(clean(f"• {text}"), body) for text in interpretations]
    story.append(Paragraph(clean(t["sources"]), h2))
    for rec in input_provenance(manifest):
        line = (f"{rec['name']}: {methodology.licence_text(rec['attribution'], lang)}; "
                f"{t['licence']} {methodology.licence_text(rec['licence'], lang)}")  # fmt: skip
        story.append(Paragraph(clean(f"• {line}"), body))
    story.append(Paragraph(clean(f"• {t['profile']}: {profile.source_url}"), body))

    footer = f"{t['title']} · {name} · {t['as_of']} {_date(params.get('as_of'), lang)}"

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(fonts.regular, 7.5)
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.drawString(18 * mm, 10 * mm, clean(footer).replace("&amp;", "&"))
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"{t['page']} {doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
        bottomMargin=18 * mm, title=f"{t['title']}: {name}", author=f"gapmap {__version__}",
        creator=f"gapmap {__version__}", lang="de-DE" if lang == "de" else "en-GB",
        invariant=True,
    )  # fmt: skip
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()


def _table(
    rows: list[tuple[Any, ...]] | list[tuple[str, str]],
    fonts: _Fonts,
    *,
    widths: tuple[float, ...],
    header: bool = True,
    numeric_from: int | None = None,
) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    table = Table([list(r) for r in rows], colWidths=list(widths), repeatRows=1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), fonts.regular),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if header:
        style += [
            ("FONTNAME", (0, 0), (-1, 0), fonts.bold),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1F4E78")),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#EEF2F7")]),
            ("LINEBELOW", (0, -1), (-1, -1), 0.5, colors.HexColor("#1F4E78")),
        ]
    else:
        style.append(("FONTNAME", (0, 0), (0, -1), fonts.bold))
    if numeric_from is not None:
        style.append(("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"))
    table.setStyle(TableStyle(style))
    return table


def write_report(
    run: RunData, out: str | Path, *, lang: str = "de", overview_png: bytes | None = None
) -> Path:
    """Write :func:`report_pdf` atomically to ``out``."""
    data = report_pdf(run, lang=lang, overview_png=overview_png)
    with atomic_path(out) as tmp:
        tmp.write_bytes(data)
    return Path(out)


def report_facts(run: RunData) -> Mapping[str, Any]:
    """What the report states (for callers and tests): Stichtag, profile, counts, top areas."""
    profile = run_profile(run.manifest)
    counts = class_counts(run.addresses, profile)
    return {
        "as_of": run.manifest.get("parameters", {}).get("as_of"),
        "profile": f"{profile.id} {profile.version}",
        "counts": {r[0]: int(r[3]) for r in counts.itertuples(index=False)},
        "top_areas": []
        if run.gap_areas is None or not len(run.gap_areas)
        else area_sheet(run.gap_areas, "en").frame["area_id"].head(TOP_AREAS).tolist(),
    }
