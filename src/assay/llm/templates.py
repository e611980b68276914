"""Prompt templates, kept as package data (``assay/llm/prompts/*.txt``).

Templates use ``string.Template`` placeholders (``$prompt``), so the braces of code and JSON
in them need no escaping. Each record a stage writes names the template and the SHA-256 of
its text, so that a changed prompt is visible in the data it made.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from string import Template


@dataclass(frozen=True)
class Prompt:
    """A template by name, with the digest of its text."""

    name: str
    text: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]

    def render(self, **values: object) -> str:
        """The prompt with every placeholder filled (KeyError names one that is missing)."""
        return Template(self.text).substitute({k: str(v) for k, v in values.items()})


def load_prompt(name: str) -> Prompt:
    """The template ``name`` (``solution``, ``tests_minimal``, ``judge``...)."""
    path = resources.files("assay.llm").joinpath("prompts").joinpath(f"{name}.txt")
    if not path.is_file():
        raise ValueError(f"no prompt template {name!r}")
    return Prompt(name, path.read_text(encoding="utf-8"))
