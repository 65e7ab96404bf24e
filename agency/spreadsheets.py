"""Cells of every CSV and XLSX file we write: text never becomes a formula.

Names in an export come from users (a project called ``=HYPERLINK("http://x","y")``).
A spreadsheet program runs a cell that begins with ``=``, ``+``, ``-`` or ``@``
(and some runs one after a leading tab or carriage return) as a formula
(OWASP "CSV injection").  So, as OWASP recommends, a CSV text cell that begins
so is prefixed with a single quote, and every text cell of an XLSX is stored
as a string, which no spreadsheet evaluates.  Numbers stay numbers.
Every export writes its rows through ``csv_row`` or ``append_xlsx_row``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # openpyxl's ILLEGAL_CHARACTERS_RE (not imported: slow)


def csv_cell(value):
    """A value for ``csv.writer``: None as empty, text that a spreadsheet would run prefixed with ``'``."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_row(values: Iterable) -> list:
    return [csv_cell(value) for value in values]


def append_xlsx_row(sheet, values: Iterable) -> None:
    """Append a row to an openpyxl sheet: every text cell is a string (data type ``s``), never a formula.

    Characters XML cannot hold (control characters other than tab, newline and
    carriage return) are dropped rather than failing the whole file.
    """
    values = [XML_ILLEGAL.sub("", v) if isinstance(v, str) else v for v in values]
    sheet.append(values)
    for cell, value in zip(sheet[sheet.max_row], values):
        if isinstance(value, str):
            cell.data_type = "s"  # openpyxl took a leading "=" for a formula
