"""Reruns of compiled-language suites: compiled once per (solution, suite), then reused.

A rerun in a new process must find everything it compiled before: the compile cache entry
of each (solution, suite), and the Java runner's jar, which is part of every Java run's
sources (so its bytes must not change between builds, or every compile key would).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.data import Problem, TestSuite
from assay.harness import HarnessTask, get_harness, run_tests
from assay.harness.unit import java
from assay.sandbox import CompileCache, RunResult, RunSpec, Sandbox, get_sandbox

JAVA_SOLUTION = """
public class Solution {
    public static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }
}
"""
JAVA_TESTS = """
import org.junit.Test;
import static org.junit.Assert.*;

public class SolutionTest {
    @Test public void coprime() { assertEquals(1, Solution.gcd(7, 5)); }
    @Test public void common() { assertEquals(6, Solution.gcd(12, 18)); }
    @Test public void zero() { assertEquals(9, Solution.gcd(0, 9)); }
}
"""
CPP_SOLUTION = "int gcd(int a, int b) { return b == 0 ? a : gcd(b, a % b); }\n"
CPP_TESTS = """#include <cassert>
void test_coprime() { assert(gcd(7, 5) == 1); }
void test_common() { assert(gcd(12, 18) == 6); }
void test_zero() { assert(gcd(0, 9) == 9); }
"""
SUITES = {"java": (JAVA_SOLUTION, JAVA_TESTS), "cpp": (CPP_SOLUTION, CPP_TESTS)}


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache root, and no runner jar remembered by this process."""
    monkeypatch.setenv("ASSAY_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(java, "_JARS", {})
    yield tmp_path


def count_compiles(sandbox: Sandbox) -> list[bool]:
    """For each later run of the sandbox, whether its compile came from the cache."""
    cached: list[bool] = []
    run = sandbox.run

    def counted(spec: RunSpec) -> RunResult:
        result = run(spec)
        assert result.compile is not None
        cached.append(result.compile.cached)
        return result

    sandbox.run = counted  # type: ignore[method-assign]
    return cached


def statuses(sandbox: Sandbox, language: str, code: str, tests: str) -> dict[str, str]:
    problem = Problem(id="gcd", language=language, tests=TestSuite(kind="unit", code=tests))
    task = HarnessTask(problem=problem, code=code, language=language, suite=problem.tests)
    outcomes = run_tests(sandbox, get_harness("unit", language), task).outcomes
    return {o.name: o.status.value for o in outcomes}


@pytest.mark.parametrize("language", ["java", "cpp"])
def test_a_rerun_in_a_new_sandbox_compiles_nothing_and_agrees(own_cache: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               language: str) -> None:
    code, tests = SUITES[language]
    wrong = code.replace("b == 0 ? a : gcd(b, a % b)", "a % b == 0 ? b : 1")  # 12, 18 -> 1
    with get_sandbox("bwrap", cache=CompileCache(own_cache)) as sandbox:
        first_compiles = count_compiles(sandbox)
        first = [statuses(sandbox, language, c, tests) for c in (code, wrong)]
    monkeypatch.setattr(java, "_JARS", {})  # as a new process would start
    with get_sandbox("bwrap", cache=CompileCache(own_cache)) as sandbox:
        rerun_compiles = count_compiles(sandbox)
        rerun = [statuses(sandbox, language, c, tests) for c in (code, wrong)]
    assert first == rerun
    assert set(first[0].values()) == {"PASS"}
    assert sorted(first[1].values()) == ["FAIL", "PASS", "PASS"]
    # One run per (solution, suite), each compiling once, then from the cache only.
    assert first_compiles == [False, False]
    assert rerun_compiles == [True, True]


def test_the_runner_jar_is_kept_and_a_new_process_does_not_rebuild_it(
        own_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = java.junit_jar()
    assert built is not None
    kept = list((own_cache / java.JAR_CACHE_DIR).glob("*.jar"))
    assert [path.read_bytes() for path in kept] == [built]

    def no_javac(*args: object) -> bytes:
        raise AssertionError("the jar was compiled again")

    monkeypatch.setattr(java, "_JARS", {})
    monkeypatch.setattr(java, "_compile_jar", no_javac)
    assert java.junit_jar() == built


def test_a_damaged_kept_jar_is_rebuilt_with_the_same_bytes(own_cache: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """The jar is part of every Java run's sources: a rebuild that changed its bytes would
    change every compile key, and a rerun would compile everything again."""
    built = java.junit_jar()
    assert built is not None
    (kept,) = (own_cache / java.JAR_CACHE_DIR).glob("*.jar")
    kept.write_bytes(built[: len(built) // 2])
    monkeypatch.setattr(java, "_JARS", {})
    assert java.junit_jar() == built
    assert kept.read_bytes() == built
