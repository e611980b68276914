"""Environments without Docker: per-ecosystem dependency set-up (with network) and test
runs (without), in the sandbox. See :mod:`assay.swe.env.base`."""

from __future__ import annotations

from pathlib import Path

from assay.swe.env.base import Ecosystem, TestCommand
from assay.swe.env.cache import Environment, Environments, environment_key
from assay.swe.env.go import Go
from assay.swe.env.java import Java
from assay.swe.env.javascript import JavaScript
from assay.swe.env.python import Python
from assay.swe.env.rust import Rust

# Detection order: the first whose files a tree holds wins. JavaScript comes last: a
# package.json is often only the front end or the tooling of another kind of project.
ECOSYSTEMS: dict[str, Ecosystem] = {e.name: e for e in (Python(), Go(), Rust(), Java(),
                                                        JavaScript())}


def get_ecosystem(name: str) -> Ecosystem:
    """The ecosystem called ``name``; ValueError naming the known ones otherwise."""
    try:
        return ECOSYSTEMS[name]
    except KeyError:
        raise ValueError(f"unknown ecosystem {name!r}; known: {', '.join(ECOSYSTEMS)}"
                         ) from None


def detect_ecosystem(tree: Path, language: str | None = None) -> Ecosystem | None:
    """The ecosystem of a project tree: the one matching the candidate's language first, then
    the first in ``ECOSYSTEMS`` order that recognises the tree."""
    aliases = {"typescript": "javascript"}
    if language is not None:
        preferred = ECOSYSTEMS.get(aliases.get(language, language))
        if preferred is not None and preferred.detect(tree):
            return preferred
    for ecosystem in ECOSYSTEMS.values():
        if ecosystem.detect(tree):
            return ecosystem
    return None


__all__ = ["ECOSYSTEMS", "Ecosystem", "Environment", "Environments", "TestCommand",
           "detect_ecosystem", "environment_key", "get_ecosystem"]
