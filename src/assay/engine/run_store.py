"""Results keyed by the hash of everything that decides them, in SQLite (WAL).

Each finished result is committed on its own, so a run killed at any moment keeps every
result it finished and none half-written; running again skips them. Several processes may
share a store (WAL readers do not block the writer; writers wait their turn).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    finished_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
STORE_VERSION = "1"


def content_key(*parts: Any) -> str:
    """SHA-256 of the canonical JSON of the parts."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class RunStore:
    """A SQLite file of (key -> JSON value) results, safe against kills mid-run."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False,
                                   isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        found = self._db.execute("SELECT value FROM meta WHERE name='version'").fetchone()
        if found is None:
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('version', ?)",
                             (STORE_VERSION,))
        elif found[0] != STORE_VERSION:
            raise ValueError(f"{self.path}: run store version {found[0]}, this assay reads "
                             f"version {STORE_VERSION}")

    def get(self, key: str) -> Any | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM results WHERE key=?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def has(self, key: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM results WHERE key=?",
                                    (key,)).fetchone() is not None

    def put(self, key: str, kind: str, value: Any) -> None:
        """Store one finished result (committed at once). The first result of a key wins."""
        text = json.dumps(value, ensure_ascii=False)
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO results VALUES (?, ?, ?, ?)",
                             (key, kind, text, time.time()))

    def put_many(self, rows: list[tuple[str, str, Any]]) -> None:
        """Store several finished results (key, kind, value) in one transaction: all of
        them or, after a kill, none."""
        if not rows:
            return
        stamp = time.time()
        values = [(key, kind, json.dumps(value, ensure_ascii=False), stamp)
                  for key, kind, value in rows]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT OR IGNORE INTO results VALUES (?, ?, ?, ?)",
                                     values)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def items(self, kind: str | None = None) -> Iterator[tuple[str, Any]]:
        """Every stored (key, value), optionally of one kind, in key order (streamed)."""
        query = "SELECT key, value FROM results"
        args: tuple[str, ...] = ()
        if kind is not None:
            query += " WHERE kind=?"
            args = (kind,)
        cursor = sqlite3.connect(self.path, timeout=60).execute(query + " ORDER BY key", args)
        for key, value in cursor:
            yield key, json.loads(value)

    def count(self, kind: str | None = None) -> int:
        with self._lock:
            if kind is None:
                return int(self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0])
            return int(self._db.execute("SELECT COUNT(*) FROM results WHERE kind=?",
                                        (kind,)).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
