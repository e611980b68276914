"""Report versus exit code: a report that says "all passed" while the runner failed, or the
reverse, is evidence that the report is forged, stale, or from another run."""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from assay.swe.reports.base import Completeness, TestReport, TestStatus

_EVIDENCE = 20


class DisagreementKind(StrEnum):
    """How a report and an exit code disagree."""

    # Every test passed or was skipped, nothing failed outside a test, yet the run failed.
    PASSED_BUT_EXIT_FAILED = "passed_but_exit_failed"
    # Tests failed or errored, or units failed, yet the run exited with success.
    FAILED_BUT_EXIT_OK = "failed_but_exit_ok"
    # The report is cut short or inconsistent, yet the run exited with success.
    INCOMPLETE_BUT_EXIT_OK = "incomplete_but_exit_ok"
    # There is no usable report, yet the run exited with success.
    NO_REPORT_BUT_EXIT_OK = "no_report_but_exit_ok"


class Disagreement(BaseModel):
    """Why a report and its run's exit code cannot both be true.

    Attributes:
        kind: The kind of disagreement.
        exit_code: The exit code (None: the process had none, e.g. it was killed).
        detail: One sentence for a person.
        evidence: Failing test ids or unit names behind it (at most 20).
    """

    model_config = ConfigDict(frozen=True)

    kind: DisagreementKind
    exit_code: int | None
    detail: str
    evidence: list[str] = Field(default_factory=list)


def cross_check(report: TestReport, exit_code: int | None, *,
                ok_codes: Collection[int] = (0,)) -> Disagreement | None:
    """Compare a report with the exit code of the run that wrote it.

    A run that did not exit normally (``exit_code`` None, e.g. killed at its time limit) is
    a failure. A NOT_RUN report with a failing exit code is not a disagreement: it is a suite
    that did not run, which the caller reports as such.

    Args:
        report: The parsed report.
        exit_code: The runner's exit code.
        ok_codes: Exit codes that mean success for this runner.

    Returns:
        The disagreement, or None when the two agree.
    """
    ok = exit_code is not None and exit_code in ok_codes
    bad = report.ids(TestStatus.FAILED, TestStatus.ERROR)
    units = sorted(report.unit_failures)
    if report.completeness is Completeness.NOT_RUN:
        if ok:
            return Disagreement(
                kind=DisagreementKind.NO_REPORT_BUT_EXIT_OK, exit_code=exit_code,
                detail="the run exited with success but left no usable report: "
                       + "; ".join(report.errors[:3]),
                evidence=units[:_EVIDENCE])
        return None
    if ok and (bad or units):
        return Disagreement(
            kind=DisagreementKind.FAILED_BUT_EXIT_OK, exit_code=exit_code,
            detail=f"the report has {len(bad)} failing tests and {len(units)} failed units "
                   "but the run exited with success",
            evidence=(bad + units)[:_EVIDENCE])
    if ok and report.completeness is Completeness.PARTIAL:
        return Disagreement(
            kind=DisagreementKind.INCOMPLETE_BUT_EXIT_OK, exit_code=exit_code,
            detail="the report is incomplete but the run exited with success: "
                   + "; ".join(report.errors[:3]),
            evidence=report.errors[:_EVIDENCE])
    if not ok and not bad and not units:
        how = "was killed" if exit_code is None else f"exited with {exit_code}"
        return Disagreement(
            kind=DisagreementKind.PASSED_BUT_EXIT_FAILED, exit_code=exit_code,
            detail=f"no test failed in the report but the run {how}")
    return None
