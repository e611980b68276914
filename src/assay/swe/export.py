"""Tasks as SWE-bench rows, rejected candidates as rows of their own, and the way back.

A task row has SWE-bench's fields with SWE-bench's meanings — ``instance_id``, ``repo``,
``base_commit``, ``patch`` (the fix), ``test_patch``, ``problem_statement``, ``hints_text``,
``created_at``, ``version``, ``environment_setup_commit``, and ``FAIL_TO_PASS`` /
``PASS_TO_PASS`` as JSON-encoded lists of test ids (strings, as in the published dataset) —
followed by assay's own: ``language``, ``ecosystem``, ``environment_key``, ``repo_path``,
``source``, ``source_commit``, ``FAIL_TO_FAIL``, ``flaky_tests``, ``repeats`` and
``timings``. ``version`` is the environment key: tasks that share it share an environment,
which is what SWE-bench's version means. ``read_task_row`` reads such a row back (lists as
JSON strings or as lists).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from assay.swe.records import BuildOutcome, Task, Timings


def task_row(task: Task) -> dict[str, Any]:
    """The SWE-bench-compatible row of a task."""
    return {
        "instance_id": task.id,
        "repo": task.repo,
        "base_commit": task.base_commit,
        "patch": task.fix_patch,
        "test_patch": task.test_patch,
        "problem_statement": task.problem_statement,
        "hints_text": "",
        "created_at": task.created_at.isoformat() if task.created_at else None,
        "version": task.environment_key,
        "environment_setup_commit": task.base_commit,
        "FAIL_TO_PASS": json.dumps(task.fail_to_pass),
        "PASS_TO_PASS": json.dumps(task.pass_to_pass),
        # assay's fields
        "language": task.language,
        "ecosystem": task.ecosystem,
        "environment_key": task.environment_key,
        "repo_path": task.repo_path,
        "source": task.source,
        "source_commit": task.source_commit,
        "FAIL_TO_FAIL": json.dumps(task.fail_to_fail),
        "flaky_tests": task.flaky_tests,
        "repeats": task.repeats,
        "timings": task.timings.model_dump(),
    }


def rejected_row(outcome: BuildOutcome) -> dict[str, Any]:
    """The row of a rejected candidate: its id, the criteria it failed and their evidence."""
    return {
        "instance_id": outcome.candidate_id,
        "reasons": sorted({r.reason for r in outcome.rejections}),
        "rejections": [r.model_dump() for r in outcome.rejections],
        "ecosystem": outcome.ecosystem,
        "flaky_tests": outcome.flaky_tests,
        "timings": outcome.timings.model_dump(),
    }


def read_task_row(row: dict[str, Any]) -> Task:
    """A task from a row of ``task_row`` (ValueError naming what is missing or malformed)."""
    missing = [k for k in ("instance_id", "repo", "base_commit", "patch", "test_patch",
                           "FAIL_TO_PASS", "PASS_TO_PASS", "ecosystem", "repo_path")
               if k not in row]
    if missing:
        raise ValueError(f"not an assay task row: missing {', '.join(missing)}")
    created = row.get("created_at")
    return Task(
        id=row["instance_id"], repo=row["repo"], repo_path=row["repo_path"],
        base_commit=row["base_commit"], fix_patch=row["patch"], test_patch=row["test_patch"],
        problem_statement=row.get("problem_statement", ""),
        created_at=datetime.fromisoformat(created) if created else None,
        source=row.get("source", "explicit"), source_commit=row.get("source_commit"),
        language=row.get("language"), ecosystem=row["ecosystem"],
        environment_key=row.get("environment_key") or row.get("version") or "",
        fail_to_pass=_id_list(row["FAIL_TO_PASS"], "FAIL_TO_PASS"),
        pass_to_pass=_id_list(row["PASS_TO_PASS"], "PASS_TO_PASS"),
        fail_to_fail=_id_list(row.get("FAIL_TO_FAIL", "[]"), "FAIL_TO_FAIL"),
        flaky_tests=row.get("flaky_tests") or {}, repeats=int(row.get("repeats", 1)),
        timings=Timings.model_validate(row.get("timings") or {}))


def _id_list(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{name}: not a JSON list of test ids ({exc})") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name}: expected a list of test ids")
    return value
