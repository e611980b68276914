"""The Java ecosystem for real: a Maven project with JUnit 5 from Maven Central, set up in
the bwrap sandbox with network (into a local repository of its own), its tests run offline
against that repository mounted read-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.sandbox import Sandbox
from assay.swe.env.cache import Environment, Environments
from assay.swe.env.java import Java, module_failures
from assay.swe.reports import Completeness, TestStatus
from assay.swe.runs import TestRun, run_tests

pytestmark = pytest.mark.slow

DEPENDENCY = """    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter</artifactId>
      <version>5.14.1</version>
      <scope>test</scope>
    </dependency>"""
MISSING = """    <dependency>
      <groupId>org.example.assay</groupId>
      <artifactId>assay-no-such-artifact-5c1d</artifactId>
      <version>1.0.0</version>
    </dependency>"""
POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>calc</artifactId>
  <version>1.0.0</version>
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
{dependencies}
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-compiler-plugin</artifactId>
        <version>3.13.0</version>
      </plugin>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-surefire-plugin</artifactId>
        <version>3.5.4</version>
      </plugin>
    </plugins>
  </build>
</project>
"""
CALC = """package com.example;

public class Calc {
    public static int add(int a, int b) { return a + b; }
}
"""
CALC_TEST = """package com.example;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CalcTest {
    @Test void adds() { assertEquals(5, Calc.add(2, 3)); }
    @Test void fails() { assertEquals(5, Calc.add(2, 2)); }
}
"""
SOURCE = "src/main/java/com/example/Calc.java"
TEST = "src/test/java/com/example/CalcTest.java"


def write(tree: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(content)
    return tree


def project(tree: Path, dependencies: str = DEPENDENCY, source: str = CALC) -> Path:
    return write(tree, {"pom.xml": POM.format(dependencies=dependencies), SOURCE: source,
                        TEST: CALC_TEST})


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return project(tmp_path_factory.mktemp("java-project"))


@pytest.fixture(scope="module")
def environments(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Environments:
    return Environments(sandbox, root=tmp_path_factory.mktemp("java") / "envs")


@pytest.fixture(scope="module")
def environment(environments: Environments, tree: Path) -> Environment:
    return environments.ensure(Java(), tree)


@pytest.fixture(scope="module")
def run(sandbox: Sandbox, environment: Environment, tree: Path) -> TestRun:
    assert environment.ready, environment.log
    return run_tests(sandbox, Java(), environment, tree)


def test_detects_a_pom_at_the_root(tree: Path, tmp_path: Path) -> None:
    assert Java().detect(tree)
    assert not Java().detect(write(tmp_path / "a", {"sub/pom.xml": POM}))
    multi = write(tmp_path / "b", {"pom.xml": POM, "core/pom.xml": POM,
                                   "core/target/classes/META-INF/pom.xml": POM,
                                   ".mvn/extensions.xml": "<extensions/>"})
    assert Java().definition_files(multi) == [".mvn/extensions.xml", "core/pom.xml",
                                              "pom.xml"]
    (multi / "linked").symlink_to(tmp_path / "a" / "sub", target_is_directory=True)
    (multi / ".mvn" / "extensions.xml").unlink()
    (multi / ".mvn").rmdir()
    (multi / ".mvn").symlink_to(tmp_path / "a" / "sub", target_is_directory=True)
    write(tmp_path / "a", {"sub/extensions.xml": "<extensions/>"})
    assert Java().definition_files(multi) == ["core/pom.xml", "pom.xml"]


def test_setup_is_ready_then_reused(environments: Environments, environment: Environment,
                                    tree: Path) -> None:
    assert environment.ready and not environment.reused, environment.log
    provider = environment.path / "m2/org/apache/maven/surefire/surefire-junit-platform"
    assert provider.is_dir()  # resolved online, though no test ran in the setup
    again = environments.ensure(Java(), tree)
    assert again.ready and again.reused and again.seconds == 0.0
    assert again.path == environment.path


def test_run_reports_each_test_offline(run: TestRun) -> None:
    assert run.report.statuses() == {"com.example.CalcTest#adds": TestStatus.PASSED,
                                     "com.example.CalcTest#fails": TestStatus.FAILED}, run.log
    assert run.report.completeness is Completeness.COMPLETE
    assert run.exit_code == 1  # Maven: the build failed (here: a test)
    assert run.disagreement is None
    assert "surefire/TEST-com.example.CalcTest.xml" in run.raw_report


def test_a_compile_error_is_a_unit_failure_not_a_test_result(
        sandbox: Sandbox, environments: Environments, environment: Environment,
        tmp_path: Path) -> None:
    broken = project(tmp_path, source=CALC.replace("a + b;", "a + ;"))
    # Same pom, same environment.
    assert environments.ensure(Java(), broken).path == environment.path
    run = run_tests(sandbox, Java(), environment, broken)
    assert run.report.completeness is Completeness.NOT_RUN
    assert "Compilation failure" in run.report.unit_failures["calc"]
    assert run.exit_code == 1
    assert run.disagreement is None


def test_a_missing_dependency_fails_the_setup_with_its_log(environments: Environments,
                                                           tmp_path: Path) -> None:
    broken = project(tmp_path, dependencies=DEPENDENCY + "\n" + MISSING)
    environment = environments.ensure(Java(), broken)
    assert not environment.ready
    assert "assay-no-such-artifact-5c1d" in environment.log
    assert not environment.path.exists()


MODULE_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>com.example</groupId><artifactId>calc</artifactId><version>1.0.0</version>
  </parent>
  <artifactId>{name}</artifactId>
  <dependencies>{dependencies}</dependencies>
</project>
"""
ON_CORE = ("<dependency><groupId>com.example</groupId><artifactId>core</artifactId>"
           "<version>1.0.0</version></dependency>")
APP = """package com.example;

public class App {
    public static int twice(int a) { return Calc.add(a, a); }
}
"""
APP_TEST = CALC_TEST.replace("CalcTest", "AppTest").replace(
    "@Test void adds() { assertEquals(5, Calc.add(2, 3)); }",
    "@Test void twice() { assertEquals(4, App.twice(2)); }")
CORE_TEST = CALC_TEST.replace(
    "    @Test void fails() { assertEquals(5, Calc.add(2, 2)); }\n", "")


def test_a_multi_module_build_merges_every_module_s_report(
        sandbox: Sandbox, environments: Environments, tmp_path: Path) -> None:
    # app depends on core, which is in no repository: only in the reactor.
    parent = POM.format(dependencies=DEPENDENCY).replace(
        "<version>1.0.0</version>", "<version>1.0.0</version>\n  <packaging>pom</packaging>\n"
        "  <modules><module>core</module><module>app</module></modules>", 1)
    tree = write(tmp_path, {
        "pom.xml": parent,
        "core/pom.xml": MODULE_POM.format(name="core", dependencies=""),
        f"core/{SOURCE}": CALC, f"core/{TEST}": CORE_TEST,
        "app/pom.xml": MODULE_POM.format(name="app", dependencies=ON_CORE),
        "app/src/main/java/com/example/App.java": APP,
        "app/src/test/java/com/example/AppTest.java": APP_TEST})
    environment = environments.ensure(Java(), tree)
    assert environment.ready, environment.log
    run = run_tests(sandbox, Java(), environment, tree)
    assert run.report.statuses() == {"com.example.AppTest#twice": TestStatus.PASSED,
                                     "com.example.AppTest#fails": TestStatus.FAILED,
                                     "com.example.CalcTest#adds": TestStatus.PASSED}, run.log
    assert run.report.completeness is Completeness.COMPLETE
    assert run.exit_code == 1
    assert run.disagreement is None
    assert {"surefire/core/TEST-com.example.CalcTest.xml",
            "surefire/app/TEST-com.example.AppTest.xml"} <= set(run.raw_report)


def test_module_failures_come_from_maven_s_summary() -> None:
    output = (
        "\x1b[0m[INFO] Reactor Summary for parent 1.0.0:\n"
        "[INFO] parent ............................................. SUCCESS [  0.002 s]\n"
        "[INFO] Calc core .......................................... FAILURE [  8.614 s]\n"
        "[INFO] Calc app ........................................... SKIPPED\n"
        "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.5.4:"
        "test (default-test) on project core: There are test failures.\n"
        "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.13.0:"
        "compile (default-compile) on project web: Compilation failure\n")
    assert module_failures(output) == {
        "web": "org.apache.maven.plugins:maven-compiler-plugin:3.13.0:compile: "
               "Compilation failure",
        "Calc app": "skipped: a module it depends on failed"}
