"""The chat client against a real HTTP server on localhost that answers as an
OpenAI-compatible server would, and fails as real ones do (5xx, 429, garbage, slowness)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assay.llm.cache import ResponseCache
from assay.llm.client import ChatRequest, LLMClient, LLMError
from assay.llm.config import LLMConfig

from .chat_server import Server


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.httpd.shutdown()


def ask(text: str, **kwargs: Any) -> ChatRequest:
    return ChatRequest(({"role": "user", "content": text},), **kwargs)


def client(server: Server, **kwargs: Any) -> LLMClient:
    return LLMClient(base_url=server.url, model="m", backoff_s=0.01, **kwargs)


def test_a_chat_returns_the_answer_and_its_token_counts(server: Server) -> None:
    answer = client(server, api_key="k").chat(ask("hi", temperature=0.3, seed=4, stage="s"))
    assert answer.text == "echo: hi (seed 4)" and answer.finish_reason == "stop"
    assert (answer.prompt_tokens, answer.completion_tokens) == (7, 5)
    assert server.requests[0] == {"model": "m", "messages": [{"role": "user", "content": "hi"}],
                                  "temperature": 0.3, "max_tokens": 512, "seed": 4}
    assert server.headers[0]["Authorization"] == "Bearer k"


def test_a_rerun_is_served_from_the_cache(server: Server, tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    first = client(server, cache=cache)
    assert not first.chat(ask("hi")).cached
    again = client(server, cache=ResponseCache(tmp_path / "cache.sqlite"))
    answer = again.chat(ask("hi"))
    assert answer.cached and answer.text == "echo: hi (seed None)"
    assert len(server.requests) == 1  # the server was asked once
    assert not again.chat(ask("hi", temperature=0.5)).cached  # another request, another key
    assert again.usage["default"].cached == 1 and again.usage["default"].requests == 2


def test_server_errors_and_rate_limits_are_retried(server: Server) -> None:
    server.plan = [(503, {"error": "busy"}, {}, 0.0),
                   (429, {"error": "slow down"}, {"Retry-After": "0"}, 0.0),
                   (200, b"<html>proxy error</html>", {}, 0.0)]
    answer = client(server).chat(ask("hi"))
    assert answer.text == "echo: hi (seed None)"
    assert len(server.requests) == 4


def test_a_client_error_fails_at_once_with_the_servers_message(server: Server) -> None:
    server.plan = [(400, {"error": "bad model"}, {}, 0.0)]
    with pytest.raises(LLMError, match=r"HTTP 400.*bad model"):
        client(server).chat(ask("hi"))
    assert len(server.requests) == 1


def test_retries_end_with_an_error_naming_the_last_failure(server: Server) -> None:
    server.plan = [(500, {"error": "down"}, {}, 0.0)] * 3
    with pytest.raises(LLMError, match=r"no answer after 3 attempts.*HTTP 500"):
        client(server, max_retries=2).chat(ask("hi"))


def test_a_slow_server_times_out_and_is_retried(server: Server) -> None:
    server.plan = [(200, Server.echo({"model": "m", "messages": [{"content": "late"}]}), {},
                    2.0)]
    answer = client(server, timeout_s=0.5).chat(ask("hi"))
    assert answer.text == "echo: hi (seed None)"  # the second attempt's answer


def test_chat_many_keeps_order_bounds_concurrency_and_returns_errors(server: Server) -> None:
    server.plan = [(400, {"error": "no"}, {}, 0.0)]
    answers = client(server, concurrency=3).chat_many([ask(f"q{i}") for i in range(8)])
    errors = [a for a in answers if isinstance(a, LLMError)]
    assert len(errors) == 1
    texts = [a.text for a in answers if not isinstance(a, LLMError)]
    assert texts == sorted(texts, key=lambda t: int(t.split("q")[1].split()[0]))


def test_an_answer_without_choices_is_an_error(server: Server) -> None:
    server.plan = [(200, {"object": "error", "message": "model not loaded"}, {}, 0.0)]
    with pytest.raises(LLMError, match="no choices"):
        client(server).chat(ask("hi"))


def test_config_layers_flags_over_file_over_environment(tmp_path: Path) -> None:
    env = {"ASSAY_LLM_BASE_URL": "http://env/v1", "OPENAI_API_KEY": "from-env",
           "ASSAY_LLM_MODEL": "env-model"}
    config = LLMConfig.resolve({"model": "flag-model", "base_url": None},
                               {"base_url": "http://file/v1", "concurrency": 2}, env)
    assert (config.base_url, config.model, config.api_key, config.concurrency) == (
        "http://file/v1", "flag-model", "from-env", 2)
    with pytest.raises(ValueError, match="unknown llm settings: url"):
        LLMConfig.resolve({}, {"url": "x"}, {})


def test_json_mode_is_asked_for_and_dropped_when_the_server_refuses_it(server: Server) -> None:
    server.plan = [(400, {"error": "response_format is not supported"}, {}, 0.0)]
    answer = client(server).chat(ask("hi", json_object=True))
    assert answer.text == "echo: hi (seed None)"
    assert server.requests[0]["response_format"] == {"type": "json_object"}
    assert "response_format" not in server.requests[1]
