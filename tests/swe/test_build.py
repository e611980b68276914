"""Building tasks from real histories in four languages, and grading patches against them.

Everything is real: git repositories made by the tests, environments installed in the bwrap
sandbox, test runners run with no network. See ``build_history`` for what each history holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from assay.engine import RunStore
from assay.sandbox import Sandbox
from assay.swe.build import BuildConfig, build_tasks
from assay.swe.env import Environments
from assay.swe.evaluate import EvalResult, Evaluator, Prediction, gold_predictions
from assay.swe.mining import load_explicit, mine
from assay.swe.records import BuildOutcome, Task

from .build_history import (
    CORRECT,
    PROJECTS,
    Project,
    build_task_history,
    explicit_rows,
    write_rows,
)
from .conftest import GitRepoBuilder

# Repeats per state: enough that the random test cannot pass for stable by chance except
# with the odds given in build_history (Rust's test has two outcomes, the others three).
REPEATS = {"python": 6, "go": 6, "javascript": 6, "rust": 7}
LANGUAGES = sorted(REPEATS)


@dataclass
class Built:
    project: Project
    repo: GitRepoBuilder
    commits: dict[str, str]
    outcomes: dict[str, BuildOutcome]
    environments: Environments
    store: RunStore
    root: Path

    def by_commit(self, name: str) -> BuildOutcome:
        (found,) = [o for o in self.outcomes.values()
                    if o.candidate_id.endswith(self.commits[name][:12])]
        return found

    def task(self, name: str) -> Task:
        task = self.by_commit(name).task
        assert task is not None, self.by_commit(name).rejections
        return task

    def ids(self, *names: str) -> list[str]:
        return sorted(self.project.test_id(n) for n in names)


@pytest.fixture(scope="module", params=LANGUAGES)
def built(request: pytest.FixtureRequest, sandbox: Sandbox,
          tmp_path_factory: pytest.TempPathFactory) -> Built:
    language = request.param
    root = tmp_path_factory.mktemp(f"build-{language}")
    project = PROJECTS[language]
    repo = GitRepoBuilder(root / "repo")
    commits = build_task_history(repo, project)
    candidates = list(mine(repo.path))
    rows = write_rows(root / "explicit.jsonl", explicit_rows(repo, commits, project))
    candidates += list(load_explicit(repo.path, rows))
    environments = Environments(sandbox, root / "envs")
    store = RunStore(root / "store.sqlite")
    outcomes = build_tasks(candidates, sandbox, store,
                           BuildConfig(repeats=REPEATS[language], logs_dir=root / "logs"),
                           environments)
    return Built(project, repo, commits, {o.candidate_id: o for o in outcomes}, environments,
                 store, root)


def reasons(outcome: BuildOutcome) -> list[str]:
    return sorted(r.reason for r in outcome.rejections)


def test_a_real_fix_becomes_a_task(built: Built) -> None:
    task = built.task("fix")
    assert task.fail_to_pass == built.ids("add")
    assert task.pass_to_pass == built.ids("mul")
    assert task.flaky_tests == {}
    assert task.ecosystem == built.project.name
    assert task.problem_statement.startswith("Fix add: it subtracted")


def test_a_fix_that_breaks_another_test_is_rejected(built: Built) -> None:
    outcome = built.by_commit("breaking")
    assert outcome.task is None
    assert reasons(outcome) == ["pass_to_fail"]
    assert outcome.rejections[0].evidence == built.ids("mul")


def test_the_flaky_test_is_dropped_and_recorded(built: Built) -> None:
    task = built.task("flaky")
    assert task.fail_to_pass == built.ids("mul", "rem")
    assert task.pass_to_pass == built.ids("add", "sub")
    flaky = built.project.test_id("flaky")
    assert list(task.flaky_tests) == [flaky]
    seen = task.flaky_tests[flaky]
    assert len(seen["before"]) == len(seen["after"]) == REPEATS[built.project.name]
    assert len(set(seen["before"])) > 1 or len(set(seen["after"])) > 1


def test_a_patch_that_does_not_apply_and_a_duplicate_are_rejected(built: Built) -> None:
    assert reasons(built.outcomes["stale-fix"]) == ["patch_does_not_apply"]
    duplicate = built.outcomes["same-fix-again"]
    assert reasons(duplicate) == ["duplicate"]
    assert duplicate.rejections[0].evidence == [built.by_commit("fix").candidate_id]


def test_the_commit_without_test_changes_is_not_a_candidate(built: Built) -> None:
    assert not [o for o in built.outcomes.values()
                if o.candidate_id.endswith(built.commits["docs"][:12])]
    assert len(built.outcomes) == 5


def test_each_run_leaves_its_logs_and_reports(built: Built) -> None:
    folder = built.root / "logs" / built.by_commit("fix").candidate_id
    repeats = REPEATS[built.project.name]
    for state in ("before", "after"):
        for repeat in range(1, repeats + 1):
            assert (folder / f"{state}-{repeat}.log").is_file()
            assert (folder / f"{state}-{repeat}" / "report.json").is_file()
            assert list((folder / f"{state}-{repeat}" / "raw").iterdir())
    assert (folder / "outcome.json").is_file()


def evaluate(built: Built, predictions: list[Prediction], name: str
             ) -> dict[str, EvalResult]:
    tasks = [o.task for o in built.outcomes.values() if o.task is not None]
    evaluator = Evaluator(built.environments.sandbox, built.environments,
                          built.root / f"eval-{name}")
    return {r.instance_id: r for r in evaluator.evaluate(tasks, predictions)}


def test_gold_patches_resolve_every_task(built: Built) -> None:
    tasks = [o.task for o in built.outcomes.values() if o.task is not None]
    results = evaluate(built, gold_predictions(tasks), "gold")
    assert len(results) == 2
    for result in results.values():
        assert result.resolved, result.tests_status
        assert result.applied and not result.error
        assert result.tests_status["FAIL_TO_PASS"]["failure"] == []
    report = built.root / "eval-gold" / "gold" / built.task("fix").id / "report.json"
    assert report.is_file()


def side_patch(built: Built, files: dict[str, str | None]) -> str:
    """A real diff: ``files`` changed on a branch from ``init``."""
    repo = built.repo
    repo.git("checkout", "-q", "-b", f"side-{len(repo.dates)}", built.commits["init"])
    repo.commit("side change", files)
    patch = repo.git("diff", built.commits["init"], "HEAD") + "\n"
    repo.checkout("main")
    return patch


def test_empty_wrong_and_test_tampering_patches_are_not_resolved(built: Built) -> None:
    project, task = built.project, built.task("fix")
    wrong = side_patch(built, {project.source: project.render_source({"sub", "rem"}).replace(
        CORRECT["add"], "b", 1)})
    # The tests rewritten to expect what the buggy add returns: put back before the run.
    tampered = project.render_tests(["mul", "add"]).replace("5", "-1")
    tamper = side_patch(built, {project.test: tampered})
    predictions = [Prediction(task.id, m, p) for m, p in
                   (("empty", ""), ("none", None), ("wrong", wrong), ("tamper", tamper))]
    results = [evaluate(built, [p], p.model_name_or_path)[task.id] for p in predictions]
    assert [r.resolved for r in results] == [False] * 4
    empty, none, wrong_result, tamper_result = results
    assert not empty.patch_exists and not empty.patch_is_none
    assert none.patch_is_none and not none.patch_exists
    assert wrong_result.applied
    assert wrong_result.tests_status["FAIL_TO_PASS"]["failure"] == built.ids("add")
    assert tamper_result.applied and tamper_result.tampered_tests == (project.test,)
    assert tamper_result.tests_status["FAIL_TO_PASS"]["failure"] == built.ids("add")


def test_a_rerun_comes_from_the_run_store(built: Built, sandbox: Sandbox) -> None:
    candidates = list(mine(built.repo.path, None))
    seen: list[bool] = []
    outcomes = build_tasks(candidates, sandbox, built.store,
                           BuildConfig(repeats=REPEATS[built.project.name],
                                       logs_dir=built.root / "logs"),
                           built.environments, lambda outcome, stored: seen.append(stored))
    assert seen == [True] * len(candidates)
    assert [o.task for o in outcomes] == [built.outcomes[c.id].task for c in candidates]
