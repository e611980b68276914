"""Generated tests -> a ``call`` TestSuite, validated by parsing before it is accepted.

Models are asked for lines ``assert f(ARGS) == EXPECTED``. Each assert is parsed with
``ast``; it becomes a case when it calls the entry point with literal arguments (keyword
arguments too) and compares with a literal (``assert f(x)`` and ``assert not f(x)`` mean
True and False). Anything else — a call to another function, a variable, a set, a float
``nan`` — is skipped and counted, never evaluated: the values are read with
``ast.literal_eval``, so no generated code runs on the host. Tuples become lists (what the
call harness compares after its JSON round trip). Identical cases are kept once.
"""

from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from assay.data.records import SuiteOrigin, TestCase, TestSuite

Strategy = Literal["minimal", "structured", "contrastive"]


@dataclass(frozen=True)
class ParsedSuite:
    """The cases read from generated code, and what was skipped."""

    cases: list[TestCase]
    skipped: int


def parse_asserts(code: str, entry_point: str) -> ParsedSuite:
    """Call cases from the asserts of ``code`` (which must parse)."""
    cases: list[TestCase] = []
    seen: set[str] = set()
    skipped = 0
    for node in ast.walk(ast.parse(code)):
        if not isinstance(node, ast.Assert):
            continue
        case = _case(node.test, entry_point)
        if case is None:
            skipped += 1
            continue
        args, kwargs, expected = case
        key = json.dumps([args, kwargs, expected], sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        cases.append(TestCase(name=f"gen_{len(cases) + 1}", args=args, kwargs=kwargs or None,
                              expected=expected))
    return ParsedSuite(cases, skipped)


def make_suite(cases: list[TestCase], strategy: Strategy, generator: str,
               timeout_s: float = 5.0) -> TestSuite:
    return TestSuite(kind="call", cases=cases, timeout_s=timeout_s,
                     origin=SuiteOrigin(strategy=strategy, generator=generator))


def _case(test: ast.expr, entry_point: str
          ) -> tuple[list[Any], dict[str, Any], Any] | None:
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and \
            isinstance(test.ops[0], ast.Eq):
        call, expected_node = test.left, test.comparators[0]
        if not _calls(call, entry_point):  # EXPECTED == f(ARGS)
            call, expected_node = expected_node, test.left
        if not _calls(call, entry_point):
            return None
        expected = _literal(expected_node)
        if expected is _NOT_LITERAL:
            return None
        return _arguments(call, expected)
    if _calls(test, entry_point):
        return _arguments(test, True)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and \
            _calls(test.operand, entry_point):
        return _arguments(test.operand, False)
    return None


def _calls(node: ast.expr, entry_point: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
        node.func.id == entry_point


def _arguments(node: ast.expr, expected: Any) -> tuple[list[Any], dict[str, Any], Any] | None:
    assert isinstance(node, ast.Call)
    args = [_literal(a) for a in node.args]
    kwargs = {k.arg: _literal(k.value) for k in node.keywords if k.arg is not None}
    if any(v is _NOT_LITERAL for v in [*args, *kwargs.values()]) or \
            len(kwargs) != len(node.keywords):
        return None
    return args, kwargs, expected


_NOT_LITERAL = object()


def _literal(node: ast.expr) -> Any:
    """The JSON-representable value of a literal node, or ``_NOT_LITERAL``."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL
    return _jsonable(value)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _NOT_LITERAL
    if isinstance(value, (list, tuple)):
        items = [_jsonable(v) for v in value]
        return _NOT_LITERAL if any(v is _NOT_LITERAL for v in items) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        mapping = {k: _jsonable(v) for k, v in value.items()}
        return _NOT_LITERAL if any(v is _NOT_LITERAL for v in mapping.values()) else mapping
    return _NOT_LITERAL  # sets, bytes, complex: no JSON form
