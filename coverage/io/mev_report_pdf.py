"""The MEV result report: the PDF a Gebietskörperschaft files with its Projektträger.

Same technique and look as the gap report (:mod:`coverage.io.report_pdf`: ReportLab, DejaVu
fonts embedded, A4, blue table heads). German only: the Markterkundungsverfahren is a German
procedure and its reader is a German authority.

Pages: (1) the procedure (name, area, address base, rule version and Stichtag, horizon,
publication period, Branchendialog, warnings) and the key figures; (2) the operators that
replied (every version) and the conflicts with their decisions, reasons and analysts; (3)
eligible addresses per Gemeinde and the changes against the published list per operator
claim; (4) the result map; (5) the method in plain words. The caller gathers the facts
(:class:`MevReport`); this module only lays them out.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from coverage import __version__, texts
from coverage.io.report_pdf import _clean, _date, _fonts, _styles, _table
from coverage.io.writers import atomic_path

#: individual conflicts listed in the PDF; all of them are in konflikte_entscheidungen.csv
MAX_CONFLICT_ROWS = 40
KIND_ORDER = ("nicht mehr förderfähig", "neu förderfähig", "Klasse geändert")


@dataclass
class MevReport:
    """Everything the report states; gathered by the caller from the catalog and the result."""

    name: str
    area: str
    address_base: str
    profile: str  # title, id and version
    stichtag: date
    horizon_months: int
    start: date
    end: date
    branchendialog: date | None
    warnings: list[str]
    #: operator, version, kind, filename, received (datetime), rows, rows_used, errors, claims, current
    replies: list[dict[str, Any]]
    #: conflict_id, address_id, kind (German label), operators, decision, reason, decided_by
    conflicts: pd.DataFrame
    #: ags, name, addresses, eligible (from the result run's Gemeinde table)
    gemeinden: pd.DataFrame
    #: aenderungen.csv of the result (German headers)
    changes: pd.DataFrame
    addresses: int
    eligible: int
    silent: int
    rerun: str
    synthetic: bool = False
    map_png: bytes | None = None
    created: datetime | None = None
    by_class: dict[str, int] = field(default_factory=dict)


def decision_label(decision: object) -> str:
    """An analyst's decision in words."""
    if decision is None or (not isinstance(decision, str) and pd.isna(decision)) or not decision:
        return "offen"
    d = str(decision)
    if d == "accept":
        return "Angaben anerkannt"
    if d == "reject_all":
        return "Angaben verworfen"
    if d.startswith("reject:"):
        return f"Angabe von {d.split(':', 1)[1]} verworfen"
    return d


def changes_by_operator(changes: pd.DataFrame) -> pd.DataFrame:
    """Changes against the published list per operator whose claim decides the new class
    (today's best offer, else the planned one; ``ohne Angebot`` when neither)."""
    if changes.empty:
        return pd.DataFrame(columns=["Betreiber", *KIND_ORDER])
    who = changes["Betreiber heute"].fillna("").astype(str)
    who = who.where(who != "", changes["Betreiber geplant"].fillna("").astype(str))
    who = who.where(who != "", "ohne Angebot")
    table = pd.crosstab(who, changes["Änderung"]).reindex(columns=list(KIND_ORDER), fill_value=0)
    return table.rename_axis(None, axis=1).rename_axis("Betreiber").reset_index()


METHOD = (
    (
        "Grundlage des Ergebnisses sind ausschließlich die Rückmeldungen der Betreiber im "
        "Markterkundungsverfahren und die dazu dokumentierten Entscheidungen. Für jeden Betreiber "
        "zählt seine zuletzt eingereichte Fassung; frühere Fassungen bleiben gespeichert. Jede Zeile "
        "einer Rückmeldung wurde geprüft (bekannte Adress-ID, mögliche Geschwindigkeit, bekannte "
        "Technologie, gültiges Datum innerhalb des Zeithorizonts); fehlerhafte Zeilen zählen nicht. "
        "Als Polygone gemeldete Versorgung gilt für alle Adressen innerhalb der Fläche."
    ),
    (
        "Wo Angaben einander widersprechen (mehrere Betreiber mit abweichenden Angaben zur selben "
        "Adresse, Widerspruch zu Messdaten, geplanter Ausbau ohne Datum oder nach dem Zeithorizont), "
        "hat eine Bearbeiterin oder ein Bearbeiter entschieden und die Begründung festgehalten. "
        "Verworfene Angaben zählen nicht; geplanter Ausbau zählt nur mit Datum innerhalb des "
        "Zeithorizonts."
    ),
    (
        "Mit den so bereinigten Angaben wird jede Adresse nach dem genannten Regelwerk zum Stichtag "
        "eingestuft. Ob eine Adresse förderfähig ist, bestimmt dieses Regelwerk (seine Regeln mit "
        "Fundstellen stehen im Evidenzpaket): nach der Gigabit-Richtlinie 2.0 ist sie es, wenn "
        "dort weder heute ein gigabitfähiges Netz besteht noch innerhalb des Zeithorizonts "
        "eigenwirtschaftlich gebaut wird. Adressen ohne jede Rückmeldung gelten als nicht versorgt. Die Änderungen vergleichen das Ergebnis mit der veröffentlichten "
        "Einstufung; der genannte Betreiber ist der, dessen Angebot die neue Einstufung bestimmt."
    ),
    (
        "Das Ergebnis ist aus den gespeicherten Rückmeldungen und Entscheidungen reproduzierbar: "
        "dieselbe Einstufung liefert der folgende Aufruf."
    ),
)


def report_pdf(r: MevReport) -> bytes:
    """The report as PDF bytes."""

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer

    fonts = _fonts()

    clean = partial(_clean, fonts)
    st = _styles(fonts)
    body, small, h1, h2, warn = st.body, st.small, st.h1, st.h2, st.warn
    cell = ParagraphStyle("cell", parent=body, fontSize=8, leading=9.8)

    def p(text: object, style: Any = cell) -> Any:
        return Paragraph(clean(text), style)

    def n(value: object) -> str:
        return texts.number(float(value), "de")  # type: ignore[arg-type]

    weeks = (r.end - r.start).days / 7
    story: list[Any] = [p(f"Ergebnis der Markterkundung: {r.name}", h1), Spacer(1, 2 * mm)]
    facts = [
        ("Verfahren", p(r.name)),
        ("Projektgebiet", p(r.area)),
        ("Adressbasis", p(r.address_base)),
        ("Regelwerk", p(r.profile)),
        ("Stichtag", _date(r.stichtag, "de")),
        ("Zeithorizont", f"{r.horizon_months} Monate für geplanten eigenwirtschaftlichen Ausbau"),
        ("Veröffentlichung", (f"{_date(r.start, 'de')} bis {_date(r.end, 'de')} "
                             f"({texts.number(weeks, 'de', 1)} Wochen)")),
        ("Branchendialog", _date(r.branchendialog, "de") if r.branchendialog else "nicht angegeben"),
        ("Erstellt", f"{_date(r.created or datetime.now(), 'de')} · gapmap {__version__}"),
    ]  # fmt: skip
    story.append(_table(facts, fonts, header=False, widths=(34 * mm, 140 * mm)))
    if r.synthetic:
        story += [Spacer(1, 2 * mm), p("SYNTHETISCHE DEMODATEN: fiktive Betreiber und erzeugte "
                                       "Adressen; kein reales Ergebnis.", warn)]  # fmt: skip
    story.append(p("Hinweise zum Verfahren", h2))
    if r.warnings:
        story += [p(f"• {w}", body) for w in r.warnings]
    else:
        story.append(p("Keine: Frist und Alter des Branchendialogs entsprechen Nr. 5.5.", body))
    story.append(p("Kennzahlen", h2))
    share = texts.percent(r.eligible / r.addresses if r.addresses else 0.0, "de")
    key = [("Kennzahl", "Anzahl"),
           ("Adressen im Projektgebiet", n(r.addresses)),
           ("davon förderfähig", f"{n(r.eligible)} ({share})"),
           ("Adressen ohne jede Rückmeldung", n(r.silent)),
           ("Konflikte", n(len(r.conflicts))),
           ("davon entschieden", n(int(r.conflicts["decision"].notna().sum()) if len(r.conflicts) else 0)),
           ("Adressen mit geänderter Förderfähigkeit",
            n(int(r.changes["Änderung"].isin(KIND_ORDER[:2]).sum()) if len(r.changes) else 0))]  # fmt: skip
    for klass, count in r.by_class.items():
        key.append((f"Klasse: {texts.class_label(klass, 'de')}", n(count)))
    story.append(_table(key, fonts, widths=(110 * mm, 50 * mm), numeric_from=1))

    story += [PageBreak(), p("Rückmeldungen der Betreiber", h2)]
    if r.replies:
        rows: list[tuple[Any, ...]] = [("Betreiber", "Fassung", "Form", "Datei", "Eingang",
                                        "Zeilen genutzt", "Fehler", "zählt")]  # fmt: skip
        for rep in r.replies:
            form = "Vorlage" if rep["kind"] == "table" else "Polygone"
            used = f"{n(rep.get('rows_used', 0))} von {n(rep.get('rows', 0))}"
            rows.append((p(rep["operator"]), str(rep["version"]), form, p(rep["filename"]),
                         _date(rep.get("received"), "de"), used, n(rep.get("errors", 0)),
                         "ja" if rep["current"] else "nein (ersetzt)"))  # fmt: skip
        widths = (34 * mm, 15 * mm, 17 * mm, 30 * mm, 19 * mm, 26 * mm, 13 * mm, 20 * mm)
        story.append(_table(rows, fonts, widths=widths))
        story.append(Spacer(1, 1.5 * mm))
        story.append(p("Es zählt je Betreiber die zuletzt eingereichte Fassung; frühere "
                       "Fassungen bleiben gespeichert.", small))  # fmt: skip
    else:
        story.append(p("Kein Betreiber hat geantwortet.", body))
    story.append(p("Konflikte und Entscheidungen", h2))
    k = r.conflicts
    if k.empty:
        story.append(p("Die Rückmeldungen enthalten keine Konflikte.", body))
    else:
        grouped = (k.assign(entscheidung=k["decision"].map(decision_label),
                            reason=k["reason"].fillna("–"), decided_by=k["decided_by"].fillna("–"))
                   .groupby(["kind", "entscheidung", "reason", "decided_by"], dropna=False)
                   .size().reset_index(name="count"))  # fmt: skip
        rows = [("Art", "Entscheidung", "Begründung", "Bearbeitung", "Anzahl")]
        for g in grouped.itertuples(index=False):
            rows.append((p(g.kind), p(g.entscheidung), p(g.reason), p(g.decided_by), n(g.count)))
        story.append(_table(rows, fonts, widths=(36 * mm, 34 * mm, 66 * mm, 22 * mm, 16 * mm),
                            numeric_from=4))  # fmt: skip
        story.append(p("Einzelne Konflikte", h2))
        rows = [("Konflikt", "Adresse", "Art", "Betreiber", "Entscheidung")]
        for c in k.head(MAX_CONFLICT_ROWS).itertuples(index=False):
            rows.append((c.conflict_id, str(c.address_id), p(c.kind),
                         p(str(c.operators).replace("|", ", ")), p(decision_label(c.decision))))  # fmt: skip
        story.append(_table(rows, fonts, widths=(27 * mm, 40 * mm, 35 * mm, 38 * mm, 34 * mm)))
        more = len(k) - MAX_CONFLICT_ROWS
        tail = f" Die übrigen {n(more)} stehen" if more > 0 else " Alle stehen"
        story.append(p(f"{n(len(k))} Konflikte.{tail} mit Angaben, Begründung und Bearbeitung in "
                       "konflikte_entscheidungen.csv.", small))  # fmt: skip

    story += [PageBreak(), p("Förderfähige Adressen je Gemeinde", h2)]
    rows = [("Gemeindeschlüssel", "Gemeinde", "Adressen", "förderfähig", "Anteil")]
    g = r.gemeinden
    for row in g.itertuples(index=False):
        rows.append((str(row.ags), p(row.name), n(row.addresses), n(row.eligible),
                     texts.percent(row.eligible / row.addresses if row.addresses else 0.0, "de")))  # fmt: skip
    if len(g) > 1:
        total, elig = int(g["addresses"].sum()), int(g["eligible"].sum())
        rows.append(
            ("", "zusammen", n(total), n(elig), texts.percent(elig / total if total else 0, "de"))
        )
    story.append(_table(rows, fonts, widths=(38 * mm, 54 * mm, 26 * mm, 26 * mm, 22 * mm),
                        numeric_from=2))  # fmt: skip
    story.append(
        p("Die Liste der förderfähigen Adressen steht in foerderfaehige_adressen.csv.", small)
    )
    story.append(p("Änderungen gegenüber der veröffentlichten Liste", h2))
    by_op = changes_by_operator(r.changes)
    if by_op.empty:
        story.append(p("Keine Adresse hat ihre Einstufung geändert.", body))
    else:
        rows = [("Betreiber (Angabe, die entscheidet)", *KIND_ORDER)]
        for row in by_op.itertuples(index=False):
            rows.append((p(row[0]), *[n(v) for v in row[1:]]))
        totals = by_op[list(KIND_ORDER)].sum()
        rows.append(("zusammen", *[n(totals[c]) for c in KIND_ORDER]))
        story.append(
            _table(rows, fonts, widths=(70 * mm, 36 * mm, 32 * mm, 32 * mm), numeric_from=1)
        )
        story.append(p("„Nicht mehr förderfähig“: in der veröffentlichten Liste förderfähig, nach "
                       "den Rückmeldungen versorgt oder mit geplantem Ausbau im Zeithorizont. "
                       "„Klasse geändert“: die Klasse wechselt, die Förderfähigkeit nicht. "
                       "Jede Adresse steht mit Begründung in aenderungen.csv.", small))  # fmt: skip

    if r.map_png:
        reader = ImageReader(io.BytesIO(r.map_png))
        w, h = reader.getSize()
        width = min(174 * mm, 200 * mm * w / h)
        story += [PageBreak(), p("Ergebniskarte", h2),
                  Image(io.BytesIO(r.map_png), width, width * h / w),
                  p("Förderfähige und nicht förderfähige Adressen nach der Markterkundung; "
                    "schwarz umrandet: Adressen, deren Förderfähigkeit sich gegenüber der "
                    "veröffentlichten Liste geändert hat.", small)]  # fmt: skip

    story += [PageBreak(), p("Methode", h2)]
    para = ParagraphStyle("para", parent=body, spaceAfter=5)
    story += [p(text, para) for text in METHOD] + [Spacer(1, 1.5 * mm), p(r.rerun, small)]

    footer = f"Ergebnis der Markterkundung · {r.name} · Stichtag {_date(r.stichtag, 'de')}"

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(fonts.regular, 7.5)
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.drawString(18 * mm, 10 * mm, footer if fonts.unicode else clean(footer))
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Seite {doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
        bottomMargin=18 * mm, title=f"Ergebnis der Markterkundung: {r.name}",
        author=f"gapmap {__version__}", creator=f"gapmap {__version__}", lang="de-DE",
        invariant=True,
    )  # fmt: skip
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()


def write_mev_report(r: MevReport, out: str | Path) -> Path:
    """Write :func:`report_pdf` atomically to ``out``."""
    data = report_pdf(r)
    with atomic_path(out) as tmp:
        tmp.write_bytes(data)
    return Path(out)
