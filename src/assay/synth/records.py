"""What the LLM stages write. Each record names the model, the prompt (template and digest),
the temperature and the seed that made it; a rejected answer is a record too, with its
reason, so every request is accounted for."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from assay.data.records import Difficulty, Record

Stage = Literal["gen-solutions", "gen-tests", "judge", "rate-difficulty"]


class Provenance(Record):
    """Who made a record and how."""

    stage: Stage
    model: str
    prompt: str
    prompt_digest: str
    temperature: float
    seed: int | None = None
    cached: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    asked: bool = True  # False: rejected before any request (a strategy's input missing)


class Rejected(Record):
    """An answer that gave nothing usable.

    Attributes:
        problem_id: The problem it was for.
        item_id: What it was for within the problem (a sample, a strategy, a solution).
        reason: Why (``empty answer``, ``truncated: ...``, ``no JSON object``, ``request
            failed: ...``, ``no usable test``...).
        answer: The answer's beginning, for inspection.
        provenance: Who made it.
    """

    problem_id: str
    item_id: str
    reason: str
    answer: str = ""
    provenance: Provenance


class Judgement(Record):
    """The model's verdict on a solution (soft verification)."""

    solution_id: str
    problem_id: str
    score: Literal[0, 1]
    explanation: str = ""
    provenance: Provenance


class DifficultyRating(Record):
    """The model's difficulty rating of a problem: 1-5, and the bucket it falls in."""

    problem_id: str
    rating: int = Field(ge=1, le=5)
    difficulty: Difficulty
    reason: str = ""
    provenance: Provenance


def bucket(rating: int) -> Difficulty:
    """1-2 easy, 3 medium, 4-5 hard."""
    return "easy" if rating <= 2 else "medium" if rating == 3 else "hard"
