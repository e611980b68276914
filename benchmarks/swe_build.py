"""SWE task building: seconds per task, and what the shared environment cache saves.

For each language (Python, Go, JavaScript, Rust) the benchmark makes the real git history of
``tests/swe/build_history.py`` (a fix, a fix that breaks a test, a fix with a flaky test, a
patch that does not apply, a duplicate), mines it and builds its tasks twice in the same run,
each with a fresh run store and a fresh environment directory:

* **assay**: ``build_tasks`` as shipped: one environment per set of dependency files, set up
  once and shared by the candidates of the repository;
* **baseline, one environment per candidate**: the same build with a new environment
  directory for every candidate, as a pipeline that installs each task's dependencies into
  its own image does.

Then ``gold`` predictions of the accepted tasks are evaluated (environments cached). Prints
seconds per task for building and evaluating, and the ratio baseline / assay; checks that
both builds accept and reject the same candidates.

    python benchmarks/swe_build.py
    python benchmarks/swe_build.py --languages python,rust --repeats 3 --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from assay.engine import RunStore
from assay.sandbox import Sandbox, get_sandbox
from assay.swe.build import BuildConfig, build_tasks
from assay.swe.env import Environments
from assay.swe.evaluate import Evaluator, gold_predictions
from assay.swe.mining import load_explicit, mine
from assay.swe.records import BuildOutcome, Candidate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.swe.build_history import (  # the histories the tests use
    PROJECTS,
    build_task_history,
    explicit_rows,
    write_rows,
)
from tests.swe.conftest import GitRepoBuilder


def candidates_of(language: str, root: Path) -> list[Candidate]:
    repo = GitRepoBuilder(root / "repo")
    commits = build_task_history(repo, PROJECTS[language])
    rows = write_rows(root / "explicit.jsonl", explicit_rows(repo, commits, PROJECTS[language]))
    return list(mine(repo.path)) + list(load_explicit(repo.path, rows))


def build(sandbox: Sandbox, candidates: list[Candidate], root: Path, repeats: int,
          per_candidate_env: bool) -> tuple[list[BuildOutcome], float]:
    config = BuildConfig(repeats=repeats)
    started = time.monotonic()
    with RunStore(root / "store.sqlite") as store:
        if per_candidate_env:
            outcomes = []
            for number, candidate in enumerate(candidates):
                environments = Environments(sandbox, root / f"envs-{number}")
                outcomes += build_tasks([candidate], sandbox, store, config, environments)
        else:
            outcomes = build_tasks(candidates, sandbox, store, config,
                                   Environments(sandbox, root / "envs"))
    return outcomes, time.monotonic() - started


def verdicts(outcomes: list[BuildOutcome]) -> list[tuple[str, tuple[str, ...]]]:
    return [(o.candidate_id, tuple(sorted(r.reason for r in o.rejections))) for o in outcomes]


def measure(sandbox: Sandbox, language: str, repeats: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"swe-bench-{language}-") as tmp:
        root = Path(tmp)
        candidates = candidates_of(language, root)
        # A duplicate is only known as one next to the candidate it repeats: the baseline
        # builds one candidate at a time, so it sees no duplicates; compare the others.
        outcomes, seconds = build(sandbox, candidates, root / "assay", repeats, False)
        base_outcomes, base_seconds = build(sandbox, candidates, root / "baseline", repeats,
                                            True)
        same = [v for v in verdicts(outcomes) if "duplicate" not in v[1]] == [
            v for v in verdicts(base_outcomes) if v[0] != "same-fix-again"]
        tasks = [o.task for o in outcomes if o.task is not None]
        evaluator = Evaluator(sandbox, Environments(sandbox, root / "assay" / "envs"),
                              root / "eval")
        started = time.monotonic()
        results = evaluator.evaluate(tasks, gold_predictions(tasks))
        eval_seconds = time.monotonic() - started
    setup = sum(o.timings.setup_s for o in outcomes)
    return {"language": language, "candidates": len(candidates), "tasks": len(tasks),
            "assay_s": round(seconds, 2), "baseline_s": round(base_seconds, 2),
            "ratio": round(base_seconds / seconds, 2), "setup_s": round(setup, 2),
            "build_s_per_task": round(seconds / max(1, len(tasks)), 2),
            "eval_s_per_task": round(eval_seconds / max(1, len(tasks)), 2),
            "resolved": sum(r.resolved for r in results), "same_verdicts": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", default="python,go,javascript,rust")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="Write the figures here too.")
    args = parser.parse_args()
    rows = []
    with get_sandbox("bwrap") as sandbox:
        for language in args.languages.split(","):
            rows.append(measure(sandbox, language, args.repeats))
            row = rows[-1]
            print(f"{language:<11} {row['candidates']} candidates, {row['tasks']} tasks | "
                  f"assay {row['assay_s']:7.2f} s (setup {row['setup_s']:.2f} s)  "
                  f"baseline {row['baseline_s']:7.2f} s  ratio {row['ratio']:.2f}x | "
                  f"build {row['build_s_per_task']:.2f} s/task, eval "
                  f"{row['eval_s_per_task']:.2f} s/task, gold resolved "
                  f"{row['resolved']}/{row['tasks']} | same verdicts: {row['same_verdicts']}",
                  flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
