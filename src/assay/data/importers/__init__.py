"""Importers: public datasets (and assay's own files) -> assay's Problem / Solution records.

Each importer reads its source row by row and yields records as it goes; ``import_dataset``
writes them with ``RecordWriter``, so memory stays flat whatever the size of the source and
the output appears only when the whole import succeeded. See ``docs/data-format.md`` for
how each format's fields map onto the records.

    from assay.data.importers import import_dataset

    import_dataset("humaneval", None, "problems.jsonl", solutions="canonical.jsonl")
    import_dataset("codecontests", "test.parquet", "cc.parquet",
                   options=ImportOptions(test_groups=("public", "private")))
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from assay.data.importers.apps import import_apps
from assay.data.importers.base import (
    TEST_GROUPS,
    Imported,
    Importer,
    ImportOptions,
    Skipped,
    UsageError,
)
from assay.data.importers.codecontests import import_codecontests
from assay.data.importers.humaneval import import_humaneval
from assay.data.importers.mbpp import import_mbpp
from assay.data.importers.native import MODELS, import_native
from assay.data.io import RecordWriter
from assay.data.records import Problem, Solution, canonical_language

__all__ = [
    "IMPORTERS", "WITH_SOLUTIONS", "ImportOptions", "ImportStats", "Imported", "Importer",
    "Skipped", "UsageError", "import_dataset", "import_with_stats",
]

IMPORTERS: dict[str, Importer] = {
    "humaneval": import_humaneval,
    "mbpp": import_mbpp,
    "apps": import_apps,
    "codecontests": import_codecontests,
    "native": import_native,
}
# Formats whose sources carry reference solutions (written to ``solutions`` when asked).
WITH_SOLUTIONS = frozenset({"humaneval", "mbpp", "apps", "codecontests"})
# Formats with a copy shipped in an installed package (used when no source is given).
BUNDLED = frozenset({"humaneval"})
# Skipped rows remembered as examples (all of them are counted).
SKIP_EXAMPLES = 10


@dataclass
class ImportStats:
    """What an import wrote and what it left out."""

    records: int = 0
    solutions: int = 0
    skipped: int = 0
    skip_examples: list[Skipped] = field(default_factory=list)


def import_dataset(format: str, src: str | Path | None, out: str | Path, *,
                   solutions: str | Path | None = None,
                   options: ImportOptions | None = None) -> int:
    """Import ``src`` (a file; for humaneval None or '-' means the bundled copy) in
    ``format`` into ``out``; returns the number of records written.

    Raises UsageError (unknown format, bad option) and InputError (bad source data: the
    message names file, line and field); then neither output is written.
    """
    return import_with_stats(format, src, out, solutions=solutions, options=options).records


def import_with_stats(format: str, src: str | Path | None, out: str | Path, *,
                      solutions: str | Path | None = None,
                      options: ImportOptions | None = None) -> ImportStats:
    """``import_dataset``, returning what was written and skipped."""
    options = _checked(format, src, solutions, options or ImportOptions())
    importer = IMPORTERS[format]
    stats = ImportStats()
    model = None if format == "native" else Problem
    with contextlib.ExitStack() as stack:
        writer = stack.enter_context(RecordWriter(out, model=model))
        solution_writer = None if solutions is None else stack.enter_context(
            RecordWriter(solutions, model=Solution))
        items = importer(None if src is None else str(src), options)
        stack.callback(getattr(items, "close", lambda: None))  # the source file, promptly
        for item in items:
            if isinstance(item, Skipped):
                stats.skipped += 1
                if len(stats.skip_examples) < SKIP_EXAMPLES:
                    stats.skip_examples.append(item)
                continue
            writer.write(item.record)
            stats.records += 1
            if solution_writer is not None:
                for solution in item.solutions:
                    solution_writer.write(solution)
                    stats.solutions += 1
            if options.limit is not None and stats.records >= options.limit:
                break
    return stats


def _checked(format: str, src: object, solutions: object, options: ImportOptions
             ) -> ImportOptions:
    if format not in IMPORTERS:
        raise UsageError(f"unknown format {format!r}; formats: {', '.join(IMPORTERS)}")
    if format not in BUNDLED and src in (None, "-"):
        raise UsageError(f"{format} needs a source file (JSONL, JSONL.gz or Parquet); only "
                         f"{', '.join(sorted(BUNDLED))} has a bundled copy")
    if solutions is not None and format not in WITH_SOLUTIONS:
        raise UsageError(f"{format} sources have no reference solutions to write; "
                         f"solutions come with: {', '.join(sorted(WITH_SOLUTIONS))}")
    if options.kind != "auto" and options.kind not in MODELS:
        raise UsageError(f"unknown kind {options.kind!r}; kinds: auto, {', '.join(MODELS)}")
    unknown = [group for group in options.test_groups if group not in TEST_GROUPS]
    if unknown or not options.test_groups:
        raise UsageError(f"unknown test group(s) {', '.join(unknown) or '(none given)'}; "
                         f"groups: {', '.join(TEST_GROUPS)}")
    if options.checker not in ("auto", "tokens", "exact", "float"):
        raise UsageError(f"unknown checker {options.checker!r}; checkers: auto, tokens, "
                         "exact, float")
    if options.limit is not None and options.limit < 1:
        raise UsageError("the limit must be at least 1")
    try:
        language = canonical_language(options.language)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return replace(options, language=language)
