"""Which verified solutions to keep: a pass-fraction threshold, distinct solutions per
problem, and a difficulty-stratified sample."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from assay.data.records import SolutionReport
from assay.verify.dedup import code_fingerprint

DIFFICULTIES = ("easy", "medium", "hard")
UNKNOWN = "unknown"
DEFAULT_TAUS = tuple(round(0.1 * i, 1) for i in range(1, 11))


@dataclass(frozen=True)
class SelectionConfig:
    """How to select.

    Attributes:
        tau: Keep a solution when its pass fraction is at least tau.
        per_problem: Keep at most this many distinct solutions per problem (None: all).
        mix: Difficulty -> share of the sample, e.g. {"easy": .2, "medium": .4, "hard": .4}.
        size: Size of the stratified sample (needs ``mix``).
        seed: Seed of the (deterministic) sampling order.
    """

    tau: float = 1.0
    per_problem: int | None = None
    mix: Mapping[str, float] | None = None
    size: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.tau <= 1.0:
            raise ValueError(f"tau must be within [0, 1], got {self.tau}")
        if self.per_problem is not None and self.per_problem < 1:
            raise ValueError(f"per_problem must be at least 1, got {self.per_problem}")
        if (self.mix is None) != (self.size is None):
            raise ValueError("mix and size go together: a stratified sample needs both")
        if self.mix is not None:
            unknown = set(self.mix) - {*DIFFICULTIES, UNKNOWN}
            if unknown:
                raise ValueError(f"unknown difficulty {sorted(unknown)}; use {DIFFICULTIES}")
            if abs(sum(self.mix.values()) - 1.0) > 1e-6:
                raise ValueError(f"mix shares must sum to 1, got {sum(self.mix.values()):g}")


@dataclass
class Selection:
    kept: list[SolutionReport]
    below_tau: int = 0
    duplicates: int = 0
    over_per_problem: int = 0
    incomplete: int = 0  # reports with tests lost to the machinery: never selected
    shortfall: dict[str, int] = field(default_factory=dict)  # stratum -> missing rows


def parse_mix(text: str) -> dict[str, float]:
    """'easy=0.2,medium=0.4,hard=0.4' -> {'easy': 0.2, ...}; ValueError says what is wrong."""
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"mix entry {part!r} is not NAME=SHARE")
        try:
            mix[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"mix share {value!r} of {name!r} is not a number") from None
    return mix


def difficulty_of(report: SolutionReport) -> str:
    return report.difficulty or UNKNOWN


def _order_key(report: SolutionReport, seed: int) -> tuple[float, str]:
    # Best score first; ties broken by a seeded hash, so the order is stable but not by id.
    digest = hashlib.sha256(f"{seed}:{report.solution_id}".encode()).hexdigest()
    return (-(report.pass_fraction or 0.0), digest)


def select(reports: Iterable[SolutionReport], config: SelectionConfig,
           fingerprint: Callable[[SolutionReport], str] | None = None) -> Selection:
    """Apply tau, then per-problem distinct solutions, then the stratified sample.

    ``fingerprint`` gives the normalised-code hash of a report (default: from its code).
    """
    fingerprint = fingerprint or (lambda r: code_fingerprint(r.code, r.language))
    selection = Selection(kept=[])
    by_problem: dict[str, list[SolutionReport]] = defaultdict(list)
    for report in reports:
        if not report.complete or report.pass_fraction is None:
            selection.incomplete += 1
        elif report.pass_fraction + 1e-12 < config.tau:
            selection.below_tau += 1
        else:
            by_problem[report.problem_id].append(report)
    candidates: list[SolutionReport] = []
    for problem_id in sorted(by_problem):
        seen: set[str] = set()
        taken = 0
        for report in sorted(by_problem[problem_id], key=lambda r: _order_key(r, config.seed)):
            digest = fingerprint(report)
            if digest in seen:
                selection.duplicates += 1
                continue
            if config.per_problem is not None and taken >= config.per_problem:
                selection.over_per_problem += 1
                continue
            seen.add(digest)
            taken += 1
            candidates.append(report)
    if config.mix is None or config.size is None:
        selection.kept = candidates
        return selection
    selection.kept, selection.shortfall = _stratified(candidates, config.mix, config.size,
                                                      config.seed)
    return selection


def _stratified(candidates: list[SolutionReport], mix: Mapping[str, float], size: int,
                seed: int) -> tuple[list[SolutionReport], dict[str, int]]:
    strata: dict[str, list[SolutionReport]] = defaultdict(list)
    for report in candidates:
        strata[difficulty_of(report)].append(report)
    quotas = _quotas(mix, size)
    kept: list[SolutionReport] = []
    shortfall: dict[str, int] = {}
    for name, quota in quotas.items():
        pool = sorted(strata.get(name, []), key=lambda r: hashlib.sha256(
            f"{seed}:{r.solution_id}".encode()).hexdigest())
        kept += pool[:quota]
        if len(pool) < quota:
            shortfall[name] = quota - len(pool)
    return kept, shortfall


def _quotas(mix: Mapping[str, float], size: int) -> dict[str, int]:
    """Integer quotas summing to size (largest remainders)."""
    exact = {name: share * size for name, share in mix.items()}
    quotas = {name: int(value) for name, value in exact.items()}
    left = size - sum(quotas.values())
    for name in sorted(exact, key=lambda n: exact[n] - quotas[n], reverse=True)[:left]:
        quotas[name] += 1
    return quotas


@dataclass(frozen=True)
class SweepRow:
    tau: float
    solutions: int
    problems: int
    mix: dict[str, int]


class SweepCounter:
    """Counts for a tau sweep, fed one report at a time: memory grows with the number of
    problems, not of solutions."""

    def __init__(self, taus: Iterable[float] = DEFAULT_TAUS) -> None:
        self.taus = sorted(set(taus))
        self._solutions = [0] * len(self.taus)
        self._best: dict[str, tuple[float, str]] = {}  # problem -> (best V, difficulty)

    def add(self, report: SolutionReport) -> None:
        if not report.complete or report.pass_fraction is None:
            return
        fraction = report.pass_fraction
        for index, tau in enumerate(self.taus):
            if fraction + 1e-12 >= tau:
                self._solutions[index] += 1
        best = self._best.get(report.problem_id)
        if best is None or fraction > best[0]:
            self._best[report.problem_id] = (fraction, difficulty_of(report))

    def row(self, tau: float) -> SweepRow:
        solutions = self._solutions[self.taus.index(tau)]
        levels = [d for v, d in self._best.values() if v + 1e-12 >= tau]
        return SweepRow(tau=tau, solutions=solutions, problems=len(levels),
                        mix=dict(Counter(levels)))

    def rows(self) -> list[SweepRow]:
        return [self.row(tau) for tau in self.taus]


def tau_sweep(reports: Iterable[SolutionReport], taus: Iterable[float] = DEFAULT_TAUS
              ) -> list[SweepRow]:
    """For each tau: solutions and problems retained, and their difficulty mix."""
    counter = SweepCounter(taus)
    for report in reports:
        counter.add(report)
    return counter.rows()
