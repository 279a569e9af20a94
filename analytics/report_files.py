"""The after-sales service report as files: an Excel workbook (openpyxl, with native charts)
and a PDF (reportlab; Chinese in the built-in CID font STSong-Light, so no font file is
shipped). Both are written from one `analytics.scheduled.AftersalesReport`, in the language it
was built in; call them inside the same `translation.override`."""

import io
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from analytics import pages
from analytics.page_views import _table_rows

if TYPE_CHECKING:
    from analytics.scheduled import AftersalesReport, Figure

# How a figure's value is written in a cell (durations in hours: a spreadsheet's reader
# compares them better than seconds).
NUMBER_FORMATS = {
    "count": "#,##0",
    "amount": "¥#,##0.00",
    "share": "0.0%",
    "duration": "0.0",
}


def _cell(figure_value: float | None, kind: str) -> float | str:
    if figure_value is None:
        return ""
    if kind == "duration":
        return round(figure_value / 3600, 1)
    return figure_value


def _figure_label(figure: "Figure") -> str:
    return (
        _("%(figure)s (hours)") % {"figure": figure.label}
        if figure.kind == "duration"
        else (figure.label)
    )


def report_xlsx(content: "AftersalesReport") -> bytes:
    """A summary sheet (the headline figures against the period before and the top root
    causes), a sheet per table of the report page, and bar charts of cases per type and of
    complaints per root cause."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = _("Summary")[:31]
    summary.append([content.title])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append(
        [
            _("Period"),
            f"{content.period.start.isoformat()} – {content.period.end.isoformat()}",
            _("Previous period"),
            f"{content.previous.start.isoformat()} – {content.previous.end.isoformat()}",
        ]
    )
    summary.append([])
    summary.append([_("Figure"), _("This period"), _("Previous period"), _("Change")])
    for cell in summary[summary.max_row]:
        cell.font = Font(bold=True)
    for figure in content.figures:
        summary.append(
            [
                _figure_label(figure),
                _cell(figure.now, figure.kind),
                _cell(figure.before, figure.kind),
                figure.change,
            ]
        )
        for cell in summary[summary.max_row][1:3]:
            cell.number_format = NUMBER_FORMATS.get(figure.kind, "General")
    summary.append([])
    summary.append([_("Top root causes of complaints")])
    summary[summary.max_row][0].font = Font(bold=True)
    summary.append([_("Root cause"), _("This period"), _("Previous period")])
    causes_top = summary.max_row
    for cause in content.causes:
        summary.append([cause.name, cause.now, cause.before])
    if not content.causes:
        summary.append([_("No reviewed complaints in the period.")])
    summary.column_dimensions["A"].width = 36
    for column in "BCD":
        summary.column_dimensions[column].width = 18

    for table in content.tables:
        sheet = book.create_sheet(title=str(table.title)[:31])
        for row in _table_rows(table):
            sheet.append(list(row))
        sheet.column_dimensions["A"].width = 24
        if table.key == "cases" and table.rows:
            chart = BarChart()
            chart.type = "col"
            chart.title = str(table.title)
            chart.y_axis.title = _("Cases")
            last = len(table.rows) + 1
            chart.add_data(
                Reference(sheet, min_col=2, max_col=3, min_row=1, max_row=last),
                titles_from_data=True,
            )
            chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=last))
            chart.width, chart.height = 18, 9
            sheet.add_chart(chart, "G2")
            summary.add_chart(_copy_chart(chart, sheet, last), "F4")
    if content.causes:
        chart = BarChart()
        chart.type = "bar"
        chart.title = _("Complaints per root cause")
        rows = len(content.causes)
        chart.add_data(
            Reference(summary, min_col=2, max_col=3, min_row=causes_top, max_row=causes_top + rows),
            titles_from_data=True,
        )
        chart.set_categories(
            Reference(summary, min_col=1, min_row=causes_top + 1, max_row=causes_top + rows)
        )
        chart.width, chart.height = 18, 8
        summary.add_chart(chart, f"F{causes_top}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _copy_chart(chart: object, sheet: object, last: int) -> object:
    """The cases chart again, for the summary sheet (a chart object belongs to one sheet)."""
    from openpyxl.chart import BarChart, Reference

    copy = BarChart()
    copy.type = "col"
    copy.title = chart.title  # type: ignore[attr-defined]
    copy.y_axis.title = chart.y_axis.title  # type: ignore[attr-defined]
    copy.add_data(
        Reference(sheet, min_col=2, max_col=3, min_row=1, max_row=last),  # type: ignore[arg-type]
        titles_from_data=True,
    )
    copy.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=last))  # type: ignore[arg-type]
    copy.width, copy.height = 18, 9
    return copy


# --- PDF ----------------------------------------------------------------------------------

FONT = "STSong-Light"


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def report_pdf(content: "AftersalesReport") -> bytes:
    """One or two A4 pages: the title and period, the headline figures against the period
    before, a bar chart of cases per type, the top root causes and the anomalies per kind."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font()
    title_style = ParagraphStyle("title", fontName=font, fontSize=18, leading=24, spaceAfter=4)
    heading = ParagraphStyle("heading", fontName=font, fontSize=13, leading=18, spaceBefore=10)
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14)
    muted = ParagraphStyle("muted", parent=body, textColor=colors.grey, fontSize=9)
    grid = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), 9.5),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#8899aa")),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#dde3ea")),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
    )
    story: list[object] = [
        Paragraph(content.title, title_style),
        Paragraph(
            _("%(start)s to %(end)s, against %(previous_start)s to %(previous_end)s")
            % {
                "start": content.period.start.isoformat(),
                "end": content.period.end.isoformat(),
                "previous_start": content.previous.start.isoformat(),
                "previous_end": content.previous.end.isoformat(),
            },
            muted,
        ),
        Paragraph(_("Headline figures"), heading),
    ]
    rows = [[_("Figure"), _("This period"), _("Previous period"), _("Change")]]
    rows += [[f.label, f.shown, f.shown_before, f.change] for f in content.figures]
    story.append(
        Table(rows, colWidths=[78 * mm, 32 * mm, 32 * mm, 26 * mm], style=grid, hAlign="LEFT")
    )

    cases = content.tables[0]
    if cases.rows:
        story.append(Paragraph(str(cases.title), heading))
        drawing = Drawing(168 * mm, 62 * mm)
        chart = VerticalBarChart()
        chart.x, chart.y = 12 * mm, 10 * mm
        chart.width, chart.height = 120 * mm, 46 * mm
        chart.data = [[row.values[i] or 0 for row in cases.rows] for i in (0, 1)]
        chart.categoryAxis.categoryNames = [row.label for row in cases.rows]
        chart.categoryAxis.labels.fontName = font
        chart.valueAxis.labels.fontName = font
        chart.valueAxis.valueMin = 0
        chart.bars[0].fillColor = colors.HexColor("#5470c6")
        chart.bars[1].fillColor = colors.HexColor("#91cc75")
        drawing.add(chart)
        legend = Legend()
        legend.x, legend.y = 138 * mm, 50 * mm
        legend.fontName = font
        legend.colorNamePairs = [
            (colors.HexColor("#5470c6"), str(cases.columns[0].label)),
            (colors.HexColor("#91cc75"), str(cases.columns[1].label)),
        ]
        drawing.add(legend)
        story.append(drawing)
        story.append(_pdf_table(cases, grid))

    story.append(Paragraph(_("Top root causes of complaints"), heading))
    if content.causes:
        causes = [[_("Root cause"), _("This period"), _("Previous period")]]
        causes += [[c.name, str(c.now), str(c.before)] for c in content.causes]
        story.append(
            Table(causes, colWidths=[78 * mm, 32 * mm, 32 * mm], style=grid, hAlign="LEFT")
        )
    else:
        story.append(Paragraph(_("No reviewed complaints in the period."), body))

    anomalies = content.tables[1]
    story.append(Paragraph(str(anomalies.title), heading))
    if anomalies.rows:
        story.append(_pdf_table(anomalies, grid))
    else:
        story.append(Paragraph(_("No logistics anomalies in the period."), body))
    story += [
        Spacer(1, 6 * mm),
        Paragraph(
            _("Generated by Kefu at %(at)s.")
            % {"at": timezone.localtime(content.generated_at).strftime("%Y-%m-%d %H:%M")},
            muted,
        ),
    ]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"{content.title} {content.period.slug()}",
        author="Kefu",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
    )
    doc.build(story)  # type: ignore[arg-type]
    return out.getvalue()


def _pdf_table(table: pages.Table, style: object) -> object:
    from reportlab.platypus import Table

    from analytics.report_views import _show

    rows = [[str(table.head), *(str(c.label) for c in table.columns)]]
    for row in table.rows:
        rows.append(
            [row.label, *(_show(v, c.kind) for c, v in zip(table.columns, row.values, strict=True))]
        )
    return Table(rows, style=style, hAlign="LEFT")
