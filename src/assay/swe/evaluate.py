"""Evaluate model patches against tasks, the way SWE-bench grades them, without Docker.

For each prediction (``instance_id``, ``model_name_or_path``, ``model_patch``):

1. the task's base is written out and the model patch applied (``git apply``, then once
   more with less context, as SWE-bench retries with a fuzzier patch tool);
2. every file the model patch touched that is a test file (by the task's test-file rules,
   or one the test patch touches) is put back as it was at the base, and the test patch is
   applied on top: a patch cannot pass by editing the tests, adding a ``conftest.py`` or
   deleting a failing test;
3. the tests run in the task's environment (set up from the gold state if it is not
   cached), with no network; the report is fresh and outside the tree, so printed "PASSED"
   lines and files left in the tree count for nothing, and a report that disagrees with
   the runner's exit code resolves nothing;
4. SWE-bench's rule: a FAIL_TO_PASS or PASS_TO_PASS test succeeds when it passed (in every
   repeat); absent, failed or errored is a failure. Resolved = every FAIL_TO_PASS and every
   PASS_TO_PASS test succeeded.

Each instance gets ``<out>/<model>/<instance_id>/report.json`` with SWE-bench's fields
(``patch_is_None``, ``patch_exists``, ``patch_successfully_applied``, ``resolved``,
``tests_status``), its logs and the patch; the run gets a summary in SWE-bench's form.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.engine.run_store import RunStore, content_key
from assay.sandbox import Sandbox, Verdict
from assay.swe.build import save_run, task_dir
from assay.swe.env import Environments, get_ecosystem
from assay.swe.git import GitRepo
from assay.swe.patches import (
    ApplyResult,
    PatchError,
    apply_to_dir,
    behind_symlink,
    materialize,
    touched_files,
)
from assay.swe.records import Task
from assay.swe.reports import TestStatus
from assay.swe.runs import TEST_LIMITS, TestRun, run_tests
from assay.swe.testfiles import TestFileRules

EVAL_KIND = "swe-eval"
GOLD = "gold"


@dataclass(frozen=True)
class Prediction:
    """A model's patch for one task (SWE-bench's prediction format)."""

    instance_id: str
    model_name_or_path: str
    model_patch: str | None


def gold_predictions(tasks: Sequence[Task]) -> list[Prediction]:
    """The tasks' own fixes, as predictions of the model ``gold``."""
    return [Prediction(t.id, GOLD, t.fix_patch) for t in tasks]


def read_predictions(path: Path) -> list[Prediction]:
    """Predictions from JSONL (one object per line) or a JSON list; ValueError naming the
    file and line of a malformed one."""
    text = path.read_text(encoding="utf-8")
    rows: list[tuple[int, Any]]
    if text.lstrip().startswith("["):
        try:
            rows = list(enumerate(json.loads(text), start=1))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not JSON ({exc})") from None
    else:
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    rows.append((number, json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
    predictions = []
    for number, row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("instance_id"), str):
            raise ValueError(f"{path}:{number}: expected an object with an instance_id")
        patch = row.get("model_patch")
        if patch is not None and not isinstance(patch, str):
            raise ValueError(f"{path}:{number}: model_patch must be a string or null")
        predictions.append(Prediction(row["instance_id"],
                                      str(row.get("model_name_or_path") or "model"), patch))
    return predictions


@dataclass
class EvalResult:
    """One instance's evaluation: SWE-bench's report fields plus assay's."""

    instance_id: str
    model: str
    patch_is_none: bool
    patch_exists: bool
    applied: bool
    resolved: bool
    tests_status: dict[str, dict[str, list[str]]]
    error: str | None = None
    tampered_tests: tuple[str, ...] = ()
    seconds: float = 0.0

    def report(self) -> dict[str, Any]:
        """``report.json``: ``{instance_id: {...}}`` as SWE-bench writes it."""
        return {self.instance_id: {
            "patch_is_None": self.patch_is_none, "patch_exists": self.patch_exists,
            "patch_successfully_applied": self.applied, "resolved": self.resolved,
            "tests_status": self.tests_status,
            "assay": {"error": self.error, "test_files_restored": list(self.tampered_tests),
                      "seconds": round(self.seconds, 3)}}}

    def as_json(self) -> dict[str, Any]:
        return {"instance_id": self.instance_id, "model": self.model,
                "patch_is_none": self.patch_is_none, "patch_exists": self.patch_exists,
                "applied": self.applied, "resolved": self.resolved,
                "tests_status": self.tests_status, "error": self.error,
                "tampered_tests": list(self.tampered_tests), "seconds": self.seconds}


Progress = Callable[[EvalResult, bool], None]


class Evaluator:
    """Evaluates predictions against tasks (see the module docstring)."""

    def __init__(self, sandbox: Sandbox, environments: Environments, out_dir: Path,
                 store: RunStore | None = None, repeats: int = 1,
                 rules: TestFileRules | None = None) -> None:
        if repeats < 1:
            raise ValueError(f"repeats must be at least 1, got {repeats}")
        self.sandbox = sandbox
        self.environments = environments
        self.out_dir = out_dir
        self.store = store
        self.repeats = repeats
        self.rules = rules or TestFileRules.for_ecosystems()

    def evaluate(self, tasks: Sequence[Task], predictions: Sequence[Prediction],
                 progress: Progress | None = None) -> list[EvalResult]:
        """Evaluate every prediction whose task is known (ValueError names unknown ids)."""
        by_id = {t.id: t for t in tasks}
        unknown = [p.instance_id for p in predictions if p.instance_id not in by_id]
        if unknown:
            raise ValueError(f"predictions for unknown instances: {', '.join(unknown[:10])}")
        results = []
        for prediction in predictions:
            result, from_store = self.one(by_id[prediction.instance_id], prediction)
            results.append(result)
            if progress is not None:
                progress(result, from_store)
        return results

    def one(self, task: Task, prediction: Prediction) -> tuple[EvalResult, bool]:
        key = content_key(EVAL_KIND, task.model_dump(mode="json"), prediction.model_patch,
                          self.repeats, list(self.rules.patterns))
        stored = self.store.get(key) if self.store is not None else None
        if stored is not None:
            result = EvalResult(**{**stored, "tampered_tests": tuple(stored["tampered_tests"]),
                                   "model": prediction.model_name_or_path})
            self._write(task, prediction, result, [])
            return result, True
        started = time.monotonic()
        result, runs = self._evaluate(task, prediction)
        result.seconds = time.monotonic() - started
        if self.store is not None and not (result.error or "").startswith("sandbox"):
            self.store.put(key, EVAL_KIND, result.as_json())
        self._write(task, prediction, result, runs)
        return result, False

    def _evaluate(self, task: Task, prediction: Prediction) -> tuple[EvalResult, list[TestRun]]:
        patch = prediction.model_patch
        result = EvalResult(task.id, prediction.model_name_or_path, patch is None,
                            bool(patch and patch.strip()), False, False,
                            _grade(task, None))
        if not result.patch_exists or patch is None:
            return result, []
        repo = GitRepo.open(task.repo_path)
        with tempfile.TemporaryDirectory(prefix="assay-eval-") as tmp:
            tree = Path(tmp) / "tree"
            applied, restored = _apply_prediction(repo, task, patch, tree, self.rules)
            result.tampered_tests = tuple(restored)
            if not applied.applies:
                result.error = f"patch does not apply: {applied.message[-500:]}"
                return result, []
            result.applied = True
            ecosystem = get_ecosystem(task.ecosystem)
            gold = Path(tmp) / "gold"
            materialize(repo, task.base_commit, gold, [task.test_patch, task.fix_patch])
            environment = self.environments.ensure(ecosystem, gold)
            if not environment.ready:
                result.error = f"environment setup failed: {environment.log[-500:]}"
                return result, []
            runs = [run_tests(self.sandbox, ecosystem, environment, tree, TEST_LIMITS)
                    for _ in range(self.repeats)]
        broken = [r for r in runs if r.verdict is Verdict.SANDBOX_ERROR]
        if broken:
            result.error = f"sandbox error: {broken[0].error}"
            return result, runs
        disagree = [r.disagreement for r in runs if r.disagreement is not None]
        result.tests_status = _grade(task, None if disagree else runs)
        if disagree:
            result.error = f"report and exit code disagree: {disagree[0].detail}"
        result.resolved = not disagree and all(
            not result.tests_status[k]["failure"] for k in ("FAIL_TO_PASS", "PASS_TO_PASS"))
        return result, runs

    def _write(self, task: Task, prediction: Prediction, result: EvalResult,
               runs: list[TestRun]) -> None:
        directory = task_dir(self.out_dir / _safe_model(prediction.model_name_or_path),
                             task.id)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "report.json").write_text(json.dumps(result.report(), indent=2))
        (directory / "patch.diff").write_text(prediction.model_patch or "")
        for number, run in enumerate(runs, start=1):
            (directory / f"test-{number}.log").write_text(run.log)
            save_run(directory / f"test-{number}", run)


def _apply_prediction(repo: GitRepo, task: Task, patch: str, tree: Path,
                      rules: TestFileRules) -> tuple[ApplyResult, list[str]]:
    """Base + model patch, with test files put back, + test patch. Returns what applied and
    the test files the model patch had touched (restored)."""
    materialize(repo, task.base_commit, tree)
    applied = apply_to_dir(tree, patch)
    if not applied.applies:
        applied = apply_to_dir(tree, patch, options=["-C1", "--ignore-whitespace"])
        if not applied.applies:
            return applied, []
    try:
        touched = touched_files(patch)
        protected = set(touched_files(task.test_patch))
    except PatchError as exc:
        return ApplyResult(False, 0, str(exc)), []
    restored = [p for p in touched if p in protected or rules.is_test_path(p)]
    for path in restored:
        if behind_symlink(tree, path):
            # Restoring would write through the link, outside the tree.
            return ApplyResult(False, 0, f"the patch puts a symlink on the way to {path}"
                               ), restored
        _restore(repo, task.base_commit, tree, path)
    return apply_to_dir(tree, task.test_patch), restored


def _restore(repo: GitRepo, base: str, tree: Path, path: str) -> None:
    """Put ``path`` back as it is at ``base`` (remove it when the base has none)."""
    target = tree / path
    if target.is_symlink() or target.is_file():
        target.unlink()
    found = repo.run("cat-file", "-e", f"{base}:{path}", check=False)
    if found.returncode == 0:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(repo.run("cat-file", "blob", f"{base}:{path}").stdout)


def _grade(task: Task, runs: list[TestRun] | None) -> dict[str, dict[str, list[str]]]:
    """SWE-bench's tests_status: a test succeeds when it passed in every run."""
    passed: set[str] | None = None
    for run in runs or []:
        ids = set(run.report.ids(TestStatus.PASSED))
        passed = ids if passed is None else passed & ids
    passed = passed or set()
    status: dict[str, dict[str, list[str]]] = {}
    for name, tests in (("FAIL_TO_PASS", task.fail_to_pass), ("PASS_TO_PASS", task.pass_to_pass),
                        ("FAIL_TO_FAIL", task.fail_to_fail), ("PASS_TO_FAIL", [])):
        status[name] = {"success": [t for t in tests if t in passed],
                        "failure": [t for t in tests if t not in passed]}
    return status


def summarize(results: Sequence[EvalResult], total: int) -> dict[str, Any]:
    """The run's summary, in SWE-bench's ``make_run_report`` form."""
    submitted = [r.instance_id for r in results]
    empty = [r.instance_id for r in results if not r.patch_exists]
    errors = [r.instance_id for r in results if r.patch_exists and r.error]
    completed = [r.instance_id for r in results if r.patch_exists and not r.error]
    resolved = [r.instance_id for r in results if r.resolved]
    unresolved = [i for i in completed if i not in set(resolved)]
    return {"total_instances": total, "submitted_instances": len(submitted),
            "completed_instances": len(completed), "resolved_instances": len(resolved),
            "unresolved_instances": len(unresolved), "empty_patch_instances": len(empty),
            "error_instances": len(errors), "submitted_ids": submitted,
            "completed_ids": completed, "resolved_ids": resolved,
            "unresolved_ids": unresolved, "empty_patch_ids": empty, "error_ids": errors,
            "schema_version": 2}


def _safe_model(name: str) -> str:
    return name.replace("/", "__") or "model"
