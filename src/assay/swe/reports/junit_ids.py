"""Test ids from JUnit ``<testcase>`` attributes, per producer.

- ``pytest``: the pytest node id, ``tests/test_x.py::TestK::test_y[param]``. pytest writes
  ``classname="tests.test_x.TestK"`` (the node id's path with ``/`` -> ``.`` and ``.py``
  dropped); the path is recovered from the ``file`` attribute when it fits (``-o
  junit_family=xunit1`` writes it), else from the files under ``root`` (pytest's rootdir),
  else by taking the trailing capitalised parts for classes.
- ``surefire``: ``com.example.CalcTest#adds``, Maven's own ``-Dtest=Class#method`` form;
  ``$`` in nested classes is kept, JUnit 5 parameters stay in the name (``positive(int)[1]``).
- ``unittest``: ``pkg.module.Class.method``, what ``TestCase.id()`` and ``python -m unittest
  ID`` use (written by assay's runner, see :mod:`assay.swe.reports.unittest_runner`).
- ``generic`` (jest-junit, vitest, mocha-junit-reporter, ...): ``classname::name``, or the
  name alone when the classname is empty or equal to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

IdStyle = Literal["pytest", "surefire", "unittest", "generic"]


class PytestIds:
    """Maps pytest's (classname, name, file) back to node ids, remembering each classname."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._paths: dict[str, tuple[str, list[str]]] = {}

    def node_id(self, classname: str, name: str, file: str | None) -> str:
        """The node id of a test case."""
        path, classes = self.split(classname, file)
        return "::".join([path, *classes, name])

    def module_path(self, dotted: str, file: str | None) -> str:
        """The file of a dotted module name (for collection errors, which name a module)."""
        path, classes = self.split(dotted, file)
        return "::".join([path, *classes])

    def split(self, classname: str, file: str | None) -> tuple[str, list[str]]:
        """(file path, classes) of a pytest classname."""
        key = f"{classname}\0{file or ''}"
        if key not in self._paths:
            self._paths[key] = self._split(classname, file)
        path, classes = self._paths[key]
        return path, list(classes)

    def _split(self, classname: str, file: str | None) -> tuple[str, list[str]]:
        parts = classname.split(".")
        if file:
            # The same mangling pytest applies to the node id's path.
            dotted = file.replace("\\", "/").replace("/", ".")
            dotted = dotted[:-3] if dotted.endswith(".py") else dotted
            if classname == dotted or classname.startswith(dotted + "."):
                rest = classname[len(dotted) + 1:]
                return file, rest.split(".") if rest else []
        if self.root is not None:
            found = _find(self.root, parts)
            if found is not None:
                return found
        # Modules are lower case by convention, test classes capitalised.
        k = len(parts)
        while k > 1 and parts[k - 1][:1].isupper():
            k -= 1
        return "/".join(parts[:k]) + ".py", parts[k:]


def _find(directory: Path, parts: list[str]) -> tuple[str, list[str]] | None:
    """The longest module path under ``directory`` that spells a prefix of ``parts``.

    A directory or file name may itself hold dots (``sub.pkg/``), so one name can take
    several parts.
    """
    best: tuple[str, list[str]] | None = None
    for j in range(1, len(parts) + 1):
        name = ".".join(parts[:j])
        options: list[tuple[str, list[str]]] = []
        if (directory / f"{name}.py").is_file():
            options.append((f"{name}.py", parts[j:]))
        if j < len(parts) and (directory / name).is_dir():
            below = _find(directory / name, parts[j:])
            if below is not None:
                options.append((f"{name}/{below[0]}", below[1]))
        for option in options:
            if best is None or len(option[1]) < len(best[1]):
                best = option
    return best


def simple_id(style: IdStyle, classname: str, name: str) -> str:
    """The id of a test case in the styles that need no lookup (all but pytest)."""
    if style == "surefire":
        return f"{classname}#{name}" if classname else name
    if style == "unittest":
        return f"{classname}.{name}" if classname else name
    if not classname or classname == name:
        return name
    return f"{classname}::{name}"
