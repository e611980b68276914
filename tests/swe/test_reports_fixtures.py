"""Hand-written reports for what real tools rarely produce on demand: a report cut short,
entity tricks, interleaved cargo output, Go's pre-1.24 build failures, an interrupted jest."""

from __future__ import annotations

from pathlib import Path

from assay.swe.reports import (
    FORMATS,
    Completeness,
    DisagreementKind,
    TestStatus,
    cross_check,
    parse_report,
    read_cargo_test,
    read_go_test_json,
    read_jest_json,
    read_junit,
    read_report_file,
)

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
P, F, E, S = TestStatus.PASSED, TestStatus.FAILED, TestStatus.ERROR, TestStatus.SKIPPED


def test_truncated_junit_keeps_finished_cases_and_is_partial() -> None:
    report = read_report_file("surefire", FIXTURES / "junit_truncated.xml")
    assert report.statuses() == {"com.example.CalcTest#adds": P,
                                 "com.example.CalcTest#fails": F}
    assert report.completeness is Completeness.PARTIAL
    assert "truncated" in report.errors[0]
    assert "expected: <4> but was: <3>" in (report.tests["com.example.CalcTest#fails"].message
                                            or "")
    disagreement = cross_check(report, 0)
    assert disagreement is not None
    assert disagreement.kind is DisagreementKind.FAILED_BUT_EXIT_OK


def test_junit_with_a_dtd_is_refused() -> None:
    report = read_junit(FIXTURES / "junit_entities.xml")
    assert report.completeness is Completeness.NOT_RUN
    assert "DTD" in report.errors[0]


def test_xml_that_is_not_a_junit_report_did_not_run() -> None:
    report = read_junit(FIXTURES / "junit_not_a_report.xml")
    assert report.completeness is Completeness.NOT_RUN
    assert report.tests == {}
    assert "<html>" in report.errors[0]


def test_generic_junit_nested_suites_duplicates_and_unit_cases() -> None:
    report = read_junit(FIXTURES / "junit_nested_suites.xml")
    assert report.statuses() == {"api::creates user": F, "api::deletes user": P,
                                 "no classname": S, "same": P}
    assert report.flaky == ["api::creates user"]
    assert report.duplicates == ["api::creates user"]
    created = report.tests["api::creates user"]
    assert created.duration_s == 1234.5  # "1,234.5"
    assert created.message == "timeout\nconnection timed out"
    assert created.unit == "first attempt"
    # A failing case named after its own suite stands for the suite (vitest's load errors).
    assert report.unit_failures == {"broken suite": "did not load"}
    assert report.completeness is Completeness.PARTIAL


def test_cargo_interleaved_output() -> None:
    report = read_cargo_test(FIXTURES / "cargo_interleaved.txt")
    # tests::a is both in the lib and in tests/more.rs; a forged "tests::a ... FAILED",
    # failures list and summary in tests::d's captured output change nothing.
    assert report.statuses() == {"tests::a": P, "tests::b": P, "tests::c": P, "tests::d": F,
                                 "tests::f": S, "tests::e": P}
    assert report.duplicates == ["tests::a"]
    assert report.errors == []
    assert report.completeness is Completeness.COMPLETE
    message = report.tests["tests::d"].message or ""
    assert "d broke" in message
    assert report.tests["tests::b"].unit == "unittests src/lib.rs [calc]"
    assert report.tests["tests::a"].attempts == 2


def test_cargo_counts_settle_what_they_can_and_flag_the_rest() -> None:
    report = read_cargo_test(FIXTURES / "cargo_unsettled_stdout_only.txt")
    assert report.statuses() == {"two": F, "one": P, "four": P, "three": E}
    assert report.tests["one"].unit == "binary 1"  # stdout only: no Running lines
    assert report.completeness is Completeness.PARTIAL
    assert report.errors == ["binary 2: read 1 passed, 0 failed, 0 ignored, 1 unsettled; the "
                             "summary says 1 passed, 0 failed, 1 ignored"]


def test_go_build_failure_before_go_1_24() -> None:
    report = read_go_test_json(FIXTURES / "go_build_failed_pre_1_24.json")
    assert report.statuses() == {"example.com/m/ok/TestOK": P}
    assert "build failed" in report.unit_failures["example.com/m/broken"]
    assert report.errors == []  # the stderr lines mixed in are skipped, not errors
    assert report.completeness is Completeness.PARTIAL
    assert cross_check(report, 1) is None


def test_jest_interrupted_run_is_partial() -> None:
    report = read_jest_json(FIXTURES / "jest_interrupted.json", root=Path("/work/proj"))
    assert report.statuses() == {"src/a.test.js::a": P}
    assert report.tests["src/a.test.js::a"].duration_s == 0.003
    assert set(report.errors) == {"numTotalTests is 3 but 1 tests are listed",
                                  "the run was interrupted"}
    assert report.completeness is Completeness.PARTIAL
    disagreement = cross_check(report, 0)
    assert disagreement is not None
    assert disagreement.kind is DisagreementKind.INCOMPLETE_BUT_EXIT_OK


def test_no_parser_raises_on_cut_or_damaged_input() -> None:
    inputs = [path.read_bytes() for path in sorted(FIXTURES.iterdir())]
    inputs += [b'{"testResults": [{"name": 3, "status": "failed", "assertionResults": '
               b'[{"ancestorTitles": 5, "invocations": "x", "status": null}, 7]}]}',
               b'{"stats": {}, "tests": [{"currentRetry": "x", "err": 3}, null], "failures": 1}',
               b'{"Action": "pass", "Package": 5, "Test": ["x"]}\n{"ImportPath": 1}']
    for data in inputs:
        variants = [data[:cut] for cut in range(0, len(data), max(1, len(data) // 40))]
        variants += [bytes(b ^ 0x20 if i % 7 == 0 else b for i, b in enumerate(data))]
        for variant in variants:
            for format in FORMATS:
                report = parse_report(format, variant)
                assert report.completeness in Completeness
