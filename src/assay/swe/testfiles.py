"""Which files are tests: path rules per ecosystem, and Rust's in-file ``#[cfg(test)]`` items.

A rule is one of three forms, matched case-sensitively:

* ``NAME/`` or ``A/B/`` (ends with ``/``): a directory, or a run of directories, anywhere in
  the path (``tests/`` matches ``tests/x.py`` and ``pkg/tests/data/x.json``; ``src/test/``
  matches ``core/src/test/java/X.java``). Every file below it is a test file, fixtures and
  data included.
* a glob without ``/`` (``test_*.py``, ``*.spec.*``): the file's name.
* any other glob: the whole path (``*`` also crosses ``/``).

Rust keeps unit tests inside source files. A ``.rs`` file that no path rule calls a test is
a test file *for a given change* when every line the change removes or adds lies inside an
item marked ``#[cfg(test)]`` (the attribute through the item's closing brace or semicolon):
such a change only edits tests. A change that edits both test items and other code cannot be
split by path; it stays on the fix side and is reported as *mixed* (see mining).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

from assay.harness.unit.rust import mask_rust

ECOSYSTEM_TEST_PATTERNS: dict[str, tuple[str, ...]] = {
    "python": ("test_*.py", "*_test.py", "tests/", "conftest.py"),
    "go": ("*_test.go", "testdata/"),
    "javascript": ("*.test.js", "*.test.jsx", "*.test.mjs", "*.test.cjs", "*.test.ts",
                   "*.test.tsx", "*.spec.*", "__tests__/", "test/"),
    # tests.rs: the conventional file of a `#[cfg(test)] mod tests;` declared elsewhere.
    "rust": ("tests/", "tests.rs"),
    "java": ("src/test/",),
}
ECOSYSTEM_ALIASES = {"py": "python", "golang": "go", "js": "javascript", "ts": "javascript",
                     "typescript": "javascript", "rs": "rust"}


@dataclass(frozen=True)
class TestFileRules:
    """Path rules that make a file a test file, plus Rust's in-file test items.

    Attributes:
        patterns: The rules (see the module docstring for their forms).
        rust_cfg_test: Look inside changed ``.rs`` files for ``#[cfg(test)]`` items.
    """

    __test__ = False  # not a pytest class

    patterns: tuple[str, ...]
    rust_cfg_test: bool = True

    @classmethod
    def for_ecosystems(cls, ecosystems: Iterable[str] | None = None,
                       extra: Iterable[str] = (), rust_cfg_test: bool | None = None
                       ) -> TestFileRules:
        """The rules of some ecosystems (all of them by default) plus ``extra`` patterns.

        Raises:
            ValueError: an unknown ecosystem or an empty pattern.
        """
        names = list(ECOSYSTEM_TEST_PATTERNS) if ecosystems is None else [
            ECOSYSTEM_ALIASES.get(name.strip().lower(), name.strip().lower())
            for name in ecosystems]
        patterns: list[str] = []
        for name in names:
            if name not in ECOSYSTEM_TEST_PATTERNS:
                raise ValueError(f"unknown ecosystem {name!r}; known: "
                                 f"{', '.join(ECOSYSTEM_TEST_PATTERNS)}")
            patterns += ECOSYSTEM_TEST_PATTERNS[name]
        for pattern in extra:
            if not pattern.strip("/ "):
                raise ValueError(f"empty test-file pattern {pattern!r}")
            patterns.append(pattern.strip())
        return cls(tuple(dict.fromkeys(patterns)),
                   "rust" in names if rust_cfg_test is None else rust_cfg_test)

    def is_test_path(self, path: str) -> bool:
        """True when a path rule makes ``path`` (repository-relative, ``/``-separated) a
        test file."""
        return any(_matches(pattern, path) for pattern in self.patterns)


def _matches(pattern: str, path: str) -> bool:
    parts = path.split("/")
    if pattern.endswith("/"):
        wanted = pattern.strip("/").split("/")
        dirs = parts[:-1]
        return any(all(fnmatchcase(dirs[i + j], want) for j, want in enumerate(wanted))
                   for i in range(len(dirs) - len(wanted) + 1))
    if "/" not in pattern:
        return fnmatchcase(parts[-1], pattern)
    return fnmatchcase(path, pattern)


# ---- Rust: #[cfg(test)] items ------------------------------------------------------------

_CFG_TEST = re.compile(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
_CFG_TEST_INNER = re.compile(r"#\s*!\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")


def cfg_test_regions(source: str) -> list[tuple[int, int]]:
    """The line ranges (1-based, inclusive) of the items marked ``#[cfg(test)]``.

    A region runs from the attribute's line to the line of the item's end: the brace that
    closes its body, or its semicolon (``#[cfg(test)] mod tests;``). Only the exact
    attribute ``#[cfg(test)]`` counts (``cfg(any(test, ...))`` does not). Strings, chars
    and comments are skipped, so braces inside them do not count. A file with the inner
    attribute ``#![cfg(test)]`` is one region, the whole file.
    """
    code = mask_rust(source)
    if _CFG_TEST_INNER.search(code):
        return [(1, code.count("\n") + 1)]
    regions: list[tuple[int, int]] = []
    position = 0
    while match := _CFG_TEST.search(code, position):
        end = _item_end(code, match.end())
        regions.append((code.count("\n", 0, match.start()) + 1, code.count("\n", 0, end) + 1))
        position = end + 1
    return regions


def _item_end(code: str, start: int) -> int:
    """Index of the ``}`` or ``;`` that ends the item starting at ``start``."""
    depth = 0  # of () and [] before the body: `fn f() -> [u8; 2] {` has a `;` inside []
    for index in range(start, len(code)):
        char = code[index]
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == ";" and depth <= 0:
            return index
        elif char == "{" and depth <= 0:
            braces = 0
            for close in range(index, len(code)):
                if code[close] == "{":
                    braces += 1
                elif code[close] == "}":
                    braces -= 1
                    if braces == 0:
                        return close
            return len(code) - 1
    return len(code) - 1


def rust_change_kind(old_source: str, new_source: str, removed: Iterable[int],
                     added: Iterable[int]) -> Literal["test", "mixed", "fix"]:
    """What a change to a Rust file edits: ``test`` when every removed line (old numbering)
    lies in a ``#[cfg(test)]`` item of the old file and every added line (new numbering) in
    one of the new file, ``mixed`` when only some do, ``fix`` when none does."""
    old_regions, new_regions = cfg_test_regions(old_source), cfg_test_regions(new_source)

    def inside(line: int, regions: Sequence[tuple[int, int]]) -> bool:
        return any(first <= line <= last for first, last in regions)

    flags = [inside(line, old_regions) for line in removed]
    flags += [inside(line, new_regions) for line in added]
    if flags and all(flags):
        return "test"
    return "mixed" if any(flags) else "fix"
