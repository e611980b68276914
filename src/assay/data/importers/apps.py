"""APPS: stdin/stdout problems, and function-call problems (those with ``fn_name``).

Each row: ``problem_id``, ``question``, ``input_output`` (JSON text: ``inputs``,
``outputs``, optional ``fn_name``), ``difficulty`` (introductory / interview / competition),
``solutions`` (JSON text: a list of Python 3 programs), ``starter_code``, ``url``.

- Without ``fn_name``: an ``io`` suite; each input / output is text (a list of lines is
  joined with newlines).
- With ``fn_name``: a ``call`` suite with entry point ``fn_name``; each input is the list of
  arguments. APPS wraps most expected return values in a one-element list and its own
  checker accepts either; assay unwraps a one-element list (``[5]`` -> ``5``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from assay.data.importers.base import (
    Imported,
    ImportOptions,
    Row,
    Skipped,
    allows_any_answer,
    case_name,
    cases_io,
    choose_checker,
    source_rows,
)
from assay.data.records import Difficulty, Problem, Solution, TestCase, TestSuite

DIFFICULTY: dict[str, Difficulty] = {"introductory": "easy", "interview": "medium",
                                     "competition": "hard"}


def import_apps(src: str | None, options: ImportOptions) -> Iterator[Imported | Skipped]:
    """APPS JSONL or Parquet (the Hugging Face ``codeparrot/apps`` files)."""
    for row in source_rows(src):
        raw_id = row.data.get("problem_id")
        if isinstance(raw_id, int) and not isinstance(raw_id, bool):
            problem_id = f"apps/{raw_id}"
        elif "problem_id" not in row.data and "description" in row.data:
            raise row.error("missing (required); this row looks like CodeContests: use the "
                            "codecontests format", "problem_id")
        else:
            problem_id = row.require("problem_id", str)
        problem_id = options.id_prefix + problem_id
        question = row.require("question", str)
        spec = row.json_field("input_output")
        if not spec:
            yield row.skipped("no tests (input_output is empty)")
            continue
        if not isinstance(spec, dict):
            raise row.error(f"expected an object with inputs and outputs, got {spec!r:.60}",
                            "input_output")
        inputs, outputs = spec.get("inputs"), spec.get("outputs")
        if not isinstance(inputs, list) or not isinstance(outputs, list):
            raise row.error("expected lists 'inputs' and 'outputs'", "input_output")
        if not inputs:
            yield row.skipped("no tests (input_output has no inputs)")
            continue
        fn_name = spec.get("fn_name")
        checker = choose_checker(question, options.checker)
        if fn_name:
            if not isinstance(fn_name, str):
                raise row.error(f"fn_name: expected a string, got {fn_name!r}", "input_output")
            tests = TestSuite(kind="call", cases=_call_cases(row, inputs, outputs),
                              checker=checker)
        else:
            tests = TestSuite(kind="io", cases=cases_io(row, inputs, outputs, "input_output"),
                              checker=checker)
        solutions_code = _solutions(row)
        raw_difficulty = row.get("difficulty", str)
        metadata: dict[str, Any] = {"source": "apps"}
        if raw_difficulty is not None:
            metadata["difficulty"] = raw_difficulty
        for name in ("url", "starter_code"):
            if row.has(name):
                metadata[name] = row.require(name, str)
        if allows_any_answer(question):
            metadata["multiple_answers"] = True
        language = options.language
        reference = solutions_code[0] if solutions_code and language == "python" else None
        problem = row.build(
            Problem, id=problem_id, language=language, prompt=question,
            entry_point=fn_name or None, tests=tests, reference=reference,
            difficulty=DIFFICULTY.get(raw_difficulty or ""), metadata=metadata)
        solutions = [row.build(Solution, id=f"{problem_id}/solution-{i:03d}",
                               problem_id=problem_id, code=code, language="python",
                               origin={"kind": "reference", "source": "apps", "index": i})
                     for i, code in enumerate(solutions_code)]
        yield Imported(problem, solutions)


def _call_cases(row: Row, inputs: list[Any], outputs: list[Any]) -> list[TestCase]:
    if len(inputs) != len(outputs):
        raise row.error(f"{len(inputs)} inputs but {len(outputs)} outputs", "input_output")
    cases = []
    for index, (args, expected) in enumerate(zip(inputs, outputs, strict=True)):
        if not isinstance(args, list):
            raise row.error(f"inputs[{index}]: expected a list of arguments, got "
                            f"{args!r:.60}", "input_output")
        if isinstance(expected, list) and len(expected) == 1:
            expected = expected[0]
        cases.append(TestCase(name=case_name(index), args=args, expected=expected))
    return cases


def _solutions(row: Row) -> list[str]:
    value = row.json_field("solutions")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise row.error("expected a list of programs (as JSON text)", "solutions")
    return value
