"""The static rejection criteria, each on a real commit or an explicit entry that fails it."""

from __future__ import annotations

import json
from pathlib import Path

from assay.swe.criteria import REASONS, Limits, static_rejections
from assay.swe.git import GitRepo
from assay.swe.mining import load_explicit, mine
from assay.swe.records import Candidate
from assay.swe.testfiles import TestFileRules

from .conftest import BINARY_A, GitRepoBuilder

RULES = TestFileRules.for_ecosystems()
CODE = "def f(x):\n    return x\n"
TEST = "from m import f\n\n\ndef test_f():\n    assert f(1) == 1\n"


def only(repo: GitRepoBuilder) -> Candidate:
    (candidate,) = list(mine(repo.path))
    return candidate


def check(repo: GitRepoBuilder, candidate: Candidate, limits: Limits = Limits(),
          seen: dict[str, str] | None = None) -> dict[str, list[str]]:
    found = static_rejections(candidate, GitRepo.open(repo.path), RULES, limits,
                              {} if seen is None else seen)
    return {r.reason: r.evidence for r in found}


def start(git_repo: GitRepoBuilder) -> GitRepoBuilder:
    git_repo.commit("Start", {"m.py": CODE, "tests/test_m.py": TEST, "README.md": "# m\n"})
    return git_repo


def test_a_clean_candidate_passes_every_static_criterion(git_repo: GitRepoBuilder) -> None:
    repo = start(git_repo)
    repo.commit("Make f double its input", {"m.py": CODE.replace("x\n", "2 * x\n"),
                                            "tests/test_m.py": TEST.replace("== 1", "== 2")})
    assert check(repo, only(repo)) == {}


def test_binary_and_empty_files_are_rejected(git_repo: GitRepoBuilder) -> None:
    repo = start(git_repo)
    repo.commit("Ship a table and an empty module", {
        "table.bin": BINARY_A, "empty.py": "", "m.py": CODE + "\n# uses table.bin\n",
        "tests/test_m.py": TEST + "\n"})
    found = check(repo, only(repo))
    assert found["binary_file"] == ["table.bin"]
    assert found["empty_file"] == ["empty.py"]


def test_size_limits_and_short_statements(git_repo: GitRepoBuilder) -> None:
    repo = start(git_repo)
    repo.commit("fix", {"m.py": CODE + "\n\ndef g():\n    return 1\n",
                        "tests/test_m.py": TEST + "\n"})
    found = check(repo, only(repo), Limits(max_fix_lines=2, min_statement_chars=10))
    assert found["patch_too_large"] == ["fix: 1 files, 4 lines"]
    assert found["problem_statement_too_short"] == ["fix"]


def test_a_fix_without_code_is_rejected(git_repo: GitRepoBuilder) -> None:
    repo = start(git_repo)
    repo.commit("Describe f in the README", {"README.md": "# m\n\nf is the identity.\n",
                                             "tests/test_m.py": TEST + "\n"})
    assert check(repo, only(repo)) == {"fix_has_no_code": ["README.md"]}


def test_patches_on_the_wrong_side_are_rejected(git_repo: GitRepoBuilder, tmp_path: Path
                                                ) -> None:
    repo = start(git_repo)
    base = repo.rev("HEAD")
    repo.commit("Change both", {"m.py": CODE.replace("x\n", "x + 0\n"),
                                "tests/test_m.py": TEST + "\n"})
    code_diff = repo.git("diff", base, "HEAD", "--", "m.py") + "\n"
    test_diff = repo.git("diff", base, "HEAD", "--", "tests/test_m.py") + "\n"
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"id": "swapped", "base_commit": base, "fix_patch": test_diff,
                                "test_patch": code_diff,
                                "problem_statement": "Swapped sides on purpose"}) + "\n")
    (candidate,) = list(load_explicit(repo.path, rows))
    found = check(repo, candidate)
    assert found["fix_touches_tests"] == ["tests/test_m.py"]
    assert found["tests_touch_code"] == ["m.py"]


def test_a_second_candidate_with_the_same_fix_is_a_duplicate(git_repo: GitRepoBuilder) -> None:
    repo = start(git_repo)
    repo.commit("Make f double its input", {"m.py": CODE.replace("x\n", "2 * x\n"),
                                            "tests/test_m.py": TEST.replace("== 1", "== 2")})
    candidate = only(repo)
    seen = {candidate.fix_hash: "earlier-task"}
    assert check(repo, candidate, seen=seen) == {"duplicate": ["earlier-task"]}


def test_every_reason_has_a_description() -> None:
    assert all(name.islower() and text for name, text in REASONS.items())
