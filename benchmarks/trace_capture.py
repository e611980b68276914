"""Trace-capture throughput: assay (bwrap sandbox, batched) vs a bare python3 per run.

Both trace the same CRUXEval functions N times each with the same tracer
(``src/assay/trace/runners/tracer.py``) and the same number of processes at once:

- **assay**: ``capture_programs`` with ``instrument=True``: many functions per sandbox run,
  a fresh worker interpreter per run, one forked child per function.
- **baseline**: what one would write without assay: for every (function, run), a bare
  ``subprocess.run`` of the system ``python3`` on a small driver that loads the tracer and
  traces the call. No sandbox, no limits, no batching.

Prints both times, runs per second and the ratio, and checks that both give the same traces.

    python benchmarks/trace_capture.py                  # all 800 functions, 3 runs
    python benchmarks/trace_capture.py --limit 200 --runs 3 --workers 2 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from assay.sandbox import get_sandbox
from assay.trace import CaptureConfig, TraceProgram, capture_programs, parse_trace
from assay.trace.capture import runner_source

# The team's shared data sits next to the repository (../shared/data); ASSAY_SHARED_DATA
# points elsewhere.
SHARED_DATA = Path(os.environ.get("ASSAY_SHARED_DATA")
                   or next((d for d in (Path(__file__).resolve().parents[2] / "shared" / "data",
                                        Path("/work/shared/data")) if d.is_dir()),
                           Path("/work/shared/data")))
CRUXEVAL = SHARED_DATA / "cruxeval" / "cruxeval.jsonl"
SYSTEM_PYTHON = "/usr/bin/python3"
DRIVER = """\
import json, os, sys, types
spec = json.loads(sys.stdin.read())
tracer = types.ModuleType("tracer")
exec(compile(open(spec["tracer"]).read(), "<assay-tracer>", "exec"), tracer.__dict__)
tracer.run_traced(spec["code"], "main.py", {}, 2, {"__name__": "__main__"}, call=spec["call"])
"""


def baseline(programs: list[TraceProgram], runs: int, workers: int, tracer: Path,
             driver: Path) -> tuple[float, list[str]]:
    def one(program: TraceProgram) -> str:
        spec = json.dumps({"tracer": str(tracer), "code": program.code,
                           "call": f"{program.entry_point}({program.input})"})
        traces = [subprocess.run([SYSTEM_PYTHON, str(driver)], input=spec, text=True,
                                 capture_output=True, check=False,
                                 env={"PYTHONHASHSEED": "0", "TZ": "UTC"}).stderr
                  for _ in range(runs)]
        return parse_trace(traces[0]).text if len(set(traces)) == 1 else ""

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        traces = list(pool.map(one, programs))
    return time.perf_counter() - start, traces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=CRUXEVAL)
    parser.add_argument("--limit", type=int, default=None, help="First N functions only.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures.")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    programs = [TraceProgram.model_validate(row) for row in rows[:args.limit]]
    total_runs = len(programs) * args.runs

    with get_sandbox() as sandbox:
        capture_programs(sandbox, programs[:8], CaptureConfig(runs=1, instrument=True))  # warm
        start = time.perf_counter()
        records = capture_programs(sandbox, programs, CaptureConfig(
            runs=args.runs, instrument=True, workers=args.workers))
        assay_s = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        tracer, driver = Path(tmp) / "tracer.py", Path(tmp) / "driver.py"
        tracer.write_text(runner_source("tracer.py"))
        driver.write_text(DRIVER)
        bare_s, bare_traces = baseline(programs, args.runs, args.workers, tracer, driver)

    kept = sum(record.kept for record in records)
    same = sum(record.trace == trace for record, trace in zip(records, bare_traces,
                                                                strict=True))
    figures = {
        "functions": len(programs), "runs_each": args.runs, "workers": args.workers,
        "assay_s": round(assay_s, 2), "assay_runs_per_s": round(total_runs / assay_s, 1),
        "bare_s": round(bare_s, 2), "bare_runs_per_s": round(total_runs / bare_s, 1),
        "ratio_bare_over_assay": round(bare_s / assay_s, 2), "assay_kept": kept,
        "identical_traces": same}
    print(f"{len(programs)} functions x {args.runs} runs, {args.workers} at once")
    print(f"{'harness':<58} {'seconds':>8} {'runs/s':>8}")
    print(f"{'bare python3 per run (no sandbox, no batching)':<58} {bare_s:>8.2f} "
          f"{total_runs / bare_s:>8.1f}")
    print(f"{'assay trace capture (bwrap sandbox, batched)':<58} {assay_s:>8.2f} "
          f"{total_runs / assay_s:>8.1f}")
    print(f"ratio bare / assay: {bare_s / assay_s:.2f}x   kept by assay: {kept}   "
          f"traces identical to the baseline's: {same}/{len(programs)}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
