from __future__ import annotations

import pytest

from assay.data import SolutionReport
from assay.verify import SelectionConfig, normalise, parse_mix, select, tau_sweep


def report(solution_id: str, problem_id: str, fraction: float, code: str | None = None,
           difficulty: str | None = None, infra: int = 0) -> SolutionReport:
    return SolutionReport(problem_id=problem_id, solution_id=solution_id, language="python",
                          code=code or f"def f():\n    return {solution_id!r}\n", outcomes=[],
                          passed=int(fraction * 10), total=10, infra=infra,
                          pass_fraction=fraction, score=100 * fraction,
                          difficulty=difficulty)  # type: ignore[arg-type]


def test_tau_keeps_solutions_at_or_above_the_threshold() -> None:
    reports = [report("a", "p", 0.6), report("b", "p", 0.7), report("c", "q", 1.0)]
    kept = select(reports, SelectionConfig(tau=0.7)).kept
    assert sorted(r.solution_id for r in kept) == ["b", "c"]
    assert select(reports, SelectionConfig(tau=0.7)).below_tau == 1


def test_incomplete_reports_are_never_selected() -> None:
    chosen = select([report("a", "p", 1.0, infra=1)], SelectionConfig(tau=0.0))
    assert chosen.kept == [] and chosen.incomplete == 1


def test_per_problem_keeps_distinct_solutions_best_first() -> None:
    same = "def f(x):\n    # add one\n    return x + 1\n"
    reformatted = 'def f(x):\n    """Docstring."""\n    return (x +   1)\n'
    different = "def f(x):\n    return 1 + x\n"
    reports = [report("a", "p", 0.8, same), report("b", "p", 1.0, reformatted),
               report("c", "p", 0.9, different), report("d", "p", 0.7, "def g(): pass\n")]
    chosen = select(reports, SelectionConfig(tau=0.5, per_problem=2))
    assert [r.solution_id for r in chosen.kept] == ["b", "c"]  # a duplicates b
    assert chosen.duplicates == 1 and chosen.over_per_problem == 1


def test_python_normalisation_ignores_layout_comments_and_docstrings() -> None:
    a = "def f(x):\n    # c\n    return x+1\n"
    b = 'def f(x):\n    """doc"""\n    return (x + 1)  # other\n'
    assert normalise(a, "python") == normalise(b, "python")
    assert normalise(a, "python") != normalise("def f(x):\n    return x+2\n", "python")


def test_text_normalisation_strips_comments_but_keeps_strings() -> None:
    a = 'int f() { /* c */ return 1; } // end\nchar *s = "// not a comment";'
    b = 'int f() {\n  return 1;\n}\nchar *s = "// not a comment";'
    assert normalise(a, "c") == normalise(b, "c")
    assert normalise(a, "c") != normalise(b.replace("not a", "a"), "c")


def test_mix_sample_meets_quotas_and_reports_shortfall() -> None:
    reports = [report(f"e{i}", f"pe{i}", 1.0, difficulty="easy") for i in range(10)]
    reports += [report(f"m{i}", f"pm{i}", 1.0, difficulty="medium") for i in range(10)]
    reports += [report(f"h{i}", f"ph{i}", 1.0, difficulty="hard") for i in range(2)]
    config = SelectionConfig(tau=1.0, mix=parse_mix("easy=0.2,medium=0.4,hard=0.4"), size=10)
    chosen = select(reports, config)
    levels = [r.difficulty for r in chosen.kept]
    assert levels.count("easy") == 2 and levels.count("medium") == 4
    assert levels.count("hard") == 2 and chosen.shortfall == {"hard": 2}
    again = select(reports, config)
    assert [r.solution_id for r in again.kept] == [r.solution_id for r in chosen.kept]


def test_bad_selection_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        SelectionConfig(mix={"easy": 0.5}, size=3)
    with pytest.raises(ValueError, match="go together"):
        SelectionConfig(size=3)
    with pytest.raises(ValueError, match="unknown difficulty"):
        SelectionConfig(mix={"tricky": 1.0}, size=3)
    with pytest.raises(ValueError, match="not NAME=SHARE"):
        parse_mix("easy")


def test_tau_sweep_counts_solutions_problems_and_mix() -> None:
    reports = [report("a", "p", 0.3, difficulty="easy"), report("b", "p", 1.0, difficulty="easy"),
               report("c", "q", 0.5, difficulty="hard")]
    rows = {row.tau: row for row in tau_sweep(reports)}
    assert (rows[0.3].solutions, rows[0.3].problems, rows[0.3].mix) == (3, 2, {"easy": 1,
                                                                               "hard": 1})
    assert (rows[0.6].solutions, rows[0.6].problems, rows[0.6].mix) == (1, 1, {"easy": 1})
    assert rows[1.0].solutions == 1
