"""Patches: parse git / unified diffs, hash them for duplicates, and apply them safely.

Applying never touches a user's work tree or index. ``apply_check`` applies patches to a
commit's tree in a temporary index whose new objects go to a temporary object directory
(the repository's objects are only read), which is fast (no files are written) and works on
read-only repositories. ``export_tree`` writes a commit's files (exact committed bytes: no
filters, no line-ending conversion, no export-ignore) into a directory of its own, and
``apply_to_dir`` applies a patch there, for the stages that run the code.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from assay.swe.git import GitError, GitRepo, git_command, run_git, safe_env
from assay.swe.records import PatchStats

FileStatus = Literal["added", "deleted", "modified", "renamed", "copied"]


class PatchError(ValueError):
    """Text that is not a patch, or a patch cut short."""


@dataclass
class FilePatch:
    """One file's part of a patch.

    Attributes:
        old_path: Path before the change (None for a created file).
        new_path: Path after the change (None for a deleted file).
        status: added, deleted, modified (content or mode), renamed or copied.
        binary: The change is a ``GIT binary patch`` (or git's "Binary files differ").
        added: Lines added (0 for binary changes).
        removed: Lines removed.
        added_lines: Numbers of the added lines, in the new file.
        removed_lines: Numbers of the removed lines, in the old file.
        emptied: The file is empty after the change (created empty, or all lines removed).
        text: The section of the patch, verbatim.
        normal: The section without index / similarity lines and hunk positions (hashing).
    """

    old_path: str | None = None
    new_path: str | None = None
    status: FileStatus = "modified"
    binary: bool = False
    added: int = 0
    removed: int = 0
    added_lines: list[int] = field(default_factory=list)
    removed_lines: list[int] = field(default_factory=list)
    emptied: bool = False
    text: str = ""
    normal: str = ""

    @property
    def paths(self) -> list[str]:
        """The paths this change touches (both of a rename)."""
        return list(dict.fromkeys(p for p in (self.old_path, self.new_path) if p is not None))

    @property
    def path(self) -> str:
        """The file's path after the change (before, for a deletion)."""
        return self.new_path or self.old_path or ""


_EXTENDED = ("old mode ", "new mode ", "deleted file mode ", "new file mode ", "rename from ",
             "rename to ", "copy from ", "copy to ", "similarity index ",
             "dissimilarity index ", "index ")
# Dropped from the hashed form: they name blobs or rename scores, not the change itself.
_NOT_HASHED = ("index ", "similarity index ", "dissimilarity index ")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def parse_patch(text: str) -> list[FilePatch]:
    """The file sections of a git diff (``diff --git``) or a plain unified diff.

    Raises:
        PatchError: no file section at all, or a hunk cut short / malformed.
    """
    lines = text.split("\n")
    files: list[FilePatch] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("diff --git "):
            i = _parse_section(lines, i, files, git=True)
        elif lines[i].startswith("--- ") and i + 1 < len(lines) and \
                lines[i + 1].startswith("+++ "):
            i = _parse_section(lines, i, files, git=False)
        else:
            i += 1  # text around the diff (a mail header, a message) is ignored, as git does
    if not files:
        raise PatchError("not a patch: no file diff found (expected 'diff --git' or "
                         "'---' / '+++' lines)")
    return files


def _parse_section(lines: list[str], start: int, files: list[FilePatch], git: bool) -> int:
    patch = FilePatch()
    normal: list[str] = []
    i = start
    header_paths: tuple[str | None, str | None] = (None, None)
    if git:
        header_paths = _header_paths(lines[i][len("diff --git "):])
        normal.append(lines[i])
        i += 1
    renamed: dict[str, str] = {}
    while git and i < len(lines) and lines[i].startswith(_EXTENDED):
        line = lines[i]
        if not line.startswith(_NOT_HASHED):
            normal.append(line)
        for key in ("rename from ", "rename to ", "copy from ", "copy to "):
            if line.startswith(key):
                renamed[key] = _unquote(line[len(key):])
        if line.startswith("new file mode "):
            patch.status = "added"
        elif line.startswith("deleted file mode "):
            patch.status = "deleted"
        i += 1
    old, new = header_paths
    if i + 1 < len(lines) and lines[i].startswith("--- ") and lines[i + 1].startswith("+++ "):
        old, new = _diff_path(lines[i][4:]), _diff_path(lines[i + 1][4:])
        normal += lines[i:i + 2]
        i += 2
        if old is None:
            patch.status = "added"
        elif new is None:
            patch.status = "deleted"
    if "rename from " in renamed or "copy from " in renamed:
        patch.status = "renamed" if "rename from " in renamed else "copied"
        old = renamed.get("rename from ", renamed.get("copy from ", old))
        new = renamed.get("rename to ", renamed.get("copy to ", new))
    patch.old_path = None if patch.status == "added" else old
    patch.new_path = None if patch.status == "deleted" else new
    if i < len(lines) and lines[i].startswith(("GIT binary patch", "Binary files ")):
        patch.binary = True
        # Up to the next file; the "" after the text's final newline is not part of it.
        while i < len(lines) and not lines[i].startswith("diff --git ") and not (
                i == len(lines) - 1 and lines[i] == ""):
            normal.append(lines[i])
            i += 1
    while i < len(lines) and lines[i].startswith("@@ "):
        i = _parse_hunk(lines, i, patch, normal)
    if patch.path == "":
        raise PatchError(f"line {start + 1}: cannot tell which file this diff is about")
    has_hunks = bool(patch.added or patch.removed)
    patch.emptied = not patch.binary and patch.status != "deleted" and (
        (patch.status == "added" and not has_hunks)
        or any(h.startswith("@@ -") and " +0,0 @@" in h for h in _hunk_headers(lines, start, i)))
    patch.text = "\n".join(lines[start:i]) + "\n"
    patch.normal = "\n".join(normal)
    files.append(patch)
    return i


def _hunk_headers(lines: list[str], start: int, end: int) -> list[str]:
    return [line for line in lines[start:end] if line.startswith("@@ -")]


def _parse_hunk(lines: list[str], i: int, patch: FilePatch, normal: list[str]) -> int:
    header = lines[i]
    try:
        ranges = header.split("@@")[1].split()
        old_start, old_count = _range(ranges[0], "-")
        new_start, new_count = _range(ranges[1], "+")
    except (IndexError, ValueError):
        raise PatchError(f"line {i + 1}: malformed hunk header {header!r}") from None
    # Positions and the function name git shows after the range are left out of the hash:
    # the same change backported elsewhere in the file is still the same change.
    normal.append("@@")
    i += 1
    old_line, new_line = old_start, new_start
    old_left, new_left = old_count, new_count
    while old_left > 0 or new_left > 0:
        if i >= len(lines):
            raise PatchError(f"line {i}: hunk {header!r} cut short")
        line = lines[i]
        kind = line[:1]
        if line == "" and i + 1 == len(lines):
            raise PatchError(f"line {i}: hunk {header!r} cut short")
        if kind == " " or line == "":  # some tools strip the space of empty context lines
            old_line, new_line, old_left, new_left = (old_line + 1, new_line + 1,
                                                      old_left - 1, new_left - 1)
        elif kind == "-":
            patch.removed_lines.append(old_line)
            patch.removed += 1
            old_line, old_left = old_line + 1, old_left - 1
        elif kind == "+":
            patch.added_lines.append(new_line)
            patch.added += 1
            new_line, new_left = new_line + 1, new_left - 1
        elif kind != "\\":
            raise PatchError(f"line {i + 1}: unexpected line in hunk {header!r}: {line!r}")
        normal.append(line)
        i += 1
        if old_left < 0 or new_left < 0:
            raise PatchError(f"line {i}: hunk {header!r} longer than its header says")
    if i < len(lines) and lines[i].startswith("\\"):
        normal.append(lines[i])
        i += 1
    return i


def _range(text: str, sign: str) -> tuple[int, int]:
    if not text.startswith(sign):
        raise ValueError(text)
    start, _, count = text[1:].partition(",")
    return int(start), int(count) if count else 1


def _header_paths(rest: str) -> tuple[str | None, str | None]:
    """Paths of ``diff --git a/X b/Y``; (None, None) when the line is ambiguous."""
    if rest.startswith('"'):
        end = _quoted_end(rest)
        first, second = rest[:end], rest[end + 1:]
        return _strip_prefix(_unquote(first)), _strip_prefix(_unquote(second))
    if ' "' in rest:
        first, _, second = rest.partition(' "')
        return _strip_prefix(first), _strip_prefix(_unquote('"' + second))
    # Unquoted, and a path may hold spaces: a/P b/P with equal halves is the only safe read.
    half = (len(rest) - 1) // 2
    if len(rest) % 2 == 1 and rest[half] == " " and rest[2:half] == rest[half + 3:]:
        return _strip_prefix(rest[:half]), _strip_prefix(rest[half + 1:])
    return None, None


def _quoted_end(text: str) -> int:
    i = 1
    while i < len(text) and text[i] != '"':
        i += 2 if text[i] == "\\" else 1
    return i + 1


def _diff_path(text: str) -> str | None:
    """The path of a ``---`` / ``+++`` line (prefix removed), None for /dev/null."""
    if text.startswith('"'):
        path = _unquote(text[:_quoted_end(text)])
    else:
        path = text.split("\t", 1)[0].rstrip("\r")
    return None if path == "/dev/null" else _strip_prefix(path)


def _strip_prefix(path: str) -> str:
    """``a/x/y`` -> ``x/y`` (what ``git apply -p1`` does)."""
    return path.split("/", 1)[1] if "/" in path else path


def _unquote(text: str) -> str:
    """A path as git quotes it (C style, octal bytes), decoded; unquoted text unchanged."""
    if not (len(text) >= 2 and text.startswith('"') and text.endswith('"')):
        return text
    out = bytearray()
    body, i = text[1:-1], 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567":
                out.append(int(body[i + 1:i + 4], 8))
                i += 4
                continue
            out.append(_ESCAPES.get(nxt, ord(nxt)))
            i += 2
            continue
        out += char.encode()
        i += 1
    return out.decode("utf-8", "replace")


def touched_files(patch: str) -> list[str]:
    """Sorted paths a patch touches (both paths of a rename)."""
    return sorted({path for file in parse_patch(patch) for path in file.paths})


def patch_stats(files: Iterable[FilePatch]) -> PatchStats:
    """Files, lines added / removed, binary and emptied files of parsed sections."""
    files = list(files)
    return PatchStats(files=len(files), added=sum(f.added for f in files),
                      removed=sum(f.removed for f in files),
                      binary_files=sorted(f.path for f in files if f.binary),
                      empty_files=sorted(f.path for f in files if f.emptied))


def patch_hash(patch: str) -> str:
    """SHA-256 of a patch in normal form, to find duplicates.

    The normal form leaves out ``index`` and similarity lines, the positions and the
    function-name text of hunk headers, and the order of the files, so that the same change
    made on another branch (a backport, a cherry-pick) hashes the same. Text that is not a
    patch is hashed as it is.
    """
    try:
        sections = sorted(f.normal for f in parse_patch(patch))
    except PatchError:
        sections = [patch]
    return hashlib.sha256("\n\0".join(sections).encode("utf-8", "surrogatepass")).hexdigest()


# ---- applying ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ApplyResult:
    """Whether patches applied.

    Attributes:
        applies: Every patch applied.
        failed: Index of the first patch that did not apply.
        message: git's message about it.
        tree: The resulting tree's id (``apply_check`` only).
    """

    applies: bool
    failed: int | None = None
    message: str = ""
    tree: str | None = None


def apply_check(repo: GitRepo, base: str, patches: Sequence[str]) -> ApplyResult:
    """Apply ``patches`` in order to commit ``base``'s tree, without any work tree.

    The tree is read into a temporary index; objects git writes go to a temporary object
    directory that borrows the repository's as an alternate.

    Raises:
        GitError: ``base`` is not a commit, or git fails for another reason.
    """
    with tempfile.TemporaryDirectory(prefix="assay-apply-") as tmp:
        objects = os.path.join(tmp, "objects")
        os.mkdir(objects)
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index"), "GIT_OBJECT_DIRECTORY": objects,
               "GIT_ALTERNATE_OBJECT_DIRECTORIES": repo.objects_dir()}
        repo.run("read-tree", "--end-of-options", f"{base}^{{tree}}", env=env)
        for index, patch in enumerate(patches):
            if not patch.strip():
                return ApplyResult(False, index, "empty patch")
            done = repo.run("apply", "--cached", "--whitespace=nowarn", "-",
                            input=patch.encode("utf-8", "surrogateescape"), env=env,
                            check=False)
            if done.returncode != 0:
                return ApplyResult(False, index, done.stderr.decode("utf-8", "replace").strip())
        return ApplyResult(True, tree=repo.text("write-tree", env=env))


def apply_to_dir(directory: str | Path, patch: str, timeout_s: float = 120.0,
                 options: Sequence[str] = ()) -> ApplyResult:
    """Apply a patch to the files of ``directory`` (a tree from ``export_tree``).

    git runs there as a plain patch tool: it does not look for a repository above the
    directory, so a directory that happens to sit inside a checkout stays separate.
    ``options`` are more ``git apply`` options (``-C1`` to accept less context).
    """
    directory = Path(directory).resolve()
    if not patch.strip():
        return ApplyResult(False, 0, "empty patch")
    done = run_git(None, ["apply", "--whitespace=nowarn", *options, "-"], cwd=directory,
                   input=patch.encode("utf-8", "surrogateescape"), check=False,
                   timeout_s=timeout_s,
                   env={"GIT_CEILING_DIRECTORIES": str(directory.parent)})
    if done.returncode != 0:
        return ApplyResult(False, 0, done.stderr.decode("utf-8", "replace").strip())
    return ApplyResult(True)


def export_tree(repo: GitRepo, rev: str, dest: str | Path) -> None:
    """Write the files of commit ``rev`` into ``dest`` (created; must be empty if present).

    Bytes are written as committed; modes (executable, symlink) are kept; a submodule
    becomes an empty directory.

    Raises:
        GitError: ``rev`` is unknown or git fails.
        ValueError: ``dest`` is not empty, or the tree holds an unsafe path.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise ValueError(f"{dest}: not empty")
    listing = repo.run("ls-tree", "-r", "-z", "--full-tree", "--end-of-options",
                       f"{rev}^{{tree}}").stdout
    blobs: list[tuple[str, str, str]] = []  # (mode, id, path)
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, raw_path = entry.partition(b"\t")
        mode, kind, object_id = meta.decode().split()
        path = os.fsdecode(raw_path)
        parts = path.split("/")
        if path.startswith("/") or any(p in ("", ".", "..", ".git") for p in parts):
            raise ValueError(f"{repo.path}: {rev} holds an unsafe path {path!r}")
        if kind == "commit":  # a submodule
            (dest / path).mkdir(parents=True, exist_ok=True)
        else:
            blobs.append((mode, object_id, path))
    _write_blobs(repo, blobs, dest)


def _write_blobs(repo: GitRepo, blobs: list[tuple[str, str, str]], dest: Path) -> None:
    """Stream the blobs through one ``git cat-file --batch`` and write them out."""
    args = ["cat-file", "--batch"]
    with tempfile.TemporaryFile() as ids:
        ids.write("".join(f"{object_id}\n" for _, object_id, _ in blobs).encode())
        ids.seek(0)
        process = subprocess.Popen(git_command(repo.path, args), stdin=ids,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=safe_env(), start_new_session=True)
        assert process.stdout is not None
        try:
            for mode, object_id, path in blobs:
                header = process.stdout.readline().split()
                if len(header) != 3 or header[0].decode() != object_id:
                    raise GitError(repo.path, args, f"unexpected answer for {object_id}: "
                                                    f"{b' '.join(header).decode()!r}")
                content = process.stdout.read(int(header[2]))
                process.stdout.read(1)  # the newline after each object
                target = dest / path
                if behind_symlink(dest, path):
                    # Only a damaged tree has a/b next to a symlink a; never write through it.
                    raise ValueError(f"{repo.path}: {path!r} lies behind a symlink")
                target.parent.mkdir(parents=True, exist_ok=True)
                if mode == "120000":
                    os.symlink(os.fsdecode(content), target)
                else:
                    target.write_bytes(content)
                    if mode == "100755":
                        target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP
                                     | stat.S_IXOTH)
        except BaseException:
            process.kill()
            process.communicate()
            raise
        try:
            _, stderr = process.communicate(timeout=repo.timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise GitError(repo.path, args, f"no answer within {repo.timeout_s:g} s") from None
        if process.returncode != 0:
            raise GitError(repo.path, args, stderr.decode("utf-8", "replace"),
                           process.returncode)


def behind_symlink(root: Path, relative: str) -> bool:
    """Whether a directory on the way from ``root`` to ``relative`` is a symlink: writing
    (or reading) there would go through the link, out of the tree."""
    parts = relative.split("/")[:-1]
    return any(root.joinpath(*parts[:k]).is_symlink() for k in range(1, len(parts) + 1))


def materialize(repo: GitRepo, rev: str, dest: str | Path, patches: Sequence[str] = ()
                ) -> ApplyResult:
    """``export_tree`` then ``apply_to_dir`` of each patch in order (stops at a failure)."""
    export_tree(repo, rev, dest)
    for index, patch in enumerate(patches):
        result = apply_to_dir(dest, patch, timeout_s=repo.timeout_s)
        if not result.applies:
            return ApplyResult(False, index, result.message)
    return ApplyResult(True)
