"""Exact match and line-level ROUGE-2 give known values on hand-made traces."""

from __future__ import annotations

import pytest

from assay.trace import exact_match, rouge2, score_trace
from assay.trace.metrics import aggregate


def test_rouge2_one_wrong_last_line() -> None:
    # gold bigrams ab bc cd; predicted ab bc cx: 2 of 3 on each side.
    score = rouge2(["a", "b", "c", "x"], ["a", "b", "c", "d"])
    assert score.precision == pytest.approx(2 / 3)
    assert score.recall == pytest.approx(2 / 3)
    assert score.f1 == pytest.approx(2 / 3)


def test_rouge2_short_prediction() -> None:
    # predicted ab (1 bigram, right); gold ab bc cd: P = 1, R = 1/3, F1 = 0.5.
    score = rouge2(["a", "b"], ["a", "b", "c", "d"])
    assert (score.precision, score.recall, score.f1) == pytest.approx((1.0, 1 / 3, 0.5))


def test_rouge2_clips_repeated_bigrams() -> None:
    # gold ab ba ab; predicted ab ba ab ba ab: overlap min(2,3) + min(1,2) = 3.
    score = rouge2(["a", "b", "a", "b", "a", "b"], ["a", "b", "a", "b"])
    assert score.precision == pytest.approx(3 / 5)
    assert score.recall == pytest.approx(1.0)
    assert score.f1 == pytest.approx(0.75)


def test_rouge2_order_matters_and_disjoint_is_zero() -> None:
    assert rouge2(["b", "a"], ["a", "b"]).f1 == 0.0
    assert rouge2(["x", "y", "z"], ["a", "b", "c"]).f1 == 0.0


def test_rouge2_without_bigrams() -> None:
    assert rouge2(["a"], ["a"]).f1 == 1.0
    assert rouge2([], []).f1 == 1.0
    assert rouge2(["a"], ["b"]).f1 == 0.0
    assert rouge2(["a"], ["a", "b"]).f1 == 0.0


def test_exact_match() -> None:
    assert exact_match(["a", "b"], ["a", "b"])
    assert not exact_match(["a", "b"], ["a", "b", "c"])


def test_scores_compare_parsed_events_not_raw_text() -> None:
    gold = "TRACE:IN:f@1:x=1\nTRACE:VAR:f@2:y=2\nTRACE:OUT:f@3:2"
    predicted = "Here is the trace:\n  TRACE:IN:f@1:x=1\nTRACE:VAR:f@2:y=2\nTRACE:OUT:f@3:2\n"
    score = score_trace("s", predicted, gold)
    assert score.exact and score.rouge2.f1 == 1.0 and score.predicted_noise == 1
    wrong = score_trace("s", "TRACE:IN:f@1:x=1\nTRACE:VAR:f@2:y=3\nTRACE:OUT:f@3:3", gold)
    assert not wrong.exact and wrong.rouge2.f1 == 0.0  # both bigrams contain a wrong line


def test_aggregate_is_the_mean_over_samples() -> None:
    gold = "TRACE:IN:f@1:\nTRACE:VAR:f@2:a=1\nTRACE:VAR:f@3:b=2\nTRACE:OUT:f@4:3"
    scores = [score_trace("1", gold, gold),
              score_trace("2", "\n".join(gold.splitlines()[:2]), gold),  # F1 = 0.5
              score_trace("3", "", gold)]
    total = aggregate(scores)
    assert total.samples == 3
    assert total.exact_match == pytest.approx(1 / 3)
    assert total.rouge2_f1 == pytest.approx((1.0 + 0.5 + 0.0) / 3)
    assert aggregate([]).samples == 0
