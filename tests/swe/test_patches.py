"""Patches: parsing, hashing, applying (index-only and to a directory), exporting trees, and
the git runner itself, on real repositories."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from assay.swe.git import GitError, GitRepo, run_git
from assay.swe.patches import (
    PatchError,
    apply_check,
    apply_to_dir,
    export_tree,
    materialize,
    parse_patch,
    patch_hash,
    patch_stats,
    touched_files,
)

from .conftest import BINARY_A, GitRepoBuilder


def git_diff(repo: GitRepoBuilder, old: str, new: str, *extra: str) -> str:
    """A patch as git writes it (the builder's own git, not the code under test)."""
    return repo.git("diff", "--binary", "-M", *extra, old, new) + "\n"


@pytest.fixture
def changes(git_repo: GitRepoBuilder) -> tuple[GitRepoBuilder, str, str]:
    """Two commits whose diff holds every kind of file change."""
    base = git_repo.commit("base", {
        "mod.txt": "one\n-- two\nthree\n", "gone.txt": "bye\n",
        "old name.txt": "".join(f"line {i}\n" for i in range(20)),
        "exec.sh": "echo hi\n", "data.bin": BINARY_A, "full.txt": "a\nb\n"})
    git_repo.move("old name.txt", "dir é/new name.txt")
    (git_repo.path / "exec.sh").chmod(0o755)
    head = git_repo.commit("head", {
        "mod.txt": "one\n--- two\nthree\n", "gone.txt": None, "empty.txt": "",
        "dir é/new name.txt": "".join(f"line {i}\n" for i in range(19)) + "line 99\n",
        "data.bin": BINARY_A[::-1], "full.txt": ""})
    return git_repo, base, head


def test_parse_every_kind_of_change(changes: tuple[GitRepoBuilder, str, str]) -> None:
    repo, base, head = changes
    patch = git_diff(repo, base, head)
    files = {f.path: f for f in parse_patch(patch)}
    assert sorted(files) == ["data.bin", "dir é/new name.txt", "empty.txt", "exec.sh",
                             "full.txt", "gone.txt", "mod.txt"]
    # "-- two" -> "--- two": hunk lines that look like file headers are still content.
    assert (files["mod.txt"].status, files["mod.txt"].added, files["mod.txt"].removed) == \
        ("modified", 1, 1)
    assert files["mod.txt"].removed_lines == [2] and files["mod.txt"].added_lines == [2]
    renamed = files["dir é/new name.txt"]
    assert (renamed.status, renamed.old_path, renamed.new_path) == \
        ("renamed", "old name.txt", "dir é/new name.txt")
    assert renamed.removed_lines == [20] and renamed.added_lines == [20]
    assert files["gone.txt"].status == "deleted" and files["gone.txt"].new_path is None
    assert files["empty.txt"].status == "added" and files["empty.txt"].emptied
    assert files["full.txt"].emptied and not files["mod.txt"].emptied
    assert files["exec.sh"].status == "modified" and files["exec.sh"].added == 0
    assert files["data.bin"].binary and not files["mod.txt"].binary
    # The sections are the patch, cut into files.
    assert "".join(f.text for f in parse_patch(patch)) == patch
    assert touched_files(patch) == sorted(["data.bin", "dir é/new name.txt", "empty.txt",
                                           "exec.sh", "full.txt", "gone.txt", "mod.txt",
                                           "old name.txt"])
    stats = patch_stats(parse_patch(patch))
    assert (stats.files, stats.added, stats.removed) == (7, 2, 5)
    assert stats.binary_files == ["data.bin"]
    assert stats.empty_files == ["empty.txt", "full.txt"]


def test_parse_plain_unified_diff_and_errors() -> None:
    plain = ("--- a/x.py\t2024-01-01 00:00:00\n+++ b/x.py\t2024-01-01 00:00:01\n"
             "@@ -1,2 +1,2 @@\n keep\n-old\n+new\n")
    [file] = parse_patch(plain)
    assert (file.path, file.added, file.removed, file.status) == ("x.py", 1, 1, "modified")
    with pytest.raises(PatchError, match="not a patch"):
        parse_patch("just some words\n")
    with pytest.raises(PatchError, match="cut short"):
        parse_patch(plain.removesuffix("+new\n"))
    with pytest.raises(PatchError, match="malformed hunk header"):
        parse_patch(plain.replace("@@ -1,2 +1,2 @@", "@@ -x +y @@"))


def test_hash_ignores_index_lines_positions_and_order(git_repo: GitRepoBuilder) -> None:
    body = "".join(f"line {i}\n" for i in range(30))
    git_repo.commit("base", {"a.py": "def f():\n" + body, "b.py": "x = 1\n"})
    main_fix = git_repo.commit("fix", {"a.py": "def f():\n" + body.replace("line 20",
                                                                            "LINE 20")})
    # The same change on a branch where the file has grown above it (a backport).
    git_repo.checkout("old", create=True)
    git_repo.git("reset", "-q", "--hard", "HEAD~1")
    grown = "import os\n\n\ndef f():\n" + body
    git_repo.commit("grow", {"a.py": grown})
    back = git_repo.commit("backport", {"a.py": grown.replace("line 20", "LINE 20")})
    fix_patch = git_diff(git_repo, f"{main_fix}~1", main_fix)
    backport = git_diff(git_repo, f"{back}~1", back)
    assert fix_patch != backport  # other blob ids, other hunk positions
    assert patch_hash(fix_patch) == patch_hash(backport)
    # Index lines and function-name text in hunk headers do not count either.
    bare = "\n".join(line.split(" @@")[0] + " @@" if line.startswith("@@") else line
                     for line in fix_patch.split("\n") if not line.startswith("index "))
    assert patch_hash(bare) == patch_hash(fix_patch)
    # Order of the files does not count; the content does.
    two = git_repo.commit("two", {"a.py": grown + "# end\n", "b.py": "x = 2\n"})
    sections = [f.text for f in parse_patch(git_diff(git_repo, f"{two}~1", two))]
    assert patch_hash("".join(sections)) == patch_hash("".join(reversed(sections)))
    assert patch_hash(fix_patch.replace("+LINE 20", "+LINE 21")) != \
        patch_hash(fix_patch)
    assert patch_hash("not a patch") != patch_hash("not a patch either")


def test_apply_check_in_a_temporary_index(changes: tuple[GitRepoBuilder, str, str]) -> None:
    repo, base, head = changes
    git = GitRepo.open(repo.path)
    patch = git_diff(repo, base, head)
    result = apply_check(git, base, [patch])
    assert result.applies and result.tree == repo.tree(head)
    # Objects apply and write-tree create stay out of the repository's object store.
    novel = ("diff --git a/mod.txt b/mod.txt\n--- a/mod.txt\n+++ b/mod.txt\n"
             "@@ -1,3 +1,3 @@\n one\n -- two\n-three\n+novel 4711\n")
    blob = repo.git("hash-object", "--stdin", input=b"one\n-- two\nnovel 4711\n")
    made = apply_check(git, base, [novel])
    assert made.applies and made.tree is not None
    for object_id in (blob, made.tree):
        assert subprocess.run(["git", "cat-file", "-e", object_id], cwd=repo.path,
                              check=False).returncode != 0
    # The user's index and work tree are untouched.
    assert repo.git("status", "--porcelain") == ""

    again = apply_check(git, base, [patch, patch])
    assert not again.applies and again.failed == 1
    assert "already exists in index" in again.message
    assert apply_check(git, base, ["", patch]) == \
        type(again)(False, 0, "empty patch")
    with pytest.raises(GitError, match="read-tree"):
        apply_check(git, "no-such-commit", [patch])


def test_export_tree_writes_committed_bytes(git_repo: GitRepoBuilder, tmp_path: Path) -> None:
    marker = tmp_path / "filter-ran"
    git_repo.git("config", "filter.spy.smudge", f"touch {marker}; cat")
    head = git_repo.commit("files", {
        ".gitattributes": "*.txt text eol=crlf filter=spy\nsecret export-ignore\n",
        "a.txt": "unix\nlines\n", "secret": "kept\n", "bin/run": "#!/bin/sh\n",
        "deep/er/blob.bin": BINARY_A})
    (git_repo.path / "bin/run").chmod(0o755)
    os.symlink("a.txt", git_repo.path / "link")
    head = git_repo.commit("exec and link")
    dest = tmp_path / "export"
    export_tree(GitRepo.open(git_repo.path), head, dest)
    assert (dest / "a.txt").read_bytes() == b"unix\nlines\n"  # no eol conversion, no filter
    assert not marker.exists()
    assert (dest / "secret").read_text() == "kept\n"  # export-ignore is for archives
    assert os.access(dest / "bin/run", os.X_OK) and not os.access(dest / "a.txt", os.X_OK)
    assert os.readlink(dest / "link") == "a.txt"
    assert (dest / "deep/er/blob.bin").read_bytes() == BINARY_A
    assert not (dest / ".git").exists()
    with pytest.raises(ValueError, match="not empty"):
        export_tree(GitRepo.open(git_repo.path), head, dest)


def test_apply_to_dir_and_materialize(changes: tuple[GitRepoBuilder, str, str],
                                      tmp_path: Path) -> None:
    repo, base, head = changes
    git = GitRepo.open(repo.path)
    patch = git_diff(repo, base, head)
    # A directory inside another repository's work tree: the patch goes to the directory,
    # never to that repository.
    dest = repo.path / "scratch"
    result = materialize(git, base, dest, [patch])
    assert result.applies, result.message
    expected = tmp_path / "expected"
    export_tree(git, head, expected)
    assert _files(dest) == _files(expected)
    assert repo.git("status", "--porcelain") == "?? scratch/"

    failed = apply_to_dir(dest, patch)  # already applied
    assert not failed.applies and "error:" in failed.message
    assert apply_to_dir(dest, "  \n").message == "empty patch"
    again = materialize(git, base, tmp_path / "twice", [patch, patch])
    assert not again.applies and again.failed == 1


def _files(root: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[key] = "-> " + os.readlink(path)
        elif path.is_file():
            out[key] = path.read_bytes() + (b" (x)" if os.access(path, os.X_OK) else b"")
    return out


def test_git_errors_name_the_repository_and_the_command(tmp_path: Path) -> None:
    with pytest.raises(GitError) as info:
        GitRepo.open(tmp_path)
    assert str(tmp_path) in str(info.value) and "git rev-parse" in str(info.value)
    assert "not a git repository" in info.value.message
    with pytest.raises(GitError, match="no such directory"):
        GitRepo.open(tmp_path / "missing")


def test_timeout_kills_git_and_what_it_started(git_repo: GitRepoBuilder,
                                               tmp_path: Path) -> None:
    marker = tmp_path / "survived"
    with pytest.raises(GitError, match="timed out") as info:
        run_git(git_repo.path, ["-c", f"alias.slow=!sleep 2; touch {marker}", "slow"],
                timeout_s=0.3)
    assert "no answer within 0.3 s" in str(info.value)
    subprocess.run(["sleep", "2.5"], check=True)
    assert not marker.exists()


def test_user_environment_does_not_leak_in(git_repo: GitRepoBuilder, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    head = git_repo.commit("one", {"a.txt": "a\n"})
    other = GitRepoBuilder(tmp_path / "other")
    other.commit("other", {"b.txt": "b\n"})
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[diff]\n\tnoprefix = true\n")
    # As inside a git hook of another repository: GIT_DIR and friends point elsewhere.
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_DIR", str(other.path / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other.path / ".git" / "index"))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'core.abbrev=4'")
    git = GitRepo.open(git_repo.path)
    assert git.commit_id("HEAD") == head
    out = git.text("show", "--format=%H", head)
    assert "diff --git a/a.txt b/a.txt" in out  # prefixes kept despite ~/.gitconfig
