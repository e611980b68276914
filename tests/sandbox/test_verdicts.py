"""The verdict is a pure function of what the supervisor saw."""

import signal

from assay.sandbox import Limits, Verdict
from assay.sandbox.supervisor import RawExit
from assay.sandbox.verdicts import classify

LIMITS = Limits(cpu_s=2.0)


def test_clean_exit_is_ok() -> None:
    result = classify(RawExit(exit_code=0, stdout=b"hi\n"), LIMITS)
    assert result.verdict is Verdict.OK
    assert result.stdout == "hi\n"


def test_non_zero_exit_is_runtime_error() -> None:
    assert classify(RawExit(exit_code=3), LIMITS).verdict is Verdict.RUNTIME_ERROR


def test_signal_reported_through_an_init_as_128_plus_n_is_decoded() -> None:
    result = classify(RawExit(exit_code=128 + signal.SIGSEGV, signal_in_exit_code=True), LIMITS)
    assert (result.verdict, result.signal, result.exit_code) == (
        Verdict.RUNTIME_ERROR, signal.SIGSEGV, None)


def test_high_exit_code_is_kept_without_an_init() -> None:
    result = classify(RawExit(exit_code=139), LIMITS)
    assert (result.exit_code, result.signal) == (139, None)


def test_limits_take_precedence_over_the_crash_they_caused() -> None:
    killed = RawExit(signal=signal.SIGKILL)
    assert classify(RawExit(signal=9, killed_for="output"), LIMITS).verdict is Verdict.OUTPUT_LIMIT
    assert classify(RawExit(signal=9, killed_for="wall_time"), LIMITS).verdict is Verdict.TIME_LIMIT
    oom = RawExit(signal=9, oom_killed=True)
    assert classify(oom, LIMITS).verdict is Verdict.MEMORY_LIMIT
    assert classify(killed, LIMITS).verdict is Verdict.RUNTIME_ERROR


def test_cpu_rlimit_signal_is_a_time_limit() -> None:
    result = classify(RawExit(signal=signal.SIGXCPU), LIMITS)
    assert (result.verdict, result.limit_exceeded) == (Verdict.TIME_LIMIT, "cpu_time")


def test_file_size_signal_is_an_output_limit() -> None:
    result = classify(RawExit(signal=signal.SIGXFSZ), LIMITS)
    assert (result.verdict, result.limit_exceeded) == (Verdict.OUTPUT_LIMIT, "file_size")


def test_runtime_out_of_memory_report_is_a_memory_limit_only_on_failure() -> None:
    raw = RawExit(exit_code=1, stderr=b"Traceback ...\nMemoryError\n")
    assert classify(raw, LIMITS, ("MemoryError",)).verdict is Verdict.MEMORY_LIMIT
    printed = RawExit(exit_code=0, stderr=b"MemoryError\n")
    assert classify(printed, LIMITS, ("MemoryError",)).verdict is Verdict.OK


def test_machinery_failure_is_sandbox_error_with_reason() -> None:
    result = classify(RawExit(exit_code=1, error="sandbox setup failed: no such dir"), LIMITS)
    assert result.verdict is Verdict.SANDBOX_ERROR
    assert result.error is not None and "no such dir" in result.error


def test_process_limit_is_named_when_hit() -> None:
    result = classify(RawExit(exit_code=1, pids_limit_hit=True), LIMITS)
    assert (result.verdict, result.limit_exceeded) == (Verdict.RUNTIME_ERROR, "processes")


def test_invalid_utf8_output_is_replaced_not_fatal() -> None:
    result = classify(RawExit(exit_code=0, stdout=b"\xff\xfeok"), LIMITS)
    assert result.stdout.endswith("ok")
