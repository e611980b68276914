"""``assay selfcheck``: the sandbox conformance suite, as a table."""

from __future__ import annotations

import json
import sys
import time

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from assay.cli.common import BACKEND_OPTION, COLD_OPTION, EXIT_FAILED, console, open_sandbox
from assay.conformance import CaseResult, run_selfcheck

HELP = ("Run the sandbox conformance suite: every language's basic programs, then hostile "
        "programs, then checks that the host is untouched.")
EPILOG = """**Examples**

    assay selfcheck
    assay selfcheck --lang python --lang c
    assay selfcheck --cold                 # every Python run in a new sandbox
    assay selfcheck --json > selfcheck.json

Exit code: 0 when every row passes, 1 when any fails, 3 when the sandbox cannot start."""


def selfcheck(
    lang: list[str] = typer.Option(None, "--lang", "-l", help="Only these languages."),
    workers: int = typer.Option(None, "--workers", "-w", min=1,
                                help="Parallel runs for the basic cases (default: cores)."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
    backend: str = BACKEND_OPTION,
    cold: bool = COLD_OPTION,
) -> None:
    started = time.monotonic()
    with open_sandbox(backend, cold) as sandbox, Progress(
        TextColumn("[bold]selfcheck[/]"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.description}"), console=console, transient=True,
        disable=as_json,
    ) as progress:
        task = progress.add_task("", total=None)

        def on_result(row: CaseResult) -> None:
            progress.update(task, advance=1, description=f"{row.language} {row.name}")

        rows = run_selfcheck(sandbox, lang or None, workers=workers, on_result=on_result)
    failed = [row for row in rows if not row.passed]
    if as_json:
        sys.stdout.write(json.dumps([row.__dict__ for row in rows], indent=2) + "\n")
    else:
        notes = "; ".join(getattr(sandbox, "isolation_notes", []))
        table = Table(title=f"assay selfcheck ({sandbox.name} backend{': ' if notes else ''}"
                            f"{notes})")
        for column in ("language", "case", "expected", "verdict", "result", "seconds", "detail"):
            table.add_column(column, overflow="fold")
        for row in rows:
            mark = "[green]pass[/]" if row.passed else "[bold red]FAIL[/]"
            table.add_row(row.language, row.name, row.expected, row.verdict, mark,
                          f"{row.seconds:.2f}", row.detail)
        console.print(table)
        console.print(f"{len(rows) - len(failed)} passed, {len(failed)} failed "
                      f"in {time.monotonic() - started:.1f} s")
    if failed:
        raise typer.Exit(EXIT_FAILED)
