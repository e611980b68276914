"""The rejection criteria, by name, and the checks that need no test run.

Every rejection names one criterion of :data:`REASONS` and carries its evidence. The static
checks run first, all of them (a candidate can fail several); a candidate that fails any is
not run. The run-time criteria are applied in ``assay.swe.build``.
"""

from __future__ import annotations

from dataclasses import dataclass

from assay.swe.git import GitRepo
from assay.swe.patches import apply_check
from assay.swe.records import Candidate, PatchStats, Rejection
from assay.swe.testfiles import TestFileRules

# name -> what it means (shown by `assay swe build --help` and in the docs).
REASONS: dict[str, str] = {
    "empty_patch": "the fix or the test patch is empty",
    "patch_does_not_apply": "the test patch does not apply to the base, or the fix does not "
                            "apply on top of it",
    "fix_touches_tests": "the fix patch changes test files",
    "tests_touch_code": "the test patch changes non-test files",
    "tests_inside_fix": "the fix patch edits test code inside source files (Rust "
                        "#[cfg(test)] items next to code): the tests cannot be held back",
    "fix_has_no_code": "the fix patch changes no source file (only docs, data or config)",
    "patch_too_large": "the fix or the test patch touches more files or lines than allowed",
    "binary_file": "a patch holds a binary file (a model cannot write one as a diff)",
    "empty_file": "a patch leaves an empty file (its content cannot be checked)",
    "problem_statement_too_short": "the problem statement is too short to describe the task",
    "duplicate": "the same fix as an earlier candidate",
    "no_ecosystem": "no supported ecosystem recognises the project",
    "environment_setup_failed": "installing the dependencies failed",
    "suite_did_not_run": "a test run left no usable report",
    "report_exit_code_disagree": "a test report and its runner's exit code disagree",
    "test_run_timeout": "a test run went over its time limit",
    "sandbox_error": "the sandbox failed (not the candidate's fault; run again)",
    "unstable_test_names": "tests appeared in some repeats of a state and not in others",
    "pass_to_fail": "the fix breaks a test that passed before it",
    "no_fail_to_pass": "no test fails before the fix and passes after it (flaky tests "
                       "removed)",
}

# Extensions of source code: a fix that touches none of them changes no behaviour a test can
# pin down (docs, changelogs, data).
CODE_EXTENSIONS = (".py", ".pyx", ".pyi", ".go", ".rs", ".js", ".jsx", ".mjs", ".cjs", ".ts",
                   ".tsx", ".mts", ".cts", ".java", ".kt", ".scala", ".c", ".h", ".cc", ".cpp",
                   ".hpp", ".rb", ".php", ".sh", ".cs", ".swift", ".vue", ".svelte")


@dataclass(frozen=True)
class Limits:
    """Bounds of the static criteria.

    Attributes:
        max_fix_files: Files the fix may touch.
        max_fix_lines: Lines the fix may add and remove together.
        max_test_files: Files the test patch may touch.
        max_test_lines: Lines the test patch may add and remove together.
        min_statement_chars: Shortest acceptable problem statement.
    """

    max_fix_files: int = 20
    max_fix_lines: int = 1000
    max_test_files: int = 20
    max_test_lines: int = 2000
    min_statement_chars: int = 15


def reject(reason: str, detail: str, evidence: list[str] | None = None) -> Rejection:
    assert reason in REASONS, reason
    return Rejection(reason=reason, detail=detail, evidence=evidence or [])


def static_rejections(candidate: Candidate, repo: GitRepo, rules: TestFileRules,
                      limits: Limits, seen_fixes: dict[str, str]) -> list[Rejection]:
    """Every static criterion the candidate fails (``seen_fixes``: fix hash -> the id of the
    first candidate with that fix; this one is added when it is new)."""
    found: list[Rejection] = []
    if not candidate.fix_patch.strip() or not candidate.test_patch.strip():
        which = [n for n, p in (("fix", candidate.fix_patch), ("test", candidate.test_patch))
                 if not p.strip()]
        return [reject("empty_patch", f"the {' and '.join(which)} patch is empty", which)]
    found += _side_rejections(candidate, rules)
    found += _size_rejections(candidate, limits)
    statement = candidate.problem_statement.strip()
    if len(statement) < limits.min_statement_chars:
        found.append(reject("problem_statement_too_short",
                            f"{len(statement)} characters, fewer than "
                            f"{limits.min_statement_chars}", [statement]))
    first = seen_fixes.setdefault(candidate.fix_hash, candidate.id)
    if first != candidate.id:
        found.append(reject("duplicate", f"same fix as {first}", [first]))
    found += _apply_rejections(candidate, repo)
    return found


def _side_rejections(candidate: Candidate, rules: TestFileRules) -> list[Rejection]:
    found = []
    tests_in_fix = [p for p in candidate.fix_files if rules.is_test_path(p)]
    if tests_in_fix:
        found.append(reject("fix_touches_tests", f"{len(tests_in_fix)} test files in the fix",
                            tests_in_fix))
    code_in_tests = [p for p in candidate.test_files if not rules.is_test_path(p)
                     and not p.endswith(".rs")]  # a Rust file of #[cfg(test)] edits only
    if code_in_tests:
        found.append(reject("tests_touch_code",
                            f"{len(code_in_tests)} non-test files in the test patch",
                            code_in_tests))
    if candidate.mixed_files:
        found.append(reject("tests_inside_fix", "the fix edits #[cfg(test)] items",
                            candidate.mixed_files))
    if not any(p.endswith(CODE_EXTENSIONS) for p in candidate.fix_files):
        found.append(reject("fix_has_no_code", "no source file in the fix",
                            candidate.fix_files))
    return found


def _size_rejections(candidate: Candidate, limits: Limits) -> list[Rejection]:
    found = []
    for side, stats, max_files, max_lines in (
            ("fix", candidate.fix_stats, limits.max_fix_files, limits.max_fix_lines),
            ("test", candidate.test_stats, limits.max_test_files, limits.max_test_lines)):
        lines = stats.added + stats.removed
        if stats.files > max_files or lines > max_lines:
            found.append(reject("patch_too_large",
                                f"the {side} patch touches {stats.files} files and {lines} "
                                f"lines (at most {max_files} and {max_lines})",
                                [f"{side}: {stats.files} files, {lines} lines"]))
        found += _file_kind_rejections(side, stats)
    return found


def _file_kind_rejections(side: str, stats: PatchStats) -> list[Rejection]:
    found = []
    if stats.binary_files:
        found.append(reject("binary_file", f"binary files in the {side} patch",
                            stats.binary_files))
    if stats.empty_files:
        found.append(reject("empty_file", f"empty files after the {side} patch",
                            stats.empty_files))
    return found


def _apply_rejections(candidate: Candidate, repo: GitRepo) -> list[Rejection]:
    tests = apply_check(repo, candidate.base_commit, [candidate.test_patch])
    if not tests.applies:
        return [reject("patch_does_not_apply", "the test patch does not apply to the base",
                       ["test_patch", tests.message[-2000:]])]
    both = apply_check(repo, candidate.base_commit, [candidate.test_patch, candidate.fix_patch])
    if not both.applies:
        return [reject("patch_does_not_apply", "the fix does not apply after the test patch",
                       ["fix_patch", both.message[-2000:]])]
    return []
