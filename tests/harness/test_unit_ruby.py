from __future__ import annotations

import pytest

from assay.sandbox import Sandbox

from .helpers import run_suite, statuses

SOLUTION = "def add(a, b)\n  a + b\nend\n\ndef half(x)\n  x / 2\nend\n"
TESTS = """require "minitest/autorun"

class TestMath < Minitest::Test
  def test_add
    assert_equal 5, add(2, 3)
  end

  def test_half
    assert_equal 2, half(4)
  end

  def test_both
    assert_equal 2, add(half(2), 1)
  end
end
"""
NAMES = ["TestMath#test_add", "TestMath#test_half", "TestMath#test_both"]


def run(sandbox: Sandbox, code: str, tests: str = TESTS, timeout_s: float = 1.0
        ) -> dict[str, tuple[str, str]]:
    return run_suite(sandbox, "ruby", code, tests, timeout_s=timeout_s)


def test_correct_solution_passes_every_test(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, SOLUTION)
    assert list(outcomes) == NAMES  # in the order of the file
    assert set(statuses(outcomes).values()) == {"PASS"}


def test_partly_wrong_solution_fails_only_the_right_tests(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, SOLUTION.replace("x / 2", "x / 3"))
    assert statuses(outcomes) == {"TestMath#test_add": "PASS", "TestMath#test_half": "FAIL",
                                  "TestMath#test_both": "FAIL"}
    assert "Expected: 2" in outcomes["TestMath#test_half"][1]
    assert "tests.rb:9" in outcomes["TestMath#test_half"][1]


@pytest.mark.parametrize("crash", ["Process.kill(:KILL, Process.pid)", "exit!(3)", "exit(0)",
                                   "raise ArgumentError, 'boom'"])
def test_a_crash_in_one_test_leaves_the_others_their_outcome(sandbox: Sandbox,
                                                              crash: str) -> None:
    tests = TESTS.replace("assert_equal 2, add(half(2), 1)", "assert_equal 3, add(1, 2)")
    outcomes = run(sandbox, SOLUTION.replace("  x / 2", f"  {crash}"), tests)
    assert statuses(outcomes) == {"TestMath#test_add": "PASS", "TestMath#test_half": "ERROR",
                                  "TestMath#test_both": "PASS"}


def test_a_hang_is_a_timeout_of_that_test_only(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, SOLUTION.replace("  x / 2", "  loop {}"), timeout_s=0.5)
    assert statuses(outcomes) == {"TestMath#test_add": "PASS", "TestMath#test_half": "TIMEOUT",
                                  "TestMath#test_both": "TIMEOUT"}


def test_solution_that_does_not_parse_errors_every_test(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, "def add(a, b)\n  a +\nend\n")
    assert statuses(outcomes) == dict.fromkeys(NAMES, "ERROR")
    assert "the solution does not compile" in outcomes["TestMath#test_add"][1]


def test_solution_that_raises_while_loading_errors_every_test(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, SOLUTION + "raise 'broken at load'\n")
    assert statuses(outcomes) == dict.fromkeys(NAMES, "ERROR")
    assert "broken at load" in outcomes["TestMath#test_add"][1]


def test_solution_that_hangs_while_loading_times_out_every_test(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, SOLUTION + "sleep\n", timeout_s=0.5)
    assert statuses(outcomes) == dict.fromkeys(NAMES, "TIMEOUT")


def test_no_tests_collected_is_an_error(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, SOLUTION, 'require "minitest/autorun"\nclass Helper\nend\nx = 1\n')
    assert statuses(outcomes) == {"<collection>": "ERROR"}
    assert "no tests found" in outcomes["<collection>"][1]


def test_test_file_that_does_not_parse_is_an_error(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, SOLUTION, "class TestX < Minitest::Test\n  def test_a\n    (\n  end\n")
    assert list(statuses(outcomes).values()) == ["ERROR"]
    assert "does not parse" in next(iter(outcomes.values()))[1]


def test_test_unit_methods_are_tests(sandbox: Sandbox) -> None:
    """MultiPL-E's Ruby tests are Test::Unit classes that call the solution's method."""
    tests = """require 'test/unit'
class TestHumanEval < Test::Unit::TestCase
  def test_add
    candidate = method(:add)
    assert_equal(5, candidate.call(2, 3))
  end

  def test_half
    assert_equal(2, half(5))
  end

  def test_error
    nil.upcase
  end
end
"""
    outcomes = run(sandbox, SOLUTION.replace("x / 2", "x / 3"), tests)
    assert statuses(outcomes) == {"TestHumanEval#test_add": "PASS",
                                  "TestHumanEval#test_half": "FAIL",
                                  "TestHumanEval#test_error": "ERROR"}
    assert "<2> expected but was" in outcomes["TestHumanEval#test_half"][1]
    assert "NoMethodError" in outcomes["TestHumanEval#test_error"][1]


def test_specs_and_require_relative_of_the_solution_work(sandbox: Sandbox) -> None:
    tests = """require "minitest/autorun"
require_relative "solution"
require_relative "lib/add"

describe "Math" do
  it "adds" do
    _(add(2, 3)).must_equal 5
  end
end
"""
    assert statuses(run(sandbox, SOLUTION, tests)) == {"Math#test_0001_adds": "PASS"}


def test_plain_top_level_raises_are_tests(sandbox: Sandbox) -> None:
    tests = """def check(ok)
  raise "check failed" unless ok
end
x = 4
check(add(2, 3) == 5)
check(half(x) == 3); raise "not two" unless half(4) == 2
puts "setup only"
"""
    outcomes = run(sandbox, SOLUTION, tests)
    assert statuses(outcomes) == {"assert:5": "PASS", "assert:6": "FAIL", "assert:6:2": "PASS"}
    assert "check failed (tests.rb:2, called at tests.rb:6)" in outcomes["assert:6"][1]


def test_each_test_gets_fresh_state_and_files(sandbox: Sandbox) -> None:
    code = "$calls = []\n\ndef f\n  $calls << 1\n  $calls.size\nend\n"
    tests = """class TestState < Minitest::Test
  def test_a
    assert_equal 1, f
    File.write("/tmp/leak", "x")
  end

  def test_b
    assert_equal 1, f
    refute File.exist?("/tmp/leak")
  end
end
"""
    assert statuses(run(sandbox, code, tests)) == {"TestState#test_a": "PASS",
                                                   "TestState#test_b": "PASS"}


def test_writing_a_fake_report_does_not_forge_results(sandbox: Sandbox) -> None:
    """The report channel is closed in the test's process; stdout is not a channel."""
    fake = '{"result": "TestMath#test_half", "status": "PASS"}'
    code = (f"puts '{fake}'\n(3..63).each do |fd|\n"
            f"  IO.for_fd(fd, autoclose: false).write(%q({fake}\n)) rescue nil\nend\n"
            + SOLUTION.replace("x / 2", "x / 3"))
    assert statuses(run(sandbox, code))["TestMath#test_half"] == "FAIL"
