"""Scale run: verify 100,000 small Python solutions end to end and show memory stays flat.

Each size runs in its own process (so peak RSS is that run's own): 500 synthetic problems (a
function with three asserts each) and distinct solutions (right ones and off-by-one ones),
verified through the real sandbox (warm executors), run store and report writer. The named
baseline is the same pipeline on 10,000 solutions: peak memory at 100,000 divided by peak
memory at 10,000 is the figure that must stay near 1.0; throughput is printed for both.
During each run, the RSS of assay's process and of its warm executors' interpreters is
sampled as the solutions go by, so growth within a run shows too.

    python benchmarks/scale_verify.py                  # 10,000 then 100,000
    python benchmarks/scale_verify.py --sizes 2000 20000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assay.data import RecordWriter
from assay.engine import RunStore
from assay.sandbox import CompileCache, get_sandbox
from assay.verify import VerifyConfig, verify

PROBLEMS = 500  # fixed, so that only the number of solutions grows between the two runs
TESTS = "def test_a():\n    assert f(1) == {a}\n\ndef test_b():\n    assert f(2) == {b}\n\n" \
        "def test_c():\n    assert f(-3) == {c}\n"


def write_inputs(work: Path, size: int) -> tuple[Path, Path]:
    problems = work / "problems.jsonl"
    solutions = work / "solutions.jsonl"
    with RecordWriter(problems) as out_p, RecordWriter(solutions) as out_s:
        per_problem = (size + PROBLEMS - 1) // PROBLEMS
        for p in range(PROBLEMS):
            k = p % 97 + 2
            out_p.write({"id": f"p{p}", "language": "python", "difficulty":
                         ("easy", "medium", "hard")[p % 3], "tests": {
                             "kind": "unit", "code": TESTS.format(a=k, b=2 * k, c=-3 * k)}})
            for i in range(per_problem):
                if p * per_problem + i >= size:
                    break
                body = f"x * {k}" if i % 4 else f"x * {k} + (x > 1)"  # a quarter are wrong
                out_s.write({"id": f"p{p}/s{i}", "problem_id": f"p{p}",
                             "code": f"def f(x):\n    # {p}/{i}\n    return {body}\n"})
    return problems, solutions


def rss_mb(pid: int | str = "self") -> float:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def child(size: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        problems, solutions = write_inputs(work, size)
        samples: list[tuple[int, float, float]] = []  # (done, assay MB, executors MB)
        with get_sandbox("bwrap", cache=CompileCache(work / "cache")) as sandbox, \
                RunStore(work / "store.sqlite") as store:
            pool = getattr(sandbox, "warm_pool", None)
            executors: dict[int, int] = {}  # id of the executor -> its interpreter's pid
            done = [0]

            def progress(report: object, from_store: bool) -> None:
                done[0] += 1
                if pool is not None:
                    executors.update({id(e): e.pid for _, e in list(pool._idle)})
                if done[0] % max(1, size // 20) == 0:
                    samples.append((done[0], rss_mb(),
                                    sum(rss_mb(pid) for pid in executors.values())))

            started = time.perf_counter()
            summary = verify(problems, solutions, work / "reports.jsonl", store, sandbox,
                             VerifyConfig(tau=1.0), progress=progress)
            elapsed = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"size": size, "seconds": round(elapsed, 1),
                          "per_second": round(size / elapsed, 1),
                          "peak_rss_mb": round(peak_mb, 1), "fully_passing":
                          summary.fully_passing, "tests": sum(summary.statuses.values()),
                          "rss_samples": samples}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    rows = []
    for size in args.sizes:
        done = subprocess.run([sys.executable, __file__, "--child", str(size)],
                              capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        row = rows[-1]
        print(f"{row['size']:>8} solutions  {row['seconds']:>7.1f} s  "
              f"{row['per_second']:>6.1f}/s  peak RSS {row['peak_rss_mb']:>6.1f} MB  "
              f"({row['tests']} tests, {row['fully_passing']} pass all)", flush=True)
        samples = row["rss_samples"]
        if samples:
            first, last = samples[0], samples[-1]
            print(f"{'':>8} RSS as it went: assay {first[1]:.1f} MB at {first[0]} solutions "
                  f"-> {last[1]:.1f} MB at {last[0]}; warm executors {first[2]:.1f} MB -> "
                  f"{last[2]:.1f} MB", flush=True)
    base, last = rows[0], rows[-1]
    print(f"peak memory ratio {last['size']} / {base['size']} solutions: "
          f"{last['peak_rss_mb'] / base['peak_rss_mb']:.2f}x "
          f"(for {last['size'] / base['size']:.0f}x the solutions)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
