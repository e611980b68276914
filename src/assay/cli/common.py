"""Helpers shared by the command modules."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import typer
from rich.console import Console

from assay.sandbox import LanguageError, Sandbox, SandboxError, get_sandbox, sandbox_names

# Exit codes: 0 success; 1 the program / check failed; 2 bad usage or input;
# 3 the sandbox itself could not work.
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SANDBOX = 3

# Tables stay readable when piped to a file (rich would fold them to 80 columns).
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)

BACKEND_OPTION = typer.Option(
    "bwrap", "--backend", help=f"Sandbox backend: {', '.join(sandbox_names())}. "
    "'local' does not isolate anything.")


COLD_OPTION = typer.Option(
    False, "--cold", help="Start a new sandbox and interpreter for every Python run instead "
    "of forking it from a warm executor (bwrap backend).")


def fail(message: str, code: int) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@contextlib.contextmanager
def open_sandbox(backend: str, cold: bool = False) -> Iterator[Sandbox]:
    try:
        sandbox = get_sandbox(backend, **({"warm": False} if cold and backend == "bwrap"
                                          else {}))
    except SandboxError as exc:
        raise fail(str(exc), EXIT_SANDBOX) from exc
    try:
        yield sandbox
    except LanguageError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    finally:
        sandbox.close()
