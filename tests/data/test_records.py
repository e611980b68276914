"""The record models: what they accept, what they refuse, and their JSON round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from assay.data import (
    Checker,
    Problem,
    Solution,
    SolutionReport,
    Status,
    TestCase,
    TestOutcome,
    TestSuite,
)
from assay.data.records import canonical_language

FIXTURES = Path(__file__).parent / "fixtures"


def problem_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"id": "p1", "language": "python",
                           "tests": {"kind": "unit", "code": "assert True\n"}}
    row.update(changes)
    return row


def test_minimal_problem_gets_defaults() -> None:
    problem = Problem.model_validate(problem_row())
    assert problem.prompt == "" and problem.entry_point is None and problem.reference is None
    assert problem.tests.checker == Checker(kind="tokens")
    assert problem.tests.timeout_s == 5.0 and problem.tests.origin.strategy == "human"
    assert problem.metadata == {}


@pytest.mark.parametrize(("alias", "name"), [("py", "python"), ("Python", "python"),
                                             ("c++", "cpp"), ("js", "javascript"),
                                             (" golang ", "go")])
def test_languages_are_stored_by_their_registered_name(alias: str, name: str) -> None:
    assert canonical_language(alias) == name
    assert Problem.model_validate(problem_row(language=alias)).language == name
    solution = Solution(id="s", problem_id="p", code="", language=alias)
    assert solution.language == name
    assert Checker(kind="custom", program="", language=alias).language == name


def test_unknown_language_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValidationError, match=r"unknown language 'cobol'.*python"):
        Problem.model_validate(problem_row(language="cobol"))
    with pytest.raises(ValidationError, match="unknown language"):
        Solution(id="s", problem_id="p", code="", language="cobol")
    assert Solution(id="s", problem_id="p", code="").language is None


def test_duplicate_case_names_are_refused() -> None:
    with pytest.raises(ValidationError, match="'a' appears twice"):
        TestSuite(kind="io", cases=[TestCase(name="a", input=""), TestCase(name="b"),
                                    TestCase(name="a")])


@pytest.mark.parametrize("change", [
    {"surprise": 1},                                        # unknown field
    {"tests": "assert True"},                               # a string, not a suite
    {"tests": {"kind": "doctest"}},                         # unknown suite kind
    {"tests": {"kind": "io", "timeout_s": 0}},              # time limit must be > 0
    {"tests": {"kind": "io", "checker": {"kind": "fuzzy"}}},
    {"tests": {"kind": "io", "cases": [{"input": "1"}]}},   # a case needs a name
    {"difficulty": "impossible"},
    {"metadata": ["not", "a", "dict"]},
    {"id": 7},
])
def test_invalid_problems_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Problem.model_validate(problem_row(**change))


def test_fixture_problems_of_every_suite_kind_validate() -> None:
    rows = [json.loads(line) for line in (FIXTURES / "native_problems.jsonl").open()]
    problems = [Problem.model_validate(row) for row in rows]
    assert [p.tests.kind for p in problems] == ["unit", "io", "call"]
    call = problems[2].tests
    assert call.cases[2].kwargs == {"xs": [1, 1, 4]} and call.checker.kind == "float"
    assert [p.language for p in problems] == ["python", "cpp", "javascript"]


def test_json_round_trip_keeps_every_value() -> None:
    problem = Problem(
        id="p", language="python", prompt="é ✓", entry_point="f",
        tests=TestSuite(kind="call", cases=[
            TestCase(name="a", args=[[1, 2], {"k": None}], expected={"x": [1.5, "s"]}),
            TestCase(name="b", args=[], kwargs={"n": 3}, expected=None)],
            checker=Checker(kind="float", abs_tol=1e-9), timeout_s=0.5),
        difficulty="hard", metadata={"nested": {"list": [1, {"deep": True}]}})
    text = json.dumps(problem.model_dump(mode="json"))
    assert Problem.model_validate(json.loads(text)) == problem


def test_report_completeness() -> None:
    outcome = TestOutcome(name="t", status=Status.PASS)
    report = SolutionReport(problem_id="p", solution_id="s", language="python", code="",
                            outcomes=[outcome], passed=1, total=1, pass_fraction=1.0,
                            score=100.0)
    assert report.complete
    assert not report.model_copy(update={"infra": 1}).complete
    assert not report.model_copy(update={"total": 0}).complete
    assert SolutionReport.model_validate(report.model_dump(mode="json")) == report
