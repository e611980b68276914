"""Python: a venv of the project's dependencies (not of the project itself), then pytest.

The setup stage creates ``/env/venv`` with the host's ``python3`` and installs pytest, the
requirement files it finds (``requirements*.txt``, ``requirements/*.txt``) and the
dependencies the project declares (pyproject.toml / setup.py / setup.cfg) with its test
extras. The project itself is not installed: pip resolves it in a dry run and everything
but the project is installed, so the code under test is always the checkout's, put first on
``sys.path`` through ``PYTHONPATH`` (``/repo`` and ``/repo/src``).

Tests run with pytest, which also runs unittest suites; the report is JUnit XML (xunit1,
which names each test's file) written to ``/report``.
"""

from __future__ import annotations

from pathlib import Path

from assay.swe.env.base import ENV, REPORT, SCRIPT_HEAD, SRC, Ecosystem, TestCommand
from assay.swe.reports import TestReport, read_report_file

PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
_TEST_EXTRAS = ("test", "tests", "testing", "dev")

# Dependencies of the project from a dry run's report (JSON on stdin), minus the project.
_DEPENDENCIES = r"""
import json, sys
report = json.load(sys.stdin)
for item in report.get("install", []):
    url = item.get("download_info", {}).get("url", "")
    if url.startswith("file://"):
        continue  # the project itself (and local paths)
    meta = item["metadata"]
    print(f"{meta['name']}=={meta['version']}")
"""


class Python(Ecosystem):
    name = "python"
    toolchains = ("python",)
    definition_globs = (*PROJECT_FILES, "requirements*.txt", "requirements/*.txt")

    def detect(self, tree: Path) -> bool:
        # Project files at the root only: a test_*.py deep in a Go or JS tree (a helper
        # script's tests) does not make it a Python project.
        return any((tree / name).is_file() for name in PROJECT_FILES) or bool(
            list(tree.glob("requirements*.txt"))) or bool(list(tree.glob("test_*.py")))

    def setup_script(self, tree: Path) -> str:
        requirements = sorted(p for p in self.definition_files(tree) if p.endswith(".txt"))
        lines = [SCRIPT_HEAD + "set -e",
                 f"python3 -m venv {ENV}/venv",
                 f'PIP="{ENV}/venv/bin/python -m pip --disable-pip-version-check '
                 '--no-input --no-cache-dir"',
                 "$PIP install -q pytest",
                 f"cd {SRC}"]
        lines += [f"$PIP install -q -r {r}" for r in requirements]
        if any((tree / name).is_file() for name in PROJECT_FILES):
            # The first extras spelling pip accepts; unknown extras only warn, so try the
            # test extras together first.
            extras = ",".join(_TEST_EXTRAS)
            plan = "$PIP install -q --dry-run --ignore-installed --report /tmp/plan.json"
            lines += [
                f'{plan} ".[{extras}]" || {plan} .',
                f"{ENV}/venv/bin/python -c {_quoted(_DEPENDENCIES)} < /tmp/plan.json "
                "> /tmp/deps.txt",
                "if [ -s /tmp/deps.txt ]; then $PIP install -q -r /tmp/deps.txt; fi"]
        lines.append(f"{ENV}/venv/bin/python -m pip list --format=freeze > {ENV}/freeze.txt")
        return "\n".join(lines) + "\n"

    def test_command(self, tree: Path) -> TestCommand:
        script = (SCRIPT_HEAD
                  + f"{ENV}/venv/bin/python -m pytest -p no:cacheprovider -rN -q "
                  f"--junitxml={REPORT}/junit.xml -o junit_family=xunit1 "
                  "--continue-on-collection-errors\n")
        env = {"PYTHONPATH": "/repo/src:/repo", "PYTHONDONTWRITEBYTECODE": "1"}
        # pytest exits 1 when tests failed; 0 when all passed.
        return TestCommand(script=script, env=env, files={})

    def read_report(self, report_dir: Path, output: str, checkout: Path) -> TestReport:
        return read_report_file("pytest", report_dir / "junit.xml", root=checkout)


def _quoted(code: str) -> str:
    return "'" + code.replace("'", "'\"'\"'") + "'"
