"""`make bench` ends with one table: each benchmark adds its headline figures with `bench_row`.

The sections print their details as they run; the table gathers what the issues set targets for,
so that one run shows them side by side.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Row:
    section: str
    what: str
    figure: str
    target: str


ROWS: list[Row] = []

AddRow = Callable[[str, str, str, str], None]


def add_row(section: str, what: str, figure: str, target: str = "") -> None:
    """Add a line to the closing table: section, what was measured, the figure, its target."""
    ROWS.append(Row(section, what, figure, target))


def write_table(terminalreporter: pytest.TerminalReporter) -> None:
    """The rows added during the run, grouped by section, figures aligned."""
    if not ROWS:
        return
    width = max(len(row.what) for row in ROWS)
    figures = max(len(row.figure) for row in ROWS)
    terminalreporter.section("make bench: the figures together")
    section = None
    for row in ROWS:
        if row.section != section:
            section = row.section
            terminalreporter.write_line(section)
        target = f"  (target: {row.target})" if row.target else ""
        terminalreporter.write_line(f"  {row.what:<{width}}  {row.figure:>{figures}}{target}")
