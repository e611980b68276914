"""The report protocol between a test runner inside the sandbox and the harness outside.

A runner writes JSON lines to its report fd (``ASSAY_REPORT_FD``), never to stdout, so
printing cannot forge a result:

    {"collect": ["test_a", "test_b"]}           the tests it found (optional)
    {"start": "test_a"}                         before running a test
    {"result": "test_a", "status": "PASS", "message": "", "time": 0.01}
    {"fatal": "the test file does not parse: ..."}   nothing can run
    {"done": true}                              after the last test

A runner that verifies several solutions in one run (a batch) writes ``{"job": N}`` before
the events of its N-th solution, or all of them on one line: ``{"job": N, "events": [...]}``.

A runner invoked with test names runs only those (the harness restarts it that way after a
crash). A line that is not one of these is ignored and counted as noise.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from assay.data.records import Status, TestOutcome

_RUNNER_STATUSES = {Status.PASS, Status.FAIL, Status.ERROR, Status.TIMEOUT}


@dataclass
class RunnerReport:
    collected: list[str] | None = None
    results: dict[str, TestOutcome] = field(default_factory=dict)
    started: str | None = None  # the test that started and has no result yet
    fatal: str | None = None
    done: bool = False
    noise_lines: int = 0


def parse_report(text: str | None) -> RunnerReport:
    return events_report(_decode(line) for line in (text or "").splitlines())


def events_report(events: Iterable[object]) -> RunnerReport:
    """The report of a sequence of decoded events (``_NOISE`` for lines that were not JSON)."""
    report = RunnerReport()
    for event in events:
        if not isinstance(event, dict):
            report.noise_lines += 1
        elif "collect" in event and isinstance(event["collect"], list):
            report.collected = [str(name) for name in event["collect"]]
        elif "start" in event:
            report.started = str(event["start"])
        elif "result" in event:
            name = str(event["result"])
            report.results[name] = _outcome(name, event)
            if report.started == name:
                report.started = None
        elif "fatal" in event:
            report.fatal = str(event["fatal"])
        elif event.get("done") is True:
            report.done = True
        else:
            report.noise_lines += 1
    return report


def parse_batch_report(text: str | None) -> dict[int, RunnerReport]:
    """Job index -> its report, for runners that verify a batch of solutions in one run."""
    sections: dict[int, list[object]] = {}
    current: list[object] | None = None
    for line in (text or "").splitlines():
        event = _decode(line)
        job = event.get("job") if isinstance(event, dict) else None
        if isinstance(event, dict) and isinstance(job, int) and not isinstance(job, bool) \
                and set(event) <= {"job", "events"}:
            current = sections.setdefault(job, [])
            events = event.get("events")
            if isinstance(events, list):
                current.extend(events)
        elif current is not None:
            current.append(event)
    return {job: events_report(events) for job, events in sections.items()}


_NOISE = object()


def _decode(line: str) -> object:
    try:
        return json.loads(line)
    except ValueError:
        return _NOISE


def _outcome(name: str, event: dict[str, object]) -> TestOutcome:
    status_text = str(event.get("status", ""))
    message = str(event.get("message") or "")
    try:
        status = Status(status_text)
    except ValueError:
        status = Status.ERROR
        message = f"runner reported an unknown status {status_text!r}: {message}"
    if status not in _RUNNER_STATUSES:  # only the harness may say INFRA
        status, message = Status.ERROR, f"runner reported {status_text}: {message}"
    time_value = event.get("time", 0.0)
    time_s = float(time_value) if isinstance(time_value, (int, float)) else 0.0
    return TestOutcome(name=name, status=status, message=message, time_s=time_s)
