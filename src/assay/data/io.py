"""Streaming readers and writers of records: JSONL (optionally gzip) and Parquet.

Rows are read and written one at a time (Parquet: one row group at a time), so memory does
not grow with the size of the dataset. Writers write to a temporary file and rename it into
place when closed without error: an interrupted write never leaves a half file behind.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

from pydantic import BaseModel, ValidationError

from assay.data.errors import InputError, from_validation

M = TypeVar("M", bound=BaseModel)

PARQUET_SUFFIXES = (".parquet", ".pq")
PARQUET_BATCH_ROWS = 1024


def is_parquet(path: str | Path) -> bool:
    return str(path).endswith(PARQUET_SUFFIXES)


def read_rows(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line or row number, row as a dict) of a JSONL, JSONL.gz or Parquet file."""
    path = str(path)
    if not os.path.exists(path):
        raise InputError(path, None, "no such file")
    if is_parquet(path):
        yield from _parquet_rows(path)
        return
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(path, number, f"not valid JSON: {exc.msg} at column "
                                               f"{exc.colno}") from None
            if not isinstance(row, dict):
                raise InputError(path, number, f"expected a JSON object, got "
                                               f"{type(row).__name__}")
            yield number, row


def read_records(path: str | Path, model: type[M]) -> Iterator[M]:
    """Records of one type, validated as they are read; InputError names file, line, field."""
    for number, row in read_rows(path):
        try:
            yield model.model_validate(_decode_json_columns(row, model))
        except ValidationError as exc:
            raise from_validation(str(path), number, exc) from None


def check_records(path: str | Path, model: type[M]) -> int:
    """Validate a whole file without keeping it; returns the number of records."""
    return sum(1 for _ in read_records(path, model))


def _parquet_rows(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise InputError(path, None, f"not a readable Parquet file: {exc}") from None
    number = 0
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
        for row in batch.to_pylist():
            number += 1
            yield number, row


def _decode_json_columns(row: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """Parquet files written by assay keep nested fields as JSON text; decode them back."""
    out = row
    for name, value in row.items():
        if isinstance(value, str) and value[:1] in "[{" and name in model.model_fields:
            annotation = str(model.model_fields[name].annotation)
            if any(word in annotation for word in ("list", "dict", "Suite", "Resources",
                                                    "Outcome", "Checker")):
                try:
                    decoded = json.loads(value)
                except json.JSONDecodeError:
                    continue
                if out is row:
                    out = dict(row)
                out[name] = decoded
    return out


class RecordWriter:
    """Writes records to JSONL (``.jsonl``, ``.jsonl.gz``) or Parquet, atomically on close."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self._parquet = is_parquet(self.path)
        self._pending: list[dict[str, Any]] = []
        self._writer: Any = None
        self._handle: IO[str] | None = None
        self.count = 0
        if not self._parquet:
            opener: Any = gzip.open if self.path.suffix == ".gz" else open
            self._handle = opener(self._tmp, "wt", encoding="utf-8")

    def write(self, record: BaseModel | dict[str, Any]) -> None:
        row = record.model_dump(mode="json") if isinstance(record, BaseModel) else record
        self.count += 1
        if self._handle is not None:
            self._handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            return
        self._pending.append(row)
        if len(self._pending) >= PARQUET_BATCH_ROWS:
            self._flush_parquet()

    def write_all(self, records: Iterable[BaseModel | dict[str, Any]]) -> int:
        for record in records:
            self.write(record)
        return self.count

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._pending:
            return
        # Nested values become JSON text: their types vary between rows, which a fixed
        # Parquet schema cannot hold; readers decode them back.
        rows = [{key: json.dumps(value) if isinstance(value, (dict, list)) else value
                 for key, value in row.items()} for row in self._pending]
        table = pa.Table.from_pylist(rows)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, table.schema)
        else:
            table = table.cast(self._writer.schema)
        self._writer.write_table(table)
        self._pending = []

    def close(self, commit: bool = True) -> None:
        """Finish the file; with ``commit`` it replaces ``path``, else it is thrown away."""
        if self._handle is not None:
            self._handle.close()
        elif commit:
            self._flush_parquet()
            if self._writer is None:  # no rows: still a valid, empty file
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.table({}), self._tmp)
        if self._writer is not None:
            self._writer.close()
        if commit:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.close(commit=exc_type is None)


def write_records(path: str | Path, records: Iterable[BaseModel | dict[str, Any]]) -> int:
    with RecordWriter(path) as writer:
        return writer.write_all(records)
