"""``assay swe build`` and ``assay swe eval`` on a real Python history: outputs, summaries,
exit codes, and a patch that prints PASSED lines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assay.cli.main import app

from .build_history import PROJECTS, build_task_history, explicit_rows, write_rows
from .conftest import GitRepoBuilder


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


@dataclass
class Run:
    root: Path
    tasks: Path
    envs: Path
    summary: dict[str, Any]
    exit_code: int


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("swe-cli")
    repo = GitRepoBuilder(root / "repo")
    commits = build_task_history(repo, PROJECTS["python"])
    mined, explicit = root / "mined.jsonl", root / "explicit.jsonl"
    assert invoke("swe", "mine", str(repo.path), "-o", str(mined)).exit_code == 0
    rows = write_rows(root / "rows.jsonl", explicit_rows(repo, commits, PROJECTS["python"]))
    assert invoke("swe", "mine", str(repo.path), "--from", str(rows), "-o",
                  str(explicit)).exit_code == 0
    candidates = root / "candidates.jsonl"
    candidates.write_text(mined.read_text() + explicit.read_text())
    tasks, envs = root / "tasks.jsonl", root / "envs"
    result = invoke("swe", "build", str(candidates), "-o", str(tasks), "--repeats", "6",
                    "--env-dir", str(envs), "--json")
    return Run(root, tasks, envs, json.loads(result.stdout), result.exit_code)


def test_build_writes_tasks_rejections_and_a_summary(run: Run) -> None:
    assert run.exit_code == 0
    assert run.summary["candidates"] == 5 and run.summary["accepted"] == 2
    assert run.summary["rejected_by_reason"] == {"pass_to_fail": 1, "patch_does_not_apply": 1,
                                                 "duplicate": 1}
    assert run.summary["flaky_tests"] == 1
    tasks = [json.loads(line) for line in run.tasks.read_text().splitlines()]
    assert [json.loads(t["FAIL_TO_PASS"]) for t in tasks] == [
        ["tests/test_calc.py::test_add"],
        ["tests/test_calc.py::test_mul", "tests/test_calc.py::test_rem"]]
    rejected = [json.loads(line) for line in
                (run.root / "tasks.rejected.jsonl").read_text().splitlines()]
    assert sorted(r["reasons"][0] for r in rejected) == ["duplicate", "pass_to_fail",
                                                         "patch_does_not_apply"]
    assert (run.root / "tasks.logs").is_dir()


def test_a_second_build_comes_from_the_store(run: Run) -> None:
    again = invoke("swe", "build", str(run.root / "candidates.jsonl"), "-o", str(run.tasks),
                   "--repeats", "6", "--env-dir", str(run.envs), "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["from_store"] == 5


def test_eval_gold_resolves_every_task(run: Run) -> None:
    out = run.root / "eval"
    result = invoke("swe", "eval", "--tasks", str(run.tasks), "--predictions", "gold", "-o",
                    str(out), "--env-dir", str(run.envs), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["resolved_instances"] == 2 and summary["error_instances"] == 0
    assert (out / "gold.summary.json").is_file()


PRINTS_PASSED = """--- a/calc.py
+++ b/calc.py
@@ -1,2 +1,5 @@
+print("tests/test_calc.py::test_add PASSED")
+print("===== 1 passed in 0.01s =====")
+
 def add(a, b):
     return a - b
"""


def test_printed_passes_and_unapplicable_patches_resolve_nothing(run: Run) -> None:
    first = json.loads(run.tasks.read_text().splitlines()[0])["instance_id"]
    predictions = run.root / "preds.jsonl"
    predictions.write_text(
        json.dumps({"instance_id": first, "model_name_or_path": "org/m",
                    "model_patch": PRINTS_PASSED}) + "\n")
    out = run.root / "eval-m"
    result = invoke("swe", "eval", "--tasks", str(run.tasks), "--predictions",
                    str(predictions), "-o", str(out), "--env-dir", str(run.envs), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["resolved_instances"] == 0
    report = json.loads((out / "org__m" / first / "report.json").read_text())[first]
    assert report["patch_successfully_applied"] and not report["resolved"]
    predictions.write_text(json.dumps({"instance_id": first, "model_patch":
                                       PRINTS_PASSED.replace("calc.py", "nowhere.py")}))
    result = invoke("swe", "eval", "--tasks", str(run.tasks), "--predictions",
                    str(predictions), "-o", str(out), "--env-dir", str(run.envs), "--json")
    assert result.exit_code == 1  # a prediction that could not be evaluated
    assert json.loads(result.stdout)["error_instances"] == 1


def test_bad_input_is_a_usage_error_naming_the_file(run: Run) -> None:
    predictions = run.root / "bad.jsonl"
    predictions.write_text('{"instance_id": "nope", "model_patch": ""}\n{"x": 1}\n')
    result = invoke("swe", "eval", "--tasks", str(run.tasks), "--predictions",
                    str(predictions), "-o", str(run.root / "e"))
    assert result.exit_code == 2
    assert "bad.jsonl:2" in result.output
    predictions.write_text('{"instance_id": "nope", "model_patch": ""}\n')
    result = invoke("swe", "eval", "--tasks", str(run.tasks), "--predictions",
                    str(predictions), "-o", str(run.root / "e"))
    assert result.exit_code == 2 and "unknown instances: nope" in result.output
    result = invoke("swe", "eval", "--tasks", str(run.root / "candidates.jsonl"),
                    "--predictions", "gold", "-o", str(run.root / "e"))
    assert result.exit_code == 2 and "candidates.jsonl:1" in result.output


def test_help_shows_examples() -> None:
    for command in ("build", "eval"):
        result = invoke("swe", command, "--help")
        assert result.exit_code == 0 and "Examples" in result.output
