"""Java with Maven: the dependencies and plugins go into a local repository in the
environment, and ``mvn -o test`` runs the checkout's tests against it.

Setup (``/env/m2`` is the local repository, ``-Dmaven.repo.local``), in two builds:

1. ``dependency:go-offline`` resolves the dependencies of every module and the plugins of
   its build. Its failure (an artifact that does not exist, a registry down, a broken pom)
   fails the setup: no test run could work offline.
2. ``mvn test`` with a test filter that matches no method (``-Dtest=*#...``): Surefire
   resolves its provider (surefire-junit-platform, -junit4, -testng) only when it is about
   to run tests, and ``-DskipTests`` stops before that, so the filter lets it resolve and
   fork while running nothing. The project may not compile at this state; that is the
   test stage's business and does not fail the setup, but a download failure in this build
   (its log names an artifact that could not be resolved) does. A module that did not
   compile here did not get its provider: its tests will not run offline either.

Maven is the host's (3.8.7) and so is its Java; a project's ``mvnw`` is not used (it
would download Maven). ``.mvn/extensions.xml`` and ``.mvn/maven.config`` change what is
resolved, so they define the environment with the poms.

Test: ``mvn -B -o test`` with the repository read-only (Maven 3.8 offline writes nothing to
its local repository: no ``_remote.repositories`` update, no ``*.lastUpdated``; measured,
so no overlay is needed) and ``--fail-at-end``, so that a module whose tests fail does not
keep the modules independent of it from running. Maven exits 1 for a test failure and for
a compile error alike: the report tells them apart. Each module's
``target/surefire-reports/TEST-*.xml`` is copied to ``/report/surefire/<module dir>/`` and
the modules' reports are read as one. A module that failed outside its tests (did not
compile, its forked JVM crashed) or was skipped because a module it depends on failed is
a unit failure, read from Maven's ``Failed to execute goal`` lines and reactor summary:
without it a multi-module run where one module did not compile would look all passed.
"""

from __future__ import annotations

import re
from pathlib import Path

from assay.swe.env.base import ENV, REPORT, SCRIPT_HEAD, SRC, Ecosystem, TestCommand
from assay.swe.reports import TestReport, parse_junit_files
from assay.swe.reports.base import Completeness, clip, not_run

M2 = f"{ENV}/m2"
# Batch mode, no download progress, no colour codes in the logs.
MVN = f"mvn -B -ntp -Dstyle.color=never -Dmaven.repo.local={M2}"
# A pinned plugin: Maven 3.8's default (2.8) tries to download the reactor's own modules.
GO_OFFLINE = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:go-offline"
# Surefire runs and resolves its provider, but no test method is called this.
NO_TEST = ("-Dtest='*#assay_resolve_only' -Dsurefire.failIfNoSpecifiedTests=false "
           "-DfailIfNoTests=false")
# What Maven says when an artifact could not be had (not a compile error).
_DOWNLOAD_FAILED = (r"Could not (resolve|transfer|find artifact)|could not be resolved|"
                    r"Failed to read artifact descriptor|Non-resolvable|Unresolveable|"
                    r"Cannot access \S+ in offline mode")
_FAILED_GOAL = re.compile(r"^\[ERROR\] Failed to execute goal (\S+) \([^)]*\) on project "
                          r"([^:\s]+): (.*)$", re.MULTILINE)
_SKIPPED = re.compile(r"^\[INFO\] (\S.*?) \.+ SKIPPED\s*$", re.MULTILINE)
# When the build stopped before Surefire: a compiled empty test class in every module, and
# Surefire alone on it, which resolves the providers all the same (best effort: a module
# whose dependencies in the reactor did not build cannot resolve its test classpath).
_PROBE = f"""probe() {{
  mkdir -p /tmp/probe && echo 'public class AssayProbeTest {{}}' > /tmp/probe/AssayProbeTest.java
  javac -d /tmp/probe /tmp/probe/AssayProbeTest.java || return
  find . -name pom.xml -not -path '*/target/*' | while IFS= read -r pom; do
    classes="$(dirname "$pom")/target/test-classes"
    mkdir -p "$classes" && cp /tmp/probe/AssayProbeTest.class "$classes/"
  done
  {MVN} -q -fae surefire:test {NO_TEST.replace("*#", "AssayProbeTest#")} > /tmp/probe.log 2>&1 \\
    || tail -c 3000 /tmp/probe.log
}}
"""
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TEST_FAILURES = "There are test failures"  # Surefire's: the tests' report says which


class Java(Ecosystem):
    name = "java"
    toolchains = ("java",)
    definition_globs = ("**/pom.xml", ".mvn/extensions.xml", ".mvn/maven.config")

    def detect(self, tree: Path) -> bool:
        pom = tree / "pom.xml"
        return pom.is_file() and not pom.is_symlink()

    def definition_files(self, tree: Path) -> list[str]:
        # Build output (a committed target/ holds copies of poms) defines nothing.
        return [f for f in super().definition_files(tree)
                if "target" not in Path(f).parts[:-1]]

    def setup_script(self, tree: Path) -> str:
        return SCRIPT_HEAD + _PROBE + f"""cd {SRC} || exit 1
echo "+ dependency:go-offline"
{MVN} -q {GO_OFFLINE} || {{ echo "assay: resolving the dependencies failed"; exit 1; }}
echo "+ mvn test (no test selected: resolves the test providers)"
{MVN} -q -fae test {NO_TEST} > /tmp/build.log 2>&1
code=$?
tail -c 15000 /tmp/build.log
if [ "$code" -ne 0 ]; then
  if grep -Eq '{_DOWNLOAD_FAILED}' /tmp/build.log; then
    echo "assay: a download failed"; exit 1
  fi
  echo "assay: the project does not build at this state; a probe test class instead"
  probe
fi
exit 0
"""

    def test_command(self, tree: Path) -> TestCommand:
        script = SCRIPT_HEAD + f"""# Reports in the tree (committed) must not pass for this run's.
find . -path '*/target/surefire-reports' -type d -prune -exec rm -rf {{}} +
{MVN} -o -fae test -Dmaven.test.failure.ignore=false
code=$?
find . -path '*/target/surefire-reports' -type d -prune -print | while IFS= read -r dir; do
  module="${{dir%/target/surefire-reports}}"
  mkdir -p "{REPORT}/surefire/$module" && cp "$dir"/TEST-*.xml "{REPORT}/surefire/$module/"
done 2>/dev/null
exit "$code"
"""
        # Maven exits 1 for failing tests and for a build that failed before them.
        return TestCommand(script=script, env={}, files={}, ok_codes=(0,))

    def read_report(self, report_dir: Path, output: str, checkout: Path) -> TestReport:
        paths = sorted((report_dir / "surefire").rglob("TEST-*.xml"))
        report = (parse_junit_files(paths, style="surefire") if paths
                  else not_run("junit", "no TEST-*.xml in any module's target/surefire-reports"))
        failures = module_failures(output)
        if not failures:
            return report
        completeness = (report.completeness if report.completeness is Completeness.NOT_RUN
                        else Completeness.PARTIAL)
        return report.model_copy(update={"unit_failures": {**report.unit_failures, **failures},
                                         "completeness": completeness})


def module_failures(output: str) -> dict[str, str]:
    """Modules that failed outside their tests (``Failed to execute goal`` other than
    Surefire's test failures) or were skipped, by Maven's name for them. Tests can print
    such lines too, but that only makes their own run look failed."""
    output = _ANSI.sub("", output)  # Maven 3.8 writes colour resets even when told not to
    failures: dict[str, str] = {}
    for match in _FAILED_GOAL.finditer(output):
        goal, module, why = match.groups()
        if _TEST_FAILURES not in why:
            failures[module] = clip(f"{goal}: {why}") or goal
    for match in _SKIPPED.finditer(output):
        failures.setdefault(match.group(1), "skipped: a module it depends on failed")
    return failures
