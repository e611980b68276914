"""The determinism filter as a pure function of the runs' raw results."""

from __future__ import annotations

from assay.trace import Caps, DropReason, RunOutcome, judge

CAPS = Caps(max_events=100, max_bytes=10_000, timeout_s=2.0)
TRACE = "TRACE:IN:f@1:x=1\nTRACE:VAR:f@2:y=2\nTRACE:OUT:f@3:2\n"


def ok(trace: str = TRACE, code: int = 0) -> RunOutcome:
    return RunOutcome(exit_code=code, trace=trace, time_s=0.01)


def test_identical_runs_are_kept_with_their_events() -> None:
    verdict = judge([ok(), ok("noise\n" + TRACE), ok()], CAPS)
    assert verdict.kept and verdict.reason is None
    assert [e.type for e in verdict.trace.events] == ["IN", "VAR", "OUT"]


def test_a_run_that_differs_names_the_event() -> None:
    other = TRACE.replace("y=2", "y=3")
    verdict = judge([ok(), ok(), ok(other)], CAPS)
    assert verdict.reason is DropReason.DIFFERS
    assert verdict.detail.startswith("runs 1 and 3 differ at event 2:")
    assert "y=2" in verdict.detail and "y=3" in verdict.detail
    shorter = judge([ok(), ok("TRACE:IN:f@1:x=1\n")], CAPS)
    assert "differ at event 2" in shorter.detail and "the end (it has 1 events)" in shorter.detail


def test_empty_crashed_timed_out_too_long_compile_error_infra() -> None:
    assert judge([ok("just output\n")] * 3, CAPS).reason is DropReason.EMPTY
    crash = judge([ok(), ok(TRACE + "ValueError: boom\n", code=1), ok()], CAPS)
    assert crash.reason is DropReason.CRASHED
    assert crash.detail == "run 2 of 3 exited with code 1: ValueError: boom"
    killed = judge([RunOutcome(signal=11, trace=TRACE)], CAPS)
    assert killed.reason is DropReason.CRASHED and "SIGSEGV" in killed.detail
    slow = judge([ok(), RunOutcome(timed_out=True, signal=9)], CAPS)
    assert slow.reason is DropReason.TIMED_OUT and slow.detail.startswith("run 2 of 2")
    long = judge([RunOutcome(over="events", signal=9, trace=TRACE)], CAPS)
    assert long.reason is DropReason.TOO_LONG and "100 events" in long.detail
    many = "TRACE:LOOP:f@1:iter=1\n" * 101
    assert judge([ok(many)], CAPS).reason is DropReason.TOO_LONG
    broken = judge([RunOutcome(compile_error="SyntaxError: bad")] * 2, CAPS)
    assert broken.reason is DropReason.COMPILE_ERROR and "SyntaxError" in broken.detail
    assert judge([ok(), None], CAPS).reason is DropReason.INFRA
    assert judge([ok(), RunOutcome(infra="sandbox failed")], CAPS).reason is DropReason.INFRA


def test_keep_errors_keeps_the_same_error_every_time() -> None:
    raising = ok(TRACE + "TRACE:ERR:f@3:ValueError: x\n", code=1)
    strict = judge([raising, raising], CAPS)
    assert strict.reason is DropReason.CRASHED
    lenient = Caps(max_events=100, max_bytes=10_000, timeout_s=2.0, keep_errors=True)
    assert judge([raising, raising], lenient).kept
    assert judge([raising, ok(raising.trace, code=2)], lenient).reason is DropReason.CRASHED


def test_a_timeout_outranks_a_difference() -> None:
    """The reason given is the first that applies: machinery, compile, time, size, crash,
    empty, difference."""
    runs = [ok(), ok(TRACE.replace("1", "9")), RunOutcome(timed_out=True)]
    assert judge(runs, CAPS).reason is DropReason.TIMED_OUT
