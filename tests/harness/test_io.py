"""The io harness in every sandbox language: one program, run once per case."""

from __future__ import annotations

import hashlib
import json
import re
import secrets

import pytest

from assay.data import Checker, Problem, TestCase, TestSuite
from assay.harness import HarnessTask, get_harness, run_tests
from assay.harness.io import IoHarness
from assay.sandbox import Sandbox

from .helpers import run_suite, statuses

# Each program reads "a b" and prints answer(a, b); a == 5 crashes it, a == 0 hangs it.
PROGRAMS = {
    "python": """\
a, b = map(int, input().split())
def answer(a, b):
    return a + b
if a == 5:
    raise ValueError("boom")
if a == 0:
    while True:
        pass
print(answer(a, b))
""",
    "javascript": """\
const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);
function answer(a, b) { return a + b; }
if (a === 5) null.boom;
if (a === 0) for (;;) {}
console.log(answer(a, b));
""",
    "typescript": """\
import * as fs from "fs";
const [a, b] = fs.readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);
function answer(a: number, b: number): number { return a + b; }
if (a === 5) throw new Error("boom");
if (a === 0) { while (true) {} }
console.log(answer(a, b));
""",
    "java": """\
import java.util.Scanner;

public class Solution {
    static long answer(long a, long b) { return a + b; }

    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        long a = in.nextLong(), b = in.nextLong();
        if (a == 5) throw new IllegalStateException("boom");
        if (a == 0) while (true) {}
        System.out.println(answer(a, b));
    }
}
""",
    "c": """\
#include <stdio.h>
long answer(long a, long b) { return a + b; }
int main(void) {
    long a, b;
    if (scanf("%ld %ld", &a, &b) != 2) return 2;
    if (a == 5) { volatile int *p = 0; *p = 1; }
    if (a == 0) for (;;) {}
    printf("%ld\\n", answer(a, b));
    return 0;
}
""",
    "cpp": """\
#include <iostream>
#include <vector>
long answer(long a, long b) { return a + b; }
int main() {
    long a, b;
    std::cin >> a >> b;
    if (a == 5) { std::vector<int> v; return v.at(3); }
    volatile long spin = 0;
    if (a == 0) while (true) spin = spin + 1;
    std::cout << answer(a, b) << "\\n";
}
""",
    "go": """\
package main

import "fmt"

func answer(a, b int) int { return a + b }

func main() {
    var a, b int
    fmt.Scan(&a, &b)
    if a == 5 {
        var m map[string]int
        m["boom"] = 1
    }
    if a == 0 {
        for {
        }
    }
    fmt.Println(answer(a, b))
}
""",
    "rust": """\
use std::io::Read;
fn answer(a: i64, b: i64) -> i64 { a + b }
fn main() {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).unwrap();
    let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();
    let (a, b) = (v[0], v[1]);
    if a == 5 { panic!("boom"); }
    if a == 0 { loop {} }
    println!("{}", answer(a, b));
}
""",
    "ruby": """\
a, b = STDIN.read.split.map(&:to_i)
def answer(a, b)
  a + b
end
raise "boom" if a == 5
loop {} if a == 0
puts answer(a, b)
""",
    "php": """\
<?php
[$a, $b] = array_map('intval', preg_split('/\\s+/', trim(stream_get_contents(STDIN))));
function answer($a, $b) { return $a + $b; }
if ($a == 5) throw new Exception("boom");
if ($a == 0) while (true) {}
echo answer($a, $b), "\\n";
""",
    "bash": """\
read -r a b
answer() { echo $(( a + b )); }
if [ "$a" -eq 5 ]; then exit 3; fi
if [ "$a" -eq 0 ]; then while true; do :; done; fi
answer
""",
}
BROKEN = {"python": "def broken(:\n", "ruby": "def broken(\n", "bash": "fi\n",
          "java": "class Broken {\n"}
LANGUAGES = sorted(PROGRAMS)
SUMS = [TestCase(name="one", input="1 2\n", expected="3\n"),
        TestCase(name="two", input="2 2\n", expected="4\n"),
        TestCase(name="three", input="3 4\n", expected="7\n")]
MISBEHAVING = [TestCase(name="before", input="1 2\n", expected="3\n"),
               TestCase(name="crash", input="5 1\n", expected="6\n"),
               TestCase(name="hang", input="0 1\n", expected="1\n"),
               TestCase(name="after", input="3 4\n", expected="7\n")]
TIMEOUT_S = 1.5


def run(sandbox: Sandbox, language: str, code: str, cases: list[TestCase],
        **suite: object) -> dict[str, tuple[str, str]]:
    return run_suite(sandbox, language, code, kind="io", cases=cases,
                     timeout_s=suite.pop("timeout_s", TIMEOUT_S), **suite)


@pytest.mark.parametrize("language", LANGUAGES)
def test_correct_program_passes_every_case(sandbox: Sandbox, language: str) -> None:
    outcomes = run(sandbox, language, PROGRAMS[language], SUMS)
    assert statuses(outcomes) == {"one": "PASS", "two": "PASS", "three": "PASS"}, outcomes


@pytest.mark.parametrize("language", LANGUAGES)
def test_partly_wrong_program_fails_only_the_right_cases(sandbox: Sandbox,
                                                          language: str) -> None:
    wrong = PROGRAMS[language].replace("a + b", "a * b").replace("$a + $b", "$a * $b")
    outcomes = run(sandbox, language, wrong, SUMS)
    assert statuses(outcomes) == {"one": "FAIL", "two": "PASS", "three": "FAIL"}, outcomes
    assert outcomes["three"][1] == 'token 1 (line 1): expected "7", got "12"'


@pytest.mark.parametrize("language", LANGUAGES)
def test_crash_and_hang_only_touch_their_own_cases(sandbox: Sandbox, language: str) -> None:
    outcomes = run(sandbox, language, PROGRAMS[language], MISBEHAVING)
    assert statuses(outcomes) == {"before": "PASS", "crash": "ERROR", "hang": "TIMEOUT",
                                  "after": "PASS"}, outcomes
    assert "time limit" in outcomes["hang"][1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_program_that_does_not_compile_errors_every_case(sandbox: Sandbox,
                                                         language: str) -> None:
    broken = PROGRAMS[language] + BROKEN.get(language, "int broken( {\n")
    outcomes = run(sandbox, language, broken, SUMS)
    assert statuses(outcomes) == {"one": "ERROR", "two": "ERROR", "three": "ERROR"}, outcomes
    assert outcomes["one"][1].startswith("compile error"), outcomes


@pytest.mark.parametrize("language", LANGUAGES)
def test_suite_without_cases_is_an_error(sandbox: Sandbox, language: str) -> None:
    outcomes = run(sandbox, language, PROGRAMS[language], [])
    assert statuses(outcomes) == {"<collection>": "ERROR"}
    assert "no test cases" in outcomes["<collection>"][1]


# -- checkers, limits and isolation (Python and Bash programs, which start fast) ------------

ANSWER_CHECKER = """\
import sys
expected = open(sys.argv[3]).read().split()
got = open(sys.argv[2]).read().split()
if got != expected:
    print(f"wrong answer: expected {expected}, got {got}")
    sys.exit(1)
print("ok")
"""
# Accepts any two numbers that add up to the input's number: needs the input, not the answer.
ANY_PAIR_CHECKER = """\
import sys
target = int(open(sys.argv[1]).read())
numbers = [int(x) for x in open(sys.argv[2]).read().split()]
sys.exit(0 if len(numbers) == 2 and sum(numbers) == target else 1)
"""


def test_custom_checker_decides_and_explains(sandbox: Sandbox) -> None:
    checker = Checker(kind="custom", program=ANSWER_CHECKER)
    wrong = PROGRAMS["python"].replace("a + b", "a * b")
    outcomes = run(sandbox, "python", wrong, SUMS, checker=checker)
    assert outcomes == {"one": ("FAIL", "wrong answer: expected ['3'], got ['2']"),
                        "two": ("PASS", "ok"),
                        "three": ("FAIL", "wrong answer: expected ['7'], got ['12']")}


def test_custom_checker_sees_the_input_and_any_valid_answer_passes(sandbox: Sandbox) -> None:
    checker = Checker(kind="custom", program=ANY_PAIR_CHECKER)
    cases = [TestCase(name="ten", input="10\n", expected="5 5\n"),
             TestCase(name="three", input="3\n", expected="1 2\n")]
    code = "n = int(input())\nprint(n - 1, 1 if n != 3 else 5)\n"
    assert statuses(run(sandbox, "python", code, cases, checker=checker)) == {
        "ten": "PASS", "three": "FAIL"}


def test_custom_checker_runs_only_after_a_clean_run(sandbox: Sandbox) -> None:
    checker = Checker(kind="custom", program="import sys\nsys.exit(0)\n")
    outcomes = run(sandbox, "python", PROGRAMS["python"], MISBEHAVING, checker=checker)
    assert statuses(outcomes) == {"before": "PASS", "crash": "ERROR", "hang": "TIMEOUT",
                                  "after": "PASS"}


def test_program_cannot_tamper_with_the_checker(sandbox: Sandbox) -> None:
    """A process the program leaves behind would rewrite the checker while it runs."""
    code = ("import os, subprocess\n"
            "subprocess.Popen(['bash', '-c', 'for i in $(seq 200); do for f in "
            "/tmp/assay-checker-*/checker.py; do echo \"\" > $f; done; sleep 0.01; done'],"
            " start_new_session=True)\n"
            "print(0)\n")
    checker = Checker(kind="custom", program="import sys, time\ntime.sleep(0.3)\nsys.exit(1)\n")
    assert statuses(run(sandbox, "python", code, SUMS[:1], checker=checker)) == {
        "one": "FAIL"}


def test_exact_checker_accepts_crlf_and_trailing_blanks_only(sandbox: Sandbox) -> None:
    cases = [TestCase(name="crlf", input="", expected="1 2\n3\n")]
    exact = Checker(kind="exact")
    assert statuses(run(sandbox, "bash", "printf '1 2  \\r\\n3\\r\\n\\n'", cases,
                        checker=exact)) == {"crlf": "PASS"}
    assert run(sandbox, "bash", "printf '1  2\\n3\\n'", cases, checker=exact) == {
        "crlf": ("FAIL", 'line 1, column 3: expected "1 2", got "1  2"')}


def test_float_checker_in_a_run(sandbox: Sandbox) -> None:
    cases = [TestCase(name="third", input="", expected="0.333333333\n")]
    code = "print(1 / 3)\n"
    assert statuses(run(sandbox, "python", code, cases, checker=Checker(kind="float"))) == {
        "third": "PASS"}
    assert statuses(run(sandbox, "python", code, cases, checker=Checker(kind="tokens"))) == {
        "third": "FAIL"}


def test_endless_output_is_cut_and_fails(sandbox: Sandbox) -> None:
    code = "import sys\nwhile True:\n    sys.stdout.write('y' * 65536)\n"
    outcomes = run(sandbox, "python", code, SUMS[:2])
    assert statuses(outcomes) == {"one": "FAIL", "two": "FAIL"}
    assert outcomes["one"][1].startswith("printed more than")


def test_large_input_and_output_pass_through(sandbox: Sandbox) -> None:
    text = "".join(f"{i} {i * i}\n" for i in range(200_000))  # about 2.5 MB
    cases = [TestCase(name="echo", input=text, expected=text)]
    assert statuses(run(sandbox, "bash", "cat", cases)) == {"echo": "PASS"}


def test_program_reading_no_input_is_fine(sandbox: Sandbox) -> None:
    cases = [TestCase(name="big", input="x" * 1_000_000, expected="hi\n")]
    assert statuses(run(sandbox, "bash", "echo hi", cases)) == {"big": "PASS"}


def test_cases_do_not_see_each_others_files_or_processes(sandbox: Sandbox) -> None:
    code = LEAVE_BEHIND
    cases = [TestCase(name=f"run{i}", input="", expected="clean\n") for i in range(3)]
    assert statuses(run(sandbox, "python", code, cases)) == {
        "run0": "PASS", "run1": "PASS", "run2": "PASS"}


def test_program_sees_no_report_channel_and_cannot_read_the_runner(sandbox: Sandbox) -> None:
    code = """\
import ctypes, os
problems = [k for k in os.environ if k.startswith("ASSAY")]
problems += [fd for fd in os.listdir("/proc/self/fd") if int(fd) > 3]
for what in ("environ", "mem"):
    try:
        open(f"/proc/{os.getppid()}/{what}", "rb").read(1)
        problems.append(what)
    except OSError:
        pass
if ctypes.CDLL(None).ptrace(16, os.getppid(), 0, 0) == 0:
    problems.append("ptrace")
print(problems or "isolated")
"""
    cases = [TestCase(name="probe", input="", expected="isolated\n")]
    assert run(sandbox, "python", code, cases) == {"probe": ("PASS", "")}


def test_a_program_that_kills_the_runner_errors_its_case_only(sandbox: Sandbox) -> None:
    code = PROGRAMS["python"].replace('raise ValueError("boom")',
                                      "import os, signal; os.kill(os.getppid(), 9)")
    outcomes = run(sandbox, "python", code, MISBEHAVING)
    assert statuses(outcomes) == {"before": "PASS", "crash": "ERROR", "hang": "TIMEOUT",
                                  "after": "PASS"}


# -- Python: each case forked from the runner's program server -------------------------------

SUM = "a, b = map(int, input().split())\nprint(a + b)\n"


def python_run(sandbox: Sandbox, code: str, cases: list[TestCase], server: bool = True,
               **suite: object) -> tuple[list[tuple[str, str, str]], str | None, str]:
    """Every case's (name, status, message) and the compile verdict and message, from the
    program server (``server``) or from a new interpreter per case (the old path)."""
    harness = get_harness("io", "python")
    assert isinstance(harness, IoHarness)
    problem = Problem(id="p", language="python", tests=TestSuite(
        kind="io", cases=cases, timeout_s=suite.pop("timeout_s", 1.0), **suite))  # type: ignore[arg-type]
    task = HarnessTask(problem=problem, code=code, language="python", suite=problem.tests)
    before = harness.python_program_server
    harness.python_program_server = server
    try:
        assert bool(harness.build(task, []).wrapper) is not server
        run = run_tests(sandbox, harness, task)
    finally:
        harness.python_program_server = before
    return ([(o.name, o.status.value, o.message) for o in run.outcomes], run.compile_verdict,
            run.compile_message)


def test_python_run_is_the_runner_itself_with_the_solutions_command_as_arguments() -> None:
    """No wrapper, so that the runner runs in a warm executor; the other languages keep it."""
    problem = Problem(id="p", language="python", tests=TestSuite(kind="io", cases=SUMS))
    task = HarnessTask(problem=problem, code=SUM, language="python", suite=problem.tests)
    spec = get_harness("io", "python").build(task, ["two"])
    assert (spec.wrapper, spec.entry, set(spec.files)) == (
        (), "assay_io_runner.py", {"main.py", "assay_io_runner.py"})
    assert spec.argv[1:] == ("/assay/launch.py", "main.py")
    assert spec.env["ASSAY_IO_PROGRAM_SERVER"] == spec.env["ASSAY_PASS_STATUS_FD"] == "1"
    assert [case["name"] for case in json.loads(spec.stdin)["cases"]] == ["two"]
    bash = HarnessTask(problem=problem, code="cat", language="bash", suite=problem.tests)
    assert get_harness("io", "bash").build(bash, []).wrapper[-1] == "/work/assay_io_runner.py"


# Prints what a program can see of its process: all of it must be what a new interpreter
# started by the runner sees. The custom checker below hands it back as the message.
PROBES = {
    "environment": "import os\nprint(sorted(os.environ.items()))",
    "argv and path": "import os, sys\nprint(sys.argv, __name__, __file__, sys.path, "
                     "os.getcwd(), sorted(os.listdir('.')), sys.flags, sys.executable)",
    "identity": "import os\nprint(os.getuid(), os.geteuid(), os.getgid(), os.getgroups(), "
                "oct(os.umask(0)))",
    "process status": "print([line for line in open('/proc/self/status') "
                      "if line.startswith(('Cap', 'NoNewPrivs', 'Sig'))])",
    "session and fds": "import ctypes, os\nprint(os.getsid(0) == os.getpid() == os.getpgrp(), "
                       "sorted(os.listdir('/proc/self/fd')), "
                       "ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))",  # PR_GET_DUMPABLE
    "limits": "import resource\nprint({n: resource.getrlimit(getattr(resource, n)) for n in "
              "dir(resource) if n.startswith('RLIMIT_')})",
    "signals": "import signal\nprint({s.name: str(signal.getsignal(s)) for s in "
               "signal.valid_signals() if isinstance(s, signal.Signals) "
               "and s not in (signal.SIGKILL, signal.SIGSTOP)})",
    "streams": "import sys\nprint([(s.encoding, s.errors, s.line_buffering, s.isatty()) "
               "for s in (sys.stdin, sys.stdout, sys.stderr)])",
    "parent": "import os\nfound = []\nfor what in ('environ', 'mem', 'fd'):\n"
              "    try:\n        os.listdir(f'/proc/{os.getppid()}/fd') if what == 'fd' else "
              "open(f'/proc/{os.getppid()}/{what}', 'rb').read(1)\n"
              "        found.append(what)\n    except OSError as exc:\n"
              "        found.append(type(exc).__name__)\nprint(found)",
}
ECHO_CHECKER = "import sys\nprint(open(sys.argv[2]).read())\nsys.exit(1)\n"
ONE = [TestCase(name="one", input="1 2\n", expected="3\n")]
LEAVE_BEHIND = """\
import os, subprocess
seen = [p for p in ("/work/left", "/tmp/left") if os.path.exists(p)]
alive = subprocess.run(["pgrep", "-f", "sleep 31"], capture_output=True).stdout.strip()
for path in ("/work/left", "/tmp/left"):
    open(path, "w").write("x")
subprocess.Popen(["setsid", "sleep", "31"])
print("clean" if not seen and not alive else f"dirty {seen} {alive}")
"""
# name -> (program, cases, suite settings, every case's expected status)
CORPUS: dict[str, tuple[str, list[TestCase], dict[str, object], list[str]]] = {
    "correct": (SUM, SUMS, {}, ["PASS"] * 3),
    "wrong answer": (SUM.replace("a + b", "a * b"), SUMS, {}, ["FAIL", "PASS", "FAIL"]),
    "runtime error": (SUM.replace("print(a + b)", "def f():\n    raise ValueError(a)\n"
                                  "print('partial')\nf()"), SUMS, {}, ["ERROR"] * 3),
    "exit code": ("import sys\nprint(3)\nsys.exit(3)", SUMS, {}, ["ERROR"] * 3),
    "exit message": ("import sys\nsys.exit('bad input')", SUMS, {}, ["ERROR"] * 3),
    "os._exit loses buffered output": ("import os\nprint(3)\nos._exit(0)", SUMS, {},
                                       ["FAIL"] * 3),
    "killed by a signal": ("import os, signal\nprint(3, flush=True)\n"
                           "os.kill(os.getpid(), signal.SIGKILL)", SUMS, {}, ["ERROR"] * 3),
    "segfault": ("import ctypes\nctypes.string_at(0)", SUMS[:1], {}, ["ERROR"]),
    "reads more input than given": ("input()\ninput()", SUMS, {}, ["ERROR"] * 3),
    "prints nothing": ("pass", SUMS, {}, ["FAIL"] * 3),
    "no final newline": ("import sys\nsys.stdout.write(str(sum(map(int, input().split()))))",
                         SUMS, {"checker": Checker(kind="exact")}, ["PASS"] * 3),
    "threads, atexit and finalizers": (
        "import atexit, threading, time\n"
        "class Late:\n    def __del__(self):\n        print('finalized')\n"
        "late = Late()\natexit.register(print, 'at exit')\n"
        "threading.Thread(target=lambda: (time.sleep(0.05), print('thread'))).start()\n"
        "print('main')", ONE, {"checker": Checker(kind="custom", program=ECHO_CHECKER)},
        ["FAIL"]),
    "infinite loop": ("while True:\n    pass", SUMS[:2], {"timeout_s": 0.5}, ["TIMEOUT"] * 2),
    "output flood": ("import sys\nwhile True:\n    sys.stdout.write('y' * 65536)", SUMS[:2],
                     {}, ["FAIL"] * 2),
    "syntax error": (SUM + "def broken(:\n", SUMS, {}, ["ERROR"] * 3),
    "leaves a file and a process behind": (
        LEAVE_BEHIND, [TestCase(name=f"run{i}", input="", expected="clean\n") for i in range(3)],
        {}, ["PASS"] * 3),
    "deletes its own file": ("import os\nos.unlink('main.py')\nprint(3)", SUMS, {},
                             ["PASS", "ERROR", "ERROR"]),
    "kills the process that started it": (
        PROGRAMS["python"].replace('raise ValueError("boom")',
                                   "import os; os.kill(os.getppid(), 9)"),
        MISBEHAVING, {"timeout_s": 0.5}, ["PASS", "ERROR", "TIMEOUT", "PASS"]),
    "terminates the process that started it": (
        "import os, signal\nos.kill(os.getppid(), signal.SIGTERM)\nprint(3)", SUMS[:2],
        {}, ["ERROR", "ERROR"]),
    "custom checker": (SUM.replace("a + b", "a * b"), SUMS,
                       {"checker": Checker(kind="custom", program=ANSWER_CHECKER)},
                       ["FAIL", "PASS", "FAIL"]),
    **{f"probe: {name}": (code, ONE, {"checker": Checker(kind="custom", program=ECHO_CHECKER)},
                          ["FAIL"]) for name, code in PROBES.items()},
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_python_cases_from_the_program_server_match_a_new_interpreter_per_case(
        sandbox: Sandbox, name: str) -> None:
    code, cases, suite, expected = CORPUS[name]
    pool = getattr(sandbox, "warm_pool", None)
    assert pool is not None, "these runs must use a warm executor"
    jobs = pool.jobs
    new = python_run(sandbox, code, cases, **dict(suite))
    assert pool.jobs > jobs  # the runner ran in a warm executor
    old = python_run(sandbox, code, cases, server=False, **dict(suite))
    if name in RACY:
        new, old = unnumbered(new), unnumbered(old)
    assert new == old
    assert [status for _, status, _ in new[0]] == expected, new


# How much of an endless output was read before the program was stopped is a race.
RACY = {"output flood"}


def unnumbered(run: tuple[list[tuple[str, str, str]], str | None, str]
               ) -> tuple[list[tuple[str, str, str]], str | None, str]:
    outcomes, verdict, message = run
    return [(name, status, re.sub(r"\d+", "N", text)) for name, status, text in outcomes], \
        verdict, message


def test_corpus_reaches_every_outcome() -> None:
    reached = {status for _, _, _, expected in CORPUS.values() for status in expected}
    assert reached == {"PASS", "FAIL", "ERROR", "TIMEOUT"}
    assert CORPUS["syntax error"][0].endswith("def broken(:\n")


@pytest.mark.parametrize("name", ["correct", "syntax error", "probe: environment",
                                  "probe: argv and path", "probe: session and fds",
                                  "kills the process that started it"])
def test_program_server_runs_the_same_without_a_warm_executor(
        sandbox: Sandbox, sandbox_cold: Sandbox, name: str) -> None:
    """The runner then runs through the launcher in a new sandbox and interpreter."""
    code, cases, suite, _ = CORPUS[name]
    assert python_run(sandbox_cold, code, cases, **dict(suite)) == \
        python_run(sandbox, code, cases, server=False, **dict(suite))


def test_syntax_error_is_a_compile_error_of_every_case(sandbox: Sandbox) -> None:
    outcomes, verdict, message = python_run(sandbox, "def broken(:\n", SUMS)
    assert verdict == "COMPILE_ERROR" and "SyntaxError" in message
    assert {(status, text.startswith("compile error")) for _, status, text in outcomes} == {
        ("ERROR", True)}


def _memory_scan(needles: dict[str, str]) -> str:
    """A program that looks for each needle in every readable page of its own memory. A
    needle is given in two halves, never joined, so that the program itself never holds it
    in one piece: a hit is a copy it did not make."""
    halves = {name: (text[:len(text) // 2], text[len(text) // 2:])
              for name, text in needles.items()}
    return f"""\
import json, os, sys
HALVES = {halves!r}
own_input = sys.stdin.read()  # a case's own input is in its memory: the scan must see it
found = {{name: False for name in HALVES}}
mem = os.open('/proc/self/mem', os.O_RDONLY)
for line in open('/proc/self/maps').read().splitlines():
    fields = line.split()
    if not fields[1].startswith('r') or fields[-1] in ('[vvar]', '[vsyscall]'):
        continue
    start, end = (int(x, 16) for x in fields[0].split('-'))
    offset = start
    while offset < end:
        try:
            chunk = os.pread(mem, min(end - offset, 1 << 22) + 128, offset)
        except OSError:
            break
        for name, (head, rest) in HALVES.items():
            head, rest = head.encode(), rest.encode()
            at = chunk.find(head)
            while at >= 0 and not found[name]:
                found[name] = chunk[at + len(head):at + len(head) + len(rest)] == rest
                at = chunk.find(head, at + 1)
        offset += 1 << 22
print(json.dumps(found, sort_keys=True))
"""


@pytest.mark.parametrize("custom", [False, True], ids=["digests", "custom checker answers"])
def test_program_finds_no_case_data_in_its_own_memory(sandbox: Sandbox, custom: bool) -> None:
    """Guards the program server's reason to exist: a case forked from a process that has
    read the job would find every case's input and expected digest (and, with a custom
    checker, answer) in its own memory, and could try answers against its own digest."""
    token = secrets.token_hex(6)
    inputs = {name: f"input of the {name} case {token}\n" for name in ("first", "probe", "last")}
    answers = {name: f"the answer of the {name} case {token}\n" for name in inputs}
    needles = {"own input": inputs["probe"].strip(),
               "own digest": hashlib.sha256(answers["probe"].encode()).hexdigest(),
               "other digest": hashlib.sha256(answers["first"].encode()).hexdigest(),
               "other input": inputs["last"].strip()}
    if custom:
        needles["own answer"] = answers["probe"].strip()
        needles["other answer"] = answers["last"].strip()
    cases = [TestCase(name=name, input=inputs[name], expected=answers[name]) for name in inputs]
    suite: dict[str, object] = {"checker": Checker(kind="custom", program=ECHO_CHECKER)}
    outcomes, _, _ = python_run(sandbox, _memory_scan(needles), cases, timeout_s=20, **suite)
    message = dict((name, text) for name, _, text in outcomes)["probe"]
    found = json.loads(message.splitlines()[0])
    assert found == {name: name == "own input" for name in needles}, found


def test_a_program_that_stops_the_program_server_does_not_hang_the_run(
        sandbox: Sandbox) -> None:
    code = "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\n" + SUM
    outcomes, _, _ = python_run(sandbox, code, SUMS)
    assert [status for _, status, _ in outcomes] == ["PASS"] * 3, outcomes


def test_program_server_and_runner_are_out_of_the_programs_reach(sandbox: Sandbox) -> None:
    """Every ancestor the program could touch (its uid's: the server, the runner) is not
    dumpable: no environ, no memory, no fds, no ptrace."""
    code = """\
import ctypes, os
libc = ctypes.CDLL(None)
reached, pid = [], os.getppid()
while pid > 1:
    with open(f'/proc/{pid}/status') as status:
        fields = dict(line.split(':', 1) for line in status)
    if fields['Uid'].split()[0] != str(os.getuid()):
        break
    for probe in (lambda: open(f'/proc/{pid}/environ', 'rb').read(1),
                  lambda: open(f'/proc/{pid}/mem', 'rb').read(1),
                  lambda: os.listdir(f'/proc/{pid}/fd')):
        try:
            probe()
            reached.append(pid)
        except OSError:
            pass
    if libc.ptrace(16, pid, 0, 0) == 0:  # PTRACE_ATTACH
        reached.append(pid)
    pid = int(fields['PPid'])
print(reached or 'out of reach', len([f for f in os.listdir('/proc/self/fd') if int(f) > 3]))
"""
    outcomes, _, _ = python_run(sandbox, code, [TestCase(name="probe", input="",
                                                         expected="out of reach 0\n")])
    assert outcomes == [("probe", "PASS", "")]
