"""``assay verify / select / passk / agree / regrade / demo`` run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assay.data import write_records

from .test_cli import assay

TESTS = "def test_one():\n    assert f(1) == 2\n\ndef test_two():\n    assert f(2) == 3\n"


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    problems = [{"id": f"p{i}", "language": "python", "difficulty": level,
                 "tests": {"kind": "unit", "code": TESTS}}
                for i, level in enumerate(["easy", "hard"])]
    bodies = {"ok": "return x + 1", "ok2": "return (x + 1)  # same idea", "half": "return 2",
              "bad": "return 0"}
    solutions = [{"id": f"{p['id']}/{name}", "problem_id": p["id"],
                  "code": f"def f(x):\n    {body}\n"}
                 for p in problems for name, body in bodies.items()]
    write_records(tmp_path / "problems.jsonl", problems)
    write_records(tmp_path / "solutions.jsonl", solutions)
    return tmp_path / "problems.jsonl", tmp_path / "solutions.jsonl"


def verify_json(tmp_path: Path, inputs: tuple[Path, Path], *extra: str) -> dict[str, Any]:
    done = assay("verify", "-p", str(inputs[0]), "-s", str(inputs[1]), "-o",
                 str(tmp_path / "reports.jsonl"), "--json", *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_verify_summary_and_reports(tmp_path: Path, inputs: tuple[Path, Path]) -> None:
    summary = verify_json(tmp_path, inputs, "--tau", "0.5")
    assert summary["solutions"] == 8 and summary["problems"] == 2
    assert summary["statuses"] == {"PASS": 10, "FAIL": 6}
    assert summary["retained"] == 6 and summary["fully_passing"] == 4
    assert summary["pass_at"]["1"] == pytest.approx(0.5)
    rows = [json.loads(line) for line in (tmp_path / "reports.jsonl").read_text().splitlines()]
    assert [r["pass_fraction"] for r in rows[:4]] == [1.0, 1.0, 0.5, 0.0]
    assert (tmp_path / "reports.jsonl.store.sqlite").exists()


def test_verify_table_output(tmp_path: Path, inputs: tuple[Path, Path]) -> None:
    done = assay("verify", "-p", str(inputs[0]), "-s", str(inputs[1]), "-o",
                 str(tmp_path / "r.jsonl"))
    assert done.returncode == 0, done.stderr
    assert "Verification summary" in done.stdout and "Tau sweep" in done.stdout
    assert "pass@1" in done.stdout


def test_verify_bad_input_names_file_line_and_field(tmp_path: Path,
                                                    inputs: tuple[Path, Path]) -> None:
    with inputs[1].open("a") as handle:
        handle.write('{"id": "x", "problem_id": "p0", "code": 42}\n')
    done = assay("verify", "-p", str(inputs[0]), "-s", str(inputs[1]), "-o",
                 str(tmp_path / "r.jsonl"))
    assert done.returncode == 2
    assert f"{inputs[1]}:9" in done.stderr and "code" in done.stderr
    assert not (tmp_path / "r.jsonl").exists()


def test_select_passk_agree_regrade(tmp_path: Path, inputs: tuple[Path, Path]) -> None:
    verify_json(tmp_path, inputs)
    reports = str(tmp_path / "reports.jsonl")

    done = assay("select", reports, "-o", str(tmp_path / "sel.jsonl"), "--tau", "1.0",
                 "--per-problem", "2", "--json")
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    # ok and ok2 differ only by a comment: one of them is a duplicate.
    assert counts["kept"] == 2 and counts["duplicates"] == 2 and counts["below_tau"] == 4

    done = assay("select", reports, "-o", str(tmp_path / "mix.jsonl"), "--tau", "0.5",
                 "--mix", "easy=0.5,hard=0.5", "--size", "4", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kept"] == 4

    done = assay("passk", reports, "--k", "1,2", "--json")
    assert done.returncode == 0, done.stderr
    passk = json.loads(done.stdout)["pass_at"]
    assert passk["1"] == pytest.approx(0.5) and passk["2"] == pytest.approx(1 - 1 / 6)

    judge = tmp_path / "judge.jsonl"
    write_records(judge, [{"solution_id": f"p{i}/{name}", "verdict": verdict}
                          for i in range(2) for name, verdict in
                          [("ok", "pass"), ("ok2", "pass"), ("half", "pass"), ("bad", "fail")]])
    done = assay("agree", reports, str(judge), "--json")
    assert done.returncode == 0, done.stderr
    agree = json.loads(done.stdout)
    assert (agree["both_pass"], agree["b_only"], agree["both_fail"]) == (4, 2, 2)
    assert agree["kappa"] == pytest.approx(0.5)

    done = assay("regrade", str(tmp_path / "reports.jsonl.store.sqlite"), "--json", "-o",
                 str(tmp_path / "regraded.jsonl"), "--tau", "0.5")
    assert done.returncode == 0, done.stderr
    regraded = json.loads(done.stdout)
    # Both problems have the same tests, so the store holds the 4 distinct programs once.
    assert regraded["solutions"] == 4 and regraded["retained"] == 3
    assert regraded["statuses"] == {"PASS": 5, "FAIL": 3}


def test_select_bad_mix_is_a_usage_error(tmp_path: Path, inputs: tuple[Path, Path]) -> None:
    verify_json(tmp_path, inputs)
    done = assay("select", str(tmp_path / "reports.jsonl"), "-o", str(tmp_path / "x.jsonl"),
                 "--mix", "easy=0.5", "--size", "3")
    assert done.returncode == 2 and "sum to 1" in done.stderr


def test_help_shows_examples() -> None:
    for command in ("verify", "select", "passk", "agree", "regrade", "demo"):
        done = assay(command, "--help")
        assert done.returncode == 0 and "Examples" in done.stdout, command


@pytest.mark.slow
def test_demo_verifies_humaneval(tmp_path: Path) -> None:
    """The main job: every canonical solution passes; blatant variants are all caught."""
    done = assay("demo", "--out", str(tmp_path / "out"), "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["canonical"] == {"total": 164, "all_tests_pass": 164}
    for kind in ("wrong_return", "exception", "infinite_loop"):
        assert result["variants"][kind]["caught"] == result["variants"][kind]["made"] > 0
    assert result["variants"]["off_by_one"]["caught"] > 100
    assert "INFRA" not in result["summary"]["statuses"]
    verified = (tmp_path / "out" / "verified.jsonl").read_text().splitlines()
    assert len(verified) == 164
