"""Judging outputs (io suites) and return values (call suites) against the expected ones.

This runs outside the sandbox, in the harnesses' ``grade``, on what the runners reported.

Outputs, by ``Checker.kind``:

* ``exact``: the texts are equal once line ends are normalised (CRLF and CR become LF),
  whitespace at the end of each line is dropped and blank lines at the end of the output are
  dropped. Everything else must match: leading spaces, spacing between words, blank lines
  between lines, letter case. (Trailing blanks are invisible and most judges ignore them.)
* ``tokens``: the whitespace-separated tokens are equal, one by one.
* ``float``: like ``tokens``, but where the expected token is a decimal number
  (``-1``, ``2.50``, ``1e-9``) the output's token must be a number within ``abs_tol`` of it,
  or within ``rel_tol`` times its magnitude.
* ``custom``: the problem's checker program decides; it runs in the sandbox (see ``io``).

Return values are compared as canonical JSON values (see ``canonical_value``): lists
element by element, dicts key by key, a bool only equals a bool, an int equals the same
float (``2 == 2.0``), and unless the checker is ``exact`` a float is equal within the
checker's ``abs_tol`` / ``rel_tol`` at any depth. A set (``{"$set": [...]}``) equals a list
or set holding the same elements in any order.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from assay.data.records import Checker, Status, TestOutcome

# A runner's result message holding the raw result (JSON) that grade() turns into an outcome.
RAW_PREFIX = "assay-raw:"
SHOW_LIMIT = 120
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def decode_raw(message: str) -> dict[str, Any] | None:
    """The raw result a runner put in a result message, or None if it holds none."""
    if not message.startswith(RAW_PREFIX):
        return None
    try:
        raw = json.loads(message[len(RAW_PREFIX):])
    except ValueError:
        return None
    return raw if isinstance(raw, dict) else None


def runner_verdict(outcome: TestOutcome) -> TestOutcome:
    """A runner's own verdict on a case it could not run (an error, a timeout). Never a
    pass: only grade() can tell a right result from a wrong one."""
    if outcome.status in (Status.PASS, Status.FAIL):
        message = f"the runner reported {outcome.status.value} without a result"
        return outcome.model_copy(update={"status": Status.ERROR, "message": message})
    return outcome


@dataclass(frozen=True)
class Tolerance:
    abs_tol: float
    rel_tol: float

    def close(self, expected: float, got: float) -> bool:
        if expected == got:
            return True
        difference = abs(expected - got)
        return difference <= self.abs_tol or difference <= self.rel_tol * abs(expected)


def tolerance_of(checker: Checker) -> Tolerance:
    return Tolerance(checker.abs_tol, checker.rel_tol)


# -- outputs ------------------------------------------------------------------------------


def output_mismatch(checker: Checker, expected: str, got: str) -> str | None:
    """None when ``got`` is accepted, else a short message on the first difference."""
    if checker.kind == "exact":
        return _lines_mismatch(expected, got)
    if checker.kind == "float":
        return _tokens_mismatch(expected, got, tolerance_of(checker))
    if checker.kind == "tokens":
        return _tokens_mismatch(expected, got, None)
    raise ValueError(f"the {checker.kind!r} checker does not compare outputs here")


def normalised_lines(text: str) -> list[str]:
    """The lines ``exact`` compares: LF line ends, no trailing blanks, no blank tail."""
    lines = [line.rstrip(" \t\f\v") for line in
             text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _lines_mismatch(expected: str, got: str) -> str | None:
    want, have = normalised_lines(expected), normalised_lines(got)
    for number, (line, other) in enumerate(zip(want, have, strict=False), start=1):
        if line != other:
            column = next((i for i, (a, b) in enumerate(zip(line, other, strict=False))
                           if a != b), min(len(line), len(other)))
            return (f"line {number}, column {column + 1}: expected "
                    f"{_window(line, column)}, got {_window(other, column)}")
    if len(have) < len(want):
        return (f"the output ended after {_count(len(have), 'line')}; expected "
                f"{len(want)}, next: {_quote(want[len(have)])}")
    if len(have) > len(want):
        return (f"extra output after {_count(len(want), 'line')}: "
                f"{_quote(have[len(want)])}")
    return None


def _tokens(text: str) -> Iterator[tuple[str, int]]:
    for number, line in enumerate(text.splitlines(), start=1):
        for token in line.split():
            yield token, number


def _tokens_mismatch(expected: str, got: str, tolerance: Tolerance | None) -> str | None:
    want, have = list(_tokens(expected)), list(_tokens(got))
    for index, ((token, _), (other, line)) in enumerate(zip(want, have, strict=False)):
        problem = _token_mismatch(token, other, tolerance)
        if problem is not None:
            return f"token {index + 1} (line {line}): {problem}"
    if len(have) < len(want):
        return (f"the output ended after {_count(len(have), 'token')}; expected "
                f"{len(want)}, next: {_quote(want[len(have)][0])}")
    if len(have) > len(want):
        token, line = have[len(want)]
        return (f"extra output after {_count(len(want), 'token')}: {_quote(token)} "
                f"(line {line})")
    return None


def _token_mismatch(token: str, other: str, tolerance: Tolerance | None) -> str | None:
    if token == other:
        return None
    expected_number = tolerance is not None and _NUMBER.fullmatch(token)
    if not expected_number or not _NUMBER.fullmatch(other):
        return f"expected {_quote(token)}, got {_quote(other)}"
    assert tolerance is not None
    want, have = float(token), float(other)
    if tolerance.close(want, have):
        return None
    return (f"expected {token}, got {other} (off by {abs(want - have):.3g}; tolerance "
            f"abs {tolerance.abs_tol:g}, rel {tolerance.rel_tol:g})")


def _window(text: str, column: int, width: int = 50) -> str:
    start = max(0, column - 20)
    piece = text[start:start + width]
    return (("..." if start else "") + _quote(piece, limit=width + 2)
            + ("..." if start + width < len(text) else ""))


def _quote(text: str, limit: int = 60) -> str:
    shown = json.dumps(text, ensure_ascii=False)
    return shown if len(shown) <= limit else shown[:limit - 4] + '..."'


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def as_text(value: Any) -> str | None:
    """An io case's input or expected output as text (None when there is none)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return " ".join(json.dumps(v) if not isinstance(v, str) else v for v in value) + "\n"
    return json.dumps(value) + "\n"


# -- return values ------------------------------------------------------------------------


def canonical_value(value: Any, depth: int = 0) -> Any:
    """A value in the canonical JSON form the call runners send back.

    Tuples are lists; a NaN or infinite float is ``{"$float": "nan" | "inf" | "-inf"}``; a
    set is ``{"$set": [...]}``; bytes are ``{"$bytes": base64}``; an int too large for JSON
    text is ``{"$int": hex}`` on the wire (an int again here); dict keys are strings, as
    ``json.dumps`` writes them.
    """
    if depth > 200:
        return {"$repr": "...", "$type": "too deeply nested"}
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return {"$float": "nan"}
        if math.isinf(value):
            return {"$float": "inf" if value > 0 else "-inf"}
        return value
    if isinstance(value, list | tuple):
        return [canonical_value(v, depth + 1) for v in value]
    if isinstance(value, set | frozenset):
        return {"$set": [canonical_value(v, depth + 1) for v in value]}
    if isinstance(value, bytes | bytearray):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dict):
        if set(value) == {"$int"} and isinstance(value["$int"], str):
            return int(value["$int"], 16)
        return {_key(k): canonical_value(v, depth + 1) for k, v in value.items()}
    return {"$repr": repr(value)[:200], "$type": type(value).__name__}


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    return json.dumps(key) if key is None or isinstance(key, bool | int | float) else str(key)


def value_mismatch(checker: Checker, expected: Any, got: Any) -> str | None:
    """None when the returned value ``got`` (canonical) equals ``expected``, else a short
    message naming the first difference."""
    tolerance = None if checker.kind == "exact" else tolerance_of(checker)
    want, have = canonical_value(expected), canonical_value(got)
    found = _difference(want, have, "", tolerance)
    if found is None:
        return None
    path, part_want, part_have = found
    message = f"expected {show(want)}, got {show(have)}"
    if path:
        message += f" (at {path}: expected {show(part_want)}, got {show(part_have)})"
    return message


Difference = tuple[str, Any, Any]


def _difference(want: Any, have: Any, path: str, tolerance: Tolerance | None
                ) -> Difference | None:
    if _is_set(want) or _is_set(have):
        return _set_difference(want, have, path, tolerance)
    if isinstance(want, bool) or isinstance(have, bool):
        return None if type(want) is type(have) and want == have else (path, want, have)
    if isinstance(want, int | float) and isinstance(have, int | float):
        return None if _numbers_equal(want, have, tolerance) else (path, want, have)
    if isinstance(want, list) and isinstance(have, list):
        if len(want) != len(have):
            return (path, want, have)
        for index, (item, other) in enumerate(zip(want, have, strict=True)):
            found = _difference(item, other, f"{path}[{index}]", tolerance)
            if found is not None:
                return found
        return None
    if isinstance(want, dict) and isinstance(have, dict):
        if set(want) != set(have):
            return (path, want, have)
        for key in want:
            found = _difference(want[key], have[key], f"{path}[{json.dumps(key)}]", tolerance)
            if found is not None:
                return found
        return None
    return None if type(want) is type(have) and want == have else (path, want, have)


def _numbers_equal(want: float, have: float, tolerance: Tolerance | None) -> bool:
    if want == have:
        return True
    if tolerance is None or (isinstance(want, int) and isinstance(have, int)):
        return False
    try:
        return tolerance.close(float(want), float(have))
    except OverflowError:
        return False


def _is_set(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"$set"} and isinstance(value["$set"], list)


def _set_difference(want: Any, have: Any, path: str, tolerance: Tolerance | None
                    ) -> Difference | None:
    items = [v["$set"] if _is_set(v) else v for v in (want, have)]
    if not all(isinstance(v, list) for v in items):
        return (path, want, have)
    left, right = (sorted(v, key=_order) for v in items)
    if len(left) != len(right):
        return (path, want, have)
    for item, other in zip(left, right, strict=True):
        if _difference(item, other, path, tolerance) is not None:
            return (path, want, have)
    return None


def _order(value: Any) -> tuple[int, Any]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value) if abs(value) < 1e300 else math.copysign(1e300, value))
    if isinstance(value, str):
        return (1, value)
    return (2, json.dumps(value, sort_keys=True, default=str))


def show(value: Any, limit: int = SHOW_LIMIT) -> str:
    """A value as a short, language-neutral literal for messages."""
    text = _show(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _show(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value) if value.bit_length() < 1000 else f"<int of {value.bit_length()} bits>"
    if isinstance(value, float | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value[:50]) + "]"
    if isinstance(value, dict):
        if set(value) == {"$float"}:
            return str(value["$float"])
        if _is_set(value):
            return "{" + ", ".join(_show(v) for v in value["$set"][:50]) + "}" \
                if value["$set"] else "set()"
        if set(value) == {"$bytes"}:
            return f"bytes({value['$bytes']!r}, base64)"
        if "$repr" in value:
            return str(value["$repr"])
        return "{" + ", ".join(f"{json.dumps(k)}: {_show(v)}" for k, v in
                               list(value.items())[:50]) + "}"
    return repr(value)
