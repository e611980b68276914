"""``cargo test`` output: libtest's pretty format, one block per test binary.

Ids are libtest's test names, what ``cargo test NAME`` filters on: ``tests::adds``,
``it_adds`` (an integration test file), ``src/lib.rs - add (line 3)`` (a doc test), with the
display suffixes `` - should panic`` / `` - compile fail`` / `` - compile`` dropped. The
binary (``unittests src/lib.rs [calc]``, ``tests/it.rs [it]``, ``Doc-tests calc``) is each
result's ``unit``; a name found in two binaries is one id, merged by worst-wins and listed
in ``duplicates``.

Give it stdout and stderr merged (``2>&1``): cargo's ``Running`` lines, compile errors and
crash notices are on stderr. Run ``cargo test --no-fail-fast`` (else cargo stops at the first
failing binary) and without ``-q`` (terse output has no names).

Careful parsing, since tests can write to stdout around libtest's lines:
- a result line may carry a test's output in front (``raw outputtest a ... ok``): the name
  is taken from the first ``test `` that is followed by a well-formed name;
- ``test a ... `` followed by anything but a result is pending; a later line that is only
  a result settles it (``--nocapture`` / ``--test-threads=1`` output);
- captured output of failing tests (``---- a stdout ----`` sections) is never parsed as
  results; it becomes the failed test's message;
- a ``test result:`` line ends a block only if its counts add up to the block's ``running N
  tests`` (printed before any test ran) and reconcile with the results read, the
  ``failures:`` list (authoritative for FAILED) applied and pending tests counted as passed.
  One that only adds up is kept in reserve and used if no better one comes before the next
  binary: then pending tests are ERROR and the report is PARTIAL;
- a binary that ends without ``test result:`` (abort, segfault, stream cut) is a unit
  failure; its pending tests are ERROR. ``could not compile`` is a unit failure too.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from assay.swe.reports.base import ReportBuilder, TestReport, TestStatus, as_text, read_report

FORMAT = "cargo-test"
_SUFFIXES = (" - should panic", " - compile fail", " - compile")
_DOC_NAME = re.compile(r"^\S.* - .*\(line \d+\)$")
_RUNNING_BINARY = re.compile(r"^\s*Running (.+?)(?: \((?:.*/)?([^/()]+?)(?:-[0-9a-f]{8,})?"
                             r"(?:\.exe)?\))?$")
_DOC_TESTS = re.compile(r"^\s*Doc-tests (\S+)$")
_RUNNING_N = re.compile(r"^running (\d+) tests?$")
_SUMMARY = re.compile(r"test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored;"
                      r" (\d+) measured; (\d+) filtered out")
_CAPTURE = re.compile(r"^---- (.+?) std(?:out|err) ----$")
_LISTED = re.compile(r"^    (\S.*)$")
_CRASH = re.compile(r"process didn't exit successfully: .*$")
_NO_COMPILE = re.compile(r"^error: could not compile (`[^`]+`(?: \([^)]*\))?)")


def _status(result: str) -> TestStatus | None:
    result = result.strip()
    if result == "ok":
        return TestStatus.PASSED
    if result == "FAILED":
        return TestStatus.FAILED
    if result == "ignored" or result.startswith("ignored, "):
        return TestStatus.SKIPPED
    return None


def _result_line(line: str) -> tuple[str, str] | None:
    """(name, what follows ``...``) of a result line, tolerating output in front of it."""
    for match in re.finditer("test ", line):
        rest = line[match.end():]
        cut = rest.find(" ... ")
        if cut < 0:
            return None
        name = rest[:cut]
        for suffix in _SUFFIXES:
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                break
        if name and (not any(c.isspace() for c in name) or _DOC_NAME.match(name)):
            return name, rest[cut + 5:]
    return None


def _summary(line: str, block: _Block) -> tuple[int, int, int] | None:
    """(passed, failed, ignored) of a ``test result:`` line that fits the block.

    Its counts must add up to the block's ``running N tests``, which libtest prints before
    any test runs: a summary that a test printed (``--nocapture``) rarely does.
    """
    found = _SUMMARY.search(line)
    if found is None:
        return None
    passed, failed, ignored, measured, _ = (int(x) for x in found.groups())
    if passed + failed + ignored + measured != block.expected:
        return None
    return passed, failed, ignored


@dataclass
class _Block:
    unit: str
    expected: int
    results: dict[str, TestStatus] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)
    named: int = 0  # result lines read, settled or not
    captured: dict[str, list[str]] = field(default_factory=dict)
    capture: str | None = None
    region: bool = False
    listing: list[str] | None = None
    lists: dict[str, list[str]] = field(default_factory=dict)
    # A summary that fit the total but not the results: used if no better one follows.
    fallback: tuple[int, int, int] | None = None
    fallback_lists: dict[str, list[str]] = field(default_factory=dict)

    def use_fallback(self) -> tuple[int, int, int] | None:
        """The fallback summary, with the name lists as they stood when it came."""
        if self.fallback is not None:
            self.lists = self.fallback_lists
        return self.fallback

    def settled(self) -> tuple[dict[str, TestStatus], list[str]]:
        """Results and still-pending names once the ``failures:`` list is applied."""
        failures = self.lists.get("failures", [])
        results = {**self.results, **dict.fromkeys(failures, TestStatus.FAILED)}
        return results, [name for name in self.pending if name not in failures]

    def reconciles(self, counts: tuple[int, int, int]) -> bool:
        """Whether the summary's counts fit the results, pending tests counted as passed."""
        results, pending = self.settled()
        tally = list(results.values())
        return (tally.count(TestStatus.PASSED) + len(pending), tally.count(TestStatus.FAILED),
                tally.count(TestStatus.SKIPPED)) == counts


def parse_cargo_test(data: str | bytes) -> TestReport:
    """Parse ``cargo test`` output (stdout and stderr merged).

    Args:
        data: The output.

    Returns:
        The report.
    """
    parser = _Parser()
    for line in as_text(data).splitlines():
        parser.line(line.rstrip("\r"))
    return parser.finish()


def read_cargo_test(path: Path) -> TestReport:
    """Parse a file holding ``cargo test`` output; missing or empty did not run."""
    return read_report(path, FORMAT, parse_cargo_test)


def _starts_binary(line: str) -> bool:
    return bool(_RUNNING_BINARY.match(line) or _DOC_TESTS.match(line)
                or _RUNNING_N.match(line.strip()))


class _Parser:
    def __init__(self) -> None:
        self.builder = ReportBuilder(FORMAT)
        self.block: _Block | None = None
        self.unit: str | None = None
        self.binaries = 0
        self.recent: deque[str] = deque(maxlen=30)

    def line(self, line: str) -> None:
        block = self.block
        if block is not None and block.fallback is not None and _starts_binary(line):
            # The next binary begins: the best summary seen has to do.
            self.close(block, counts=block.use_fallback())
            block = None
        if block is None:
            self.outside(line)
            return
        crash = _CRASH.search(line)
        if crash:
            self.close(block, crashed=crash.group(0))
            return
        if block.region:
            self.in_region(block, line)
            return
        if line.strip() in ("failures:", "successes:"):
            block.region = True
            self.in_region(block, line)
            return
        if self.summary(block, line):
            return
        found = _result_line(line)
        if found:
            name, result = found
            block.named += 1
            status = _status(result)
            if status is None:
                if not result.strip().startswith("bench:"):
                    block.pending.append(name)
            else:
                block.results[name] = status
        elif block.pending and _status(line) is not None:
            block.results[block.pending.pop(0)] = _status(line) or TestStatus.ERROR

    def summary(self, block: _Block, line: str) -> bool:
        """Close the block on a summary that fits it; keep one that only fits its total."""
        counts = _summary(line, block)
        if counts is None:
            return False
        if block.reconciles(counts):
            self.close(block, counts=counts)
            return True
        block.fallback = counts
        block.fallback_lists = {kind: list(names) for kind, names in block.lists.items()}
        return False

    def in_region(self, block: _Block, line: str) -> None:
        stripped = line.strip()
        if stripped in ("failures:", "successes:"):
            # The capture stays open: captured output may hold such a line too.
            block.listing = block.lists[stripped[:-1]] = []
            return
        capture = _CAPTURE.match(line)
        if capture:
            block.capture, block.listing = capture.group(1), None
            block.lists.clear()  # a list is only valid when nothing follows it
            block.captured.setdefault(block.capture, [])
            return
        if block.listing is not None and self.summary(block, line):
            return
        listed = _LISTED.match(line)
        if block.listing is not None and (listed or not stripped):
            if listed:
                block.listing.append(listed.group(1))
            return
        block.listing = None
        block.lists.clear()
        if block.capture is not None:
            block.captured[block.capture].append(line)

    def outside(self, line: str) -> None:
        binary = _RUNNING_BINARY.match(line)
        doc = _DOC_TESTS.match(line)
        running = _RUNNING_N.match(line.strip())
        if binary:
            what, stem = binary.groups()
            self.unit = f"{what} [{stem}]" if stem else what
        elif doc:
            self.unit = f"Doc-tests {doc.group(1)}"
        elif running:
            self.binaries += 1
            self.block = _Block(self.unit or f"binary {self.binaries}", int(running.group(1)))
            self.unit = None
        elif (failed := _NO_COMPILE.match(line)) is not None:
            errors = [x for x in self.recent if x.startswith(("error", " -->"))]
            self.builder.unit_failure(f"build {failed.group(1)}",
                                      "\n".join([*errors, line]))
        else:
            found = _result_line(line)
            if found and _status(found[1]) is not None:
                self.builder.error(f"a result line outside any test binary's block: {line[:120]}")
        self.recent.append(line)

    def close(self, block: _Block, *, counts: tuple[int, int, int] | None = None,
              crashed: str | None = None) -> None:
        self.block = None
        results, pending = block.settled()
        pending_status = TestStatus.ERROR
        if counts is not None:
            passed, failed, ignored = counts
            tally = list(results.values())
            if block.reconciles(counts):
                pending_status = TestStatus.PASSED
            elif not block.named and passed + failed + ignored:
                self.builder.error(f"{block.unit}: no test names (terse output? run "
                                   "without -q)")
            else:
                self.builder.error(
                    f"{block.unit}: read {tally.count(TestStatus.PASSED)} passed, "
                    f"{tally.count(TestStatus.FAILED)} failed, "
                    f"{tally.count(TestStatus.SKIPPED)} ignored, {len(pending)} unsettled; "
                    f"the summary says {passed} passed, {failed} failed, {ignored} ignored")
        else:
            self.builder.unit_failure(
                block.unit, crashed or "the test binary ended without a summary")
        for name, status in results.items():
            message = "\n".join(block.captured.get(name, [])) or None
            self.builder.add(name, status, message=message, unit=block.unit)
        for name in pending:
            self.builder.add(name, pending_status, unit=block.unit, message=(
                None if pending_status is TestStatus.PASSED
                else f"no result: {crashed or 'unsettled result line'}"))

    def finish(self) -> TestReport:
        if self.block is not None:
            counts = self.block.use_fallback()
            self.close(self.block, counts=counts, crashed=None if counts else
                       "output ended inside a test binary's run")
        return self.builder.build()
