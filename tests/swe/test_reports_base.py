"""The result type's rules: merging duplicates, completeness, messages, the exit-code check."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.swe.reports import (
    FORMATS,
    Completeness,
    DisagreementKind,
    ReportFormat,
    TestReport,
    TestStatus,
    cross_check,
    parse_report,
    read_report_file,
)
from assay.swe.reports.base import MAX_MESSAGE_CHARS, ReportBuilder, clip

P, F, E, S = TestStatus.PASSED, TestStatus.FAILED, TestStatus.ERROR, TestStatus.SKIPPED


def _report(*results: tuple[str, TestStatus], units: dict[str, str] | None = None,
            errors: tuple[str, ...] = ()) -> TestReport:
    builder = ReportBuilder("test")
    for test_id, status in results:
        builder.add(test_id, status, message=f"{test_id} {status.value}")
    for unit, reason in (units or {}).items():
        builder.unit_failure(unit, reason)
    for error in errors:
        builder.error(error)
    return builder.build()


@pytest.mark.parametrize(("statuses", "merged", "flaky"), [
    ([P, F], F, True),
    ([F, P], F, True),
    ([P, E], E, True),
    ([E, F], F, False),
    ([S, P], P, False),
    ([S, S], S, False),
    ([P, P, F, P], F, True),
])
def test_duplicates_merge_worst_wins(statuses: list[TestStatus], merged: TestStatus,
                                     flaky: bool) -> None:
    builder = ReportBuilder("test")
    for i, status in enumerate(statuses):
        builder.add("t", status, message=f"occurrence {i}", duration_s=float(i))
    report = builder.build()
    result = report.tests["t"]
    assert result.status is merged
    first = statuses.index(merged)
    assert result.message == f"occurrence {first}"
    assert result.duration_s == float(first)
    assert result.attempts == len(statuses)
    assert report.duplicates == ["t"]
    assert report.flaky == (["t"] if flaky else [])


def test_reruns_inside_one_entry_keep_the_final_status_but_mark_flaky() -> None:
    builder = ReportBuilder("test")
    builder.add("passed-on-rerun", P, reruns=[F])
    builder.add("failed-every-time", F, reruns=[F, F])
    report = builder.build()
    assert report.statuses() == {"passed-on-rerun": P, "failed-every-time": F}
    assert report.flaky == ["passed-on-rerun"]
    assert report.duplicates == []
    assert report.tests["failed-every-time"].attempts == 3


def test_completeness() -> None:
    assert _report(("a", P)).completeness is Completeness.COMPLETE
    assert _report(("a", F), ("b", S)).completeness is Completeness.COMPLETE
    assert _report(("a", P), units={"pkg": "build failed"}).completeness is Completeness.PARTIAL
    assert _report(("a", P), errors=("cut",)).completeness is Completeness.PARTIAL
    empty = _report()
    assert empty.completeness is Completeness.NOT_RUN and not empty.ran
    assert empty.errors == ["the report holds no test result"]
    only_units = _report(units={"pkg": "build failed"})
    assert only_units.completeness is Completeness.NOT_RUN
    assert only_units.unit_failures == {"pkg": "build failed"}


def test_ids_and_statuses_keep_report_order() -> None:
    report = _report(("b", F), ("a", P), ("c", E), ("d", S))
    assert list(report.statuses()) == ["b", "a", "c", "d"]
    assert report.ids(F, E) == ["b", "c"]
    assert report.ids(P) == ["a"]


def test_messages_are_clipped_keeping_head_and_tail() -> None:
    long = "HEAD" + "x" * 10_000 + "TAIL"
    clipped = clip(long)
    assert clipped is not None and len(clipped) < MAX_MESSAGE_CHARS + 20
    assert clipped.startswith("HEAD") and clipped.endswith("TAIL")
    assert clip("  ") is None and clip(None) is None and clip(" short ") == "short"


def test_report_round_trips_as_json() -> None:
    report = _report(("a", P), ("b", F), units={"u": "crashed"})
    assert TestReport.model_validate_json(report.model_dump_json()) == report


@pytest.mark.parametrize(("results", "units", "errors", "exit_code", "kind"), [
    ([("a", P)], {}, (), 0, None),
    ([("a", P), ("b", S)], {}, (), 1, DisagreementKind.PASSED_BUT_EXIT_FAILED),
    ([("a", P)], {}, (), None, DisagreementKind.PASSED_BUT_EXIT_FAILED),
    ([("a", P), ("b", F)], {}, (), 1, None),
    ([("a", P), ("b", F)], {}, (), 0, DisagreementKind.FAILED_BUT_EXIT_OK),
    ([("a", P)], {"pkg": "build failed"}, (), 0, DisagreementKind.FAILED_BUT_EXIT_OK),
    ([("a", P)], {"pkg": "build failed"}, (), 2, None),
    ([("a", P)], {}, ("truncated",), 0, DisagreementKind.INCOMPLETE_BUT_EXIT_OK),
    ([("a", P)], {}, ("truncated",), 1, DisagreementKind.PASSED_BUT_EXIT_FAILED),
    ([], {}, (), 0, DisagreementKind.NO_REPORT_BUT_EXIT_OK),
    ([], {}, (), 1, None),
    ([], {}, (), None, None),
])
def test_cross_check(results: list[tuple[str, TestStatus]], units: dict[str, str],
                     errors: tuple[str, ...], exit_code: int | None,
                     kind: DisagreementKind | None) -> None:
    disagreement = cross_check(_report(*results, units=units, errors=errors), exit_code)
    assert (disagreement.kind if disagreement else None) is kind
    if disagreement is not None:
        assert disagreement.exit_code == exit_code and disagreement.detail


def test_cross_check_evidence_and_ok_codes() -> None:
    report = _report(("a", F), ("b", E), ("c", P), units={"u": "x"})
    disagreement = cross_check(report, 0)
    assert disagreement is not None and disagreement.evidence == ["a", "b", "u"]
    # mocha exits with the number of failures; a runner may declare other success codes.
    assert cross_check(_report(("a", P)), 3, ok_codes=(0, 3)) is None


@pytest.mark.parametrize("format", FORMATS)
def test_every_format_treats_empty_and_missing_as_not_run(format: ReportFormat,
                                                          tmp_path: Path) -> None:
    for data in ("", b"\n", "  \n"):
        report = parse_report(format, data)
        assert report.completeness is Completeness.NOT_RUN
    missing = read_report_file(format, tmp_path / "absent")
    assert missing.completeness is Completeness.NOT_RUN
    assert "missing" in missing.errors[0]
    (tmp_path / "garbage").write_bytes(b"\x00\xff this is not a report \xfe")
    garbage = read_report_file(format, tmp_path / "garbage")
    assert garbage.completeness is Completeness.NOT_RUN
    assert garbage.errors


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        parse_report("nunit", "<x/>")
