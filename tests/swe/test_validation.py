"""FAIL_TO_PASS / PASS_TO_PASS / flaky from repeated reports, the SWE-bench rows, and the
prediction file reader: pure logic, on reports built by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.swe.evaluate import read_predictions
from assay.swe.export import read_task_row, task_row
from assay.swe.records import Task
from assay.swe.reports import Completeness, TestReport, TestResult, TestStatus
from assay.swe.validation import classify

P, F, E, S = TestStatus.PASSED, TestStatus.FAILED, TestStatus.ERROR, TestStatus.SKIPPED


def report(statuses: dict[str, TestStatus], flaky: tuple[str, ...] = ()) -> TestReport:
    return TestReport(format="t", completeness=Completeness.COMPLETE,
                      tests={k: TestResult(status=v) for k, v in statuses.items()},
                      flaky=list(flaky))


def test_lists_from_consistent_repeats() -> None:
    before = [report({"a": F, "b": P, "c": P, "d": F, "e": E, "s": S})] * 3
    after = [report({"a": P, "b": P, "c": F, "d": F, "e": P, "new": P, "s": S})] * 3
    found = classify(before, after)
    assert found.fail_to_pass == ["a", "e", "new"]  # failed, errored, absent before
    assert found.pass_to_pass == ["b"]
    assert found.pass_to_fail == ["c"]
    assert found.fail_to_fail == ["d"]
    assert found.flaky == {} and found.unstable == []


def test_a_test_that_changes_between_repeats_is_flaky_and_in_no_list() -> None:
    before = [report({"a": F, "f": P}), report({"a": F, "f": F}), report({"a": F, "f": P})]
    after = [report({"a": P, "f": P})] * 3
    found = classify(before, after)
    assert found.fail_to_pass == ["a"]
    assert found.pass_to_pass == []
    assert found.flaky == {"f": {"before": ["PASSED", "FAILED", "PASSED"],
                                 "after": ["PASSED"] * 3}}


def test_a_test_seen_passing_and_failing_within_one_run_is_flaky() -> None:
    before = [report({"a": F})] * 2
    after = [report({"a": P}, flaky=("a",)), report({"a": P})]
    assert classify(before, after).flaky == {"a": {"before": ["FAILED"] * 2,
                                                   "after": ["PASSED"] * 2}}


def test_a_name_missing_from_some_repeats_is_unstable() -> None:
    before = [report({"a": F})] * 2
    after = [report({"a": P, "t[0.31]": P}), report({"a": P, "t[0.77]": P})]
    found = classify(before, after)
    assert found.unstable == ["t[0.31]", "t[0.77]"]
    assert set(found.flaky) == {"t[0.31]", "t[0.77]"}
    assert found.fail_to_pass == ["a"]


def make_task() -> Task:
    return Task(id="o__p-1", repo="o/p", repo_path="/r", base_commit="a" * 40,
                fix_patch="diff --git a/x.py b/x.py\n", test_patch="diff --git a/t.py b/t.py\n",
                problem_statement="Fix x", source="commit", source_commit="b" * 40,
                language="python", ecosystem="python", environment_key="k1",
                fail_to_pass=["t.py::a"], pass_to_pass=["t.py::b"], repeats=3,
                flaky_tests={"t.py::f": {"before": ["PASSED"], "after": ["FAILED"]}})


def test_task_rows_have_swebench_fields_and_read_back() -> None:
    task = make_task()
    row = task_row(task)
    assert row["instance_id"] == "o__p-1" and row["patch"] == task.fix_patch
    assert json.loads(row["FAIL_TO_PASS"]) == ["t.py::a"]  # a JSON string, as in SWE-bench
    assert row["version"] == "k1" and row["environment_setup_commit"] == "a" * 40
    assert read_task_row(json.loads(json.dumps(row))) == task
    # Lists given as lists (as some SWE-bench copies have them) are read too.
    assert read_task_row({**row, "PASS_TO_PASS": ["t.py::b"]}).pass_to_pass == ["t.py::b"]


def test_malformed_task_rows_name_the_problem() -> None:
    row = task_row(make_task())
    with pytest.raises(ValueError, match="missing repo_path"):
        read_task_row({k: v for k, v in row.items() if k != "repo_path"})
    with pytest.raises(ValueError, match="FAIL_TO_PASS: not a JSON list"):
        read_task_row({**row, "FAIL_TO_PASS": "[oops"})


def test_predictions_are_read_from_jsonl_or_a_json_list(tmp_path: Path) -> None:
    rows = [{"instance_id": "a", "model_name_or_path": "m", "model_patch": "diff"},
            {"instance_id": "b", "model_name_or_path": "m", "model_patch": None}]
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    listed = tmp_path / "p.json"
    listed.write_text(json.dumps(rows))
    for path in (jsonl, listed):
        found = read_predictions(path)
        assert [(p.instance_id, p.model_patch) for p in found] == [("a", "diff"), ("b", None)]


def test_a_malformed_prediction_names_its_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"instance_id": "a", "model_patch": "x"}\n{"model_patch": "y"}\n')
    with pytest.raises(ValueError, match=r"p.jsonl:2: expected an object with an instance_id"):
        read_predictions(path)
    path.write_text('{"instance_id": "a", "model_patch": 3}\n')
    with pytest.raises(ValueError, match=r"p.jsonl:1: model_patch must be a string"):
        read_predictions(path)
    path.write_text("{nope\n")
    with pytest.raises(ValueError, match=r"p.jsonl:1: not JSON"):
        read_predictions(path)
