"""Bash unit tests: test* functions, each passing when it returns 0."""

from __future__ import annotations

from assay.harness.base import ScriptUnitHarness, register_harness


@register_harness
class BashUnitHarness(ScriptUnitHarness):
    """Runs each ``test*`` function of the tests (named by the function) in a new bash,
    after sourcing the solution and the tests, under a per-test ``timeout``.

    A test file without such functions that runs commands at its top level is one test,
    ``tests.sh``, passing when sourcing it ends with status 0.
    """

    languages = ("bash",)
    runner_file = "bash_unit.sh"
    extension = "sh"
