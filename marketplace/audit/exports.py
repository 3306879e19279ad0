"""Tables as CSV and JSON, and counts in words: shared by the report, the CLI and the web pages.

Amounts of ether are `marketplace.units.format_eth`, as on every other page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A CSV cell: nested values as JSON; text that a spreadsheet would run as a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """CSV text with a header row; missing keys are empty cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


def to_json(data: Any) -> str:
    """Pretty JSON; integers stay exact (amounts in wei exceed 2**53)."""
    return json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"


def format_int(value: int) -> str:
    """Thousands separated."""
    return f"{value:,}"
