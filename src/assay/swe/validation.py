"""FAIL_TO_PASS and PASS_TO_PASS from repeated runs of the two states, and flaky tests.

Each state (before: base + test patch; after: base + test patch + fix) is run N times.
Within one state:

* a test whose status differs between repeats (or that its runner saw both pass and fail
  within one run) is **flaky**: it is dropped from every list and recorded;
* a test present in some repeats and absent from others has an **unstable name**
  (parametrised by time or randomness, or the suite ran in part): dropped and recorded.

Then, with ``absent`` for a test a state never reported: FAIL_TO_PASS = failed, errored or
absent before and passed after; PASS_TO_PASS = passed before and after; PASS_TO_FAIL =
passed before, failed or errored after (the fix breaks it); FAIL_TO_FAIL = failed or errored
in both. Skipped tests are in no list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from assay.swe.reports import TestReport, TestStatus

ABSENT = "ABSENT"
_BAD = {TestStatus.FAILED.value, TestStatus.ERROR.value}


@dataclass
class Classification:
    """The lists of one candidate's tests.

    Attributes:
        fail_to_pass, pass_to_pass, pass_to_fail, fail_to_fail: Sorted test ids.
        flaky: Test id -> {"before": statuses per repeat, "after": ...} for every test
            that was flaky or had an unstable name in either state.
        unstable: The subset of ``flaky`` whose name was missing from some repeats.
    """

    fail_to_pass: list[str] = field(default_factory=list)
    pass_to_pass: list[str] = field(default_factory=list)
    pass_to_fail: list[str] = field(default_factory=list)
    fail_to_fail: list[str] = field(default_factory=list)
    flaky: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    unstable: list[str] = field(default_factory=list)


def classify(before: Sequence[TestReport], after: Sequence[TestReport]) -> Classification:
    """Classify the tests of a candidate from the reports of its repeated runs."""
    before_runs = [_statuses(r) for r in before]
    after_runs = [_statuses(r) for r in after]
    ids = sorted({i for run in (*before_runs, *after_runs) for i in run})
    inner_flaky = {i for r in (*before, *after) for i in r.flaky}
    result = Classification()
    for test_id in ids:
        seen_before = [run.get(test_id, ABSENT) for run in before_runs]
        seen_after = [run.get(test_id, ABSENT) for run in after_runs]
        unstable = _unstable(seen_before) or _unstable(seen_after)
        if unstable or test_id in inner_flaky or len(set(seen_before)) > 1 \
                or len(set(seen_after)) > 1:
            result.flaky[test_id] = {"before": seen_before, "after": seen_after}
            if unstable:
                result.unstable.append(test_id)
            continue
        was, now = seen_before[0], seen_after[0]
        if now == TestStatus.PASSED.value and (was in _BAD or was == ABSENT):
            result.fail_to_pass.append(test_id)
        elif now == TestStatus.PASSED.value and was == TestStatus.PASSED.value:
            result.pass_to_pass.append(test_id)
        elif was == TestStatus.PASSED.value and now in _BAD:
            result.pass_to_fail.append(test_id)
        elif was in _BAD and now in _BAD:
            result.fail_to_fail.append(test_id)
    return result


def _statuses(report: TestReport) -> dict[str, str]:
    return {test_id: result.status.value for test_id, result in report.tests.items()}


def _unstable(seen: list[str]) -> bool:
    """Present in some repeats, absent from others."""
    return ABSENT in seen and any(s != ABSENT for s in seen)
