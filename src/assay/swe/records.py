"""Records of the SWE task factory. Serialised, so pydantic; unknown fields are errors.

Field names are assay's (snake_case, ``fix_patch``); the SWE-bench names (``patch``,
``instance_id``) appear only in the export.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator

from assay.data.records import Record

CandidateSource = Literal["commit", "merge", "explicit"]
_OBJECT_ID = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


class PatchStats(Record):
    """Size of a patch.

    Attributes:
        files: Files it touches (a rename counts once).
        added: Lines added (binary changes count no lines).
        removed: Lines removed.
        binary_files: Files changed as binary (``GIT binary patch``).
        empty_files: Files that are empty after the patch (created empty or emptied).
    """

    files: int = Field(default=0, ge=0)
    added: int = Field(default=0, ge=0)
    removed: int = Field(default=0, ge=0)
    binary_files: list[str] = Field(default_factory=list)
    empty_files: list[str] = Field(default_factory=list)


def _full_object_id(value: str | None) -> str | None:
    if value is not None and not _OBJECT_ID.fullmatch(value):
        raise ValueError(f"expected a full commit id (40 hex digits), got {value!r}")
    return value


class Change(Record):
    """What a candidate and a task share: a change to a repository, split into a fix and
    its tests.

    Attributes:
        id: Unique id: ``<repo with / as __>-<commit[:12]>`` for mined candidates.
        repo: The repository's name (``owner/name`` when given, else its directory's name).
        repo_path: Absolute path of the local repository.
        base_commit: Full id of the commit the patches apply to (the parent; a merge's
            first parent).
        fix_patch: The change to non-test files (git diff, binary-safe).
        test_patch: The change to test files.
        problem_statement: The commit message (subject and body) unless given.
        created_at: Author date of the commit (None for an explicit entry without one).
    """

    id: str = Field(min_length=1)
    repo: str
    repo_path: str
    base_commit: str
    fix_patch: str
    test_patch: str
    problem_statement: str
    created_at: datetime | None = None

    _base_commit = field_validator("base_commit")(_full_object_id)


class Candidate(Change):
    """A code change and the tests that came with it, before anything has been run.

    Attributes:
        committed_at: Committer date of the commit (when it landed).
        source: ``commit``, ``merge`` (diffed against its first parent) or ``explicit``.
        source_commit: The mined commit (None for explicit entries).
        merged_commits: For a merge, the commits it brought in (oldest first).
        fix_files: Paths the fix patch touches (both paths of a rename).
        test_files: Paths the test patch touches.
        mixed_files: Rust files in the fix patch whose change also edits ``#[cfg(test)]``
            items: part of the tests lives in the fix patch.
        fix_stats: Size of the fix patch.
        test_stats: Size of the test patch.
        language: Guessed from the extensions of the fix's files (then the tests').
        fix_hash: ``patch_hash`` of the fix patch (duplicates).
        test_hash: ``patch_hash`` of the test patch.
    (The other fields are :class:`Change`'s.)
    """

    committed_at: datetime | None = None
    source: CandidateSource
    source_commit: str | None = None
    merged_commits: list[str] = Field(default_factory=list)
    fix_files: list[str]
    test_files: list[str]
    mixed_files: list[str] = Field(default_factory=list)
    fix_stats: PatchStats
    test_stats: PatchStats
    language: str | None = None
    fix_hash: str
    test_hash: str

    _source_commit = field_validator("source_commit")(_full_object_id)


class ExplicitEntry(Record):
    """One row of an explicit candidate list (``assay swe mine REPO --from FILE``).

    Attributes:
        id: Optional id (default: ``<repo>-<base[:12]>-<fix hash[:8]>``).
        base_commit: A commit of the repository (any name ``git rev-parse`` knows).
        fix_patch: The fix, a git diff (non-empty).
        test_patch: The tests, a git diff (non-empty).
        problem_statement: The task's description.
        created_at: When the change was made, if known.
    """

    id: str | None = Field(default=None, min_length=1)
    base_commit: str = Field(min_length=1)
    fix_patch: str
    test_patch: str
    problem_statement: str
    created_at: datetime | None = None

    @field_validator("fix_patch", "test_patch")
    @classmethod
    def _a_patch(cls, value: str) -> str:
        from assay.swe.patches import PatchError, parse_patch

        if not value.strip():
            raise ValueError("empty patch (a non-empty git diff is required)")
        try:
            parse_patch(value)
        except PatchError as exc:
            raise ValueError(str(exc)) from None
        return value


class Rejection(Record):
    """Why a candidate is not a task: one named criterion and its evidence.

    Attributes:
        reason: The criterion's name (see ``assay.swe.criteria.REASONS``).
        detail: One sentence for a person.
        evidence: What shows it: test ids, file paths, a log's tail, an earlier task's id.
    """

    reason: str
    detail: str
    evidence: list[str] = Field(default_factory=list)


class Timings(Record):
    """Where a candidate's time went, in seconds.

    Attributes:
        setup_s: Setting up its environment (0 when reused).
        before_s: Test runs of the before state, summed.
        after_s: Test runs of the after state, summed.
        total_s: Everything, checks and checkouts included.
    """

    setup_s: float = 0.0
    before_s: float = 0.0
    after_s: float = 0.0
    total_s: float = 0.0


class Task(Change):
    """A validated task: a change, the tests that prove it, and how it was validated.

    Attributes:
        id: The candidate's id (SWE-bench's ``instance_id``); the other fields of
            :class:`Change` and source, source_commit, language: as in the candidate.
        ecosystem: How its environment was set up and its tests run.
        environment_key: The environment's key (its definition files' hash).
        fail_to_pass: Tests that fail, error or are absent before the fix and pass after,
            in every repeat.
        pass_to_pass: Tests that pass before and after, in every repeat.
        fail_to_fail: Tests that fail before and after (kept for the record).
        flaky_tests: Tests whose status differed between repeats of one state (dropped
            from every list), with their statuses: ``{"before": [...], "after": [...]}``.
        repeats: How many times each state was run.
        timings: Where the time went.
    """

    source: CandidateSource
    source_commit: str | None = None
    language: str | None = None
    ecosystem: str
    environment_key: str
    fail_to_pass: list[str]
    pass_to_pass: list[str]
    fail_to_fail: list[str] = Field(default_factory=list)
    flaky_tests: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    repeats: int
    timings: Timings = Field(default_factory=Timings)


class BuildOutcome(Record):
    """What building one candidate gave: a task, or the reasons it is not one.

    Attributes:
        candidate_id: The candidate's id.
        task: The task, when every criterion passed.
        rejections: The criteria it failed (empty for a task).
        ecosystem: The ecosystem used, when one was found.
        timings: Where the time went.
    """

    candidate_id: str
    task: Task | None = None
    rejections: list[Rejection] = Field(default_factory=list)
    ecosystem: str | None = None
    flaky_tests: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    timings: Timings = Field(default_factory=Timings)
