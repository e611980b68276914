"""Stages against a real local HTTP server that answers like a chat model would (see
tests/llm/test_client.py): several models per stage, seeds per sample, rejections with
their provenance."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from assay_llm.chat_server import Server

from assay.data.records import Problem, TestSuite
from assay.llm.client import LLMClient
from assay.synth.stages import gen_solutions_from, gen_tests, rate_difficulty

PROBLEM = Problem(id="p1", language="python", prompt="def add(a, b):\n    '''Add.'''\n",
                  entry_point="add", tests=TestSuite(kind="unit", code="assert True"),
                  reference="def add(a, b):\n    return a + b\n")


def reply(text: str) -> dict[str, Any]:
    return {"model": "m", "choices": [{"message": {"content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4}}


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.httpd.shutdown()


def test_solutions_from_several_models_and_samples(server: Server) -> None:
    good = reply("```python\ndef add(a, b):\n    return a + b\n```")
    server.plan = [(200, good, {}, 0.0), (200, reply("I cannot help."), {}, 0.0)] * 2
    base = LLMClient(base_url=server.url, model="a", backoff_s=0.01, concurrency=1)
    result = gen_solutions_from([base, replace(base, model="b")], [PROBLEM], n=2)
    assert [r["model"] for r in server.requests] == ["a", "a", "b", "b"]
    assert [r["seed"] for r in server.requests] == [0, 1, 0, 1]
    assert [s.origin["model"] for s in result.records] == ["a", "b"]
    assert [s.id for s in result.records] == ["p1/a/t0.8-s0", "p1/b/t0.8-s0"]
    assert [(r.provenance.model, r.reason) for r in result.rejected] == [
        ("a", "no code block in the answer"), ("b", "no code block in the answer")]


def test_generated_tests_become_a_call_suite_and_missing_inputs_ask_nothing(
        server: Server) -> None:
    server.plan = [(200, reply("```python\nassert add(1, 2) == 3\nassert add(0, 0) == 0\n"
                               "assert add(x, 1) == 2\n```"), {}, 0.0)]
    client = LLMClient(base_url=server.url, model="a", backoff_s=0.01)
    made = gen_tests(client, [PROBLEM], "structured")
    (problem,) = made.records
    assert problem.tests.kind == "call" and problem.tests.origin.strategy == "structured"
    assert [(c.args, c.expected) for c in problem.tests.cases] == [([1, 2], 3), ([0, 0], 0)]
    contrastive = gen_tests(client, [PROBLEM], "contrastive", candidates={})
    assert [r.reason for r in contrastive.rejected] == [
        "fewer than 2 candidate solutions for contrastive tests"]
    assert not contrastive.rejected[0].provenance.asked
    assert len(server.requests) == 1  # the contrastive problem asked nothing


def test_difficulty_in_words_is_mapped_and_out_of_range_is_rejected(server: Server) -> None:
    server.plan = [(200, reply('{"difficulty": "Very hard"}'), {}, 0.0),
                   (200, reply('{"difficulty": 9}'), {}, 0.0)]
    client = LLMClient(base_url=server.url, model="a", backoff_s=0.01, concurrency=1)
    other = PROBLEM.model_copy(update={"id": "p2"})
    result = rate_difficulty(client, [PROBLEM, other])
    assert [(r.rating, r.difficulty) for r in result.records] == [(5, "hard")]
    assert [r.reason for r in result.rejected] == ["difficulty must be 1-5, got 9"]
