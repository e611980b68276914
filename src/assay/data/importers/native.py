"""assay's own records (problems, solutions or reports): validated, and rewritten in the
output's format (JSONL, JSONL.gz or Parquet, by its extension)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from assay.data.errors import InputError
from assay.data.importers.base import Imported, ImportOptions, Skipped, UsageError
from assay.data.io import read_numbered_records, read_rows
from assay.data.records import Problem, Solution, SolutionReport

MODELS: dict[str, type[BaseModel]] = {"problem": Problem, "solution": Solution,
                                      "report": SolutionReport}


def detect_kind(path: str) -> str:
    """problem / solution / report, told by the fields of the file's first row."""
    for line, row in read_rows(path):
        if "outcomes" in row or "solution_id" in row:
            return "report"
        if "tests" in row:
            return "problem"
        if "problem_id" in row and "code" in row:
            return "solution"
        raise InputError(path, line, "cannot tell which records this file holds (a problem "
                                     "has 'tests', a solution 'problem_id' and 'code', a "
                                     "report 'outcomes'); pass the kind")
    raise InputError(path, None, "empty: no record to tell the kind of records from; pass "
                                 "the kind")


def import_native(src: str | None, options: ImportOptions) -> Iterator[Imported | Skipped]:
    """Records in assay's own format; ids must be unique (problems, solutions)."""
    if src is None or src == "-":
        raise UsageError("native needs a source file (JSONL, JSONL.gz or Parquet)")
    path = str(Path(src))
    kind = detect_kind(path) if options.kind == "auto" else options.kind
    model = MODELS[kind]
    # 8-byte fingerprints rather than the ids themselves keep the check small (tens of bytes
    # a record) however long the ids; a false "appears twice" needs a 64-bit collision.
    seen: set[bytes] = set()
    field = "solution_id" if kind == "report" else "id"
    for line, record in read_numbered_records(path, model):
        key = getattr(record, field)
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        if digest in seen:
            raise InputError(path, line, f"{key!r} appears twice", field)
        seen.add(digest)
        yield Imported(record)
