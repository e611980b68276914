"""Metrics of predicted traces against true ones: exact match and line-level ROUGE-2.

Both compare the event lines of the two traces after parsing (noise lines dropped, each
event written in its canonical form). ROUGE-2 here is line-level: a "token" is a whole event
line, a bigram two consecutive lines; the overlap counts each bigram at most as often as it
occurs in both (clipped counts). Precision = overlap / predicted bigrams, recall = overlap /
true bigrams, F1 their harmonic mean (0 when both are 0). A trace of fewer than two lines
has no bigram: two such traces score 1 when their lines are equal and 0 otherwise; one such
trace against a longer one scores 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from assay.trace.format import parse_trace


@dataclass(frozen=True)
class Rouge:
    precision: float
    recall: float
    f1: float


def bigrams(lines: Sequence[str]) -> Counter[tuple[str, str]]:
    return Counter(pairwise(lines))


def rouge2(predicted: Sequence[str], gold: Sequence[str]) -> Rouge:
    """Line-level ROUGE-2 of a predicted trace against the true one (see the module doc)."""
    pred_pairs, gold_pairs = bigrams(predicted), bigrams(gold)
    if not pred_pairs or not gold_pairs:
        same = not pred_pairs and not gold_pairs and list(predicted) == list(gold)
        value = 1.0 if same else 0.0
        return Rouge(value, value, value)
    overlap = sum((pred_pairs & gold_pairs).values())
    precision = overlap / sum(pred_pairs.values())
    recall = overlap / sum(gold_pairs.values())
    f1 = 0.0 if overlap == 0 else 2 * precision * recall / (precision + recall)
    return Rouge(precision, recall, f1)


def exact_match(predicted: Sequence[str], gold: Sequence[str]) -> bool:
    return list(predicted) == list(gold)


@dataclass(frozen=True)
class TraceScore:
    """The score of one predicted trace."""

    id: str
    exact: bool
    rouge2: Rouge
    predicted_events: int
    gold_events: int
    predicted_noise: int


def score_trace(sample_id: str, predicted: str, gold: str) -> TraceScore:
    pred, true = parse_trace(predicted), parse_trace(gold)
    return TraceScore(id=sample_id, exact=exact_match(pred.lines, true.lines),
                      rouge2=rouge2(pred.lines, true.lines),
                      predicted_events=len(pred.events), gold_events=len(true.events),
                      predicted_noise=pred.noise)


@dataclass(frozen=True)
class TraceAggregate:
    """Means over samples (a missing prediction counts as an empty trace)."""

    samples: int
    exact_match: float
    rouge2_f1: float
    rouge2_precision: float
    rouge2_recall: float


def aggregate(scores: Iterable[TraceScore]) -> TraceAggregate:
    items = list(scores)
    n = len(items)
    if n == 0:
        return TraceAggregate(0, 0.0, 0.0, 0.0, 0.0)
    return TraceAggregate(
        samples=n, exact_match=sum(s.exact for s in items) / n,
        rouge2_f1=sum(s.rouge2.f1 for s in items) / n,
        rouge2_precision=sum(s.rouge2.precision for s in items) / n,
        rouge2_recall=sum(s.rouge2.recall for s in items) / n)
