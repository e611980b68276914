"""PHP unit tests: test_* functions, or the asserting top-level statements and calls."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assay.harness.base import Harness, HarnessTask, register_harness, runner_source
from assay.sandbox import RunSpec
from assay.sandbox.languages.base import WORK_DIR

# Debian's php.ini turns assert() off for good (zend.assertions=-1 cannot be undone at run
# time): this ini file, read at start-up through PHP_INI_SCAN_DIR, turns it back on. The
# leading ":" keeps the system's own scan dir (its extensions) in the list.
INI_FILE = "php.d/assay.ini"
INI = """\
zend.assertions = 1
assert.exception = 1
error_reporting = E_ALL
display_errors = stderr
log_errors = 0
"""
_OPEN_TAG = re.compile(r"\A(#![^\n]*\n)?\s*<\?(php|=)", re.IGNORECASE)


def with_open_tag(code: str) -> str:
    """PHP source as given, or with ``<?php`` put before it (on its first line, so that
    line numbers stay true) when it does not open PHP mode itself."""
    return code if _OPEN_TAG.match(code) else "<?php " + code


@register_harness
class PhpUnitHarness(Harness):
    """Runs each test in its own forked PHP process.

    Tests are the ``test_*`` functions of the file (named by the function); without them,
    each top-level statement that asserts (``assert:LINE``), with a call such as ``test();``
    of an asserting function split into that function's asserting statements
    (``test:LINE``).
    """

    kind = "unit"
    languages = ("php",)

    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        suite = task.suite
        tests = with_open_tag(suite.code)
        if suite.prelude:
            tests = with_open_tag(suite.prelude) + "\n" + _without_open_tag(tests)
        files = {"runner.php": runner_source("php_unit.php"),
                 "solution.php": with_open_tag(task.code), "tests.php": tests, INI_FILE: INI}
        env = {**self.runner_env(task), "PHP_INI_SCAN_DIR": f":{WORK_DIR}/php.d"}
        return RunSpec(language="php", files=files, entry="runner.php", argv=tuple(only),
                       env=env, report=True, limits=self.limits(task, len(only) or 50))


def _without_open_tag(code: str) -> str:
    """The code after its opening ``<?php``, which goes on as PHP after the prelude."""
    match = _OPEN_TAG.match(code)
    return code[match.end():] if match else code
