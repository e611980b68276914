"""How much two verdict sources agree on the same solutions (Cohen's kappa)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Agreement:
    """Confusion counts of two binary verdict sources A and B, and Cohen's kappa.

    ``both_pass`` counts solutions both accept, ``a_only`` those only A accepts, and so on.
    ``kappa`` is None when it is undefined (both sources give one same constant verdict).
    """

    both_pass: int
    a_only: int
    b_only: int
    both_fail: int
    only_in_a: int
    only_in_b: int

    @property
    def total(self) -> int:
        return self.both_pass + self.a_only + self.b_only + self.both_fail

    @property
    def observed(self) -> float | None:
        return (self.both_pass + self.both_fail) / self.total if self.total else None

    @property
    def kappa(self) -> float | None:
        n = self.total
        if n == 0:
            return None
        observed = (self.both_pass + self.both_fail) / n
        a_pass = (self.both_pass + self.a_only) / n
        b_pass = (self.both_pass + self.b_only) / n
        expected = a_pass * b_pass + (1 - a_pass) * (1 - b_pass)
        if expected >= 1.0:
            return None
        return (observed - expected) / (1 - expected)


def agreement(a: Mapping[str, bool], b: Mapping[str, bool]) -> Agreement:
    """Compare the verdicts of two sources keyed by solution id, on the ids both have."""
    shared = a.keys() & b.keys()
    both_pass = sum(1 for s in shared if a[s] and b[s])
    a_only = sum(1 for s in shared if a[s] and not b[s])
    b_only = sum(1 for s in shared if b[s] and not a[s])
    both_fail = len(shared) - both_pass - a_only - b_only
    return Agreement(both_pass, a_only, b_only, both_fail,
                     only_in_a=len(a.keys() - shared), only_in_b=len(b.keys() - shared))
