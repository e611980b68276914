"""The io harness in every sandbox language: one program, run once per case."""

from __future__ import annotations

import pytest

from assay.data import Checker, TestCase
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
    code = """\
import os, subprocess
seen = [p for p in ("/work/left", "/tmp/left") if os.path.exists(p)]
alive = subprocess.run(["pgrep", "-f", "sleep 31"], capture_output=True).stdout.strip()
for path in ("/work/left", "/tmp/left"):
    open(path, "w").write("x")
subprocess.Popen(["setsid", "sleep", "31"])
print("clean" if not seen and not alive else f"dirty {seen} {alive}")
"""
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
