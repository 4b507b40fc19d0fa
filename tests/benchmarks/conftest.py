"""`make bench` ends with one table of the headline figures (see tests/support/benchmarks.py)."""

import pytest

from tests.support.benchmarks import AddRow, add_row, write_table


@pytest.fixture
def bench_row() -> AddRow:
    """Add a line to the closing table: section, what was measured, the figure, its target."""
    return add_row


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    write_table(terminalreporter)
