from __future__ import annotations

import pytest

from assay.data import TestCase
from assay.harness.unit import java
from assay.harness.unit.java import java_types
from assay.sandbox import Sandbox

from .helpers import run_suite, statuses

SOLUTION = """
import java.util.Arrays;

public class Solution {
    public static int add(int a, int b) {
        return a + b;
    }

    public static double half(double x) {
        return x / 2;
    }

    public static int[] doubled(int[] xs) {
        return Arrays.stream(xs).map(x -> 2 * x).toArray();
    }
}
"""

JUNIT4_TESTS = """
import org.junit.Test;
import static org.junit.Assert.*;

public class SolutionTest {
    @Test
    public void testAdd() {
        assertEquals(5, Solution.add(2, 3));
    }

    @Test
    public void testHalf() {
        assertEquals(2.0, Solution.half(4), 1e-9);
    }

    @Test
    public void testDoubled() {
        assertArrayEquals(new int[] {2, 4}, Solution.doubled(new int[] {1, 2}));
    }

    @Test
    public void testAddAgain() {
        assertTrue(Solution.add(1, 1) == 2);
    }
}
"""

ALL_NAMES = ["SolutionTest.testAdd", "SolutionTest.testHalf", "SolutionTest.testDoubled",
             "SolutionTest.testAddAgain"]


def test_correct_solution_passes_every_test(sandbox: Sandbox) -> None:
    outcomes = run_suite(sandbox, "java", SOLUTION, JUNIT4_TESTS)
    assert list(outcomes) == ALL_NAMES
    assert set(statuses(outcomes).values()) == {"PASS"}


def test_partly_wrong_solution_fails_only_the_right_tests(sandbox: Sandbox) -> None:
    wrong = SOLUTION.replace("return x / 2;", "return x / 3;").replace("2 * x", "3 * x")
    outcomes = run_suite(sandbox, "java", wrong, JUNIT4_TESTS)
    assert statuses(outcomes) == {"SolutionTest.testAdd": "PASS", "SolutionTest.testHalf": "FAIL",
                                  "SolutionTest.testDoubled": "FAIL",
                                  "SolutionTest.testAddAgain": "PASS"}
    half = outcomes["SolutionTest.testHalf"][1]
    assert "expected:<2.0> but was:<1.33" in half
    assert "SolutionTest.java:13: assertEquals(2.0, Solution.half(4), 1e-9);" in half
    assert "differed at element [0]" in outcomes["SolutionTest.testDoubled"][1]


@pytest.mark.parametrize(("crash", "says", "timeout_s"), [
    ("int[] none = new int[0]; return none[a];", "ArrayIndexOutOfBoundsException", 1.0),
    ("System.exit(3); return 0;", "System.exit", 1.0),
    ("Runtime.getRuntime().halt(4); return 0;", "exited with code 4", 1.0),
    # Filling the 64 MB stack in the interpreter, then building the error, can take more
    # than a second on a loaded machine; the test is about the error, not the time limit.
    ("return add(a, b);", "StackOverflowError", 20.0),
])
def test_a_crash_in_one_test_leaves_the_others_their_outcome(sandbox: Sandbox, crash: str,
                                                              says: str,
                                                              timeout_s: float) -> None:
    """A crash (even one that ends the JVM) errors only the tests that hit it."""
    code = SOLUTION.replace("return a + b;", crash)
    outcomes = run_suite(sandbox, "java", code, JUNIT4_TESTS, timeout_s=timeout_s)
    assert statuses(outcomes) == {"SolutionTest.testAdd": "ERROR", "SolutionTest.testHalf": "PASS",
                                  "SolutionTest.testDoubled": "PASS",
                                  "SolutionTest.testAddAgain": "ERROR"}
    assert says in outcomes["SolutionTest.testAdd"][1]


def test_an_exception_names_where_it_was_thrown_and_the_test_line(sandbox: Sandbox) -> None:
    code = SOLUTION.replace("return a + b;", "return a / (b - b);")
    message = run_suite(sandbox, "java", code, JUNIT4_TESTS)["SolutionTest.testAdd"][1]
    assert message.startswith("java.lang.ArithmeticException: / by zero at Solution.add(")
    assert "SolutionTest.java:8: assertEquals(5, Solution.add(2, 3));" in message


def test_a_hang_is_a_timeout_of_that_test_only(sandbox: Sandbox) -> None:
    code = SOLUTION.replace("return x / 2;", "while (true) { }")
    outcomes = run_suite(sandbox, "java", code, JUNIT4_TESTS, timeout_s=0.5)
    assert statuses(outcomes) == {"SolutionTest.testAdd": "PASS",
                                  "SolutionTest.testHalf": "TIMEOUT",
                                  "SolutionTest.testDoubled": "PASS",
                                  "SolutionTest.testAddAgain": "PASS"}
    assert "0.5 s time limit" in outcomes["SolutionTest.testHalf"][1]


def test_printing_cannot_forge_a_result(sandbox: Sandbox) -> None:
    forged = ('System.out.println("{\\"result\\": \\"SolutionTest.testAdd\\", '
              '\\"status\\": \\"PASS\\"}"); return a - b;')
    code = SOLUTION.replace("return a + b;", forged)
    outcomes = run_suite(sandbox, "java", code, JUNIT4_TESTS)
    assert statuses(outcomes)["SolutionTest.testAdd"] == "FAIL"


def test_solution_that_does_not_compile_errors_every_test(sandbox: Sandbox) -> None:
    broken = SOLUTION.replace("return a + b;", "return a + b")
    outcomes = run_suite(sandbox, "java", broken, JUNIT4_TESTS)
    assert list(outcomes) == ALL_NAMES
    assert set(statuses(outcomes).values()) == {"ERROR"}
    assert "compile error" in outcomes["SolutionTest.testAdd"][1]
    assert "Solution.java:6: error: ';' expected" in outcomes["SolutionTest.testAdd"][1]


def test_test_file_that_does_not_compile_is_an_error(sandbox: Sandbox) -> None:
    outcomes = run_suite(sandbox, "java", SOLUTION, JUNIT4_TESTS.replace("2, 3))", "2, 3)"))
    assert set(statuses(outcomes).values()) == {"ERROR"}
    assert "SolutionTest.java:8: error" in outcomes["SolutionTest.testAdd"][1]


def test_no_tests_collected_is_an_error(sandbox: Sandbox) -> None:
    tests = "import org.junit.Test;\n\npublic class SolutionTest {\n    void helper() {}\n}\n"
    outcomes = run_suite(sandbox, "java", SOLUTION, tests)
    assert statuses(outcomes) == {"<collection>": "ERROR"}
    assert "no @Test methods" in outcomes["<collection>"][1]


def test_junit5_style_with_lifecycle_and_exceptions(sandbox: Sandbox) -> None:
    tests = """
import org.junit.jupiter.api.*;
import static org.junit.jupiter.api.Assertions.*;

class StackTest {
    private java.util.ArrayDeque<Integer> stack;

    @BeforeEach
    void setUp() {
        stack = new java.util.ArrayDeque<>();
        stack.push(Solution.add(1, 1));
    }

    @Test
    @DisplayName("peek sees the set-up")
    void peeks() {
        assertEquals(2, stack.peek(), "the value pushed in setUp");
    }

    @Test
    void popsTooFar() {
        stack.pop();
        assertThrows(java.util.NoSuchElementException.class, () -> stack.pop());
    }

    @Test
    void wrongMessage() {
        assertEquals(3, Solution.add(1, 1), () -> "one and one");
    }

    @Test
    void severalAtOnce() {
        assertAll(() -> assertTrue(stack.isEmpty()), () -> assertNull(stack.peek()));
    }

    @Test
    @Disabled("not yet")
    void later() {
    }
}
"""
    outcomes = run_suite(sandbox, "java", SOLUTION, tests)
    assert statuses(outcomes) == {"StackTest.peeks": "PASS", "StackTest.popsTooFar": "PASS",
                                  "StackTest.wrongMessage": "FAIL",
                                  "StackTest.severalAtOnce": "FAIL", "StackTest.later": "ERROR"}
    assert "one and one ==> expected: <3> but was: <2>" in outcomes["StackTest.wrongMessage"][1]
    assert "2 of 2 assertions failed" in outcomes["StackTest.severalAtOnce"][1]
    assert "@Disabled (not yet)" in outcomes["StackTest.later"][1]


def test_each_test_sees_fresh_static_state_and_java_asserts_count(sandbox: Sandbox) -> None:
    code = "public class Counter {\n    static int calls;\n\n" \
           "    public static int next() {\n        return ++calls;\n    }\n}\n"
    tests = """
import org.junit.Test;

public class CounterTest {
    @Test public void first() { assert Counter.next() == 1; }
    @Test public void second() { assert Counter.next() == 1; }
    @Test public void third() { assert Counter.next() == 2 : "a Java assert"; }
}
"""
    outcomes = run_suite(sandbox, "java", code, tests)
    assert statuses(outcomes) == {"CounterTest.first": "PASS", "CounterTest.second": "PASS",
                                  "CounterTest.third": "FAIL"}
    assert "a Java assert" in outcomes["CounterTest.third"][1]


def test_junit4_expected_exceptions_timeouts_and_set_up(sandbox: Sandbox) -> None:
    code = """package shapes;

public class Box {
    private final int side;

    public Box(int side) {
        if (side <= 0) throw new IllegalArgumentException("side " + side);
        this.side = side;
    }

    public int area() {
        return side * side;
    }
}
"""
    tests = """package shapes;

import org.junit.*;
import static org.junit.Assert.*;

public class BoxTest {
    private Box box;

    @Before
    public void setUp() { box = new Box(3); }

    @Test
    public void area() { assertEquals("area of 3", 9, box.area()); }

    @Test(expected = IllegalArgumentException.class)
    public void rejectsZero() { new Box(0); }

    @Test(expected = IllegalStateException.class)
    public void wrongException() { new Box(-1); }

    @Test(expected = IllegalArgumentException.class)
    public void noException() { new Box(1); }

    @Test(timeout = 100)
    public void ownTimeLimit() { while (true) { } }
}
"""
    outcomes = run_suite(sandbox, "java", code, tests, timeout_s=2)
    assert statuses(outcomes) == {"BoxTest.area": "PASS", "BoxTest.rejectsZero": "PASS",
                                  "BoxTest.wrongException": "ERROR",
                                  "BoxTest.noException": "FAIL",
                                  "BoxTest.ownTimeLimit": "TIMEOUT"}
    assert "IllegalArgumentException: side -1" in outcomes["BoxTest.wrongException"][1]


def test_annotations_read_from_class_files_behave_as_junit_says(sandbox: Sandbox) -> None:
    """The runner reads JUnit's annotations from class files, not through reflection: class
    and method @Timeout with units, lifecycle methods of a superclass, a skipped class,
    overloads, and annotations (arrays, nested ones, long constants) it must read past."""
    tests = """
import java.lang.annotation.*;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.*;
import static org.junit.jupiter.api.Assertions.*;

@Retention(RetentionPolicy.RUNTIME)
@interface Meta {
    String[] names();
    Tag nested();
    long big() default 1L << 40;
}

abstract class Base {
    static int classSetUps;
    int value;

    @BeforeAll
    static void once() { classSetUps++; }

    @BeforeEach
    void baseSetUp() { value = Solution.add(1, 1); }
}

@Tag("slow")
@Timeout(value = 300, unit = TimeUnit.MILLISECONDS)
class LimitsTest extends Base {
    static final long BIG = 1L << 40;
    static final double HALF = 0.5;

    @Test
    @Meta(names = {"a", "b"}, nested = @Tag("x"), big = 7L)
    @Deprecated(since = "1", forRemoval = false)
    void inheritsSetUp() {
        assertEquals(2, value);
        assertEquals(1, classSetUps);
    }

    @Test
    void classLimit() { while (true) { } }

    @Test
    @Timeout(2)
    void ownLimitWins() throws InterruptedException { Thread.sleep(500); }

    @Test
    void overloaded() { assertEquals(BIG * HALF * 2, overloaded(1), 0.0); }

    long overloaded(int times) { return BIG * times; }

    @Test
    void controlCharacters() { fail("tab\\there\\u0001"); }
}

@Disabled
class SkippedTest {
    @Test
    void skipped() { }
}
"""
    outcomes = run_suite(sandbox, "java", SOLUTION, tests, timeout_s=5)
    assert statuses(outcomes) == {"LimitsTest.inheritsSetUp": "PASS",
                                  "LimitsTest.classLimit": "TIMEOUT",
                                  "LimitsTest.ownLimitWins": "PASS",
                                  "LimitsTest.overloaded": "PASS",
                                  "LimitsTest.controlCharacters": "FAIL",
                                  "SkippedTest.skipped": "ERROR"}
    assert "0.3 s time limit" in outcomes["LimitsTest.classLimit"][1]
    assert outcomes["LimitsTest.controlCharacters"][1].startswith("tab\there\u0001")
    assert "skipped by @Disabled" in outcomes["SkippedTest.skipped"][1]


def test_a_listed_test_the_file_lacks_is_an_error(sandbox: Sandbox) -> None:
    cases = [TestCase(name="SolutionTest.testAdd"), TestCase(name="SolutionTest.testMissing")]
    outcomes = run_suite(sandbox, "java", SOLUTION, JUNIT4_TESTS, cases=cases)
    assert statuses(outcomes) == {"SolutionTest.testAdd": "PASS",
                                  "SolutionTest.testMissing": "ERROR"}
    assert "no @Test method testMissing" in outcomes["SolutionTest.testMissing"][1]


def test_runs_without_the_precompiled_jar(sandbox: Sandbox,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """When the host cannot precompile the runner, each run compiles its sources."""
    monkeypatch.setattr(java, "junit_jar", lambda: None)
    wrong = SOLUTION.replace("return x / 2;", "return x / 3;")
    outcomes = run_suite(sandbox, "java", wrong, JUNIT4_TESTS)
    assert statuses(outcomes)["SolutionTest.testHalf"] == "FAIL"
    assert statuses(outcomes)["SolutionTest.testAdd"] == "PASS"


def test_test_methods_are_read_from_the_source() -> None:
    source = """
package a.b;

import org.junit.jupiter.api.*;

// @Test void commented() {}
abstract class Helper { }

public final class ShapesTest extends Object {
    static final String TEXT = "@Test void inString() { }";
    static final char BRACE = '}';

    @Test
    void plain() { Runnable r = new Runnable() { @Test public void run() { } }; }

    @org.junit.jupiter.api.Test @DisplayName("x (y)") public void qualified() throws Exception { }

    @Test(expected = IllegalStateException.class)
    public <T extends Comparable<T>> void generic() { }

    @RepeatedTest(3) void repeated() { }

    @TestFactory java.util.List<Object> factory() { return null; }

    static class Inner { @Test void nested() { } }
}

class Other {
    @Test void other() { }
}
"""
    types = java_types(source)
    assert types.package == "a.b"
    assert types.top_level == ("Helper", "ShapesTest", "Other")
    assert types.public == "ShapesTest"
    assert types.file_name("Fallback") == "ShapesTest.java"
    assert types.tests == (("ShapesTest", "plain"), ("ShapesTest", "qualified"),
                           ("ShapesTest", "generic"), ("Other", "other"))
    assert java_types("class A { }").file_name("X") == "A.java"
    assert java_types("").file_name("X") == "X.java"
