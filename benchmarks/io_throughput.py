"""Python io-suite throughput: cases forked from the program server vs a new interpreter each.

Both verify the same Python solutions of stdin -> stdout problems with ``assay.verify.verify``
on the same machine in the same run, each with a fresh run store and a fresh sandbox. The
baseline is the old path, still what every other language does: the io case runner is the
sandbox run's wrapper and starts ``python3 /assay/launch.py main.py`` once per case (a new
interpreter per case; a wrapped run is never warm). The new path runs the case runner as the
sandbox's Python program (in a warm executor) and forks each case from its program server,
a clean interpreter started before the job was read. Prints seconds, cases per second and
the ratio new / old, and checks that both give every solution the same outcomes, messages
included.

The problems are written below (30 of them: read numbers or a line, print their sum, sorted,
reversed...), 20 generated cases each, and two solutions each: a correct one and a wrong one
(off by one, wrong on some inputs, a crash on some inputs). None hangs: a hang measures the
timeout setting, not the harness.

    python benchmarks/io_throughput.py
    python benchmarks/io_throughput.py --workers 2 --rounds 3 --json out.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from assay.data import (
    Problem,
    Solution,
    SolutionReport,
    TestCase,
    TestSuite,
    read_records,
    write_records,
)
from assay.engine import RunStore
from assay.harness import get_harness
from assay.harness.io import IoHarness
from assay.sandbox import CompileCache, get_sandbox
from assay.verify import VerifyConfig, verify

CASES = 20
READ_LIST = "n = int(input())\na = list(map(int, input().split()))\n"
READ_LINE = "s = input()\n"
READ_INT = "n = int(input())\n"

# name, input kind ("list", "line", "int"), reference answer, correct body, wrong body
Reference = Callable[..., object]
PROBLEMS: list[tuple[str, str, Reference, str, str]] = [
    ("sum", "list", sum, "print(sum(a))", "print(sum(a[1:]))"),
    ("sorted", "list", lambda a: " ".join(map(str, sorted(a))), "print(*sorted(a))",
     "print(*sorted(a)[:-1] if n > 5 else sorted(a))"),
    ("reversed", "list", lambda a: " ".join(map(str, a[::-1])), "print(*a[::-1])", "print(*a)"),
    ("max", "list", max, "print(max(a))", "print(max(a[:-1]) if n > 1 else a[0])"),
    ("min", "list", min, "print(min(a))", "print(sorted(a)[1] if n > 1 else a[0])"),
    ("distinct", "list", lambda a: len(set(a)), "print(len(set(a)))", "print(len(a))"),
    ("prefix sums", "list", lambda a: " ".join(str(sum(a[:i + 1])) for i in range(len(a))),
     "import itertools\nprint(*itertools.accumulate(a))",
     "import itertools\nprint(*itertools.accumulate(a[:-1]))"),
    ("evens", "list", lambda a: sum(x % 2 == 0 for x in a), "print(sum(x % 2 == 0 for x in a))",
     "print(sum(x % 2 for x in a))"),
    ("product mod", "list", lambda a: math.prod(a) % 1_000_000_007,
     "r = 1\nfor x in a:\n    r = r * x % 1000000007\nprint(r)", "print(a[0] * a[-1])"),
    ("range", "list", lambda a: max(a) - min(a), "print(max(a) - min(a))",
     "print(max(a) - a[0])"),
    ("floor mean", "list", lambda a: sum(a) // len(a), "print(sum(a) // n)",
     "print(round(sum(a) / n))"),
    ("positives", "list", lambda a: sum(x > 0 for x in a), "print(sum(x > 0 for x in a))",
     "print(sum(x >= 0 for x in a))"),
    ("argmax", "list", lambda a: a.index(max(a)) + 1, "print(a.index(max(a)) + 1)",
     "print(a.index(max(a)))"),
    ("squares", "list", lambda a: sum(x * x for x in a), "print(sum(x * x for x in a))",
     "print(sum(x * abs(x) for x in a))"),
    ("alternating", "list", lambda a: sum(x if i % 2 == 0 else -x for i, x in enumerate(a)),
     "print(sum(a[0::2]) - sum(a[1::2]))", "print(sum(a[1::2]) - sum(a[0::2]))"),
    ("longest run", "list",
     lambda a: max(len(r) for r in _runs(a)),
     "best = cur = 1\nfor x, y in zip(a, a[1:]):\n    cur = cur + 1 if y > x else 1\n"
     "    best = max(best, cur)\nprint(best)",
     "best = cur = 1\nfor x, y in zip(a, a[1:]):\n    cur = cur + 1 if y >= x else 1\n"
     "    best = max(best, cur)\nprint(best)"),
    ("inversions", "list",
     lambda a: sum(a[i] > a[j] for i in range(len(a)) for j in range(i + 1, len(a))),
     "print(sum(a[i] > a[j] for i in range(n) for j in range(i + 1, n)))",
     "print(sum(a[i] >= a[j] for i in range(n) for j in range(i + 1, n)))"),
    ("gcd", "list", lambda a: math.gcd(*a), "import math\nprint(math.gcd(*a))",
     "import math\nprint(math.gcd(*a[1:]) if n > 1 else a[0])"),
    ("reverse string", "line", lambda s: s[::-1], "print(s[::-1])",
     "print(s[::-1] if len(s) % 2 else s)"),
    ("upper", "line", str.upper, "print(s.upper())", "print(s.capitalize())"),
    ("vowels", "line", lambda s: sum(c in "aeiou" for c in s),
     "print(sum(c in 'aeiou' for c in s))", "print(sum(c in 'aeio' for c in s))"),
    ("palindrome", "line", lambda s: "YES" if s == s[::-1] else "NO",
     "print('YES' if s == s[::-1] else 'NO')", "print('YES' if s[0] == s[-1] else 'NO')"),
    ("words", "line", lambda s: len(s.split()), "print(len(s.split()))",
     "print(s.count(' '))"),
    ("most frequent", "line", lambda s: min(s, key=lambda c: (-s.count(c), c)),
     "print(min(s, key=lambda c: (-s.count(c), c)))",
     "print(max(s, key=s.count))"),
    ("fibonacci", "int", lambda n: _fib(n),
     "a, b = 0, 1\nfor _ in range(n):\n    a, b = b, a + b\nprint(a)",
     "a, b = 0, 1\nfor _ in range(n - 1):\n    a, b = b, a + b\nprint(a)"),
    ("prime", "int", lambda n: "YES" if n > 1 and all(n % d for d in range(2, n)) else "NO",
     "print('YES' if n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1)) else 'NO')",
     "print('YES' if n % 2 else 'NO')"),
    ("factorial mod", "int", lambda n: math.factorial(n) % 1_000_000_007,
     "r = 1\nfor i in range(2, n + 1):\n    r = r * i % 1000000007\nprint(r)",
     "import math\nprint(math.factorial(n))"),
    ("digit sum", "int", lambda n: sum(map(int, str(n))), "print(sum(map(int, str(n))))",
     "print(n % 9)"),
    ("binary", "int", lambda n: bin(n)[2:], "print(bin(n)[2:])", "print(bin(n))"),
    ("collatz", "int", lambda n: _collatz(n),
     "steps = 0\nwhile n != 1:\n    n = n // 2 if n % 2 == 0 else 3 * n + 1\n    steps += 1\n"
     "print(steps)",
     "steps = 0\nwhile n != 1:\n    n = n // 2 if n % 2 == 0 else 3 * n + 1\n    steps += 1\n"
     "    if steps > 50:\n        raise RuntimeError('too many steps')\nprint(steps)"),
]


def _runs(a: list[int]) -> list[list[int]]:
    runs, current = [], [a[0]]
    for x, y in itertools.pairwise(a):
        if y > x:
            current.append(y)
        else:
            runs.append(current)
            current = [y]
    return [*runs, current]


def _fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def _collatz(n: int) -> int:
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def make_case(kind: str, rng: random.Random) -> tuple[str, tuple[object, ...]]:
    """A case's input text and the reference function's arguments."""
    if kind == "list":
        values = [rng.randint(-50, 99) for _ in range(rng.randint(1, 30))]
        return f"{len(values)}\n{' '.join(map(str, values))}\n", (values,)
    if kind == "line":
        words = ["".join(rng.choice("abcdeiou") for _ in range(rng.randint(1, 6)))
                 for _ in range(rng.randint(1, 5))]
        line = " ".join(words)
        return f"{line}\n", (line,)
    number = rng.randint(1, 90)
    return f"{number}\n", (number,)


def write_inputs(work: Path) -> tuple[Path, Path, int, int]:
    rng = random.Random(20261206)
    problems, solutions = [], []
    for index, (name, kind, reference, correct, wrong) in enumerate(PROBLEMS):
        cases = []
        for number in range(CASES):
            text, arguments = make_case(kind, rng)
            cases.append(TestCase(name=f"case{number}", input=text,
                                  expected=f"{reference(*arguments)}\n"))
        problem_id = f"IO/{index}"
        problems.append(Problem(id=problem_id, language="python", prompt=name,
                                tests=TestSuite(kind="io", cases=cases, timeout_s=2.0)))
        prelude = {"list": READ_LIST, "line": READ_LINE, "int": READ_INT}[kind]
        solutions += [Solution(id=f"{problem_id}/{variant}", problem_id=problem_id,
                               code=prelude + body)
                      for variant, body in (("correct", correct), ("wrong", wrong))]
    write_records(work / "problems.jsonl", problems)
    write_records(work / "solutions.jsonl", solutions)
    return (work / "problems.jsonl", work / "solutions.jsonl", len(solutions),
            len(solutions) * CASES)


def run_verify(work: Path, problems: Path, solutions: Path, server: bool, workers: int | None
               ) -> tuple[float, dict[str, list[tuple[str, str, str]]]]:
    """Seconds to verify every solution with a fresh run store and sandbox, and each
    solution's outcomes (name, status, message)."""
    harness = get_harness("io", "python")
    assert isinstance(harness, IoHarness)
    label = "server" if server else "per-case-interpreter"
    reports = work / f"reports-{label}.jsonl"
    store_path = work / f"store-{label}.sqlite"
    store_path.unlink(missing_ok=True)
    harness.python_program_server = server
    try:
        with get_sandbox("bwrap", cache=CompileCache(work / "cache")) as sandbox, \
                RunStore(store_path) as store:
            started = time.perf_counter()
            verify(problems, solutions, reports, store, sandbox, VerifyConfig(workers=workers))
            elapsed = time.perf_counter() - started
    finally:
        harness.python_program_server = True
    return elapsed, {r.solution_id: [(o.name, o.status.value, o.message) for o in r.outcomes]
                     for r in read_records(reports, SolutionReport)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=None,
                        help="sandbox runs at once (default: one per core)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="timed runs of each path, alternating; the median is reported")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    modes = {"old": False, "new": True}
    seconds: dict[str, list[float]] = {mode: [] for mode in modes}
    outcomes: dict[str, dict[str, list[tuple[str, str, str]]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        problems, solutions, n, cases = write_inputs(work)
        for _ in range(args.rounds):
            for mode, server in modes.items():
                elapsed, outcomes[mode] = run_verify(work, problems, solutions, server,
                                                     args.workers)
                seconds[mode].append(elapsed)
    old_s, new_s = statistics.median(seconds["old"]), statistics.median(seconds["new"])
    differ = sorted(k for k in outcomes["old"] if outcomes["old"][k] != outcomes["new"].get(k))
    statuses = Counter(status for solution in outcomes["new"].values()
                       for _, status, _ in solution)
    correct_pass = sum(all(status == "PASS" for _, status, _ in solution)
                       for key, solution in outcomes["new"].items() if key.endswith("/correct"))
    figures = {
        "problems": len(PROBLEMS), "solutions": n, "cases": cases, "cores": os.cpu_count(),
        "workers": args.workers, "rounds": args.rounds, "statuses": dict(statuses),
        "correct_solutions_passing_every_case": correct_pass,
        "old_s": [round(s, 2) for s in seconds["old"]],
        "new_s": [round(s, 2) for s in seconds["new"]],
        "old_cases_per_s": round(cases / old_s, 1),
        "new_cases_per_s": round(cases / new_s, 1),
        "ratio_new_over_old": round(old_s / new_s, 2),
        "solutions_whose_outcomes_differ": differ,
    }
    print(f"{len(PROBLEMS)} Python io problems x {CASES} cases, {n} solutions (correct and "
          f"wrong), {cases} cases: {dict(sorted(statuses.items()))}; correct solutions "
          f"passing every case: {correct_pass}/{len(PROBLEMS)}; {os.cpu_count()} cores, "
          f"workers {args.workers or 'one per core'}")
    print(f"{'path':<46}{'seconds':>9}{'cases/s':>10}{'ms/case':>10}")
    for label, mode_s in (("old: a new interpreter per case (wrapper)", old_s),
                          ("new: forked from the program server (warm)", new_s)):
        print(f"{label:<46}{mode_s:>9.2f}{cases / mode_s:>10.1f}{mode_s / cases * 1000:>10.2f}")
    print(f"ratio new / old: {old_s / new_s:.2f}x"
          + (f"   (median of {args.rounds} rounds)" if args.rounds > 1 else ""))
    print(f"solutions whose outcomes differ between the two: {len(differ)} {differ[:10]}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
