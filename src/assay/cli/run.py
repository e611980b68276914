"""``assay run``: run one program in the sandbox and print its verdict."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.table import Table

from assay.cli.common import (
    BACKEND_OPTION,
    COLD_OPTION,
    EXIT_FAILED,
    EXIT_SANDBOX,
    EXIT_USAGE,
    console,
    fail,
    open_sandbox,
)
from assay.sandbox import (
    LanguageError,
    Limits,
    RunResult,
    RunSpec,
    Verdict,
    get_language,
    language_for_file,
)

HELP = "Run one program in the sandbox and print its verdict, output and resources."
EPILOG = """**Examples**

    assay run hello.py
    assay run solution.cpp --stdin input.txt --time-limit 2 --memory-mb 256
    assay run Main.java --json | jq .verdict
    assay run script.txt --lang ruby -- arg1 arg2

Exit code: 0 when the verdict is OK, 1 for any other verdict of the program,
2 for bad usage, 3 when the sandbox itself failed (SANDBOX_ERROR)."""


def run(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="Source file to run."),
    args: list[str] = typer.Argument(None, help="Arguments passed to the program."),
    lang: str = typer.Option(None, "--lang", "-l", help="Language (default: from extension)."),
    stdin: Path = typer.Option(None, "--stdin", exists=True, dir_okay=False,
                               help="File fed to the program's standard input ('-' not allowed)."),
    time_limit: float = typer.Option(Limits.wall_s, "--time-limit", "-t",
                                     help="Wall-clock and CPU seconds.", min=0.001),
    memory_mb: int = typer.Option(Limits.memory_mb, "--memory-mb", "-m", min=1,
                                  help="Memory limit in MiB."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    backend: str = BACKEND_OPTION,
    cold: bool = COLD_OPTION,
) -> None:
    try:
        language = get_language(lang) if lang else language_for_file(file.name)
    except LanguageError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    entry = file.name if lang or file.suffix else language.default_entry
    spec = RunSpec(
        language=language.name, files={entry: file.read_bytes()}, entry=entry,
        argv=tuple(args or ()), stdin=stdin.read_bytes() if stdin else b"",
        limits=Limits(wall_s=time_limit, cpu_s=time_limit, memory_mb=memory_mb),
    )
    with open_sandbox(backend, cold) as sandbox:
        result = sandbox.run(spec)
    if as_json:
        sys.stdout.write(json.dumps(result.model_dump(mode="json")) + "\n")
    else:
        _print(result)
    if result.verdict is Verdict.SANDBOX_ERROR:
        raise typer.Exit(EXIT_SANDBOX)
    if result.verdict is not Verdict.OK:
        raise typer.Exit(EXIT_FAILED)


def _print(result: RunResult) -> None:
    colour = "green" if result.verdict is Verdict.OK else "red"
    if result.compile is not None and result.compile.verdict is not Verdict.OK:
        console.print("[bold]compile output[/]", style="dim")
        console.print(result.compile.stderr or result.compile.stdout, markup=False)
    if result.stdout:
        console.print("[bold]stdout[/]" + (" (truncated)" if result.stdout_truncated else ""),
                      style="dim")
        console.print(result.stdout, markup=False, end="" if result.stdout.endswith("\n") else "\n")
    if result.stderr:
        console.print("[bold]stderr[/]" + (" (truncated)" if result.stderr_truncated else ""),
                      style="dim")
        console.print(result.stderr, markup=False, end="" if result.stderr.endswith("\n") else "\n")
    table = Table(show_header=False, box=None)
    table.add_row("verdict", f"[bold {colour}]{result.verdict.value}[/]")
    if result.limit_exceeded:
        table.add_row("limit", result.limit_exceeded)
    if result.error:
        table.add_row("error", result.error)
    table.add_row("exit code", str(result.exit_code) if result.signal is None
                  else f"killed by signal {result.signal}")
    table.add_row("wall / cpu", f"{result.wall_s:.3f} s / {result.cpu_s:.3f} s")
    table.add_row("peak memory", f"{result.peak_memory_mb:.1f} MiB")
    if result.compile is not None:
        how = "cache hit" if result.compile.cached else f"{result.compile.wall_s:.3f} s"
        table.add_row("compile", f"{result.compile.verdict.value} ({how})")
    console.print(table)
