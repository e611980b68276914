"""Suite strength on hand-made problems, through the real sandbox: weak suites let mutants
survive, strong ones kill them all, a suite that fails its reference is invalid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assay.data.records import Problem, Solution
from assay.engine import RunStore
from assay.sandbox import Sandbox
from assay.synth.strength import StrengthConfig, SuiteStrength, measure_suites

# Every mutant of this reference changes its result on at least one of STRONG's cases.
REFERENCE = "def f(x, y):\n    if x > y:\n        return x - y\n    return y + x * 2\n"
STRONG = [((5, 2), 3), ((3, 3), 9), ((1, 4), 6)]
WEAK = [((5, 2), 3)]


def unit_tests(cases: list[tuple[tuple[int, int], int]]) -> str:
    return "".join(f"def test_{i}():\n    assert f{args} == {expected}\n\n"
                   for i, (args, expected) in enumerate(cases))


def python_problem(pid: str, cases: list[tuple[tuple[int, int], int]],
                   strategy: str = "human") -> Problem:
    return Problem(id=pid, language="python", entry_point="f", reference=REFERENCE,
                   tests={"kind": "unit", "code": unit_tests(cases),
                          "origin": {"strategy": strategy}})


def measure(tmp_path: Path, sandbox: Sandbox, problems: list[Problem],
            code: dict[str, str] | None = None, **config: Any) -> list[SuiteStrength]:
    pairs = [(p, Solution(id=f"{p.id}/ref", problem_id=p.id,
                          code=(code or {}).get(p.id, p.reference or ""))) for p in problems]
    with RunStore(tmp_path / "store.sqlite") as store:
        return measure_suites(pairs, sandbox, store, StrengthConfig(**config))


def test_a_weak_suite_lets_mutants_survive_and_a_strong_one_kills_them_all(
        tmp_path: Path, sandbox: Sandbox) -> None:
    weak, strong = measure(tmp_path, sandbox, [python_problem("weak", WEAK, "minimal"),
                                               python_problem("strong", STRONG, "structured")])
    assert weak.valid and strong.valid
    assert (weak.suite_size, strong.suite_size) == (1, 3)
    assert (weak.strategy, strong.strategy) == ("minimal", "structured")
    assert weak.mutants == strong.mutants > 10 and weak.stillborn == 0
    assert weak.mutation_score is not None and weak.mutation_score < 1.0
    assert weak.survived == len(weak.survivors) > 0
    assert weak.killed + weak.survived == weak.mutants
    # (5, 2) takes the first branch: nothing in the second one is checked.
    assert any(s.description == "change 2 to 3" and s.line == 4 for s in weak.survivors)
    assert strong.mutation_score == 1.0 and strong.survivors == []
    assert strong.killed == strong.mutants


def test_a_suite_that_fails_the_reference_is_invalid(tmp_path: Path, sandbox: Sandbox) -> None:
    wrong = python_problem("wrong", [((5, 2), 3), ((1, 1), 4), ((0, 2), 2)])
    [result] = measure(tmp_path, sandbox, [wrong])
    assert result.valid is False
    assert result.failing_reference_tests == ["test_1"]
    assert "test_1" in result.note and "FAIL" in result.note
    assert result.mutants == 0 and result.mutation_score is None and result.suite_size == 3


def test_a_rerun_comes_from_the_store(tmp_path: Path, sandbox: Sandbox) -> None:
    problems = [python_problem("weak", WEAK)]
    first = measure(tmp_path, sandbox, problems, max_mutants=8)
    with RunStore(tmp_path / "store.sqlite") as store:
        stored = store.count()
    assert stored == 1 + first[0].mutants
    assert measure(tmp_path, sandbox, problems, max_mutants=8) == first
    with RunStore(tmp_path / "store.sqlite") as store:
        assert store.count() == stored


JS_REFERENCE = "function f(x, y) {\n  if (x > y) return x - y;\n  return y + x * 2;\n}\n"


@pytest.mark.parametrize(("cases", "perfect"), [(STRONG, True), (WEAK, False)])
def test_javascript_suites_are_measured_with_token_mutants(
        tmp_path: Path, sandbox: Sandbox, cases: list[tuple[tuple[int, int], int]],
        perfect: bool) -> None:
    problem = Problem(id="js", language="javascript", entry_point="f", reference=JS_REFERENCE,
                      tests={"kind": "call", "cases": [
                          {"name": f"c{i}", "args": list(args), "expected": expected}
                          for i, (args, expected) in enumerate(cases)]})
    [result] = measure(tmp_path, sandbox, [problem])
    assert result.valid and result.mutants == 7 and result.stillborn == 0
    assert (result.mutation_score == 1.0) is perfect


# `>=` -> `<` makes the static assertion false: that mutant does not compile.
C_REFERENCE = """#include <stdio.h>
_Static_assert(sizeof(int) >= 2, "int is wide enough");
int main(void) {
    int n;
    if (scanf("%d", &n) != 1) return 1;
    printf("%d\\n", n * 2);
    return 0;
}
"""


def test_mutants_that_do_not_compile_are_stillborn_and_not_scored(
        tmp_path: Path, sandbox: Sandbox) -> None:
    problem = Problem(id="c", language="c", reference=C_REFERENCE,
                      tests={"kind": "io", "cases": [{"name": "a", "input": "3\n",
                                                      "expected": "6\n"},
                                                     {"name": "b", "input": "0\n",
                                                      "expected": "0\n"}]})
    [result] = measure(tmp_path, sandbox, [problem])
    assert result.valid and result.stillborn >= 1
    assert result.killed + result.survived + result.stillborn == result.mutants
    assert result.mutation_score == pytest.approx(
        result.killed / (result.killed + result.survived))
    assert "int is wide enough" in C_REFERENCE  # the mutants never touched the string
