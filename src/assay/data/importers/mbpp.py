"""MBPP (original and sanitized) and evalplus-style rows (MBPP+, HumanEval+): assert tests.

Fields read, first one present wins:

- id: ``task_id`` (an integer ``n`` becomes ``Mbpp/n``, evalplus's spelling);
- prompt: ``prompt``, ``text``;
- tests: ``test`` (a test script: asserts, ``check(candidate)`` or ``test_*`` functions),
  ``test_list`` (a list of asserts), ``assertion`` (asserts as text) -> one ``unit`` suite;
  ``test_setup_code`` and ``test_imports`` become its prelude;
- entry point: ``entry_point``, else the first function defined by the reference and called
  by the tests, else the first non-builtin function the tests call;
- reference: ``canonical_solution`` (completing ``prompt`` when it is only a body), ``code``.

evalplus's ``base_input`` (argument lists) cannot become a ``call`` suite: a call case needs
the expected return value, which evalplus does not ship (it computes it by running the
canonical solution). The inputs are kept in ``metadata.base_input`` for a later step that
runs the reference; ``plus_input`` (thousands of rows) is not kept.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator

from assay.data.importers.base import (
    Imported,
    ImportOptions,
    Row,
    Skipped,
    source_rows,
)
from assay.data.importers.humaneval import complete
from assay.data.records import Problem, Solution, TestSuite

_BUILTINS = frozenset(dir(builtins))


def import_mbpp(src: str | None, options: ImportOptions) -> Iterator[Imported | Skipped]:
    """MBPP / sanitized MBPP / evalplus (MBPP+, HumanEval+) JSONL or Parquet."""
    for row in source_rows(src):
        raw_id = row.data.get("task_id")
        if isinstance(raw_id, int) and not isinstance(raw_id, bool):
            task_id = f"Mbpp/{raw_id}"
        else:
            task_id = row.require("task_id", str)
        task_id = options.id_prefix + task_id
        prompt = row.first(("prompt", "text"), str)
        test = _tests(row)
        if test is None:
            yield row.skipped(
                "no tests (test, test_list or assertion); evalplus base_input alone has no "
                "expected outputs")
            continue
        prelude = "\n".join(part for part in (
            row.get("test_setup_code", str, ""),
            "\n".join(_strings(row, "test_imports"))) if part and part.strip())
        entry_point = row.get("entry_point", str)
        code = row.get("canonical_solution", str) or row.get("code", str)
        if entry_point is None:
            entry_point = derive_entry_point(test, code)
            if entry_point is None:
                raise row.error("missing, and no function called by the tests found",
                                "entry_point")
        reference = None if code is None else complete(prompt, code, entry_point)
        metadata: dict[str, object] = {"source": "evalplus" if row.has("base_input")
                                       else "mbpp"}
        for name in ("base_input", "atol", "source_file"):
            if row.has(name):
                metadata[name] = row.data[name]
        problem = row.build(
            Problem, id=task_id, language="python", prompt=prompt, entry_point=entry_point,
            tests=TestSuite(kind="unit", code=test, prelude=prelude), reference=reference,
            metadata=metadata)
        solutions = [] if reference is None else [row.build(
            Solution, id=f"{task_id}/canonical", problem_id=task_id, code=reference,
            language="python", origin={"kind": "canonical", "source": metadata["source"]})]
        yield Imported(problem, solutions)


def _tests(row: Row) -> str | None:
    if row.has("test"):
        return row.require("test", str)
    if row.has("test_list"):
        return "\n".join(_strings(row, "test_list")) + "\n"
    if row.has("assertion"):
        return row.require("assertion", str)
    return None


def _strings(row: Row, name: str) -> list[str]:
    values = row.get(name, list, [])
    assert values is not None
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise row.error(f"expected a list of strings; item {index} is {value!r}", name)
    return values


def derive_entry_point(test: str, code: str | None) -> str | None:
    """The function the tests call: one the reference defines if possible, else the first
    called name that is not a builtin. None when the tests do not parse or call nothing."""
    try:
        tree = ast.parse(test)
    except SyntaxError:
        return None
    # Names the tests define themselves (helpers, check(candidate)'s parameter) are not it.
    local = {node.name for node in ast.walk(tree)
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    local |= {node.arg for node in ast.walk(tree) if isinstance(node, ast.arg)}
    calls = sorted((node for node in ast.walk(tree)
                    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)),
                   key=lambda node: (node.lineno, node.col_offset))
    called = [node.func.id for node in calls
              if isinstance(node.func, ast.Name) and node.func.id not in local]
    if code:
        try:
            defined = {node.name for node in ast.parse(code).body
                       if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
        except SyntaxError:
            defined = set()
        for name in called:
            if name in defined:
                return name
    return next((name for name in called if name not in _BUILTINS), None)
