from __future__ import annotations

from math import comb

import pytest

from assay.data import Status, TestOutcome
from assay.verify import mean_pass_at_k, pass_at_k, pass_fraction, score


def outcome(status: Status) -> TestOutcome:
    return TestOutcome(name=f"t{status}", status=status)


def test_pass_fraction_counts_passes_over_tests_that_ran() -> None:
    outcomes = [outcome(Status.PASS), outcome(Status.PASS), outcome(Status.FAIL),
                outcome(Status.TIMEOUT), outcome(Status.INFRA)]
    passed, total, infra, fraction = pass_fraction(outcomes)
    assert (passed, total, infra) == (2, 5, 1)
    assert fraction == pytest.approx(0.5)  # INFRA is neither pass nor fail
    assert score(fraction) == 50.0


def test_pass_fraction_is_undefined_when_nothing_ran() -> None:
    assert pass_fraction([outcome(Status.INFRA)])[3] is None
    assert pass_fraction([])[3] is None
    assert score(None) is None


@pytest.mark.parametrize(("n", "c", "k"), [(5, 2, 1), (10, 3, 5), (20, 0, 3), (20, 20, 7),
                                           (200, 13, 10), (7, 1, 7)])
def test_pass_at_k_matches_the_binomial_definition(n: int, c: int, k: int) -> None:
    expected = 1.0 - comb(n - c, k) / comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_pass_at_k_known_values() -> None:
    assert pass_at_k(5, 2, 1) == pytest.approx(0.4)
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - 21 / 252)
    assert pass_at_k(3, 1, 5) == 1.0  # fewer wrong samples than k: one is surely right


def test_pass_at_k_stays_finite_where_binomials_overflow_a_float() -> None:
    value = pass_at_k(100_000, 50, 1000)
    assert 0.0 < value < 1.0
    assert pass_at_k(100_000, 50, 1) == pytest.approx(50 / 100_000)


def test_pass_at_k_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="0 <= c <= n"):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError, match="k must be"):
        pass_at_k(3, 1, 0)


def test_mean_pass_at_k_skips_problems_with_fewer_than_k_samples() -> None:
    counts = {"a": (2, 1), "b": (10, 0), "c": (1, 1)}
    assert mean_pass_at_k(counts, 1) == pytest.approx((0.5 + 0.0 + 1.0) / 3)
    assert mean_pass_at_k(counts, 2) == pytest.approx((1.0 + 0.0) / 2)
    assert mean_pass_at_k(counts, 20) is None
