"""CodeContests (DeepMind): stdin/stdout problems from Codeforces, AtCoder, CodeChef...

Each row: ``name``, ``description``, ``public_tests`` / ``private_tests`` /
``generated_tests`` (each ``{"input": [...], "output": [...]}``), ``difficulty`` (an enum
number), ``cf_rating``, ``solutions`` and ``incorrect_solutions`` (each
``{"language": [...], "solution": [...]}``, language 1 = Python 2, 2 = C++, 3 = Python 3,
4 = Java), ``time_limit`` (``{"seconds", "nanos"}``), ``memory_limit_bytes``,
``input_file`` / ``output_file``, ``source``.

The tests of the chosen groups (public, then private, then generated) become one ``io``
suite named ``case-000``...; ``metadata.test_groups`` says how many came from each group.
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
    cases_io,
    choose_checker,
    source_rows,
)
from assay.data.records import Difficulty, Problem, Solution, TestSuite

# CodeContests' solution language enum; Python 2 (1) is left out: assay runs Python 3.
LANGUAGES = {2: "cpp", 3: "python", 4: "java"}
# Its difficulty enum: 1-5 are EASY..HARDEST, 6 EXTERNAL, 7 onwards problem letters A, B, C...
_ENUM_DIFFICULTY: dict[int, Difficulty] = {1: "easy", 2: "medium", 3: "hard", 4: "hard",
                                           5: "hard", 7: "easy", 8: "easy", 9: "medium",
                                           10: "medium"}
SOURCES = {1: "codechef", 2: "codeforces", 3: "hackerearth", 4: "codejam", 5: "atcoder",
           6: "aizu"}


def difficulty_of(rating: int | None, enum: int | None) -> Difficulty | None:
    """Codeforces rating when known (< 1400 easy, < 2000 medium, else hard), else the
    difficulty enum (EASY, A, B easy; MEDIUM, C, D medium; HARD and above, E onwards hard)."""
    if rating:
        return "easy" if rating < 1400 else "medium" if rating < 2000 else "hard"
    if enum is None:
        return None
    if enum >= 11:
        return "hard"
    return _ENUM_DIFFICULTY.get(enum)


def import_codecontests(src: str | None, options: ImportOptions
                        ) -> Iterator[Imported | Skipped]:
    """CodeContests JSONL or Parquet (the Hugging Face ``deepmind/code_contests`` files)."""
    for row in source_rows(src):
        if "name" not in row.data and "question" in row.data:
            raise row.error("missing (required); this row looks like APPS: use the apps "
                            "format", "name")
        problem_id = options.id_prefix + row.require("name", str)
        description = row.require("description", str)
        for name in ("input_file", "output_file"):
            if row.has(name):
                yield row.skipped(f"reads or writes a file ({name} "
                                  f"{row.data[name]!r}), not stdin/stdout")
                break
        else:
            imported = _problem(row, problem_id, description, options)
            if isinstance(imported, str):
                yield row.skipped(imported)
            else:
                yield imported


def _problem(row: Row, problem_id: str, description: str, options: ImportOptions
             ) -> Imported | str:
    inputs: list[Any] = []
    outputs: list[Any] = []
    counts: dict[str, int] = {}
    for group in options.test_groups:
        group_tests = row.get(f"{group}_tests", dict, {})
        assert group_tests is not None
        group_inputs = group_tests.get("input") or []
        group_outputs = group_tests.get("output") or []
        if not isinstance(group_inputs, list) or not isinstance(group_outputs, list):
            raise row.error("expected lists 'input' and 'output'", f"{group}_tests")
        if len(group_inputs) != len(group_outputs):
            raise row.error(f"{len(group_inputs)} inputs but {len(group_outputs)} outputs",
                            f"{group}_tests")
        counts[group] = len(group_inputs)
        inputs += group_inputs
        outputs += group_outputs
    if not inputs:
        return f"no tests in {', '.join(options.test_groups)}"
    cases = cases_io(row, inputs, outputs, "tests")
    time_limit = _seconds(row)
    metadata: dict[str, Any] = {"source": "codecontests", "test_groups": counts}
    if time_limit:
        metadata["time_limit_s"] = time_limit
    for name in ("memory_limit_bytes", "cf_rating", "cf_contest_id", "cf_index", "cf_tags"):
        if row.data.get(name):  # 0 and "" mean unknown
            metadata[name] = row.data[name]
    enum = row.get("difficulty", int)
    if enum is not None:
        metadata["difficulty"] = enum
    source = row.get("source", int)
    if source is not None:
        metadata["platform"] = SOURCES.get(source, str(source))
    if allows_any_answer(description):
        metadata["multiple_answers"] = True
    correct = _solutions(row, "solutions")
    reference = next((code for language, code, _ in correct if language == options.language),
                     None)
    tests = TestSuite(kind="io", cases=cases, checker=choose_checker(description,
                                                                     options.checker),
                      **({"timeout_s": time_limit} if time_limit else {}))
    problem = row.build(
        Problem, id=problem_id, language=options.language, prompt=description,
        tests=tests, reference=reference,
        difficulty=difficulty_of(row.get("cf_rating", int), enum), metadata=metadata)
    solutions = [row.build(Solution, id=f"{problem_id}/solution-{index:03d}",
                           problem_id=problem_id, code=code, language=language,
                           origin={"kind": "reference", "source": "codecontests",
                                   "index": index})
                 for language, code, index in correct]
    if options.incorrect:
        solutions += [row.build(Solution, id=f"{problem_id}/incorrect-{index:03d}",
                                problem_id=problem_id, code=code, language=language,
                                origin={"kind": "incorrect", "source": "codecontests",
                                        "index": index})
                      for language, code, index in _solutions(row, "incorrect_solutions")]
    return Imported(problem, solutions)


def _seconds(row: Row) -> float | None:
    limit = row.get("time_limit", dict)
    if not limit:
        return None
    seconds, nanos = limit.get("seconds") or 0, limit.get("nanos") or 0
    if not isinstance(seconds, int | float) or not isinstance(nanos, int | float):
        raise row.error(f"expected seconds and nanos, got {limit!r:.60}", "time_limit")
    total = seconds + nanos / 1e9
    return total if total > 0 else None


def _solutions(row: Row, name: str) -> list[tuple[str, str, int]]:
    """(assay language, code, index in the source) of each solution in a language assay
    runs."""
    value = row.get(name, dict, {})
    assert value is not None
    languages, codes = value.get("language") or [], value.get("solution") or []
    if not isinstance(languages, list) or not isinstance(codes, list) \
            or len(languages) != len(codes):
        raise row.error("expected lists 'language' and 'solution' of the same length", name)
    found = []
    for index, (language, code) in enumerate(zip(languages, codes, strict=True)):
        if language in LANGUAGES and isinstance(code, str):
            found.append((LANGUAGES[language], code, index))
    return found
