"""Candidates -> tasks: static checks, environment, repeated before/after runs, criteria.

For each candidate, in order:

1. the static criteria (:mod:`assay.swe.criteria`): patch sides, sizes, binary and empty
   files, problem statement, duplicates, both patches apply; a candidate failing any is
   not run;
2. the two states are written out: before = base + test patch, after = base + test patch +
   fix; the ecosystem is detected on the after state and its environment set up (cached);
3. each state is run ``repeats`` times, alternating (before, after, before, ...), so that a
   test that depends on the time of day or the machine's load shows it in both states;
   a run over its time limit, without a usable report, or whose report disagrees with its
   exit code ends the candidate with that criterion;
4. the reports are classified (:mod:`assay.swe.validation`): flaky tests dropped and
   recorded; unstable names, a broken test (PASS_TO_FAIL) or no FAIL_TO_PASS reject it.

Each outcome is committed to the run store when it is final, so a killed build resumes where
it stopped; an outcome the sandbox broke is not kept and runs again. Logs and raw reports of
every run go to ``logs_dir/<id>/``.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from assay.engine.run_store import RunStore, content_key
from assay.sandbox import Limits, Sandbox, Verdict
from assay.swe import criteria
from assay.swe.criteria import reject, static_rejections
from assay.swe.env import Ecosystem, Environment, Environments, detect_ecosystem, get_ecosystem
from assay.swe.git import GitRepo
from assay.swe.patches import materialize
from assay.swe.records import BuildOutcome, Candidate, Rejection, Task, Timings
from assay.swe.reports import Completeness
from assay.swe.runs import TEST_LIMITS, TestRun, run_tests
from assay.swe.testfiles import TestFileRules
from assay.swe.validation import classify

OUTCOME_KIND = "swe-build"
BUILD_VERSION = "1"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class BuildConfig:
    """How to build tasks.

    Attributes:
        repeats: Runs of each state (flaky tests show up as differences between them).
        ecosystem: Use this ecosystem instead of detecting one per candidate.
        criteria: Bounds of the static criteria.
        test_limits: Limits of each test run.
        rules: What a test file is (for the patch-side criteria).
        workers: Candidates built at once.
        logs_dir: Where each candidate's logs and raw reports go (None: not kept).
    """

    repeats: int = 3
    ecosystem: str | None = None
    criteria: criteria.Limits = field(default_factory=criteria.Limits)
    test_limits: Limits = TEST_LIMITS
    rules: TestFileRules = field(default_factory=TestFileRules.for_ecosystems)
    workers: int = 1
    logs_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.repeats < 1:
            raise ValueError(f"repeats must be at least 1, got {self.repeats}")
        if self.ecosystem is not None:
            get_ecosystem(self.ecosystem)

    def fingerprint(self) -> dict[str, object]:
        """What the outcome of a candidate depends on (the run store key)."""
        return {"version": BUILD_VERSION, "repeats": self.repeats, "ecosystem": self.ecosystem,
                "criteria": vars(self.criteria), "test_limits": vars(self.test_limits),
                "rules": list(self.rules.patterns), "rust_cfg_test": self.rules.rust_cfg_test}


Progress = Callable[[BuildOutcome, bool], None]


def build_tasks(candidates: Sequence[Candidate], sandbox: Sandbox, store: RunStore,
                config: BuildConfig | None = None, environments: Environments | None = None,
                progress: Progress | None = None) -> list[BuildOutcome]:
    """Build every candidate; outcomes in input order. ``progress(outcome, from_store)`` is
    called as each finishes."""
    config = config or BuildConfig()
    environments = environments or Environments(sandbox)
    first_with_fix: dict[str, str] = {}
    for candidate in candidates:
        first_with_fix.setdefault(candidate.fix_hash, candidate.id)
    builder = _Builder(sandbox, store, config, environments, first_with_fix)
    with ThreadPoolExecutor(max_workers=max(1, config.workers),
                            thread_name_prefix="assay-swe") as pool:
        outcomes = []
        for outcome, from_store in pool.map(builder.outcome, candidates):
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome, from_store)
    return outcomes


class _Builder:
    def __init__(self, sandbox: Sandbox, store: RunStore, config: BuildConfig,
                 environments: Environments, first_with_fix: dict[str, str]) -> None:
        self.sandbox = sandbox
        self.store = store
        self.config = config
        self.environments = environments
        self.first_with_fix = first_with_fix
        self.repos: dict[str, GitRepo] = {}

    def outcome(self, candidate: Candidate) -> tuple[BuildOutcome, bool]:
        key = content_key(OUTCOME_KIND, candidate.model_dump(mode="json"),
                          self.first_with_fix.get(candidate.fix_hash), self.config.fingerprint())
        stored = self.store.get(key)
        if stored is not None:
            return BuildOutcome.model_validate(stored), True
        started = time.monotonic()
        outcome = self._build(candidate)
        outcome.timings.total_s = time.monotonic() - started
        if outcome.task is not None:
            outcome.task.timings = outcome.timings
        if not any(r.reason == "sandbox_error" for r in outcome.rejections):
            self.store.put(key, OUTCOME_KIND, outcome.model_dump(mode="json"))
        self._log(candidate.id, "outcome.json", outcome.model_dump_json(indent=1))
        return outcome, False

    def _repo(self, path: str) -> GitRepo:
        if path not in self.repos:
            self.repos[path] = GitRepo.open(path)
        return self.repos[path]

    def _build(self, candidate: Candidate) -> BuildOutcome:
        repo = self._repo(candidate.repo_path)
        seen = {candidate.fix_hash: self.first_with_fix.get(candidate.fix_hash, candidate.id)}
        found = static_rejections(candidate, repo, self.config.rules, self.config.criteria, seen)
        if found:
            return BuildOutcome(candidate_id=candidate.id, rejections=found)
        with tempfile.TemporaryDirectory(prefix="assay-swe-") as tmp:
            before, after = Path(tmp) / "before", Path(tmp) / "after"
            for tree, patches in ((before, [candidate.test_patch]),
                                  (after, [candidate.test_patch, candidate.fix_patch])):
                applied = materialize(repo, candidate.base_commit, tree, patches)
                if not applied.applies:
                    return BuildOutcome(candidate_id=candidate.id, rejections=[reject(
                        "patch_does_not_apply", "a patch does not apply to the exported tree",
                        [applied.message[-2000:]])])
            ecosystem = self._ecosystem(candidate, after)
            if ecosystem is None:
                return BuildOutcome(candidate_id=candidate.id, rejections=[reject(
                    "no_ecosystem", "no ecosystem recognises the project's files")])
            environment = self.environments.ensure(ecosystem, after)
            self._log(candidate.id, "setup.log", environment.log)
            timings = Timings(setup_s=0.0 if environment.reused else environment.seconds)
            if not environment.ready:
                return BuildOutcome(candidate_id=candidate.id, ecosystem=ecosystem.name,
                                    timings=timings, rejections=[reject(
                                        "environment_setup_failed",
                                        f"{ecosystem.name} setup failed",
                                        [environment.log[-3000:]])])
            return self._validate(candidate, ecosystem, environment, before, after, timings)

    def _ecosystem(self, candidate: Candidate, tree: Path) -> Ecosystem | None:
        if self.config.ecosystem is not None:
            return get_ecosystem(self.config.ecosystem)
        return detect_ecosystem(tree, candidate.language)

    def _validate(self, candidate: Candidate, ecosystem: Ecosystem, environment: Environment,
                  before: Path, after: Path, timings: Timings) -> BuildOutcome:
        runs: dict[str, list[TestRun]] = {"before": [], "after": []}
        for repeat in range(1, self.config.repeats + 1):
            for state, tree in (("before", before), ("after", after)):
                run = run_tests(self.sandbox, ecosystem, environment, tree,
                                self.config.test_limits)
                runs[state].append(run)
                if state == "before":
                    timings.before_s += run.seconds
                else:
                    timings.after_s += run.seconds
                self._log_run(candidate.id, f"{state}-{repeat}", run)
                failed = _run_rejection(state, repeat, run)
                if failed is not None:
                    return BuildOutcome(candidate_id=candidate.id, ecosystem=ecosystem.name,
                                        rejections=[failed], timings=timings)
        found = classify([r.report for r in runs["before"]], [r.report for r in runs["after"]])
        rejections: list[Rejection] = []
        if found.unstable:
            rejections.append(reject("unstable_test_names",
                                     f"{len(found.unstable)} tests missing from some repeats",
                                     found.unstable[:50]))
        if found.pass_to_fail:
            rejections.append(reject("pass_to_fail",
                                     f"the fix breaks {len(found.pass_to_fail)} tests",
                                     found.pass_to_fail[:50]))
        if not found.fail_to_pass:
            rejections.append(reject("no_fail_to_pass", "no test goes from failing to passing"
                                     + (f" once {len(found.flaky)} flaky tests are removed"
                                        if found.flaky else ""), sorted(found.flaky)[:50]))
        if rejections:
            return BuildOutcome(candidate_id=candidate.id, ecosystem=ecosystem.name,
                                rejections=rejections, flaky_tests=found.flaky, timings=timings)
        task = Task(id=candidate.id, repo=candidate.repo, repo_path=candidate.repo_path,
                    base_commit=candidate.base_commit, fix_patch=candidate.fix_patch,
                    test_patch=candidate.test_patch,
                    problem_statement=candidate.problem_statement,
                    created_at=candidate.created_at, source=candidate.source,
                    source_commit=candidate.source_commit, language=candidate.language,
                    ecosystem=ecosystem.name, environment_key=environment.key,
                    fail_to_pass=found.fail_to_pass, pass_to_pass=found.pass_to_pass,
                    fail_to_fail=found.fail_to_fail, flaky_tests=found.flaky,
                    repeats=self.config.repeats)
        return BuildOutcome(candidate_id=candidate.id, ecosystem=ecosystem.name, task=task,
                            flaky_tests=found.flaky, timings=timings)

    def _log(self, candidate_id: str, name: str, text: str) -> None:
        if self.config.logs_dir is None:
            return
        directory = task_dir(self.config.logs_dir, candidate_id)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text, encoding="utf-8", errors="replace")

    def _log_run(self, candidate_id: str, name: str, run: TestRun) -> None:
        if self.config.logs_dir is None:
            return
        self._log(candidate_id, f"{name}.log", run.log)
        save_run(task_dir(self.config.logs_dir, candidate_id) / name, run)


def save_run(directory: Path, run: TestRun) -> None:
    """Keep a run's raw report files and its parsed report in ``directory``."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    for name, content in run.raw_report.items():
        target = directory / "raw" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    summary = {"verdict": run.verdict.value, "exit_code": run.exit_code,
               "seconds": round(run.seconds, 3), "error": run.error,
               "disagreement": None if run.disagreement is None
               else run.disagreement.model_dump(mode="json"),
               "report": run.report.model_dump(mode="json")}
    (directory / "report.json").write_text(json.dumps(summary, indent=1))


def task_dir(root: Path, task_id: str) -> Path:
    """The folder of one task's logs (its id made safe as a file name)."""
    return root / (_UNSAFE.sub("_", task_id).strip(".") or "_")


def _run_rejection(state: str, repeat: int, run: TestRun) -> Rejection | None:
    """The criterion a single run fails, if any."""
    where = f"{state} run {repeat}"
    tail = [run.log[-2000:]] if run.log else []
    if run.verdict is Verdict.SANDBOX_ERROR:
        return reject("sandbox_error", f"{where}: {run.error}", tail)
    if run.verdict is Verdict.TIME_LIMIT:
        return reject("test_run_timeout", f"{where} went over its time limit", tail)
    if run.disagreement is not None:
        return reject("report_exit_code_disagree", f"{where}: {run.disagreement.detail}",
                      run.disagreement.evidence + tail)
    if run.report.completeness is Completeness.NOT_RUN and (
            state == "after" or run.verdict is not Verdict.RUNTIME_ERROR):
        # Before the fix a suite may fail to build (a test of a function the fix adds);
        # after it, the suite must run.
        units = sorted(run.report.unit_failures)
        why = "; ".join(run.report.errors[:3]) or (
            f"{len(units)} units failed outside any test: {', '.join(units[:5])}" if units
            else f"no test reported (exit code {run.exit_code})")
        return reject("suite_did_not_run", f"{where}: {why}", units[:20] + tail)
    return None


@dataclass
class BuildSummary:
    """Counts of a build, for the table and ``--json``."""

    candidates: int = 0
    accepted: int = 0
    rejected: int = 0
    from_store: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    flaky_tests: int = 0
    seconds: float = 0.0

    @classmethod
    def of(cls, outcomes: Sequence[BuildOutcome], from_store: int, seconds: float
           ) -> BuildSummary:
        summary = cls(candidates=len(outcomes), from_store=from_store, seconds=seconds)
        for outcome in outcomes:
            if outcome.task is not None:
                summary.accepted += 1
            else:
                summary.rejected += 1
                summary.reasons.update({r.reason for r in outcome.rejections})
            summary.flaky_tests += len(outcome.flaky_tests)
        return summary

    def as_dict(self) -> dict[str, object]:
        return {"candidates": self.candidates, "accepted": self.accepted,
                "rejected": self.rejected, "rejected_by_reason": dict(self.reasons.most_common()),
                "flaky_tests": self.flaky_tests, "from_store": self.from_store,
                "seconds": round(self.seconds, 2)}


def iter_tasks(outcomes: Sequence[BuildOutcome]) -> Iterator[Task]:
    return (o.task for o in outcomes if o.task is not None)
