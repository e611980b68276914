"""What the importers share: options, what they yield, and type-checked access to a row."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from assay.data.errors import InputError, from_validation
from assay.data.io import read_rows
from assay.data.records import Checker, Solution, TestCase

T = TypeVar("T")
CheckerChoice = Literal["auto", "tokens", "exact", "float"]
NativeKind = Literal["auto", "problem", "solution", "report"]
TEST_GROUPS = ("public", "private", "generated")


class UsageError(ValueError):
    """The import was asked for something it cannot do (unknown format, wrong option)."""


@dataclass(frozen=True)
class ImportOptions:
    """Choices of an import. Each importer reads the ones that apply to its format.

    Attributes:
        id_prefix: Put in front of every problem id (and of solutions' ids and problem_ids),
            e.g. to keep the train and test splits of a dataset apart.
        limit: Stop after this many records.
        language: Language of the problems of stdin/stdout datasets (apps, codecontests),
            whose tests do not depend on it; the reference is the first solution in it.
        checker: How io/call outputs are compared: ``auto`` is ``float`` when the statement
            asks for an answer within an absolute or relative error, else ``tokens``.
        test_groups: codecontests: which of public / private / generated tests to keep.
        incorrect: codecontests: also write its incorrect solutions (to ``--solutions``).
        kind: native: which records the file holds (``auto``: told by the first row).
    """

    id_prefix: str = ""
    limit: int | None = None
    language: str = "python"
    checker: CheckerChoice = "auto"
    test_groups: tuple[str, ...] = TEST_GROUPS
    incorrect: bool = False
    kind: NativeKind = "auto"


@dataclass
class Imported:
    """One record (a problem, or for native a record of any kind) and its solutions."""

    record: BaseModel
    solutions: list[Solution] = field(default_factory=list)


@dataclass(frozen=True)
class Skipped:
    """A source row that was left out, and why (it has no tests, it reads a file...)."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


Importer = Callable[[str | None, ImportOptions], Iterator[Imported | Skipped]]


class Row:
    """A source row with type-checked access: every error names file, line and field."""

    def __init__(self, path: str, line: int, data: dict[str, Any]) -> None:
        self.path, self.line, self.data = path, line, data

    def error(self, message: str, name: str | None = None) -> InputError:
        return InputError(self.path, self.line, message, name)

    def skipped(self, reason: str) -> Skipped:
        return Skipped(self.path, self.line, reason)

    def has(self, name: str) -> bool:
        return self.data.get(name) not in (None, "", [])

    def get(self, name: str, kind: type[T], default: T | None = None) -> T | None:
        """The value of ``name`` (``default`` when absent or null); an error if it is not
        a ``kind``."""
        value = self.data.get(name)
        if value is None:
            return default
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(f"expected {_type_name(kind)}, got {_type_name(type(value))} "
                             f"{_short(value)}", name)
        return value

    def require(self, name: str, kind: type[T]) -> T:
        value = self.get(name, kind)
        if value is None:
            raise self.error("missing (required)", name)
        return value

    def first(self, names: tuple[str, ...], kind: type[T]) -> T:
        """The first of ``names`` present; an error naming them all when none is."""
        for name in names:
            value = self.get(name, kind)
            if value is not None:
                return value
        raise self.error("missing (required)", " or ".join(names))

    def json_field(self, name: str) -> Any:
        """A field that holds JSON text (or the already decoded value)."""
        value = self.data.get(name)
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise self.error(f"not valid JSON text: {exc.msg} at character {exc.pos}",
                             name) from None

    def build(self, model: type[T], **values: Any) -> T:
        """``model(**values)``; a validation error names this row."""
        try:
            return model(**values)
        except ValidationError as exc:
            raise from_validation(self.path, self.line, exc) from None


def source_rows(src: str | None) -> Iterator[Row]:
    """The rows of a source file (JSONL, JSONL.gz or Parquet)."""
    if src is None or src == "-":
        raise UsageError("this format needs a source file (JSONL, JSONL.gz or Parquet)")
    path = str(Path(src))
    for line, data in read_rows(path):
        yield Row(path, line, data)


# Statements that allow answers within a tolerance, e.g. "absolute or relative error does
# not exceed 10^{-6}" or "an error of at most 1e-9".
_TOLERANCE = re.compile(r"(absolute|relative)\s+(or\s+(absolute|relative)\s+)?error"
                        r"|error\s+(does\s+not\s+exceed|of\s+at\s+most|less\s+than|within)",
                        re.IGNORECASE)
_EXPONENT = re.compile(r"10\s*\^\s*\{?\s*[-\u2212]\s*(\d+)\s*\}?|1\s*e\s*[-\u2212]\s*(\d+)",
                       re.IGNORECASE)
_ANY_ANSWER = re.compile(r"\b(print|output)\s+any\b|\bany\s+of\s+them\b"
                         r"|\bmultiple\s+(possible\s+|correct\s+|valid\s+)?(answers|solutions)\b",
                         re.IGNORECASE)


def choose_checker(statement: str, choice: CheckerChoice) -> Checker:
    """The checker of an io/call suite: ``choice``, or for ``auto`` the statement's word."""
    if choice == "auto":
        match = _TOLERANCE.search(statement)
        if match is None:
            return Checker(kind="tokens")
        exponent = _EXPONENT.search(statement, match.start(), match.end() + 200)
        tolerance = 10.0 ** -int(exponent.group(1) or exponent.group(2)) if exponent else 1e-6
        return Checker(kind="float", abs_tol=tolerance, rel_tol=tolerance)
    return Checker(kind=choice)


def allows_any_answer(statement: str) -> bool:
    """True when the statement accepts any of several answers (a fixed expected output then
    rejects correct programs; such problems need a custom checker)."""
    return _ANY_ANSWER.search(statement) is not None


def case_name(index: int) -> str:
    return f"case-{index:03d}"


def cases_io(row: Row, inputs: list[Any], outputs: list[Any], name: str) -> list[TestCase]:
    """io cases from parallel lists of inputs and expected outputs (strings, or lists of
    lines)."""
    if len(inputs) != len(outputs):
        raise row.error(f"{len(inputs)} inputs but {len(outputs)} outputs", name)
    return [TestCase(name=case_name(i), input=_text(row, value, f"{name}.inputs[{i}]"),
                     expected=_text(row, expected, f"{name}.outputs[{i}]"))
            for i, (value, expected) in enumerate(zip(inputs, outputs, strict=True))]


def _text(row: Row, value: Any, name: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "\n".join(value) + ("\n" if value else "")
    raise row.error(f"expected text (or a list of lines), got {_short(value)}", name)


def _type_name(kind: type) -> str:
    return {"str": "a string", "int": "an integer", "float": "a number", "list": "a list",
            "dict": "an object", "bool": "true/false", "NoneType": "null"}.get(
                kind.__name__, kind.__name__)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
