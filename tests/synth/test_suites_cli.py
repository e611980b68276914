"""``assay suites`` run as a user runs it: JSON output, records, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assay.data import write_records

from .test_strength import REFERENCE, STRONG, WEAK, unit_tests


def assay(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assay.cli.main", *args], capture_output=True,
                          text=True, timeout=300, check=False, env=dict(os.environ))


def problem(pid: str, cases: list[tuple[tuple[int, int], int]], strategy: str,
            reference: str | None = REFERENCE) -> dict[str, Any]:
    return {"id": pid, "language": "python", "entry_point": "f", "reference": reference,
            "tests": {"kind": "unit", "code": unit_tests(cases),
                      "origin": {"strategy": strategy}}}


@pytest.fixture
def problems(tmp_path: Path) -> Path:
    path = tmp_path / "problems.jsonl"
    write_records(path, [problem("weak", WEAK, "minimal"),
                         problem("strong", STRONG, "structured"),
                         problem("none", STRONG, "structured", reference=None)])
    return path


def test_suites_json_per_problem_and_per_strategy(tmp_path: Path, problems: Path) -> None:
    out = tmp_path / "suites.jsonl"
    done = assay("suites", "-p", str(problems), "-o", str(out), "--mutants", "12", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["skipped"] == ["none"]
    by_id = {row["problem_id"]: row for row in data["problems"]}
    assert set(by_id) == {"weak", "strong"}
    assert by_id["strong"]["mutation_score"] == 1.0 and by_id["strong"]["mutants"] == 12
    assert by_id["weak"]["mutation_score"] < 1.0 and by_id["weak"]["survivors"]
    summary = data["summary"]
    assert set(summary) == {"minimal", "structured", "all"}
    assert summary["structured"]["valid_fraction"] == 1.0
    assert summary["structured"]["mean_size"] == 3 and summary["minimal"]["mean_size"] == 1
    assert summary["all"]["mutants"] == 24
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["problem_id"] for r in rows] == ["weak", "strong"]
    assert (tmp_path / "suites.jsonl.store.sqlite").exists()


def test_suites_table_and_references_file_and_an_invalid_suite(tmp_path: Path,
                                                               problems: Path) -> None:
    references = tmp_path / "refs.jsonl"
    wrong = REFERENCE.replace("x * 2", "x * 3")  # fails the strong suite's (3, 3) and (1, 4)
    write_records(references, [{"id": "r1", "problem_id": "strong", "code": wrong},
                               {"id": "r2", "problem_id": "strong", "code": REFERENCE}])
    done = assay("suites", "-p", str(problems), "-r", str(references), "--mutants", "5",
                 "-o", str(tmp_path / "s.jsonl"))
    assert done.returncode == 1, done.stderr  # the strong suite fails its (first) reference
    assert "Suite strength per strategy" in done.stdout and "test_1" in done.stdout
    assert "skipped 2 problems without a reference" in done.stderr


def test_suites_usage_errors_exit_2(tmp_path: Path, problems: Path) -> None:
    assert assay("suites").returncode == 2
    assert assay("suites", "-p", str(problems), "--humaneval").returncode == 2
    assert assay("suites", "--humaneval", "-r", str(problems)).returncode == 2
    nothing = tmp_path / "none.jsonl"
    write_records(nothing, [problem("none", STRONG, "minimal", reference=None)])
    done = assay("suites", "-p", str(nothing))
    assert done.returncode == 2 and "no problem has a reference" in done.stderr
    assert "assay suites --humaneval" in assay("suites", "--help").stdout
