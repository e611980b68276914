"""Normalised code, so that two solutions differing only in layout or comments count as one."""

from __future__ import annotations

import ast
import hashlib
import re

# Line-comment markers per language; block comments /* */ are removed for the C-like ones.
_LINE_COMMENT = {"python": "#", "ruby": "#", "bash": "#", "php": "//|#"}
_C_LIKE = {"javascript", "typescript", "java", "c", "cpp", "go", "rust", "php"}
_STRING = r'"(?:\\.|[^"\\\n])*"' + r"|'(?:\\.|[^'\\\n])*'"


def normalise(code: str, language: str) -> str:
    """Code with comments and whitespace removed; for Python, its syntax tree without
    docstrings (so renamed-nothing, reformatted code is the same)."""
    if language == "python":
        try:
            return _python_tree(code)
        except (SyntaxError, ValueError):
            pass  # not Python after all: fall back to text
    return _strip_text(code, language)


def code_fingerprint(code: str, language: str) -> str:
    return hashlib.sha256(normalise(code, language).encode()).hexdigest()


def _python_tree(code: str) -> str:
    tree = ast.parse(code)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and isinstance(body, list) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, annotate_fields=False)


def _strip_text(code: str, language: str) -> str:
    patterns = [_STRING]
    if language in _C_LIKE:
        patterns += [r"/\*.*?\*/", r"//[^\n]*"]
    marker = _LINE_COMMENT.get(language)
    if marker and language not in _C_LIKE:
        patterns.append(rf"(?:{marker})[^\n]*")
    elif language == "php":
        patterns.append(r"#[^\n]*")

    def keep_strings(match: re.Match[str]) -> str:
        text = match.group(0)
        return text if text[:1] in "\"'" else " "

    stripped = re.sub("|".join(patterns), keep_strings, code, flags=re.DOTALL)
    return re.sub(r"\s+", "", stripped)
