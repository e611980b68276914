from __future__ import annotations

import pytest

from assay.verify import agreement


def verdicts(pattern: str) -> dict[str, bool]:
    return {f"s{i}": c == "1" for i, c in enumerate(pattern)}


def test_kappa_of_a_known_table() -> None:
    # 20 both pass, 5 only A, 10 only B, 15 both fail: po=0.7, pe=0.5, kappa=0.4.
    a = {**{f"p{i}": True for i in range(25)}, **{f"f{i}": False for i in range(25)}}
    b = {**{f"p{i}": i < 20 for i in range(25)}, **{f"f{i}": i < 10 for i in range(25)}}
    result = agreement(a, b)
    assert (result.both_pass, result.a_only, result.b_only, result.both_fail) == (20, 5, 10, 15)
    assert result.observed == pytest.approx(0.7)
    assert result.kappa == pytest.approx(0.4)


def test_perfect_and_opposite_agreement() -> None:
    assert agreement(verdicts("1100"), verdicts("1100")).kappa == pytest.approx(1.0)
    assert agreement(verdicts("1100"), verdicts("0011")).kappa == pytest.approx(-1.0)


def test_kappa_is_undefined_when_both_sources_are_constant() -> None:
    assert agreement(verdicts("111"), verdicts("111")).kappa is None


def test_only_shared_solutions_are_compared() -> None:
    result = agreement({"a": True, "b": False}, {"b": False, "c": True})
    assert result.total == 1 and result.only_in_a == 1 and result.only_in_b == 1
