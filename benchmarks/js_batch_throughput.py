"""JavaScript verification throughput: batched vs one sandbox run per solution.

Both verify the same JavaScript solutions with ``assay.verify.verify`` on the same machine in
the same run, each with a fresh run store. The baseline is ``VerifyConfig(batch_size=1)``:
per solution one sandbox start and two node starts (the supervisor that holds the report fd,
and the child that runs the tests). Batched (the default ``batch_size``) shares one sandbox
run and one supervisor among the solutions of a batch; each solution still gets its own
child node, and a new one after a crash. Prints solutions per second for each, the ratio
batched / unbatched, and checks that both give every solution the same outcomes.

The solutions are HumanEval-style problems written below (20 functions, each with 5 script
tests: ``console.assert`` in HumanEval-X's style, or ``assert.deepStrictEqual`` in
MultiPL-E's), each in 5 variants: canonical, wrong return value, wrong on every other call,
an exception on every other call, and ``process.exit`` on the second call (a crash that
costs a new child node in either mode). No variant hangs: a hang measures the timeout
setting, not the harness.

    python benchmarks/js_batch_throughput.py
    python benchmarks/js_batch_throughput.py --workers 2 --rounds 3 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from assay.data import Problem, Solution, SolutionReport, TestSuite, read_records, write_records
from assay.engine import RunStore
from assay.sandbox import CompileCache, get_sandbox
from assay.sandbox.languages import get_language
from assay.verify import VerifyConfig, verify

# name, parameters, body, [(arguments, expected)]
PROBLEMS: list[tuple[str, str, str, list[tuple[list[object], object]]]] = [
    ("add", "x, y", "return x + y;",
     [([1, 2], 3), ([0, 0], 0), ([-1, 5], 4), ([10, 20], 30), ([7, -7], 0)]),
    ("isPalindrome", "text", "return text === [...text].reverse().join('');",
     [(["aba"], True), ([""], True), (["ab"], False), (["zbcd"], False), (["xywyx"], True)]),
    ("fib", "n", "let [a, b] = [0, 1];\n  for (let i = 0; i < n; i++) [a, b] = [b, a + b];\n"
     "  return a;", [([0], 0), ([1], 1), ([10], 55), ([12], 144), ([20], 6765)]),
    ("factorial", "n", "let result = 1;\n  for (let i = 2; i <= n; i++) result *= i;\n"
     "  return result;", [([0], 1), ([1], 1), ([5], 120), ([6], 720), ([10], 3628800)]),
    ("reverseWords", "s", "return s.split(' ').reverse().join(' ');",
     [(["a b c"], "c b a"), (["hello"], "hello"), (["one two"], "two one"), ([""], ""),
      (["x y z w"], "w z y x")]),
    ("maxElement", "l", "return Math.max(...l);",
     [([[1, 2, 3]], 3), ([[5, 3, -5, 2]], 5), ([[-1]], -1), ([[0, 0]], 0), ([[7, 9, 8]], 9)]),
    ("sumEvens", "l", "return l.filter((x) => x % 2 === 0).reduce((a, b) => a + b, 0);",
     [([[1, 2, 3, 4]], 6), ([[]], 0), ([[1, 3]], 0), ([[2]], 2), ([[10, 20, 5]], 30)]),
    ("countVowels", "s", "return [...s.toLowerCase()].filter((c) => 'aeiou'.includes(c))"
     ".length;", [(["abcde"], 2), (["ACEDY"], 2), ([""], 0), (["xyz"], 0), (["aaaa"], 4)]),
    ("uniqueSorted", "l", "return [...new Set(l)].sort((a, b) => a - b);",
     [([[5, 3, 5, 2, 3, 3, 9, 0, 123]], [0, 2, 3, 5, 9, 123]), ([[]], []), ([[1, 1]], [1]),
      ([[3, 2, 1]], [1, 2, 3]), ([[-1, 1, -1]], [-1, 1])]),
    ("gcd", "a, b", "while (b) [a, b] = [b, a % b];\n  return a;",
     [([3, 7], 1), ([10, 15], 5), ([49, 14], 7), ([144, 60], 12), ([5, 0], 5)]),
    ("isPrime", "n", "if (n < 2) return false;\n"
     "  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;\n  return true;",
     [([6], False), ([101], True), ([11], True), ([1], False), ([13441], True)]),
    ("flatten", "l", "return l.flat();",
     [([[[1], [2, 3]]], [1, 2, 3]), ([[]], []), ([[[1, 2]]], [1, 2]), ([[[], [4]]], [4]),
      ([[[5], [], [6]]], [5, 6])]),
    ("rotateLeft", "l, k", "if (!l.length) return [];\n  const s = k % l.length;\n"
     "  return [...l.slice(s), ...l.slice(0, s)];",
     [([[1, 2, 3], 1], [2, 3, 1]), ([[1, 2, 3], 3], [1, 2, 3]), ([[], 2], []),
      ([[1, 2], 5], [2, 1]), ([[4, 5, 6, 7], 2], [6, 7, 4, 5])]),
    ("runLength", "s", "let out = '';\n  for (let i = 0; i < s.length;) {\n"
     "    let j = i;\n    while (j < s.length && s[j] === s[i]) j++;\n"
     "    out += s[i] + (j - i);\n    i = j;\n  }\n  return out;",
     [(["aaabcc"], "a3b1c2"), ([""], ""), (["a"], "a1"), (["abab"], "a1b1a1b1"),
      (["zzzz"], "z4")]),
    ("belowThreshold", "l, t", "return l.every((x) => x < t);",
     [([[1, 2, 4, 10], 100], True), ([[1, 20, 4, 10], 5], False), ([[], 0], True),
      ([[5], 5], False), ([[1, 8, 4, 10], 11], True)]),
    ("strlen", "s", "return s.length;",
     [([""], 0), (["x"], 1), (["asdasnakj"], 9), (["hello world"], 11), (["ab"], 2)]),
    ("largestDivisor", "n", "for (let d = n - 1; d > 0; d--) if (n % d === 0) return d;\n"
     "  return 1;", [([15], 5), ([3], 1), ([7], 1), ([10], 5), ([100], 50)]),
    ("stringXor", "a, b", "return [...a].map((c, i) => (c === b[i] ? '0' : '1')).join('');",
     [(["010", "110"], "100"), (["111000", "101010"], "010010"), (["1", "1"], "0"),
      (["0101", "0000"], "0101"), (["", ""], "")]),
    ("intersperse", "l, d", "return l.flatMap((x, i) => (i ? [d, x] : [x]));",
     [([[], 7], []), ([[5, 6, 3, 2], 8], [5, 8, 6, 8, 3, 8, 2]), ([[2, 2, 2], 2], [2, 2, 2, 2, 2]),
      ([[1], 0], [1]), ([[1, 2], 9], [1, 9, 2])]),
    ("incrList", "l", "return l.map((x) => x + 1);",
     [([[]], []), ([[3, 2, 1]], [4, 3, 2]), ([[5, 2, 5]], [6, 3, 6]), ([[0]], [1]),
      ([[-1, -2]], [0, -1])]),
]

# Each variant wraps the canonical body; `skew` gives a wrong value of the same type.
SKEW = ("function skew(value) {\n"
        "  if (typeof value === 'number') return value + 1;\n"
        "  if (typeof value === 'boolean') return !value;\n"
        "  if (typeof value === 'string') return value + '?';\n"
        "  return Array.isArray(value) ? [...value, 0] : null;\n"
        "}\n")
VARIANTS = {
    "canonical": "{body}",
    "wrong_return": "return skew((() => {{\n  {body}\n}})());",
    "partly_wrong": "const right = (() => {{\n  {body}\n}})();\n"
                    "  return ++calls % 2 ? right : skew(right);",
    "exception": "if (++calls % 2 === 0) throw new RangeError('every other call');\n  {body}",
    "process_exit": "if (++calls === 2) process.exit(1);\n  {body}",
}


def solution_code(name: str, params: str, body: str, variant: str) -> str:
    inner = VARIANTS[variant].format(body=body)
    helpers = "" if variant == "canonical" else "let calls = 0;\n" + SKEW
    return f"{helpers}function {name}({params}) {{\n  {inner}\n}}\n"


def tests_for(index: int, name: str, cases: list[tuple[list[object], object]]) -> str:
    """HumanEval-X's console.assert style for even problems, MultiPL-E's assert for odd."""
    calls = [(f"{name}({', '.join(json.dumps(a) for a in args)})", json.dumps(expected))
             for args, expected in cases]
    if index % 2:
        return "const assert = require('node:assert');\n" + "".join(
            f"assert.deepStrictEqual({call}, {expected});\n" for call, expected in calls)
    checks = "".join(f"  console.assert(JSON.stringify({call}) === JSON.stringify({expected}))\n"
                     for call, expected in calls)
    test = f"test{name[0].upper()}{name[1:]}"
    return f"const {test} = () => {{\n{checks}}}\n{test}()\n"


def write_inputs(work: Path) -> tuple[Path, Path, int]:
    problems, solutions = [], []
    for index, (name, params, body, cases) in enumerate(PROBLEMS):
        problem_id = f"JS/{index}"
        problems.append(Problem(id=problem_id, language="javascript", entry_point=name,
                                tests=TestSuite(kind="unit", code=tests_for(index, name, cases),
                                                timeout_s=2.0)))
        solutions += [Solution(id=f"{problem_id}/{variant}", problem_id=problem_id,
                               code=solution_code(name, params, body, variant))
                      for variant in VARIANTS]
    write_records(work / "problems.jsonl", problems)
    write_records(work / "solutions.jsonl", solutions)
    return work / "problems.jsonl", work / "solutions.jsonl", len(solutions)


def run_verify(work: Path, problems: Path, solutions: Path, label: str, config: VerifyConfig
               ) -> tuple[float, dict[str, list[tuple[str, str]]]]:
    """Seconds to verify every solution with a fresh run store, and each one's outcomes."""
    reports = work / f"reports-{label}.jsonl"
    store_path = work / f"store-{label}.sqlite"
    store_path.unlink(missing_ok=True)
    with get_sandbox("bwrap", cache=CompileCache(work / "cache")) as sandbox, \
            RunStore(store_path) as store:
        started = time.perf_counter()
        verify(problems, solutions, reports, store, sandbox, config)
        elapsed = time.perf_counter() - started
    return elapsed, {r.solution_id: [(o.name, o.status.value) for o in r.outcomes]
                     for r in read_records(reports, SolutionReport)}


def bare_node_start_ms(samples: int = 10) -> float:
    """Median wall time of ``node -e 0`` outside the sandbox: what each node start costs."""
    node = get_language("javascript").toolchain().exe("node")
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        subprocess.run([node, "-e", "0"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=None,
                        help="sandbox runs at once (default: one per core)")
    parser.add_argument("--batch-size", type=int, default=VerifyConfig().batch_size,
                        help="solutions per sandbox run when batched (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="timed runs of each mode, alternating; the median is reported")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    modes = {"unbatched": VerifyConfig(workers=args.workers, batch_size=1),
             "batched": VerifyConfig(workers=args.workers, batch_size=args.batch_size)}
    node_ms = bare_node_start_ms()
    seconds: dict[str, list[float]] = {mode: [] for mode in modes}
    outcomes: dict[str, dict[str, list[tuple[str, str]]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        problems, solutions, n = write_inputs(work)
        for _ in range(args.rounds):
            for mode, config in modes.items():
                elapsed, outcomes[mode] = run_verify(work, problems, solutions, mode, config)
                seconds[mode].append(elapsed)
    unbatched_s = statistics.median(seconds["unbatched"])
    batched_s = statistics.median(seconds["batched"])
    differ = sorted(k for k in outcomes["unbatched"]
                    if outcomes["unbatched"][k] != outcomes["batched"].get(k))
    tests = sum(len(o) for o in outcomes["batched"].values())
    passing = sum(all(s == "PASS" for _, s in o) for o in outcomes["batched"].values())
    figures = {
        "solutions": n, "tests": tests, "fully_passing": passing, "cores": os.cpu_count(),
        "workers": args.workers, "batch_size": args.batch_size, "rounds": args.rounds,
        "bare_node_start_ms": round(node_ms, 1),
        "unbatched_s": [round(s, 2) for s in seconds["unbatched"]],
        "batched_s": [round(s, 2) for s in seconds["batched"]],
        "unbatched_solutions_per_s": round(n / unbatched_s, 1),
        "batched_solutions_per_s": round(n / batched_s, 1),
        "ratio_batched_over_unbatched": round(unbatched_s / batched_s, 2),
        "solutions_whose_outcomes_differ": differ,
    }
    print(f"{n} JavaScript solutions ({len(PROBLEMS)} problems x {', '.join(VARIANTS)}), "
          f"{tests} tests, {passing} fully passing; {os.cpu_count()} cores, workers "
          f"{args.workers or 'one per core'}; a bare `node -e 0` takes {node_ms:.0f} ms here")
    print(f"{'mode':<34}{'seconds':>9}{'solutions/s':>13}{'ms/solution':>13}")
    for label, mode_s in (("unbatched (batch_size=1)", unbatched_s),
                          (f"batched (batch_size={args.batch_size})", batched_s)):
        print(f"{label:<34}{mode_s:>9.2f}{n / mode_s:>13.1f}{mode_s / n * 1000:>13.1f}")
    print(f"ratio batched / unbatched: {unbatched_s / batched_s:.2f}x"
          + (f"   (median of {args.rounds} rounds)" if args.rounds > 1 else ""))
    print(f"solutions whose outcomes differ between the two: {len(differ)} {differ[:10]}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
