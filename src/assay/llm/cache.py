"""Responses kept in SQLite, keyed by the whole request: a rerun costs nothing.

The key is the SHA-256 of the request body as sent (model, messages, temperature, seed,
max_tokens, stop...), in canonical JSON; the server's address is not part of it, so the
same model behind another URL is served from the cache too. Only successful answers are
kept. WAL mode and one transaction per answer: a killed run loses at most the answers in
flight.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL
);
"""


def request_key(body: dict[str, Any]) -> str:
    """The cache key of a request body."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


class ResponseCache:
    """A SQLite file of request -> response (both JSON)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False,
                                   isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def get(self, body: dict[str, Any]) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT response FROM responses WHERE key=?",
                                   (request_key(body),)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def put(self, body: dict[str, Any], response: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)",
                             (request_key(body), json.dumps(body, ensure_ascii=False),
                              json.dumps(response, ensure_ascii=False), time.time()))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
