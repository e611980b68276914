from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from assay.data import InputError, SolutionReport, read_records, write_records
from assay.engine import RunStore
from assay.sandbox import Sandbox
from assay.verify import VerifyConfig, verify

TESTS = "def test_small():\n    assert f(1) == 2\n\ndef test_big():\n    assert f(10) == 11\n"


def problem(pid: str) -> dict[str, Any]:
    return {"id": pid, "language": "python", "tests": {"kind": "unit", "code": TESTS}}


def solution(sid: str, pid: str, body: str) -> dict[str, Any]:
    return {"id": sid, "problem_id": pid, "code": f"def f(x):\n    {body}\n"}


def write_inputs(tmp_path: Path, solutions: list[dict[str, Any]]) -> tuple[Path, Path]:
    problems_path, solutions_path = tmp_path / "problems.jsonl", tmp_path / "solutions.jsonl"
    write_records(problems_path, [problem("p1"), problem("p2")])
    write_records(solutions_path, solutions)
    return problems_path, solutions_path


MIXED = [solution("right", "p1", "return x + 1"),
         solution("half", "p2", "return 2 if x == 1 else 0"),
         solution("wrong", "p1", "return 0"), solution("right-again", "p2", "return 1 + x")]


def test_verify_writes_a_report_per_solution_in_input_order(tmp_path: Path,
                                                            sandbox: Sandbox) -> None:
    problems_path, solutions_path = write_inputs(tmp_path, MIXED)
    with RunStore(tmp_path / "store.sqlite") as store:
        summary = verify(problems_path, solutions_path, tmp_path / "out.jsonl", store, sandbox,
                         VerifyConfig(tau=0.5))
    reports = list(read_records(tmp_path / "out.jsonl", SolutionReport))
    assert [r.solution_id for r in reports] == ["right", "half", "wrong", "right-again"]
    assert [r.pass_fraction for r in reports] == [1.0, 0.5, 0.0, 1.0]
    assert [r.score for r in reports] == [100.0, 50.0, 0.0, 100.0]
    assert summary.solutions == 4 and summary.problems == 2
    assert summary.statuses == {"PASS": 5, "FAIL": 3}
    assert summary.retained == 3 and summary.fully_passing == 2
    assert summary.pass_at[1] == pytest.approx((0.5 + 0.5) / 2)


def test_a_second_run_takes_everything_from_the_store(tmp_path: Path, sandbox: Sandbox) -> None:
    problems_path, solutions_path = write_inputs(tmp_path, MIXED)
    seen: list[bool] = []
    with RunStore(tmp_path / "store.sqlite") as store:
        verify(problems_path, solutions_path, tmp_path / "a.jsonl", store, sandbox)
        verify(problems_path, solutions_path, tmp_path / "b.jsonl", store, sandbox,
               progress=lambda report, from_store: seen.append(from_store))
    assert seen == [True] * 4
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()


@pytest.mark.parametrize(("row", "field", "line"), [
    ({"id": "x", "problem_id": "p9", "code": "pass"}, "problem_id", 3),
    ({"id": "x", "problem_id": "p1"}, "code", 3),
    ({"id": "x", "problem_id": "p1", "code": "pass", "language": "cobol"}, "language", 3),
    ({"id": "right", "problem_id": "p1", "code": "pass"}, "id", 3),
])
def test_bad_input_stops_before_anything_runs(tmp_path: Path, sandbox: Sandbox,
                                              row: dict[str, Any], field: str,
                                              line: int) -> None:
    solutions = [MIXED[0], MIXED[1], row, MIXED[2]]
    problems_path, solutions_path = write_inputs(tmp_path, solutions)
    with RunStore(tmp_path / "store.sqlite") as store, pytest.raises(InputError) as error:
        verify(problems_path, solutions_path, tmp_path / "out.jsonl", store, sandbox)
    assert (error.value.path, error.value.line, error.value.field) == (str(solutions_path),
                                                                      line, field)
    with RunStore(tmp_path / "store.sqlite") as store:
        assert store.count() == 0  # nothing ran
    assert not (tmp_path / "out.jsonl").exists()


def _assay(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "assay.cli.main", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def _comparable(path: Path) -> list[Any]:
    """Reports without what differs between two honest runs: timings and resources."""
    rows = []
    for report in read_records(path, SolutionReport):
        data = report.model_dump(mode="json", exclude={"resources"})
        for outcome in data["outcomes"]:
            outcome.pop("time_s")
        rows.append(data)
    return rows


@pytest.mark.slow
def test_killed_verify_resumes_to_the_output_of_an_uninterrupted_run(tmp_path: Path) -> None:
    """Guards against a resume that loses, repeats or reorders reports after SIGKILL."""
    slow = [solution(f"s{i:02d}", f"p{1 + i % 2}",
                     f"import time; time.sleep(0.15); return x + {1 if i % 3 else 2}  # {i}")
            for i in range(24)]
    problems_path, solutions_path = write_inputs(tmp_path, slow)
    common = ["verify", "-p", str(problems_path), "-s", str(solutions_path), "--workers", "2",
              "--batch-size", "2"]
    killed_store = tmp_path / "killed.sqlite"
    process = _assay(*common, "-o", str(tmp_path / "resumed.jsonl"), "--store", str(killed_store))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if killed_store.exists() and RunStore(killed_store).count() >= 6:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    with RunStore(killed_store) as store:
        finished = store.count()
    assert 6 <= finished < 24, "the kill must land part-way"
    assert not (tmp_path / "resumed.jsonl").exists()

    resumed = _assay(*common, "-o", str(tmp_path / "resumed.jsonl"), "--store",
                     str(killed_store))
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read() if resumed.stderr else ""
    whole = _assay(*common, "-o", str(tmp_path / "whole.jsonl"), "--store",
                   str(tmp_path / "whole.sqlite"))
    assert whole.wait(timeout=300) == 0
    assert _comparable(tmp_path / "resumed.jsonl") == _comparable(tmp_path / "whole.jsonl")
    with RunStore(killed_store) as store:
        assert store.count() == 24  # nothing duplicated
    ids = [json.loads(line)["solution_id"] for line in
           (tmp_path / "resumed.jsonl").read_text().splitlines()]
    assert ids == [s["id"] for s in slow]


def test_batches_are_large_then_shrink_so_that_workers_finish_together() -> None:
    from assay.data import Problem, Solution
    from assay.verify.pipeline import batched, task_for

    unit = Problem.model_validate(problem("p1"))
    jobs = [(Solution(id=str(i), problem_id="p1", code="x = 1"),
             task_for(unit, Solution(id=str(i), problem_id="p1", code="x = 1"),
                      VerifyConfig()), str(i)) for i in range(300)]
    read = [0]

    def counted() -> Any:
        for job in jobs:
            read[0] += 1
            yield job

    sizes = [len(b) for b in batched(counted(), 64, lambda: len(jobs) - read[0], workers=2)]
    assert sum(sizes) == 300 and max(sizes) == 64
    assert sizes[0] == 64 and sizes[-1] < 16  # large while much is left, small at the end
    assert sizes == sorted(sizes, reverse=True)
    assert [len(b) for b in batched(iter(jobs), 64)] == [64, 64, 64, 64, 44]  # no countdown
