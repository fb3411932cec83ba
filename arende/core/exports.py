"""Tables that a page shows and that the reader can download as CSV or Excel.

A report's selector builds a ``Table``; the page renders its cells and the export views call
``csv_response`` / ``xlsx_response`` with the very same table, so the file and the page agree.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import formats
from django.utils.translation import gettext as _

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    title: Any
    kind: str = "int"  # int | decimal | percent | date | datetime | text
    decimals: int = 1


@dataclass(frozen=True)
class Table:
    """One exportable table: the same rows the page shows."""

    name: str
    title: Any
    columns: list[Column]
    rows: list[list[Any]]

    def cells(self) -> list[list[tuple[Any, Column]]]:
        """Each row as (value, column) pairs, for the page's table."""
        return [
            [(value, column) for value, column in zip(row, self.columns, strict=True)]
            for row in self.rows
        ]


def _csv_value(value: Any) -> str:
    """Plain figures (no thousands separator) with the reader's decimal sign."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return str(value).replace(".", formats.get_format("DECIMAL_SEPARATOR"))
    return str(value)


def csv_response(table: Table, filename: str) -> HttpResponse:
    """Semicolon-separated, UTF-8 with a byte-order mark and the reader's decimal sign: what
    Excel in a Swedish locale opens correctly by double-click."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([str(column.title) for column in table.columns])
    for row in table.rows:
        writer.writerow([_csv_value(value) for value in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(table: Table, filename: str, summary: list[tuple[str, str]]) -> HttpResponse:
    """An Excel workbook: the table with typed cells, and a sheet saying what was asked for."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(str(table.title))
    sheet.append([str(column.title) for column in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    number_formats = {
        "int": "#,##0",
        "decimal": "0.0",
        "percent": "0.0%",
        "date": "yyyy-mm-dd",
        "datetime": "yyyy-mm-dd hh:mm",
    }
    for row in table.rows:
        values = []
        for value, column in zip(row, table.columns, strict=True):
            if column.kind == "percent" and value is not None:
                value = float(value) / 100
            elif isinstance(value, Decimal):
                value = float(value)
            elif isinstance(value, datetime.datetime):
                value = value.replace(tzinfo=None)  # Excel has no time zones: local time
            values.append(value)
        sheet.append(values)
        for cell, column in zip(sheet[sheet.max_row], table.columns, strict=True):
            if column.kind in number_formats:
                cell.number_format = number_formats[column.kind]
    for index, column in enumerate(table.columns, start=1):
        longest = max([len(str(column.title)), *(len(str(r[index - 1])) for r in table.rows)])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(longest + 2, 10), 60)
    sheet.freeze_panes = "A2"
    about = workbook.create_sheet(_sheet_title(_("About")))
    about.append([str(table.title)])
    about["A1"].font = Font(bold=True)
    for label, value in summary:
        about.append([label, value])
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 40
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _sheet_title(title: str) -> str:
    for char in "[]:*?/\\":
        title = title.replace(char, " ")
    return title[:31]
