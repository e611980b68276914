"""Mining candidates from real git histories (Python, Go, JavaScript, Rust), explicit lists,
test-file rules and ``assay swe mine``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assay.data import InputError, read_records, write_records
from assay.swe import mining
from assay.swe.git import GitError, GitRepo
from assay.swe.mining import (
    SKIP_EMPTY,
    SKIP_MERGE,
    SKIP_MIXED_ONLY,
    SKIP_NO_TESTS,
    SKIP_ROOT,
    SKIP_TESTS_ONLY,
    MineConfig,
    MineStats,
    load_explicit,
    mine,
)
from assay.swe.patches import apply_check, materialize
from assay.swe.records import Candidate
from assay.swe.testfiles import TestFileRules, cfg_test_regions, rust_change_kind

from .conftest import (
    BINARY_A,
    BINARY_B,
    FLAVOURS,
    RUST_UNIT_TESTS,
    GitRepoBuilder,
    History,
    build_history,
)


def mine_all(path: Path, **config: Any) -> tuple[list[Candidate], MineStats]:
    stats = MineStats()
    return list(mine(path, MineConfig(**config), stats)), stats


def names(history: History, candidates: list[Candidate]) -> list[str]:
    by_id = {sha: name for name, sha in history.commits.items()}
    return [by_id[c.source_commit or ""] for c in candidates]


# ---- histories of every flavour ------------------------------------------------------------

def test_candidates_of_each_language(history: History) -> None:
    repo, f, c = history.repo, history.flavour, history.commits
    candidates, stats = mine_all(repo.path)
    assert names(history, candidates) == list(History.CANDIDATES)
    assert (stats.commits, stats.candidates, stats.merge_candidates) == (9, 5, 1)
    assert stats.skipped == {SKIP_ROOT: 1, SKIP_NO_TESTS: 2, SKIP_TESTS_ONLY: 1}
    assert stats.binary_candidates == 1 and stats.mixed_candidates == 0
    by_name = dict(zip(names(history, candidates), candidates, strict=True))

    expected_files = {
        "fix": ([f.source], [f.test]),
        "merge": ([f.source], [f.test]),
        "rename": (sorted([f.source, f.renamed, *f.rename_extra("")]), [f.test]),
        "binary": (["data/table.bin"], [f"{f.test_data}expected.bin"]),
        "dir_conflict": (["README.md", "__tests__"], ["__tests__/notes.txt"]),
    }
    git = GitRepo.open(repo.path)
    for name, candidate in by_name.items():
        commit = c[name]
        assert candidate.id == f"{f.name}-{commit[:12]}"
        assert candidate.repo == f.name and candidate.repo_path == str(repo.path)
        assert candidate.base_commit == repo.rev(f"{commit}^1")
        assert (candidate.fix_files, candidate.test_files) == expected_files[name], name
        assert candidate.created_at == repo.dates[commit] == candidate.committed_at
        assert candidate.language == f.language
        # The fix and the tests together are the commit, exactly.
        both = apply_check(git, candidate.base_commit, [candidate.fix_patch,
                                                        candidate.test_patch])
        assert both.applies and both.tree == repo.tree(commit), (name, both.message)
        tests_first = apply_check(git, candidate.base_commit, [candidate.test_patch])
        assert tests_first.applies is (name != "dir_conflict"), name

    assert by_name["fix"].source == "commit" and by_name["fix"].merged_commits == []
    assert by_name["fix"].problem_statement == \
        "Fix add: it subtracted\n\nadd(2, 3) returned -1 instead of 5."
    assert (by_name["fix"].fix_stats.added, by_name["fix"].fix_stats.removed) == (1, 1)
    merge = by_name["merge"]
    assert merge.source == "merge" and merge.base_commit == c["changelog"]
    assert merge.merged_commits == [c["feature_code"], c["feature_tests"]]
    assert merge.problem_statement == "Merge branch 'feature'\n\nAdd sub\n\nTest sub"
    assert "CHANGELOG.md" not in merge.fix_patch  # the first parent's change is the base
    binary = by_name["binary"]
    assert binary.fix_stats.binary_files == ["data/table.bin"]
    assert binary.test_stats.binary_files == [f"{f.test_data}expected.bin"]
    assert "GIT binary patch" in binary.fix_patch and "GIT binary patch" in binary.test_patch
    rename = by_name["rename"]
    assert f"rename from {f.source}\nrename to {f.renamed}\n" in rename.fix_patch
    assert len({cand.fix_hash for cand in candidates}) == 5


def test_dir_conflict_test_patch_needs_the_fix(history: History) -> None:
    """A file that becomes a directory of test data: the test patch adds below a path the
    fix patch deletes, so it does not apply to the parent alone (a later stage rejects it)."""
    candidates, _ = mine_all(history.repo.path, rev_range=f"{history.commits['binary']}..main")
    [candidate] = candidates
    result = apply_check(GitRepo.open(history.repo.path), candidate.base_commit,
                         [candidate.test_patch])
    assert not result.applies and result.failed == 0
    assert "'__tests__/notes.txt' appears as both a file and as a directory" in result.message
    assert "deleted file mode" in candidate.fix_patch
    assert "__tests__/notes.txt" not in candidate.fix_patch


def test_python_patches_exactly(tmp_path: Path) -> None:
    h = build_history(GitRepoBuilder(tmp_path / "py"), FLAVOURS["python"])
    repo, c = h.repo, h.commits

    def blob(rev: str) -> str:
        return repo.git("rev-parse", "--short", rev)

    [fix], _ = mine_all(repo.path, rev_range=f"{c['init']}..{c['fix']}")
    assert fix.fix_patch == (
        f"diff --git a/calc.py b/calc.py\n"
        f"index {blob(c['init'] + ':calc.py')}..{blob(c['fix'] + ':calc.py')} 100644\n"
        "--- a/calc.py\n+++ b/calc.py\n@@ -1,5 +1,5 @@\n def add(a, b):\n"
        "-    return a - b\n+    return a + b\n \n \n def mul(a, b):\n")
    test_file = "tests/test_calc.py"
    assert fix.test_patch == (
        f"diff --git a/{test_file} b/{test_file}\n"
        f"index {blob(c['init'] + ':' + test_file)}..{blob(c['fix'] + ':' + test_file)} "
        f"100644\n--- a/{test_file}\n+++ b/{test_file}\n@@ -1,5 +1,9 @@\n"
        "-from calc import mul\n+from calc import add, mul\n \n \n def test_mul():\n"
        "     assert mul(2, 3) == 6\n+\n+\n+def test_add():\n+    assert add(2, 3) == 5\n")
    assert (fix.test_stats.files, fix.test_stats.added, fix.test_stats.removed) == (1, 5, 1)


def test_materialized_candidates_equal_their_commits(tmp_path: Path) -> None:
    h = build_history(GitRepoBuilder(tmp_path / "js"), FLAVOURS["javascript"])
    git = GitRepo.open(h.repo.path)
    for candidate in mine_all(h.repo.path)[0]:
        if candidate.source_commit == h.commits["dir_conflict"]:
            patches = [candidate.fix_patch, candidate.test_patch]
        else:
            patches = [candidate.test_patch, candidate.fix_patch]  # the validation order
        work, want = tmp_path / f"w-{candidate.id}", tmp_path / f"e-{candidate.id}"
        assert materialize(git, candidate.base_commit, work, patches).applies
        materialize(git, candidate.source_commit or "", want)
        assert _tree(work) == _tree(want)
    assert (tmp_path / f"w-{candidate.id}" / "__tests__" / "notes.txt").exists()
    binary = next(c for c in mine_all(h.repo.path)[0] if c.fix_stats.binary_files)
    work = tmp_path / "binary"
    materialize(git, binary.base_commit, work, [binary.test_patch, binary.fix_patch])
    assert (work / "data/table.bin").read_bytes() == BINARY_A
    assert (work / "test/fixtures/expected.bin").read_bytes() == BINARY_B


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ---- walking options ---------------------------------------------------------------------

def test_all_commits_walk_and_merges_off(tmp_path: Path) -> None:
    h = build_history(GitRepoBuilder(tmp_path / "go"), FLAVOURS["go"])
    every, stats = mine_all(h.repo.path, first_parent=False)
    # The branch's commits are walked too; alone, neither is a candidate.
    assert names(h, every) == list(History.CANDIDATES)
    assert stats.commits == 11
    assert stats.skipped == {SKIP_ROOT: 1, SKIP_NO_TESTS: 3, SKIP_TESTS_ONLY: 2}
    no_merges, stats = mine_all(h.repo.path, merges=False)
    assert names(h, no_merges) == ["fix", "rename", "binary", "dir_conflict"]
    assert stats.skipped[SKIP_MERGE] == 1


def test_ranges_and_limit(tmp_path: Path) -> None:
    h = build_history(GitRepoBuilder(tmp_path / "py"), FLAVOURS["python"])
    c = h.commits
    assert names(h, mine_all(h.repo.path, rev_range=f"{c['fix']}..{c['binary']}")[0]) == \
        ["merge", "rename", "binary"]
    assert names(h, mine_all(h.repo.path, rev_range=c["rename"])[0]) == \
        ["fix", "merge", "rename"]
    assert names(h, mine_all(h.repo.path, limit=2)[0]) == ["fix", "merge"]
    empty, stats = mine_all(h.repo.path, rev_range="main..main")
    assert empty == [] and stats.commits == 0
    with pytest.raises(ValueError, match=r"unknown revision 'nope' in range 'nope\.\.main'"
                       ) as info:
        list(mine(h.repo.path, MineConfig(rev_range="nope..main")))
    assert str(h.repo.path) in str(info.value)
    for bad in ("--all", "a b", " "):
        with pytest.raises(ValueError, match="bad revision range"):
            list(mine(h.repo.path, MineConfig(rev_range=bad)))


def test_empty_commit_and_empty_repository(git_repo: GitRepoBuilder) -> None:
    with pytest.raises(ValueError, match="HEAD names no commit"):
        list(mine(git_repo.path))
    git_repo.commit("init", {"a.py": "x = 1\n"})
    git_repo.commit("nothing", allow_empty=True)
    assert mine_all(git_repo.path)[1].skipped == {SKIP_ROOT: 1, SKIP_EMPTY: 1}


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(GitError) as info:
        list(mine(tmp_path))
    assert str(tmp_path) in str(info.value) and "rev-parse" in str(info.value)


# ---- Rust tests inside source files ------------------------------------------------------

def test_rust_cfg_test_items(tmp_path: Path) -> None:
    h = build_history(GitRepoBuilder(tmp_path / "rs"), FLAVOURS["rust"])
    repo = h.repo
    source = (repo.path / "src/arith.rs").read_text()
    more_tests = RUST_UNIT_TESTS.replace(
        "    }\n}\n", "    }\n\n    #[test]\n    fn rem_small() {\n"
        "        assert_eq!(rem(7, 3), 1);\n    }\n}\n")
    assert more_tests != RUST_UNIT_TESTS
    # Code and its unit test in the same file, nothing else: no test file can be split off.
    mixed_only = repo.commit("rem: euclidean", {"src/arith.rs": source.replace(
        "a % b", "a.rem_euclid(b)").replace(RUST_UNIT_TESTS, more_tests)})
    # Only the test module changes in arith.rs, code elsewhere: arith.rs is the test side.
    source = (repo.path / "src/arith.rs").read_text()
    test_module = repo.commit("Test rem_euclid with negatives", {
        "src/arith.rs": source.replace("assert_eq!(rem(7, 3), 1);",
                                       "assert_eq!(rem(7, 3), 1);\n"
                                       "        assert_eq!(rem(-7, 3), 2);"),
        "src/lib.rs": "//! Integer helpers.\n" + (repo.path / "src/lib.rs").read_text()})
    # Code and unit test in arith.rs, plus an integration test: a candidate whose fix patch
    # carries test code, reported as mixed.
    source = (repo.path / "src/arith.rs").read_text()
    mixed = repo.commit("sub saturates", {
        "src/arith.rs": source.replace("pub fn sub(a: i64, b: i64) -> i64 {\n    a - b",
                                       "pub fn sub(a: i64, b: i64) -> i64 {\n"
                                       "    a.saturating_sub(b)").replace(
            "    #[test]\n    fn mul_small", "    #[test]\n    fn sub_min() {\n"
            "        assert_eq!(sub(i64::MIN, 1), i64::MIN);\n    }\n\n"
            "    #[test]\n    fn mul_small"),
        "tests/calc.rs": (repo.path / "tests/calc.rs").read_text() + "\n// saturation\n"})
    candidates, stats = mine_all(repo.path, rev_range=f"{h.commits['dir_conflict']}..main")
    assert stats.skipped == {SKIP_MIXED_ONLY: 1}
    first, second = candidates
    assert first.source_commit == test_module
    assert (first.fix_files, first.test_files) == (["src/lib.rs"], ["src/arith.rs"])
    assert first.mixed_files == []
    assert second.source_commit == mixed and second.mixed_files == ["src/arith.rs"]
    assert (second.fix_files, second.test_files) == (["src/arith.rs"], ["tests/calc.rs"])
    assert stats.mixed_candidates == 1
    git = GitRepo.open(repo.path)
    for candidate in candidates:
        result = apply_check(git, candidate.base_commit,
                             [candidate.test_patch, candidate.fix_patch])
        assert result.tree == repo.tree(candidate.source_commit or "")
    # Without the Rust rules, arith.rs is plain source and tests/ no test directory.
    go_only = TestFileRules.for_ecosystems(["go"])
    assert not go_only.rust_cfg_test
    assert mine_all(repo.path, rev_range=f"{mixed_only}~1..main",
                    rules=go_only)[1].skipped == {SKIP_NO_TESTS: 3}


def test_cfg_test_regions_skip_strings_comments_and_chars() -> None:
    source = """\
pub fn f() -> [u8; 2] { [b'{', b'}'] }
// #[cfg(test)] mod in_a_comment { }
const S: &str = "#[cfg(test)] {";
#[cfg(test)]
mod tests {
    const RAW: &str = r#"}}} "quoted" "#;
    fn g<'a>(x: &'a str) -> char { /* } /* nested } */ */ '}' }
    mod inner { fn h() {} }
}
#[cfg(test)]
mod file_tests;
pub fn after() {}
#[cfg(any(test, feature = "x"))]
fn not_counted() {}
"""
    assert cfg_test_regions(source) == [(4, 9), (10, 11)]
    assert cfg_test_regions("#![cfg(test)]\nfn a() {}\nfn b() {}\n") == [(1, 4)]
    old = "fn a() {}\n#[cfg(test)]\nmod t {\n    fn x() {}\n}\n"
    new = "fn a() {}\n#[cfg(test)]\nmod t {\n    fn x() {}\n    fn y() {}\n}\n"
    assert rust_change_kind(old, new, [], [5]) == "test"
    assert rust_change_kind(old, new, [1], [1, 5]) == "mixed"
    assert rust_change_kind(old, new, [1], [1]) == "fix"
    assert rust_change_kind(old, new, [], []) == "fix"


# ---- test-file rules ---------------------------------------------------------------------

@pytest.mark.parametrize(("path", "ecosystem", "is_test"), [
    ("tests/test_api.py", "python", True), ("pkg/test_api.py", "python", True),
    ("pkg/api_test.py", "python", True), ("conftest.py", "python", True),
    ("tests/fixtures/data.json", "python", True), ("pkg/testing.py", "python", False),
    ("pkg/contest.py", "python", False), ("latest_tests.txt", "python", False),
    ("server_test.go", "go", True), ("internal/testdata/in.txt", "go", True),
    ("server.go", "go", False), ("testdata", "go", False),
    ("src/a.test.ts", "javascript", True), ("src/a.spec.jsx", "javascript", True),
    ("src/__tests__/a.js", "javascript", True), ("test/a.js", "javascript", True),
    ("src/a.js", "javascript", False), ("src/test.js", "javascript", False),
    ("tests/it.rs", "rust", True), ("src/tests.rs", "rust", True),
    ("src/lib.rs", "rust", False),
    ("core/src/test/java/A.java", "java", True), ("src/main/java/Test.java", "java", False),
    ("Tests/a.py", "python", False),  # case-sensitive
])
def test_rules_per_ecosystem(path: str, ecosystem: str, is_test: bool) -> None:
    assert TestFileRules.for_ecosystems([ecosystem]).is_test_path(path) is is_test
    # The default (every ecosystem) agrees on what one ecosystem calls a test.
    if is_test:
        assert TestFileRules.for_ecosystems().is_test_path(path)


def test_rules_are_configurable() -> None:
    go = TestFileRules.for_ecosystems(["golang"])
    assert not go.is_test_path("tests/test_a.py") and not go.rust_cfg_test
    extra = TestFileRules.for_ecosystems(["py"], extra=["testing/", "*.feature",
                                                       "docs/examples/*.py"])
    assert extra.is_test_path("src/testing/util.py")
    assert extra.is_test_path("login.feature") and extra.is_test_path("docs/examples/a.py")
    assert not extra.is_test_path("docs/a.py")
    assert TestFileRules.for_ecosystems(["rust"]).rust_cfg_test
    with pytest.raises(ValueError, match="unknown ecosystem 'cobol'"):
        TestFileRules.for_ecosystems(["cobol"])
    with pytest.raises(ValueError, match="empty test-file pattern"):
        TestFileRules.for_ecosystems(extra=["/"])


def test_custom_rules_change_the_split(tmp_path: Path) -> None:
    repo = GitRepoBuilder(tmp_path / "r")
    repo.commit("init", {"lib/core.py": "x = 1\n", "testing/check.py": "y = 1\n"})
    repo.commit("both", {"lib/core.py": "x = 2\n", "testing/check.py": "y = 2\n"})
    assert mine_all(repo.path)[0] == []
    [candidate], _ = mine_all(repo.path, rules=TestFileRules.for_ecosystems(
        extra=["testing/"]))
    assert candidate.test_files == ["testing/check.py"]


# ---- odd files ---------------------------------------------------------------------------

def test_non_utf8_text_and_odd_paths_survive(git_repo: GitRepoBuilder) -> None:
    git_repo.commit("init", {"src/latin.txt": "caf\xe9\n".encode("latin-1"),
                             "odd name ü.py": "a = 1\n", "tests/test_ü.py": "t = 1\n"})
    head = git_repo.commit("change", {"src/latin.txt": "caf\xe9 cr\xe8me\n".encode("latin-1"),
                                      "odd name ü.py": "a = 2\n",
                                      "tests/test_ü.py": "t = 2\n"})
    [candidate], _ = mine_all(git_repo.path)
    assert candidate.fix_files == ["odd name ü.py", "src/latin.txt"]
    assert candidate.test_files == ["tests/test_ü.py"]
    assert candidate.fix_stats.binary_files == ["src/latin.txt"]  # not UTF-8: kept as bytes
    assert (candidate.fix_stats.added, candidate.fix_stats.removed) == (1, 1)
    result = apply_check(GitRepo.open(git_repo.path), candidate.base_commit,
                         [candidate.fix_patch, candidate.test_patch])
    assert result.tree == git_repo.tree(head)


def test_repository_config_cannot_change_or_run_anything(tmp_path: Path) -> None:
    h = build_history(GitRepoBuilder(tmp_path / "clean"), FLAVOURS["python"])
    hostile = tmp_path / "hostile"
    subprocess.run(["git", "clone", "-q", "--no-local", str(h.repo.path), str(hostile)],
                   check=True, env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull})
    marker = tmp_path / "ran"
    script = tmp_path / "spy.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    (tmp_path / "order").write_text("tests/*\n")
    for key, value in {"diff.noprefix": "true", "diff.context": "0",
                       "diff.external": str(script), "diff.orderFile": str(tmp_path / "order"),
                       "color.ui": "always", "diff.mnemonicPrefix": "true",
                       "core.fsmonitor": str(script), "core.hooksPath": str(tmp_path),
                       "diff.renames": "false", "core.quotePath": "false",
                       "core.abbrev": "20", "diff.algorithm": "patience",
                       "log.showSignature": "true", "gpg.program": str(script),
                       "i18n.logOutputEncoding": "ISO-8859-1"}.items():
        subprocess.run(["git", "-C", str(hostile), "config", key, value], check=True)
    clean, _ = mine_all(h.repo.path, repo_name="calc")
    mined, _ = mine_all(hostile, repo_name="calc")
    assert [c.model_dump(exclude={"repo_path"}) for c in mined] == \
        [c.model_dump(exclude={"repo_path"}) for c in clean]
    assert not marker.exists()


def test_subdirectory_bare_clone_and_chunked_paths(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    h = build_history(GitRepoBuilder(tmp_path / "py"), FLAVOURS["python"])
    clean, _ = mine_all(h.repo.path, repo_name="calc")
    # Opened from a subdirectory, the repository is its top (pathspecs stay right).
    assert mine_all(h.repo.path / "tests", repo_name="calc")[0] == clean
    bare = tmp_path / "calc.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(h.repo.path), str(bare)], check=True,
                   env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull})
    from_bare, _ = mine_all(bare)
    assert from_bare[0].repo == "calc" and from_bare[0].repo_path == str(bare)
    assert [c.model_dump(exclude={"repo_path"}) for c in from_bare] == \
        [c.model_dump(exclude={"repo_path"}) for c in clean]
    # Many paths are diffed in chunks; the chunks' diffs together are still the commit.
    monkeypatch.setattr(mining, "_PATHS_PER_DIFF", 1)
    chunked, _ = mine_all(h.repo.path, repo_name="calc")
    git = GitRepo.open(h.repo.path)
    for before, after in zip(clean, chunked, strict=True):
        result = apply_check(git, after.base_commit, [after.fix_patch, after.test_patch])
        assert result.tree == h.repo.tree(after.source_commit or "")
        if after.source_commit == h.commits["rename"]:
            # The pair landed in two chunks: a deletion and an addition, not a rename.
            assert "rename from" not in after.fix_patch and "deleted file" in after.fix_patch
        else:
            assert after == before


def test_candidates_round_trip_through_jsonl(tmp_path: Path) -> None:
    h = build_history(GitRepoBuilder(tmp_path / "py"), FLAVOURS["python"])
    candidates, _ = mine_all(h.repo.path)
    write_records(tmp_path / "c.jsonl", candidates)
    assert list(read_records(tmp_path / "c.jsonl", Candidate)) == candidates


# ---- explicit candidates -----------------------------------------------------------------

@pytest.fixture
def py_history(tmp_path: Path) -> History:
    return build_history(GitRepoBuilder(tmp_path / "py"), FLAVOURS["python"])


def _entry(history: History, **changes: Any) -> dict[str, Any]:
    repo, c = history.repo, history.commits
    row = {"base_commit": c["init"][:10],
           "fix_patch": repo.git("diff", c["init"], c["fix"], "--", "calc.py") + "\n",
           "test_patch": repo.git("diff", c["init"], c["fix"], "--", "tests") + "\n",
           "problem_statement": "add(2, 3) is -1"}
    row.update(changes)
    return {k: v for k, v in row.items() if v is not None}


def test_explicit_entries(py_history: History, tmp_path: Path) -> None:
    h, c = py_history, py_history.commits
    # The second row's test patch belongs to a later base: it is accepted here (it is a
    # candidate), and does not apply (which the build stage rejects, with git's message).
    later_tests = h.repo.git("diff", c["binary"] + "~2", c["rename"], "--", "tests") + "\n"
    path = tmp_path / "entries.jsonl"
    write_records(path, [_entry(h), _entry(h, id="custom-1", base_commit="main",
                                           test_patch=later_tests,
                                           created_at="2024-05-01T12:00:00Z")])
    first, second = load_explicit(h.repo.path, path, repo_name="owner/calc")
    assert first.base_commit == c["init"] and first.source == "explicit"
    assert first.id == f"owner__calc-{c['init'][:12]}-{first.fix_hash[:8]}"
    assert (first.fix_files, first.test_files) == (["calc.py"], ["tests/test_calc.py"])
    assert first.problem_statement == "add(2, 3) is -1" and first.created_at is None
    assert first.source_commit is None and first.language == "python"
    assert first.repo == "owner/calc"
    git = GitRepo.open(h.repo.path)
    assert apply_check(git, first.base_commit, [first.fix_patch, first.test_patch]).tree \
        == h.repo.tree(c["fix"])
    assert second.id == "custom-1" and second.base_commit == c["dir_conflict"]
    assert second.created_at is not None and second.created_at.isoformat() == \
        "2024-05-01T12:00:00+00:00"
    assert not apply_check(git, second.base_commit, [second.test_patch]).applies


@pytest.mark.parametrize(("bad", "field", "message"), [
    ('{"base_commit": "main", "fix_patch": ', None, "not valid JSON"),
    ({"fix_patch": None}, "fix_patch", "missing (required)"),
    ({"test_patch": "  \n"}, "test_patch", "empty patch"),
    ({"fix_patch": "fixed it, trust me"}, "fix_patch", "not a patch"),
    ({"fix_patch": 42}, "fix_patch", "valid string"),
    ({"patch": "x"}, "patch", "Extra inputs are not permitted"),
    ({"base_commit": "deadbeef"}, "base_commit", "no commit 'deadbeef'"),
    ({"base_commit": "--all"}, "base_commit", "no commit '--all'"),
    ({"id": "dup"}, "id", "already used on line 1"),
])
def test_malformed_explicit_rows(py_history: History, tmp_path: Path, bad: Any,
                                 field: str | None, message: str) -> None:
    path = tmp_path / "entries.jsonl"
    line = bad if isinstance(bad, str) else json.dumps(_entry(py_history, **bad))
    path.write_text(json.dumps(_entry(py_history, id="dup")) + "\n\n" + line + "\n")
    with pytest.raises(InputError) as info:
        list(load_explicit(py_history.repo.path, path))
    error = info.value
    assert (error.path, error.line, error.field) == (str(path), 3, field)
    assert message in error.message
    assert f"{path}:3" in str(error)


# ---- the command -------------------------------------------------------------------------

def swe(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "assay.cli.swe", *args], capture_output=True,
                          text=True, timeout=300, check=False)
    done.stderr = " ".join(done.stderr.split())  # rich folds long messages
    return done


def test_mine_command(py_history: History, tmp_path: Path) -> None:
    out = tmp_path / "candidates.jsonl"
    done = swe("mine", str(py_history.repo.path), "-o", str(out), "--json", "--name", "o/calc")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary == {
        "repo": str(py_history.repo.path), "range": "HEAD", "source": "history",
        "commits": 9, "candidates": 5, "merge_candidates": 1, "with_binary_files": 1,
        "with_rust_tests_in_fix": 0,
        "skipped": {SKIP_NO_TESTS: 2, SKIP_TESTS_ONLY: 1, SKIP_ROOT: 1}, "git_errors": [],
        "output": str(out)}
    rows = list(read_records(out, Candidate))
    assert [r.source_commit for r in rows] == [py_history.commits[n]
                                               for n in History.CANDIDATES]
    assert rows[0].repo == "o/calc"

    table = swe("mine", str(py_history.repo.path), "-o", str(out), "--range",
                f"{py_history.commits['fix']}..main", "--no-merges")
    assert table.returncode == 0, table.stderr
    assert "Mining summary" in table.stdout and "merge commit (merges excluded)" in table.stdout
    assert len(list(read_records(out, Candidate))) == 3

    explicit = tmp_path / "entries.jsonl"
    write_records(explicit, [_entry(py_history)])
    done = swe("mine", str(py_history.repo.path), "--from", str(explicit), "-o",
               str(tmp_path / "e.jsonl"), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["candidates"] == 1


def test_mine_command_exit_codes(py_history: History, tmp_path: Path) -> None:
    repo, out = str(py_history.repo.path), tmp_path / "c.jsonl"
    nothing = swe("mine", repo, "-o", str(out), "--range", "main..main")
    assert nothing.returncode == 1 and out.exists() and out.read_text() == ""
    not_repo = swe("mine", str(tmp_path), "-o", str(out))
    assert not_repo.returncode == 2 and "not a git repository" in not_repo.stderr
    bad_range = swe("mine", repo, "-o", str(out), "--range", "v9..main")
    assert bad_range.returncode == 2 and "unknown revision 'v9'" in bad_range.stderr
    bad_rules = swe("mine", repo, "-o", str(out), "--tests", "python,cobol")
    assert bad_rules.returncode == 2 and "unknown ecosystem 'cobol'" in bad_rules.stderr
    explicit = tmp_path / "entries.jsonl"
    explicit.write_text(json.dumps(_entry(py_history, base_commit="f00d")) + "\n")
    bad_row = swe("mine", repo, "--from", str(explicit), "-o", str(tmp_path / "x.jsonl"))
    assert bad_row.returncode == 2 and f"{explicit}:1" in bad_row.stderr
    assert "base_commit" in bad_row.stderr and not (tmp_path / "x.jsonl").exists()
    both = swe("mine", repo, "--from", str(explicit), "--range", "main", "-o", str(out))
    assert both.returncode == 2 and "--from" in both.stderr
