"""Code and JSON out of model answers, which are untrusted text.

``extract_code`` reads markdown fences (``` or ~~~, any length, with or without a language
tag, closed or cut off) and picks the block to use:

1. blocks tagged with another language are set aside (``wrong language`` if nothing else);
2. of the rest, a Python block must parse; one that defines the entry point wins, else the
   longest;
3. an answer with no fence is taken whole when it parses as the language (small models
   often answer with bare code), else it is rejected (``no code``).

A block cut off by the end of the answer is used when it still parses, else rejected as
``truncated``. Every rejection has a reason; nothing here raises on bad input.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any

LANGUAGE_TAGS: dict[str, tuple[str, ...]] = {
    "python": ("python", "py", "python3", "py3"),
    "javascript": ("javascript", "js", "node", "mjs"),
    "typescript": ("typescript", "ts"),
    "java": ("java",),
    "c": ("c",),
    "cpp": ("cpp", "c++", "cc", "cxx"),
    "go": ("go", "golang"),
    "rust": ("rust", "rs"),
    "ruby": ("ruby", "rb"),
    "php": ("php",),
    "bash": ("bash", "sh", "shell"),
}
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)[^\n]*$", re.MULTILINE)


@dataclass(frozen=True)
class Extracted:
    """What came out of an answer: ``value`` (code or a JSON value) or the ``reason`` why
    nothing usable did."""

    value: Any = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class _Block:
    tag: str
    code: str
    closed: bool


def fenced_blocks(text: str) -> list[_Block]:
    """Every fenced block of ``text``, in order; the last may be unclosed."""
    blocks: list[_Block] = []
    position = 0
    while True:
        opening = _FENCE.search(text, position)
        if opening is None:
            return blocks
        fence, tag = opening.group(1), opening.group(2).lower()
        closing = re.compile(rf"^[ \t]{{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$",
                             re.MULTILINE)
        start = opening.end() + 1
        end = closing.search(text, start)
        if end is None:
            blocks.append(_Block(tag, text[start:], closed=False))
            return blocks
        blocks.append(_Block(tag, text[start:end.start()], closed=True))
        position = end.end()


def extract_code(text: str, language: str, entry_point: str | None = None,
                 truncated: bool = False) -> Extracted:
    """The code of an answer in ``language`` (see the module docstring). ``truncated``: the
    server cut the answer at its token limit."""
    if not text.strip():
        return Extracted(reason="empty answer")
    tags = LANGUAGE_TAGS.get(language, (language,))
    # A lone fence at the end (bare code followed by a stray closing ```) opens nothing.
    blocks = [b for b in fenced_blocks(text) if b.closed or b.code.strip()]
    if not blocks:
        return _bare(_FENCE.sub("", text), language, truncated)
    usable = [b for b in blocks if b.tag in tags or b.tag in ("", "code", "text")]
    if not usable:
        return Extracted(reason=f"wrong language: {blocks[0].tag} instead of {language}")
    valid = [b for b in usable if b.code.strip() and _parses(b.code, language)]
    if not valid:
        if any(not b.closed for b in usable) or truncated:
            return Extracted(reason="truncated: the code block is cut off")
        error = _syntax_error(usable[0].code, language)
        return Extracted(reason=f"syntax error: {error}" if error else "empty code block")
    if entry_point is not None:
        defining = [b for b in valid if _defines(b.code, entry_point, language)]
        if defining:
            valid = defining
    return Extracted(value=max(valid, key=lambda b: len(b.code)).code.strip("\n") + "\n")


def _bare(text: str, language: str, truncated: bool) -> Extracted:
    if language == "python" and _parses(text, language) and re.search(r"^\s*(def|class|import"
                                                                      r"|from)\b", text, re.M):
        return Extracted(value=text.strip("\n") + "\n")
    if truncated:
        return Extracted(reason="truncated: no complete code block")
    return Extracted(reason="no code block in the answer")


def _parses(code: str, language: str) -> bool:
    return language != "python" or _syntax_error(code, language) is None


def _syntax_error(code: str, language: str) -> str | None:
    if language != "python":
        return None
    try:
        ast.parse(code)
    except (SyntaxError, ValueError) as exc:  # ValueError: a NUL byte
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


def _defines(code: str, name: str, language: str) -> bool:
    if language == "python":
        return re.search(rf"^\s*(async\s+)?def\s+{re.escape(name)}\s*\(", code, re.M) is not None
    return re.search(rf"\b{re.escape(name)}\b", code) is not None


def extract_json(text: str) -> Extracted:
    """The first JSON object of an answer: a ```json block, else the first balanced
    ``{...}`` that parses."""
    for block in fenced_blocks(text):
        if block.tag in ("json", ""):
            parsed = _object(block.code)
            if parsed is not None:
                return Extracted(value=parsed)
    start = text.find("{")
    while start != -1:
        end = _balanced_end(text, start)
        if end is not None:
            parsed = _object(text[start:end])
            if parsed is not None:
                return Extracted(value=parsed)
        start = text.find("{", start + 1)
    return Extracted(reason="no JSON object in the answer" if text.strip() else "empty answer")


def _object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _balanced_end(text: str, start: int) -> int | None:
    """The end of the ``{...}`` opening at ``start`` (strings honoured), or None."""
    depth, in_string, escaped = 0, False, False
    for i in range(start, min(len(text), start + 100_000)):
        char = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return None
