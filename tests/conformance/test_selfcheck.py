"""The whole conformance suite passes on the real bwrap backend (as `make run` shows)."""

import pytest

from assay.conformance import run_selfcheck
from assay.conformance.host import HostBait
from assay.conformance.suite import hostile_cases
from assay.sandbox import Sandbox


@pytest.mark.slow
@pytest.mark.parametrize("path", ["warm", "cold"])
def test_every_selfcheck_row_passes(sandbox: Sandbox, sandbox_cold: Sandbox, path: str) -> None:
    """On both paths: Python runs forked from warm executors, and every run in a new sandbox."""
    box = sandbox if path == "warm" else sandbox_cold
    pool = getattr(box, "warm_pool", None)
    assert (pool is not None) == (path == "warm")
    jobs = pool.jobs if pool is not None else 0
    rows = run_selfcheck(box)
    failed = [f"{r.language} {r.name}: {r.detail}" for r in rows if not r.passed]
    assert failed == []
    languages = {r.language for r in rows if r.name == "hello"}
    assert len(languages) == 11
    assert {r.name for r in rows if r.language == "host"} >= {
        "no leftover processes", "no leftover files", "no leftover cgroups"}
    if pool is not None:  # the Python rows really ran warm
        python_rows = sum(1 for r in rows if r.language == "python")
        assert pool.jobs - jobs >= python_rows and pool.replaced == 0


def test_hostile_cases_cover_what_the_issue_lists() -> None:
    with HostBait() as bait:
        cases = hostile_cases(bait, ["python", "java", "go", "javascript", "c", "bash"])
    names = {(c.name, c.language) for c in cases}
    for language in ("python", "java", "go", "javascript", "c"):
        assert ("memory hog", language) in names
    for name in ("fork bomb", "stdout flood", "network connect", "write outside work dir",
                 "read /root and parent env", "daemonised child", "kill parent process group"):
        assert any(n == name for n, _ in names), name


def test_selfcheck_reports_a_missing_toolchain_as_a_failure(sandbox: Sandbox) -> None:
    rows = run_selfcheck(sandbox, ["cobol"])
    assert rows[0].passed is False and "unknown language" in rows[0].detail
