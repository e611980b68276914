"""An OpenAI-compatible chat-completions client: vLLM, SGLang, llama.cpp's server and hosted
APIs all speak it.

Every request goes through the response cache first (a rerun costs nothing), then over HTTP
with a timeout, and is retried with exponential back-off and jitter on what a server
recovers from: connection errors, timeouts, 408, 409, 429 (honouring ``Retry-After``) and
5xx. Other answers (400, 401, 404...) fail at once with the server's message. ``chat_many``
runs requests with bounded concurrency and returns an error in place of each answer that
could not be had, so one bad request never loses the others. Token counts are kept per stage.

Standard library only (urllib): the client needs nothing a fresh machine lacks.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from assay.llm.cache import ResponseCache

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_BACKOFF_S = 30.0


class LLMError(Exception):
    """A request that got no usable answer (after its retries)."""


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion to ask for.

    Attributes:
        messages: ``{"role": ..., "content": ...}`` dicts.
        temperature: Sampling temperature.
        max_tokens: Longest answer.
        seed: Sampling seed (servers that honour it give the same answer again); also
            what makes several samples of one prompt distinct requests.
        stop: Stop sequences.
        json_object: Ask for a JSON object (``response_format``): servers that support it
            constrain the answer by grammar, which small models need to answer in JSON.
        stage: Which stage asks (token counts are kept per stage); not sent.
    """

    messages: tuple[dict[str, str], ...]
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = None
    stop: tuple[str, ...] = ()
    json_object: bool = False
    stage: str = "default"

    def body(self, model: str) -> dict[str, Any]:
        """The JSON body sent (and the cache key)."""
        body: dict[str, Any] = {"model": model, "messages": list(self.messages),
                                "temperature": self.temperature, "max_tokens": self.max_tokens}
        if self.seed is not None:
            body["seed"] = self.seed
        if self.stop:
            body["stop"] = list(self.stop)
        if self.json_object:
            body["response_format"] = {"type": "json_object"}
        return body


@dataclass(frozen=True)
class ChatResponse:
    """An answer.

    Attributes:
        text: The message content (empty when the server sent none).
        finish_reason: ``stop``, ``length`` (cut at max_tokens)...
        prompt_tokens: Tokens of the prompt, as the server counted them.
        completion_tokens: Tokens of the answer.
        cached: Served from the response cache.
        model: The model that answered.
    """

    text: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    cached: bool
    model: str

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


@dataclass
class Usage:
    """Tokens and requests of one stage."""

    requests: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: int = 0


@dataclass
class LLMClient:
    """A client of one server and model (see the module docstring).

    Attributes:
        base_url: The API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: The model name sent with each request.
        api_key: Sent as a bearer token when set.
        timeout_s: Time limit of each HTTP request.
        max_retries: Retries after the first attempt.
        backoff_s: First back-off; doubled each retry, with jitter, at most 30 s.
        concurrency: Requests in flight at once in ``chat_many``.
        cache: Where answers are kept (None: no cache).
    """

    base_url: str
    model: str
    api_key: str | None = None
    timeout_s: float = 120.0
    max_retries: int = 4
    backoff_s: float = 0.5
    concurrency: int = 4
    cache: ResponseCache | None = None
    usage: dict[str, Usage] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def chat(self, request: ChatRequest) -> ChatResponse:
        """One answer; LLMError when there is none after the retries. A server that refuses
        ``response_format`` (HTTP 400) is asked again without it."""
        try:
            return self._chat(request)
        except LLMError as exc:
            if not request.json_object or "HTTP 400" not in str(exc):
                raise
            return self._chat(replace(request, json_object=False))

    def _chat(self, request: ChatRequest) -> ChatResponse:
        body = request.body(self.model)
        stored = self.cache.get(body) if self.cache is not None else None
        if stored is not None:
            response = _parse(stored, cached=True)
        else:
            try:
                raw = self._post(body)
                response = _parse(raw, cached=False)
            except LLMError:
                self._count(request.stage, None)
                raise
            if self.cache is not None:
                self.cache.put(body, raw)
        self._count(request.stage, response)
        return response

    def chat_many(self, requests: Sequence[ChatRequest],
                  progress: Callable[[ChatResponse | LLMError], None] | None = None
                  ) -> list[ChatResponse | LLMError]:
        """Answers in request order, an LLMError in place of each one that failed."""

        def one(request: ChatRequest) -> ChatResponse | LLMError:
            try:
                answer: ChatResponse | LLMError = self.chat(request)
            except LLMError as exc:
                answer = exc
            if progress is not None:
                progress(answer)
            return answer

        with ThreadPoolExecutor(max_workers=max(1, self.concurrency),
                                thread_name_prefix="assay-llm") as pool:
            return list(pool.map(one, requests))

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        url = self.base_url.rstrip("/") + "/chat/completions"
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last = ""
        for attempt in range(self.max_retries + 1):
            wait: float | None = None
            try:
                request = urllib.request.Request(url, data=data, headers=headers, method="POST")
                with _opener(url).open(request, timeout=self.timeout_s) as answer:
                    text = answer.read()
                parsed = _json_object(text)
                if parsed is not None:
                    return parsed
                # A proxy's error page, a cut connection: worth another try.
                last = f"the server answered with something that is not a JSON object: " \
                       f"{text[:200]!r}"
            except urllib.error.HTTPError as exc:
                detail = exc.read()[:500].decode("utf-8", "replace")
                last = f"HTTP {exc.code}: {detail}"
                if exc.code not in RETRY_STATUSES:
                    raise LLMError(f"{url}: {last}") from None
                wait = _retry_after(exc.headers.get("Retry-After"))
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            if attempt < self.max_retries:
                time.sleep(wait if wait is not None else self._backoff(attempt))
        raise LLMError(f"{url}: no answer after {self.max_retries + 1} attempts ({last})")

    def _backoff(self, attempt: int) -> float:
        delay: float = min(MAX_BACKOFF_S, self.backoff_s * 2.0 ** attempt)
        return delay * (0.5 + random.random() / 2)  # jitter: workers do not retry in step

    def _count(self, stage: str, response: ChatResponse | None) -> None:
        with self._lock:
            usage = self.usage.setdefault(stage, Usage())
            usage.requests += 1
            if response is None:
                usage.errors += 1
                return
            usage.cached += response.cached
            usage.prompt_tokens += response.prompt_tokens
            usage.completion_tokens += response.completion_tokens


def _opener(url: str) -> urllib.request.OpenerDirector:
    """urllib's opener, without the environment's proxies for a server on this machine (a
    proxy cannot reach the local model server)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host in ("localhost", "127.0.0.1", "::1") or host.startswith("127."):
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _json_object(text: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _retry_after(value: str | None) -> float | None:
    try:
        return None if value is None else min(MAX_BACKOFF_S, max(0.0, float(value)))
    except ValueError:
        return None


def _parse(raw: dict[str, Any], cached: bool) -> ChatResponse:
    """The answer of a chat-completions response; LLMError when it has none."""
    choices = raw.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise LLMError(f"the response has no choices: {json.dumps(raw)[:300]}")
    message = choices[0].get("message") or {}
    content = message.get("content") if isinstance(message, dict) else None
    counted = raw.get("usage")
    usage: dict[str, Any] = counted if isinstance(counted, dict) else {}
    return ChatResponse(text=content if isinstance(content, str) else "",
                        finish_reason=choices[0].get("finish_reason"),
                        prompt_tokens=int(usage.get("prompt_tokens") or 0),
                        completion_tokens=int(usage.get("completion_tokens") or 0),
                        cached=cached, model=str(raw.get("model") or ""))
