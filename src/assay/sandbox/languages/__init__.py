"""Language registry: one module per language says how to compile and run it."""

from __future__ import annotations

import os

from assay.sandbox.languages.base import (
    Language,
    LanguageError,
    Toolchain,
    ToolchainMissing,
    UnknownLanguage,
)
from assay.sandbox.languages.c_family import C, Cpp
from assay.sandbox.languages.go import Go
from assay.sandbox.languages.java import Java
from assay.sandbox.languages.javascript import JavaScript
from assay.sandbox.languages.python import Python
from assay.sandbox.languages.rust import Rust
from assay.sandbox.languages.scripting import Bash, Php, Ruby
from assay.sandbox.languages.typescript import TypeScript

__all__ = [
    "Language", "LanguageError", "Toolchain", "ToolchainMissing", "UnknownLanguage",
    "all_languages", "get_language", "language_for_file", "register_language",
]

_REGISTRY: dict[str, Language] = {}
_ALIASES = {"py": "python", "js": "javascript", "node": "javascript", "ts": "typescript",
            "c++": "cpp", "golang": "go", "rs": "rust", "rb": "ruby", "sh": "bash"}


def register_language(language: Language) -> None:
    """Add a language (or replace one of the same name)."""
    _REGISTRY[language.name] = language


for _cls in (Python, JavaScript, TypeScript, Java, C, Cpp, Go, Rust, Ruby, Php, Bash):
    register_language(_cls())


def all_languages() -> list[Language]:
    return list(_REGISTRY.values())


def get_language(name: str) -> Language:
    """The language registered under ``name`` (or a common alias of it)."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _REGISTRY:
        raise UnknownLanguage(
            f"unknown language {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[key]


def language_for_file(path: str) -> Language:
    """The language whose extensions include this file's."""
    suffix = os.path.splitext(path)[1].lower()
    for language in _REGISTRY.values():
        if suffix in language.extensions:
            return language
    raise UnknownLanguage(
        f"cannot tell the language of {path!r} from its extension {suffix!r}; pass --lang")
