"""Responses kept in a run store, keyed by the whole request: a rerun costs nothing.

The key is the SHA-256 of the request body as sent (model, messages, temperature, seed,
max_tokens, stop...), in canonical JSON; the server's address is not part of it, so the
same model behind another URL is served from the cache too. Only successful answers are
kept. The store is assay's run store (SQLite, WAL, one transaction per answer): a killed
run loses at most the answers in flight.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay.engine.run_store import RunStore, content_key

KIND = "llm-response"


def request_key(body: dict[str, Any]) -> str:
    """The cache key of a request body."""
    return content_key(KIND, body)


class ResponseCache:
    """Request body -> the server's JSON answer."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._store = RunStore(self.path)

    def get(self, body: dict[str, Any]) -> dict[str, Any] | None:
        stored = self._store.get(request_key(body))
        return None if stored is None else dict(stored["response"])

    def put(self, body: dict[str, Any], response: dict[str, Any]) -> None:
        self._store.put(request_key(body), KIND, {"request": body, "response": response})

    def __len__(self) -> int:
        return self._store.count(KIND)

    def close(self) -> None:
        self._store.close()
