"""The parsers on answers recorded from the real SmolLM2-135M-Instruct server (``assay synth``
on HumanEval/0-2, 2026-12-06; ``fixtures/smollm2_answers.jsonl``): solutions, tests, judge
verdicts and difficulty ratings as a small model really writes them — code with stray
fences, syntax errors, prose instead of JSON, ratings in words. Each answer's expected
outcome is recorded with it: a value, a number of test cases, or the reason for rejecting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assay.synth.extract import extract_code
from assay.synth.stages import difficulty_rating, judge_verdict
from assay.synth.testgen import parse_asserts

ANSWERS = [json.loads(line) for line in
           (Path(__file__).parent / "fixtures" / "smollm2_answers.jsonl").read_text()
           .splitlines()]


def outcome(answer: dict[str, Any]) -> dict[str, Any]:
    truncated = answer["finish_reason"] == "length"
    if answer["kind"] in ("solution", "tests"):
        entry = answer["entry_point"] if answer["kind"] == "solution" else None
        found = extract_code(answer["answer"], "python", entry, truncated=truncated)
        if not found.ok:
            return {"reason": str(found.reason).split(":")[0]}
        if answer["kind"] == "tests":
            return {"cases": len(parse_asserts(found.value, answer["entry_point"]).cases)}
        return {"ok": True}
    parse = judge_verdict if answer["kind"] == "judge" else difficulty_rating
    found = parse(answer["answer"])
    return {"value": found.value[0]} if found.ok else {"reason": str(found.reason).split(":")[0]}


@pytest.mark.parametrize("answer", ANSWERS, ids=[f"{a['kind']}-{i}"
                                                 for i, a in enumerate(ANSWERS)])
def test_a_recorded_answer_parses_as_recorded(answer: dict[str, Any]) -> None:
    assert outcome(answer) == answer["expect"]


def test_the_recordings_hold_good_and_malformed_answers_of_every_kind() -> None:
    kinds = {(a["kind"], "reason" in a["expect"]) for a in ANSWERS}
    assert {("solution", False), ("solution", True), ("tests", False), ("tests", True),
            ("judge", True), ("difficulty", False)} <= kinds
