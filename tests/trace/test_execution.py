"""Calls checked by running them in the sandbox: reproduction, output and input predictions."""

from __future__ import annotations

from assay.sandbox import Sandbox
from assay.trace import ExecutionJob, run_checks

CODE = "def f(xs, k=1):\n    return [x * k for x in xs]\n"
RAISES = "def f(x):\n    return 1 // x\n"
LOOPS = "def f():\n    while True:\n        pass\n"


def output(prediction: str, code: str = CODE, arguments: str = "[1, 2], k=3") -> ExecutionJob:
    return ExecutionJob(kind="output", code=code, input=arguments, prediction=prediction)


def given(prediction: str, expected: str = "[2, 4]") -> ExecutionJob:
    return ExecutionJob(kind="input", code=CODE, expected=expected, prediction=prediction)


def test_reproducing_recorded_outputs(sandbox: Sandbox) -> None:
    jobs = [ExecutionJob(kind="check", code=CODE, input="[1, 2], 2", expected="[2, 4]"),
            ExecutionJob(kind="check", code=CODE, input="[1, 2], 2", expected="(2, 4)"),
            ExecutionJob(kind="check", code=RAISES, input="0", expected="0"),
            ExecutionJob(kind="check", code=LOOPS, input="", expected="None"),
            ExecutionJob(kind="check", code="x = thing\n", input="", expected="1")]
    right, wrong, raised, hangs, broken = run_checks(sandbox, jobs, timeout_s=1)
    assert right.equal is True and right.actual == "[2, 4]"
    assert wrong.equal is False and wrong.actual == "[2, 4]"  # a list is not a tuple
    assert raised.equal is None and raised.error is not None
    assert raised.error.startswith("ZeroDivisionError: integer division or modulo by zero")
    assert hangs.equal is None and hangs.timed_out
    assert broken.equal is None and "NameError" in (broken.error or "")


def test_output_predictions_compared_as_python_values(sandbox: Sandbox) -> None:
    jobs = [output("[3, 6]"), output("[3.0, 6.0]"), output("(3, 6)"), output("[3, 7]"),
            output("[3] + [6]"), output("not valid python ("), output("[3, 6]", RAISES, "0")]
    literal, floats, tuple_, wrong, expression, garbage, gold_raises = \
        run_checks(sandbox, jobs, timeout_s=2)
    assert literal.equal is True and literal.evaluated == "literal"
    assert floats.equal is True  # 3.0 == 3, as in Python
    assert tuple_.equal is False and wrong.equal is False
    assert expression.equal is True and expression.evaluated == "expression"
    assert garbage.equal is False and "SyntaxError" in (garbage.error or "")
    assert gold_raises.equal is False and "ZeroDivisionError" in (gold_raises.error or "")


def test_a_prediction_cannot_forge_its_verdict(sandbox: Sandbox) -> None:
    """Guards against a predicted expression that writes a fake result on the runner's
    pipes or ends its process before anything is compared."""
    forge = ("[__import__('os').write(fd, b'{\"equal\": true}') for fd in range(3, 12) "
             "if not __import__('os').set_blocking(fd, True)]")
    jobs = [output(f"({forge}, __import__('os')._exit(0))"),
            output("__import__('os')._exit(0)"),
            output("__import__('os').kill(__import__('os').getppid(), 9)"),
            output("[3, 6]")]
    results = run_checks(sandbox, jobs, timeout_s=2)
    assert [result.equal for result in results] == [False, False, False, True]


def test_input_predictions(sandbox: Sandbox) -> None:
    jobs = [given("[1, 2], 2"), given("f([2, 4])"), given("[1, 2], k=2"), given("[1, 2]"),
            given("[1, 2], (lambda: 2)()"), given("[0], 1", expected="[0]"), given("1, 2")]
    bare, call, keyword, wrong, expression, other, raises = run_checks(sandbox, jobs,
                                                                       timeout_s=2)
    assert bare.equal and call.equal and keyword.equal and other.equal
    assert bare.evaluated == "literal"
    assert wrong.equal is False and wrong.actual == "[1, 2]"
    assert expression.equal is True and expression.evaluated == "expression"
    assert raises.equal is False and "TypeError" in (raises.error or "")
