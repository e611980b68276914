"""Scores of one solution and pass@k of a set of samples."""

from __future__ import annotations

import math

from assay.data.records import Status, TestOutcome


def pass_fraction(outcomes: list[TestOutcome]) -> tuple[int, int, int, float | None]:
    """(passed, total, infra, V). V = passed / (total - infra); None when nothing could run.

    Tests lost to the machinery (INFRA) are neither passes nor failures of the solution.
    """
    total = len(outcomes)
    passed = sum(1 for o in outcomes if o.status is Status.PASS)
    infra = sum(1 for o in outcomes if o.status is Status.INFRA)
    counted = total - infra
    return passed, total, infra, (passed / counted if counted else None)


def score(fraction: float | None) -> float | None:
    """The pass fraction on a 0-100 scale, rounded to 0.01."""
    return None if fraction is None else round(100.0 * fraction, 2)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c are correct (Chen et al., 2021).

    1 - C(n-c, k) / C(n, k), computed as a running product so that it stays exact for
    large n where the binomials overflow a float.
    """
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n} c={c}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if n - c < k:
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def mean_pass_at_k(counts: dict[str, tuple[int, int]], k: int) -> float | None:
    """Mean pass@k over problems with at least k samples; counts: problem -> (n, c)."""
    values = [pass_at_k(n, c, k) for n, c in counts.values() if n >= k]
    return math.fsum(values) / len(values) if values else None
