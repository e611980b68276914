"""``assay swe``: SWE-style tasks from git history: ``mine`` here; ``build`` and ``eval`` in
``swe_tasks``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from assay.cli import swe_tasks
from assay.cli.common import EXIT_FAILED, EXIT_SANDBOX, EXIT_USAGE, console, err_console, fail
from assay.data import InputError, RecordWriter
from assay.swe.git import GitError, GitRepo
from assay.swe.mining import (
    MineConfig,
    MineStats,
    check_range,
    count_commits,
    load_explicit,
    mine,
)
from assay.swe.records import Candidate
from assay.swe.testfiles import TestFileRules

HELP = "SWE-style tasks from a git repository's history: mine, build, evaluate."

swe_app = typer.Typer(name="swe", help=HELP, no_args_is_help=True, add_completion=False,
                      rich_markup_mode="markdown")


@swe_app.callback()
def swe() -> None:
    """SWE-style tasks from a git repository's history."""


MINE_HELP = "Find commits that change both tests and code; write them as candidates."
MINE_EPILOG = """**Examples**

    assay swe mine ../requests --range v2.30.0..v2.31.0 -o candidates.jsonl
    assay swe mine ../project -o candidates.jsonl --name owner/project --tests python
    assay swe mine ../project -o c.jsonl --all-commits --test-pattern 'testing/' --json
    assay swe mine ../project --from my-tasks.jsonl -o candidates.jsonl

A commit is a candidate when it changes a test file and another file; its diff against its
parent (a merge's: its first parent) is split into a fix patch (non-test files) and a test
patch (test files), binary-safe. Test files are told by path, per ecosystem (python, go,
javascript, rust, java; all by default): test_*.py, *_test.py, tests/, conftest.py,
*_test.go, testdata/, *.test.js|ts|jsx|tsx, *.spec.*, __tests__/, test/, src/test/,
tests.rs; and a Rust file whose change only edits #[cfg(test)] items. By default only the
first-parent chain is walked, so a merged branch is one candidate (its merge).

--from reads an explicit list instead: JSONL rows with base_commit, fix_patch, test_patch,
problem_statement (and optionally id, created_at); every row is checked.

Exit code: 0 candidates written; 1 none found; 2 bad usage or input (not a repository, an
unknown revision, a malformed row); 3 git failed."""


def mine_command(
    repo: Path = typer.Argument(..., help="A local git repository (work tree or bare)."),
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False,
                                help="Candidates to write (.jsonl, .jsonl.gz, .parquet)."),
    rev_range: str = typer.Option(None, "--range", "-r", help="A..B (commits of B not in "
                                  "A) or one revision (its whole history); default HEAD."),
    explicit: Path = typer.Option(None, "--from", dir_okay=False, help="Take the candidates "
                                  "from this JSONL instead of mining the history."),
    name: str = typer.Option(None, "--name", help="Repository name recorded in the "
                             "candidates, e.g. owner/project (default: directory name)."),
    all_commits: bool = typer.Option(False, "--all-commits", help="Walk every commit, not "
                                     "only the first-parent chain."),
    no_merges: bool = typer.Option(False, "--no-merges", help="Skip merge commits."),
    ecosystems: str = typer.Option(None, "--tests", help="Ecosystems whose test-file rules "
                                   "apply, comma-separated (default: all)."),
    patterns: list[str] = typer.Option([], "--test-pattern", help="One more test-file "
                                       "pattern (repeatable): NAME/ for a directory, a "
                                       "glob for a file name, a path glob."),
    limit: int = typer.Option(None, "--limit", "-n", min=1, help="Stop after N candidates."),
    timeout: float = typer.Option(120.0, "--timeout", min=0.1,
                                  help="Time limit of each git command, in seconds."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    if explicit is not None and (rev_range or all_commits or no_merges or limit):
        raise fail("--from takes the candidates as listed: --range, --all-commits, "
                   "--no-merges and --limit do not apply", EXIT_USAGE)
    try:
        rules = TestFileRules.for_ecosystems(
            None if ecosystems is None else [e for e in ecosystems.split(",") if e.strip()],
            patterns)
        git_repo = GitRepo.open(repo, timeout)
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    except GitError as exc:
        raise fail(f"{repo}: not a git repository ({exc.message})", EXIT_USAGE) from exc
    config = MineConfig(rev_range=rev_range, first_parent=not all_commits,
                        merges=not no_merges, rules=rules, repo_name=name, limit=limit,
                        timeout_s=timeout)
    stats = MineStats()
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                        MofNCompleteColumn(), TextColumn("{task.fields[status]}"),
                        TimeElapsedColumn(), console=err_console, transient=True)
    try:
        with progress, RecordWriter(output, Candidate) as writer:
            if explicit is not None:
                task = progress.add_task("reading", total=None, status="")
                for candidate in load_explicit(git_repo, explicit, name):
                    writer.write(candidate)
                    progress.update(task, completed=writer.count)
            else:
                # Checked first, so that a bad range is a usage error, not a git failure.
                check_range(git_repo, config.rev_range)
                task = progress.add_task("mining", total=count_commits(git_repo, config),
                                         status="")

                def show(counts: MineStats) -> None:
                    progress.update(task, completed=counts.commits,
                                    status=f"{counts.candidates} candidates")

                writer.write_all(mine(git_repo, config, stats, show))
            written = writer.count
    except (InputError, ValueError) as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    except GitError as exc:
        raise fail(str(exc), EXIT_SANDBOX) from exc
    summary = _summary(git_repo, config, stats, written, output, explicit)
    for error in stats.errors[:3]:
        err_console.print(f"[yellow]warning:[/] skipped {error}", highlight=False)
    if as_json:
        print(json.dumps(summary))
    else:
        console.print(_table(summary))
        console.print(f"candidates: {output}")
    if written == 0:
        raise typer.Exit(EXIT_FAILED)


def _summary(repo: GitRepo, config: MineConfig, stats: MineStats, written: int,
             output: Path, explicit: Path | None) -> dict[str, Any]:
    return {
        "repo": str(repo.path), "range": config.rev_range or "HEAD",
        "source": "explicit" if explicit is not None else "history",
        "commits": stats.commits, "candidates": written,
        "merge_candidates": stats.merge_candidates,
        "with_binary_files": stats.binary_candidates,
        "with_rust_tests_in_fix": stats.mixed_candidates,
        "skipped": dict(sorted(stats.skipped.items())), "git_errors": stats.errors,
        "output": str(output),
    }


def _table(summary: dict[str, Any]) -> Table:
    table = Table(title=f"Mining summary ({summary['repo']}, {summary['range']})",
                  show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    if summary["source"] == "history":
        table.add_row("commits examined", str(summary["commits"]))
    table.add_row("candidates", str(summary["candidates"]))
    if summary["source"] == "history":
        table.add_row("  from merges", str(summary["merge_candidates"]))
        table.add_row("  with binary files", str(summary["with_binary_files"]))
        table.add_row("  with Rust tests left in the fix", str(summary["with_rust_tests_in_fix"]))
        for reason, count in summary["skipped"].items():
            table.add_row(f"skipped: {reason}", str(count))
    return table


swe_app.command("mine", help=MINE_HELP, epilog=MINE_EPILOG)(mine_command)
swe_app.command("build", help=swe_tasks.BUILD_HELP, epilog=swe_tasks.BUILD_EPILOG)(
    swe_tasks.build_command)
swe_app.command("eval", help=swe_tasks.EVAL_HELP, epilog=swe_tasks.EVAL_EPILOG)(
    swe_tasks.eval_command)


if __name__ == "__main__":
    swe_app()
