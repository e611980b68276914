"""``assay languages``: which languages work here, with which toolchain."""

from __future__ import annotations

import json
import sys

import typer
from rich.table import Table

from assay.cli.common import EXIT_FAILED, console
from assay.sandbox import ToolchainMissing, all_languages

HELP = "List the sandbox's languages with the toolchain version found, or why it is missing."
EPILOG = """**Examples**

    assay languages
    assay languages --json

Exit code: 0 when every language is available, 1 when any is missing."""


def languages(as_json: bool = typer.Option(False, "--json", help="Print a JSON list.")) -> None:
    rows = []
    for language in all_languages():
        try:
            toolchain = language.toolchain()
            rows.append({"language": language.name, "available": True,
                         "version": toolchain.version, "reason": None,
                         "compiled": language.compiled,
                         "extensions": list(language.extensions)})
        except ToolchainMissing as exc:
            rows.append({"language": language.name, "available": False, "version": None,
                         "reason": str(exc), "compiled": language.compiled,
                         "extensions": list(language.extensions)})
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        table = Table(title="assay languages")
        for column in ("language", "status", "toolchain", "extensions"):
            table.add_column(column)
        for row in rows:
            status = "[green]available[/]" if row["available"] else "[red]missing[/]"
            table.add_row(str(row["language"]), status, str(row["version"] or row["reason"]),
                          " ".join(row["extensions"]))  # type: ignore[arg-type]
        console.print(table)
    if not all(row["available"] for row in rows):
        raise typer.Exit(EXIT_FAILED)
