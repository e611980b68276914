"""Tables shared by the verification commands: the closing summary and the tau sweep."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from assay.data.records import Status
from assay.verify import SweepRow, VerifySummary
from assay.verify.selection import DIFFICULTIES, UNKNOWN


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def summary_table(summary: VerifySummary, title: str = "Verification summary") -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    table.add_row("solutions", str(summary.solutions))
    table.add_row("problems", str(summary.problems))
    if summary.from_store:
        table.add_row("reused from the run store", str(summary.from_store))
    tests = sum(summary.statuses.values())
    table.add_row("tests run", str(tests))
    for status in Status:
        table.add_row(f"  {status.value}", str(summary.statuses.get(status.value, 0)))
    table.add_row("mean pass fraction", _pct(summary.mean_pass_fraction))
    table.add_row("solutions passing every test", str(summary.fully_passing))
    for k, value in summary.pass_at.items():
        if value is not None:
            table.add_row(f"pass@{k}", _pct(value))
    table.add_row(f"retained at tau={summary.tau:g}",
                  f"{summary.retained} solutions / {summary.retained_problems} problems")
    if summary.incomplete:
        table.add_row("[red]incomplete (INFRA, rerun retries)[/]", str(summary.incomplete))
    return table


def sweep_table(rows: list[SweepRow]) -> Table:
    table = Table(title="Tau sweep: what a threshold keeps", title_justify="left")
    for name in ("tau", "solutions", "problems"):
        table.add_column(name, justify="right")
    levels = [d for d in (*DIFFICULTIES, UNKNOWN) if any(d in r.mix for r in rows)]
    for level in levels:
        table.add_column(f"{level} problems", justify="right")
    for row in rows:
        total = sum(row.mix.values()) or 1
        cells = [f"{row.mix.get(level, 0)} ({100 * row.mix.get(level, 0) / total:.0f}%)"
                 for level in levels]
        table.add_row(f"{row.tau:.1f}", str(row.solutions), str(row.problems), *cells)
    return table


def summary_json(summary: VerifySummary) -> dict[str, Any]:
    return {
        "solutions": summary.solutions, "problems": summary.problems,
        "from_store": summary.from_store, "statuses": dict(summary.statuses),
        "mean_pass_fraction": summary.mean_pass_fraction,
        "fully_passing": summary.fully_passing,
        "pass_at": {str(k): v for k, v in summary.pass_at.items()},
        "tau": summary.tau, "retained": summary.retained,
        "retained_problems": summary.retained_problems, "incomplete": summary.incomplete,
        "sweep": [{"tau": r.tau, "solutions": r.solutions, "problems": r.problems,
                   "mix": r.mix} for r in summary.sweep],
    }
