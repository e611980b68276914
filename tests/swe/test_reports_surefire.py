"""Maven Surefire reports from a real ``mvn test`` of one small JUnit 5 project (Maven's own
~/.m2 cache keeps the plugins and JUnit after the first run)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from assay.swe.reports import (
    Completeness,
    DisagreementKind,
    TestStatus,
    cross_check,
    parse_surefire_reports,
    read_report_file,
)

pytestmark = pytest.mark.slow

POM = '''<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>calc</artifactId>
  <version>1.0</version>
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter</artifactId>
      <version>5.10.2</version>
      <scope>test</scope>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
      <plugin><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
      <plugin><artifactId>maven-surefire-plugin</artifactId><version>3.2.5</version></plugin>
    </plugins>
  </build>
</project>
'''

CALC = "package com.example;\npublic class Calc { public static int add(int a, int b) " \
       "{ return a + b; } }\n"

CALC_TEST = '''package com.example;
import static org.junit.jupiter.api.Assertions.*;
import org.junit.jupiter.api.*;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CalcTest {
  @Test void adds() { assertEquals(3, Calc.add(1, 2)); }
  @Test void failsOnPurpose() { assertEquals(4, Calc.add(1, 2), "one plus two"); }
  @Test void errors() { throw new IllegalStateException("boom"); }
  @Disabled("not yet") @Test void skipped() {}
  @ParameterizedTest @ValueSource(ints = {1, 2}) void positive(int x) { assertTrue(x > 0); }
  @Nested class Inner { @Test void innerAdds() { assertEquals(2, Calc.add(1, 1)); } }
}
'''

# Fails on its first attempt in a JVM and passes on the rerun.
FLAKY_TEST = '''package com.example;
import static org.junit.jupiter.api.Assertions.*;
import org.junit.jupiter.api.*;

class FlakyTest {
  static int calls = 0;
  @Test void flaky() { calls++; assertTrue(calls > 1, "first attempt"); }
}
'''

EXPECTED = {
    "com.example.CalcTest#adds": TestStatus.PASSED,
    "com.example.CalcTest#failsOnPurpose": TestStatus.FAILED,
    "com.example.CalcTest#errors": TestStatus.ERROR,
    "com.example.CalcTest#skipped": TestStatus.SKIPPED,
    "com.example.CalcTest#positive(int)[1]": TestStatus.PASSED,
    "com.example.CalcTest#positive(int)[2]": TestStatus.PASSED,
    "com.example.CalcTest$Inner#innerAdds": TestStatus.PASSED,
    "com.example.FlakyTest#flaky": TestStatus.PASSED,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mvn")
    files = {"pom.xml": POM, "src/main/java/com/example/Calc.java": CALC,
             "src/test/java/com/example/CalcTest.java": CALC_TEST,
             "src/test/java/com/example/FlakyTest.java": FLAKY_TEST}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _mvn(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mvn", "-B", "-q", "test", *args], cwd=project,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def run(project: Path) -> int:
    done = _mvn(project, "-Dsurefire.rerunFailingTestsCount=1")
    return done.returncode


def test_statuses_ids_and_reruns(project: Path, run: int) -> None:
    report = parse_surefire_reports(project / "target" / "surefire-reports")
    assert report.statuses() == EXPECTED
    assert report.flaky == ["com.example.FlakyTest#flaky"]
    assert report.tests["com.example.FlakyTest#flaky"].attempts == 2
    failed = report.tests["com.example.CalcTest#failsOnPurpose"]
    assert "one plus two" in (failed.message or "")
    assert failed.attempts == 2  # the failure and its rerun
    assert failed.unit == "com.example.CalcTest"
    assert report.tests["com.example.CalcTest#skipped"].message == "not yet"
    assert run == 1
    assert cross_check(report, run) is None
    disagreement = cross_check(report, 0)
    assert disagreement is not None and disagreement.kind is DisagreementKind.FAILED_BUT_EXIT_OK


def test_single_file_and_missing_directory(project: Path, run: int) -> None:
    reports = project / "target" / "surefire-reports"
    one = read_report_file("surefire", reports / "TEST-com.example.FlakyTest.xml")
    assert one.statuses() == {"com.example.FlakyTest#flaky": TestStatus.PASSED}
    assert read_report_file("surefire", reports).statuses() == EXPECTED
    missing = parse_surefire_reports(project / "target" / "no-such-dir")
    assert missing.completeness is Completeness.NOT_RUN


def test_compile_failure_leaves_no_report(project: Path, run: int, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(project, broken, ignore=shutil.ignore_patterns("target"))
    test = broken / "src/test/java/com/example/CalcTest.java"
    test.write_text(test.read_text().replace("Calc.add(1, 2)", "Calc.subtract(1, 2)"))
    done = _mvn(broken)
    report = parse_surefire_reports(broken / "target" / "surefire-reports")
    assert done.returncode == 1
    assert report.completeness is Completeness.NOT_RUN
    assert cross_check(report, done.returncode) is None
