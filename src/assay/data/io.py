"""Streaming readers and writers of records: JSONL (optionally gzip) and Parquet.

Rows are read and written one at a time (Parquet: a bounded batch of rows at a time), so
memory does not grow with the size of the dataset. Writers write to a temporary file and
rename it into place when closed without error: an interrupted write never leaves a half
file behind, and a file already at the destination stays as it was.

Parquet files written by assay keep nested fields (a problem's ``tests``, ``metadata``) as
JSON text, because their shape varies from row to row, which a fixed Parquet schema cannot
hold; the names of those columns are stored in the file's schema metadata, and ``read_rows``
decodes them, so a row read back from Parquet is the same dict as the row read from JSONL.
"""

from __future__ import annotations

import enum
import gzip
import itertools
import json
import os
import types
import typing
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

from pydantic import BaseModel, ValidationError

from assay.data.errors import InputError, from_validation

M = TypeVar("M", bound=BaseModel)

PARQUET_SUFFIXES = (".parquet", ".pq")
# Rows per Parquet row group written, at most; a group is also closed at PARQUET_BATCH_BYTES.
PARQUET_BATCH_ROWS = 1024
PARQUET_BATCH_BYTES = 32 * 1024 * 1024
# Rows turned into Python objects at a time when reading (rows of some datasets are large).
PARQUET_READ_ROWS = 64
# Schema metadata key: comma-separated names of the columns that hold JSON text.
JSON_COLUMNS_KEY = b"assay.json_columns"

_temp_names = itertools.count()


def is_parquet(path: str | Path) -> bool:
    return str(path).endswith(PARQUET_SUFFIXES)


_NOT_JSONL = ("expected one JSON object per line, got a JSON array (to convert it: "
              "jq -c '.[]' FILE > FILE.jsonl)")


def read_rows(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line or row number, row as a dict) of a JSONL, JSONL.gz or Parquet file.

    Blank lines are skipped (but counted). Raises InputError naming the file and the line for
    a line that is not a JSON object, and for a file that cannot be read.
    """
    path = str(path)
    if not os.path.exists(path):
        raise InputError(path, None, "no such file")
    if os.path.isdir(path):
        raise InputError(path, None, "is a directory, not a file")
    if is_parquet(path):
        yield from _parquet_rows(path)
    else:
        yield from _jsonl_rows(path)


def _jsonl_rows(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    opener: Any = gzip.open if path.endswith(".gz") else open
    try:
        handle = opener(path, "rt", encoding="utf-8")
    except OSError as exc:
        raise InputError(path, None, f"cannot open: {exc.strerror or exc}") from None
    number = 0
    with handle:
        while True:
            try:
                line = handle.readline()
            except UnicodeDecodeError:
                raise InputError(path, number + 1, "not UTF-8 text") from None
            except (OSError, EOFError) as exc:  # gzip: not gzip data, or cut short
                raise InputError(path, number + 1, f"cannot read: {exc}") from None
            if not line:
                return
            number += 1
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                if number == 1 and line.lstrip().startswith("["):
                    raise InputError(path, number, _NOT_JSONL) from None
                raise InputError(path, number, f"not valid JSON: {exc.msg} at column "
                                               f"{exc.colno}") from None
            if not isinstance(row, dict):
                if number == 1 and isinstance(row, list):
                    raise InputError(path, number, _NOT_JSONL)
                raise InputError(path, number, f"expected a JSON object, got "
                                               f"{type(row).__name__}")
            yield number, row


def read_records(path: str | Path, model: type[M]) -> Iterator[M]:
    """Records of one type, validated as they are read; InputError names file, line, field."""
    for _, record in read_numbered_records(path, model):
        yield record


def read_numbered_records(path: str | Path, model: type[M]) -> Iterator[tuple[int, M]]:
    """(line or row number, record) of each record, validated as it is read."""
    legacy = is_parquet(path) and os.path.isfile(path) and _json_columns(str(path)) is None
    for number, row in read_rows(path):
        if legacy:
            row = _decode_json_columns(row, model)
        try:
            yield number, model.model_validate(row)
        except ValidationError as exc:
            raise from_validation(str(path), number, exc) from None


def check_records(path: str | Path, model: type[M]) -> int:
    """Validate a whole file without keeping it; returns the number of records."""
    return sum(1 for _ in read_records(path, model))


def _open_parquet(path: str) -> Any:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise InputError(path, None, f"not a readable Parquet file: {exc}") from None


def _json_columns(path: str) -> set[str] | None:
    """Columns holding JSON text in a Parquet file written by assay; None for other files."""
    metadata = _open_parquet(path).schema_arrow.metadata or {}
    if JSON_COLUMNS_KEY not in metadata:
        return None
    return {name for name in metadata[JSON_COLUMNS_KEY].decode().split(",") if name}


def _parquet_rows(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    parquet = _open_parquet(path)
    metadata = parquet.schema_arrow.metadata or {}
    json_columns = [name for name in metadata.get(JSON_COLUMNS_KEY, b"").decode().split(",")
                    if name]
    number = 0
    try:
        for batch in parquet.iter_batches(batch_size=PARQUET_READ_ROWS):
            for row in batch.to_pylist():
                number += 1
                for name in json_columns:
                    value = row.get(name)
                    if isinstance(value, str):
                        try:
                            row[name] = json.loads(value)
                        except json.JSONDecodeError as exc:
                            raise InputError(path, number, f"not valid JSON: {exc.msg}",
                                             name) from None
                yield number, row
    except OSError as exc:  # pyarrow's errors about a damaged file are OSErrors
        raise InputError(path, number + 1, f"cannot read: {exc}") from None


def _decode_json_columns(row: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """Parquet files written before the JSON columns were named in the file: decode the
    nested fields of ``model`` that hold JSON text."""
    out = row
    for name, value in row.items():
        if (isinstance(value, str) and value[:1] in "[{" and name in model.model_fields
                and _arrow_scalar(model.model_fields[name].annotation) is None):
            try:
                decoded = json.loads(value)
            except json.JSONDecodeError:
                continue
            if out is row:
                out = dict(row)
            out[name] = decoded
    return out


def _arrow_scalar(annotation: Any) -> str | None:
    """The Arrow type name of a field holding one scalar ('string', 'int64', ...), or None
    for anything nested or mixed (stored as JSON text)."""
    if annotation is None or annotation is type(None):
        return None
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        kinds = {_arrow_scalar(arg) for arg in typing.get_args(annotation)
                 if arg is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        return "string" if all(isinstance(value, str) for value in values) else None
    if not isinstance(annotation, type):
        return None
    if issubclass(annotation, bool):
        return "bool"
    if issubclass(annotation, enum.Enum):
        return "string" if issubclass(annotation, str) else None
    if issubclass(annotation, str):
        return "string"
    if issubclass(annotation, int):
        return "int64"
    if issubclass(annotation, float):
        return "float64"
    return None


class RecordWriter:
    """Writes records to JSONL (``.jsonl``, ``.jsonl.gz``) or Parquet, atomically on close.

    Used as a context manager, the file is committed when the block ends normally and thrown
    away when it raises. ``model`` (optional) fixes the Parquet schema before the first row,
    so that an empty file still has the record's columns; otherwise the first record's type
    (or, for plain dicts, the first batch of rows) decides it.
    """

    def __init__(self, path: str | Path, model: type[BaseModel] | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(
            f".{self.path.name}.{os.getpid()}.{next(_temp_names)}.tmp")
        self._parquet = is_parquet(self.path)
        self._model = model
        self._pending: list[dict[str, Any]] = []
        self._pending_bytes = 0
        self._schema: Any = None
        self._json_columns: set[str] | None = None
        self._columns: frozenset[str] = frozenset()
        self._writer: Any = None
        self._handle: IO[str] | None = None
        self._closed = False
        self.count = 0
        if not self._parquet:
            opener: Any = gzip.open if self.path.suffix == ".gz" else open
            self._handle = opener(self._tmp, "wt", encoding="utf-8")

    def write(self, record: BaseModel | dict[str, Any]) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: write after close")
        if isinstance(record, BaseModel):
            if self._model is None:
                self._model = type(record)
            row = record.model_dump(mode="json")
        else:
            row = record
        self.count += 1
        if self._handle is not None:
            self._handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            return
        if self._schema is None and self._model is not None:
            self._decide_schema()
        if self._schema is not None:
            row = self._encode(row)
            self._pending_bytes += sum(len(value) for value in row.values()
                                       if isinstance(value, str))
        self._pending.append(row)
        if (len(self._pending) >= PARQUET_BATCH_ROWS
                or self._pending_bytes >= PARQUET_BATCH_BYTES):
            self._flush_parquet()

    def write_all(self, records: Iterable[BaseModel | dict[str, Any]]) -> int:
        for record in records:
            self.write(record)
        return self.count

    def _decide_schema(self) -> None:
        """The Parquet schema: from the model when there is one, else from the first batch;
        nested (or, in the first batch, only null) columns hold JSON text."""
        import pyarrow as pa

        if self._model is not None:
            fields, json_columns = [], set()
            for name, info in self._model.model_fields.items():
                scalar = _arrow_scalar(info.annotation)
                if scalar is None:
                    json_columns.add(name)
                fields.append(pa.field(name, getattr(pa, scalar or "string")()))
            schema = pa.schema(fields)
        else:
            names: dict[str, None] = {}
            for row in self._pending:
                names.update(dict.fromkeys(row))
            json_columns = {name for name in names
                            if any(isinstance(row.get(name), (dict, list))
                                   for row in self._pending)}
            plain = pa.Table.from_pylist(
                [{name: row.get(name) for name in names if name not in json_columns}
                 for row in self._pending] or [{}]).schema
            fields = []
            for name in names:
                if name not in json_columns and pa.types.is_null(plain.field(name).type):
                    json_columns.add(name)  # no value yet to tell its type: JSON text
                fields.append(pa.field(name, pa.string()) if name in json_columns
                              else plain.field(name))
            schema = pa.schema(fields)
        self._json_columns = json_columns
        self._columns = frozenset(schema.names)
        self._schema = schema.with_metadata(
            {JSON_COLUMNS_KEY: ",".join(sorted(json_columns)).encode()})

    def _encode(self, row: dict[str, Any]) -> dict[str, Any]:
        """The row as stored: values of JSON columns as JSON text."""
        assert self._json_columns is not None
        unknown = [name for name in row if name not in self._columns]
        if unknown:
            raise ValueError(f"{self.path}: record {self.count}: column(s) "
                             f"{', '.join(unknown)} not in the file's schema "
                             f"({', '.join(self._schema.names)})")
        return {name: json.dumps(value, ensure_ascii=False)
                if name in self._json_columns and value is not None else value
                for name, value in row.items()}

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._schema is None:
            self._decide_schema()
            self._pending = [self._encode(row) for row in self._pending]
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, self._schema)
        if not self._pending:
            return
        columns = {name: [row.get(name) for row in self._pending]
                   for name in self._schema.names}
        try:
            table = pa.Table.from_pydict(columns, schema=self._schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ValueError(f"{self.path}: a record does not fit the file's schema: {exc}"
                             ) from None
        self._writer.write_table(table)
        self._pending = []
        self._pending_bytes = 0

    def close(self, commit: bool = True) -> None:
        """Finish the file; with ``commit`` it replaces ``path``, else it is thrown away.

        Closing again does nothing. When finishing the file fails, it is thrown away and the
        error raised.
        """
        if self._closed:
            return
        self._closed = True
        try:
            if self._handle is not None:
                self._handle.close()
            elif commit:
                self._flush_parquet()
            if self._writer is not None:
                self._writer.close()
            if commit:
                os.replace(self._tmp, self.path)
        except BaseException:
            self._tmp.unlink(missing_ok=True)
            raise
        if not commit:
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.close(commit=exc_type is None)


def write_records(path: str | Path, records: Iterable[BaseModel | dict[str, Any]]) -> int:
    with RecordWriter(path) as writer:
        return writer.write_all(records)
