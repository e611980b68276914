"""One entry point over every parser, by format name."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from assay.swe.reports.base import TestReport, load_bytes, not_run
from assay.swe.reports.cargo import parse_cargo_test
from assay.swe.reports.gotest import parse_go_test_json
from assay.swe.reports.jsjson import parse_jest_json, parse_mocha_json, parse_vitest_json
from assay.swe.reports.junit import parse_junit, parse_surefire_reports
from assay.swe.reports.nodetest import parse_node_test

ReportFormat = Literal["pytest", "unittest", "surefire", "junit", "go", "jest", "vitest",
                       "mocha", "node", "cargo"]
FORMATS: tuple[str, ...] = get_args(ReportFormat)


def parse_report(format: ReportFormat, data: str | bytes, *,
                 root: Path | None = None) -> TestReport:
    """Parse a report held in memory.

    Args:
        format: ``pytest`` / ``unittest`` / ``surefire`` / ``junit`` (JUnit XML with that id
            style; ``junit`` is the generic one), ``go`` (``go test -json``), ``jest``,
            ``vitest``, ``mocha`` (their JSON reporters), ``node`` (``node --test`` with
            assay's reporter), ``cargo`` (``cargo test`` output).
        data: The report.
        root: The project directory: pytest's rootdir, or where JS test paths are relative to.

    Returns:
        The report; NOT_RUN for empty data.
    """
    if not data.strip():
        return not_run(format, "report empty")
    if format in ("pytest", "unittest", "surefire"):
        return parse_junit(data, style=format, root=root)
    if format == "junit":
        return parse_junit(data, style="generic", root=root)
    if format == "go":
        return parse_go_test_json(data)
    if format == "jest":
        return parse_jest_json(data, root=root)
    if format == "vitest":
        return parse_vitest_json(data, root=root)
    if format == "mocha":
        return parse_mocha_json(data, root=root)
    if format == "node":
        return parse_node_test(data, root=root)
    if format == "cargo":
        return parse_cargo_test(data)
    raise ValueError(f"unknown report format {format!r}; known: {', '.join(FORMATS)}")


def read_report_file(format: ReportFormat, path: Path, *,
                     root: Path | None = None) -> TestReport:
    """Parse a report file (for ``surefire``, the ``surefire-reports`` directory).

    A missing, unreadable or empty file gives a NOT_RUN report saying so.
    """
    if format == "surefire" and path.is_dir():
        return parse_surefire_reports(path)
    data = load_bytes(path)
    if isinstance(data, str):
        return not_run(format, data)
    return parse_report(format, data, root=root)
