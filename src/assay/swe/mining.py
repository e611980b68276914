"""Candidates from history: commits that change tests and code, split into fix and tests.

A commit is a candidate when it changes at least one test file and one other file (see
``assay.swe.testfiles`` for what a test file is). Its diff against its parent is split by
path: the non-test files make the fix patch, the test files the test patch, each produced by
``git diff --binary`` restricted to those paths (binary files survive as ``GIT binary
patch``; rename detection is on, and a rename whose two paths fall on different sides
becomes a deletion in one patch and an addition in the other). The base is the parent.

Merges are diffed against their first parent: the base is the first parent and the change is
everything the merge brought in, as a pull request's would be. By default only the first-
parent chain is walked, so a merged branch yields one candidate (its merge) rather than its
commits one by one, whose fix and tests are often in separate commits; ``first_parent=False``
walks every commit as well.

An explicit list of candidates (JSONL of ``ExplicitEntry``) is also accepted and validated.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from assay.data.errors import InputError
from assay.data.io import read_numbered_records
from assay.swe.git import GitError, GitRepo
from assay.swe.patches import FilePatch, parse_patch, patch_hash, patch_stats
from assay.swe.records import Candidate, ExplicitEntry
from assay.swe.testfiles import TestFileRules, rust_change_kind

# Why a commit is not a candidate (the keys of MineStats.skipped).
SKIP_ROOT = "root commit (no parent)"
SKIP_MERGE = "merge commit (merges excluded)"
SKIP_EMPTY = "no file changed"
SKIP_NO_TESTS = "no test file changed"
SKIP_TESTS_ONLY = "only test files changed"
SKIP_MIXED_ONLY = "tests only inside changed source files (Rust)"
SKIP_GIT_ERROR = "git failed on the commit (missing objects?)"
MAX_ERRORS_KEPT = 20

_NULL_ID = re.compile(r"0+")
_PATHS_PER_DIFF = 1000  # keeps the command line far below the system's limit
_EXTENSIONS = {".py": "python", ".pyi": "python", ".go": "go", ".js": "javascript",
               ".jsx": "javascript", ".mjs": "javascript", ".cjs": "javascript",
               ".ts": "typescript", ".tsx": "typescript", ".mts": "typescript",
               ".cts": "typescript", ".rs": "rust", ".java": "java"}


@dataclass(frozen=True)
class MineConfig:
    """What to mine.

    Attributes:
        rev_range: ``A..B`` (commits of B not in A), a single revision (its whole history),
            or None for the history of HEAD.
        first_parent: Walk only the first-parent chain (merges stand for their branches).
        merges: Consider merge commits at all.
        rules: What a test file is.
        repo_name: Name recorded in candidates (default: the directory's name).
        limit: Stop after this many candidates.
        timeout_s: Time limit of each git command.
        walk_timeout_s: Time limit of the history walk as a whole.
    """

    rev_range: str | None = None
    first_parent: bool = True
    merges: bool = True
    rules: TestFileRules = field(default_factory=TestFileRules.for_ecosystems)
    repo_name: str | None = None
    limit: int | None = None
    timeout_s: float = 120.0
    walk_timeout_s: float | None = 3600.0


@dataclass
class MineStats:
    """Counts of a mining run: commits seen, candidates, and why the rest were skipped."""

    commits: int = 0
    candidates: int = 0
    merge_candidates: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    binary_candidates: int = 0  # candidates with a binary file in a patch
    mixed_candidates: int = 0  # candidates with Rust test items left in the fix patch
    errors: list[str] = field(default_factory=list)  # the first git errors, verbatim


@dataclass(frozen=True)
class _Change:
    """One entry of ``git log --raw``."""

    status: str  # A, D, M, T, R, C
    old_path: str
    new_path: str
    old_id: str
    new_id: str


def repo_name_of(repo: GitRepo) -> str:
    """The directory's name, without the ``.git`` of a bare repository."""
    name = repo.path.name.removesuffix(".git")
    return name or "repo"


def check_range(repo: GitRepo, rev_range: str | None) -> None:
    """Raise ValueError, naming the repository, when the range is malformed or unknown."""
    if rev_range is None:
        if repo.commit_id("HEAD") is None:
            raise ValueError(f"{repo.path}: HEAD names no commit (an empty repository?)")
        return
    if not rev_range.strip() or rev_range.startswith("-") or any(c.isspace() for c in rev_range):
        raise ValueError(f"{repo.path}: bad revision range {rev_range!r} (expected A..B "
                         "or a revision)")
    for end in re.split(r"\.\.\.?", rev_range):
        if end and repo.commit_id(end) is None:
            raise ValueError(f"{repo.path}: unknown revision {end!r} in range {rev_range!r}")


def count_commits(repo: GitRepo, config: MineConfig) -> int:
    """How many commits ``mine`` will look at (for a progress bar)."""
    args = ["rev-list", "--count", *(["--first-parent"] if config.first_parent else []),
            "--end-of-options", config.rev_range or "HEAD"]
    return int(repo.text(*args))


def mine(repo: GitRepo | str | Path, config: MineConfig | None = None,
         stats: MineStats | None = None,
         progress: Callable[[MineStats], None] | None = None) -> Iterator[Candidate]:
    """The candidates of a revision range, oldest first.

    Args:
        repo: The repository (or its path).
        config: What to mine (default: all of HEAD's first-parent history).
        stats: Filled in as commits are seen.
        progress: Called after each commit with the running counts.

    Raises:
        ValueError: The range is malformed or names an unknown revision.
        GitError: git failed (the error names the repository and the command).
    """
    config = config or MineConfig()
    if not isinstance(repo, GitRepo):
        repo = GitRepo.open(repo, config.timeout_s)
    stats = stats if stats is not None else MineStats()
    check_range(repo, config.rev_range)
    name = config.repo_name or repo_name_of(repo)
    # closing(): when the caller stops early, the git log process is ended at once.
    with contextlib.closing(_walk(repo, config)) as commits:
        yield from _candidates(repo, config, name, commits, stats, progress)


def _candidates(repo: GitRepo, config: MineConfig, name: str,
                commits: Iterator[tuple[str, list[str], list[_Change]]], stats: MineStats,
                progress: Callable[[MineStats], None] | None) -> Iterator[Candidate]:
    for commit, parents, changes in commits:
        stats.commits += 1
        try:
            candidate = _candidate(repo, config, name, commit, parents, changes, stats)
        except GitError as exc:
            # One unreadable commit (a partial clone's missing blob, a diff over its time
            # limit) costs that commit, not the run; the summary counts and shows it.
            stats.skipped[SKIP_GIT_ERROR] += 1
            if len(stats.errors) < MAX_ERRORS_KEPT:
                stats.errors.append(f"{commit}: {exc}")
            candidate = None
        if candidate is not None:
            stats.candidates += 1
            stats.merge_candidates += candidate.source == "merge"
            stats.binary_candidates += bool(candidate.fix_stats.binary_files
                                            or candidate.test_stats.binary_files)
            stats.mixed_candidates += bool(candidate.mixed_files)
        if progress is not None:
            progress(stats)
        if candidate is not None:
            yield candidate
            if config.limit is not None and stats.candidates >= config.limit:
                return


def _walk(repo: GitRepo, config: MineConfig
          ) -> Generator[tuple[str, list[str], list[_Change]], None, None]:
    """(commit, parents, changes against the first parent), oldest first, from a single
    ``git log -z --raw`` read as it streams."""
    # No rename detection here: a rename's two paths come as a deletion and an addition,
    # which classify the same, and comparing contents would read every blob (slow, and
    # impossible for blobs a partial clone lacks). The candidates' diffs detect renames.
    args = ["log", "-z", "--raw", "--no-abbrev", "--no-renames", "--diff-merges=first-parent",
            "--format=%x01%H %P", "--topo-order", "--reverse", "--no-color",
            *(["--first-parent"] if config.first_parent else []),
            "--end-of-options", config.rev_range or "HEAD"]
    with contextlib.closing(repo.stream(*args, timeout_s=config.walk_timeout_s)) as fields:
        yield from _parse_log(repo, fields)


def _parse_log(repo: GitRepo, fields: Iterator[bytes]
               ) -> Iterator[tuple[str, list[str], list[_Change]]]:
    current: tuple[str, list[str], list[_Change]] | None = None
    for token in fields:
        text = token.decode("utf-8", "surrogateescape").lstrip("\n")
        if text.startswith("\x01"):
            if current is not None:
                yield current
            commit, *parents = text[1:].split()
            current = (commit, parents, [])
        elif text.startswith(":") and current is not None:
            meta = text[1:].split()
            status = meta[4][0]
            old_path = _path(next(fields))
            new_path = _path(next(fields)) if status in "RC" else old_path
            current[2].append(_Change(status, old_path, new_path, meta[2], meta[3]))
        elif text:
            raise ValueError(f"{repo.path}: unexpected git log output {text[:80]!r}")
    if current is not None:
        yield current


def _path(token: bytes) -> str:
    return token.decode("utf-8", "surrogateescape")


def _candidate(repo: GitRepo, config: MineConfig, name: str, commit: str,
               parents: list[str], changes: list[_Change], stats: MineStats
               ) -> Candidate | None:
    if not parents:
        stats.skipped[SKIP_ROOT] += 1
        return None
    if len(parents) > 1 and not config.merges:
        stats.skipped[SKIP_MERGE] += 1
        return None
    if not changes:
        stats.skipped[SKIP_EMPTY] += 1
        return None
    base = parents[0]
    test_paths, fix_paths, mixed = _split(repo, config.rules, base, commit, changes)
    if not test_paths or not fix_paths:
        reason = SKIP_TESTS_ONLY if test_paths else SKIP_MIXED_ONLY if mixed else SKIP_NO_TESTS
        stats.skipped[reason] += 1
        return None
    fix_patch = diff_paths(repo, base, commit, fix_paths)
    test_patch = diff_paths(repo, base, commit, test_paths)
    if not fix_patch.strip() or not test_patch.strip():
        stats.skipped[SKIP_EMPTY] += 1  # nothing git can show (e.g. an unchanged submodule)
        return None
    fix_files, test_files = parse_patch(fix_patch), parse_patch(test_patch)
    author_date, commit_date, message = repo.text(
        "show", "-s", "--format=%aI%x00%cI%x00%B", commit).split("\0", 2)
    merged: list[tuple[str, str]] = []
    if len(parents) > 1:
        merged = _merged_commits(repo, parents)
    return Candidate(
        id=f"{name.replace('/', '__')}-{commit[:12]}", repo=name, repo_path=str(repo.path),
        base_commit=base, fix_patch=fix_patch, test_patch=test_patch,
        problem_statement=_statement(message, merged),
        created_at=datetime.fromisoformat(author_date),
        committed_at=datetime.fromisoformat(commit_date),
        source="merge" if len(parents) > 1 else "commit", source_commit=commit,
        merged_commits=[sha for sha, _ in merged],
        fix_files=_paths(fix_files), test_files=_paths(test_files), mixed_files=sorted(mixed),
        fix_stats=patch_stats(fix_files), test_stats=patch_stats(test_files),
        language=guess_language(_paths(fix_files)) or guess_language(_paths(test_files))
        or tree_language(repo, base),
        fix_hash=patch_hash(fix_patch), test_hash=patch_hash(test_patch))


def _paths(files: list[FilePatch]) -> list[str]:
    return sorted({path for file in files for path in file.paths})


def _split(repo: GitRepo, rules: TestFileRules, base: str, commit: str,
           changes: list[_Change]) -> tuple[list[str], list[str], list[str]]:
    """(test paths, fix paths, mixed Rust files) of a commit's changes."""
    test: list[str] = []
    fix: list[str] = []
    rust = [c for c in changes if rules.rust_cfg_test and c.status == "M"
            and c.new_path.endswith(".rs") and not rules.is_test_path(c.new_path)]
    verdicts = _rust_verdicts(repo, base, commit, rust) if rust else {}
    mixed = [path for path, verdict in verdicts.items() if verdict == "mixed"]
    for change in changes:
        for path in dict.fromkeys((change.old_path, change.new_path)):
            if change.status == "C" and path == change.old_path:
                continue  # a copy leaves its source as it was
            is_test = rules.is_test_path(path) or verdicts.get(path) == "test"
            (test if is_test else fix).append(path)
    return test, fix, mixed


def _rust_verdicts(repo: GitRepo, base: str, commit: str, changes: list[_Change]
                   ) -> dict[str, str]:
    """For each changed .rs file: ``test`` (the change only edits #[cfg(test)] items),
    ``mixed`` (it edits them and other code) or ``fix``."""
    diff = _diff_bytes(repo, base, commit, [c.new_path for c in changes],
                       ["-U0", "--no-renames"]).decode("utf-8", "replace")
    by_path = {file.path: file for file in parse_patch(diff)} if diff.strip() else {}
    verdicts: dict[str, str] = {}
    for change in changes:
        file = by_path.get(change.new_path)
        if file is None or file.binary or not (file.added_lines or file.removed_lines):
            verdicts[change.new_path] = "fix"
        else:
            verdicts[change.new_path] = rust_change_kind(
                _text_blob(repo, change.old_id), _text_blob(repo, change.new_id),
                file.removed_lines, file.added_lines)
    return verdicts


def _text_blob(repo: GitRepo, object_id: str) -> str:
    if _NULL_ID.fullmatch(object_id):
        return ""
    return repo.blob(object_id).decode("utf-8", "replace")


def _diff_bytes(repo: GitRepo, old: str, new: str, paths: Sequence[str],
                extra: Sequence[str] = (), attributes: str | None = None) -> bytes:
    """``git diff old new -- paths`` (literal paths, fixed format), in chunks of paths."""
    out = b""
    config = ["-c", f"core.attributesFile={attributes}"] if attributes else []
    for start in range(0, len(paths), _PATHS_PER_DIFF):
        chunk = paths[start:start + _PATHS_PER_DIFF]
        out += repo.run(*config, "--literal-pathspecs", "diff", "--binary", "--no-ext-diff",
                        "--no-textconv", "--no-color", "-M", "-U3", "--src-prefix=a/",
                        "--dst-prefix=b/", f"-O{os.devnull}", "--no-relative", *extra,
                        old, new, "--", *chunk).stdout
    return out


def diff_paths(repo: GitRepo, old: str, new: str, paths: Sequence[str]) -> str:
    """The binary-safe git diff of exactly ``paths`` between two commits, as text.

    A rename is kept as a rename when both its paths are in ``paths``. Files whose text is
    not UTF-8 are diffed as binary (``GIT binary patch``): a patch is stored as text, and
    any bytes survive that way.
    """
    ordered = sorted(dict.fromkeys(paths))
    wanted = set(ordered)
    text = _decoded_diff(repo, old, new, ordered, [])
    files = parse_patch(text) if text.strip() else []
    if all(set(file.paths) <= wanted for file in files):
        return text
    # A pathspec also matches everything below a directory of that name: when a file
    # became a directory (or the reverse), the diff holds paths of the other side. Renames
    # may then pair paths of both sides, so those are diffed without rename detection.
    if any(set(file.paths) & wanted and not set(file.paths) <= wanted for file in files):
        files = parse_patch(_decoded_diff(repo, old, new, ordered, ["--no-renames"]))
    return "".join(file.text for file in files if set(file.paths) <= wanted)


def _decoded_diff(repo: GitRepo, old: str, new: str, paths: list[str], extra: list[str]
                  ) -> str:
    raw = _diff_bytes(repo, old, new, paths, extra)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    undecodable = [path for path in paths
                   if not _decodes(_diff_bytes(repo, old, new, [path], extra))]
    with tempfile.NamedTemporaryFile("w", suffix=".gitattributes", encoding="utf-8") as attrs:
        attrs.write("".join(f"{_attribute_pattern(path)} binary\n" for path in undecodable))
        attrs.flush()
        return _diff_bytes(repo, old, new, paths, extra, attributes=attrs.name).decode(
            "utf-8", "replace")


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _attribute_pattern(path: str) -> str:
    """A gitattributes pattern that matches exactly ``path`` (anchored, globs escaped)."""
    escaped = re.sub(r"([\\*?\[\]])", r"\\\1", "/" + path)
    if any(c in escaped for c in ' "\t'):
        return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return escaped


def _merged_commits(repo: GitRepo, parents: list[str]) -> list[tuple[str, str]]:
    """(id, message) of the commits a merge brought in, oldest first."""
    out = repo.text("log", "-z", "--format=%H%x00%B", "--topo-order", "--reverse",
                    "--end-of-options", *parents[1:], f"^{parents[0]}")
    fields = out.split("\0") if out else []
    return [(fields[i].strip(), fields[i + 1].strip()) for i in range(0, len(fields) - 1, 2)]


def _statement(message: str, merged: list[tuple[str, str]]) -> str:
    """The commit message; for a merge whose message is one line ("Merge branch 'x'"),
    followed by the messages of the commits it brought in."""
    message = message.strip()
    if merged and "\n" not in message:
        return "\n\n".join([message, *(text for _, text in merged if text)])
    return message


def guess_language(paths: Sequence[str]) -> str | None:
    """The language most of the files are in, by extension; None when none is known."""
    counts = Counter(_EXTENSIONS.get(os.path.splitext(path)[1].lower()) for path in paths)
    counts.pop(None, None)
    if not counts:
        return None
    return max(counts, key=lambda language: (counts[language], language == "typescript"))


def tree_language(repo: GitRepo, rev: str) -> str | None:
    """The language most files of a commit are in (when its patches name none)."""
    listing = repo.run("ls-tree", "-r", "-z", "--name-only", "--full-tree",
                       "--end-of-options", rev).stdout
    return guess_language([os.fsdecode(name) for name in listing.split(b"\0") if name])


# ---- explicit candidates -----------------------------------------------------------------

def load_explicit(repo: GitRepo | str | Path, path: str | Path, repo_name: str | None = None
                  ) -> Iterator[Candidate]:
    """Candidates from a JSONL of ``ExplicitEntry`` rows, validated one by one.

    Raises:
        InputError: A malformed row (names the file, the line and the field), a base commit
            the repository does not have, or an id used twice.
    """
    if not isinstance(repo, GitRepo):
        repo = GitRepo.open(repo)
    name = repo_name or repo_name_of(repo)
    seen: dict[str, int] = {}
    for line, entry in read_numbered_records(path, ExplicitEntry):
        base = repo.commit_id(entry.base_commit)
        if base is None:
            raise InputError(str(path), line, f"no commit {entry.base_commit!r} in "
                                              f"{repo.path}", "base_commit")
        fix_files, test_files = parse_patch(entry.fix_patch), parse_patch(entry.test_patch)
        fix_hash = patch_hash(entry.fix_patch)
        identifier = entry.id or f"{name.replace('/', '__')}-{base[:12]}-{fix_hash[:8]}"
        if identifier in seen:
            raise InputError(str(path), line, f"id {identifier!r} already used on line "
                                              f"{seen[identifier]}", "id")
        seen[identifier] = line
        yield Candidate(
            id=identifier, repo=name, repo_path=str(repo.path), base_commit=base,
            fix_patch=entry.fix_patch, test_patch=entry.test_patch,
            problem_statement=entry.problem_statement, created_at=entry.created_at,
            source="explicit", fix_files=_paths(fix_files), test_files=_paths(test_files),
            fix_stats=patch_stats(fix_files), test_stats=patch_stats(test_files),
            language=guess_language(_paths(fix_files)) or guess_language(_paths(test_files))
            or tree_language(repo, base),
            fix_hash=fix_hash, test_hash=patch_hash(entry.test_patch))
