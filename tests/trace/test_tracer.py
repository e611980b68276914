"""assay's Python tracer, loaded from its runner file and run in this process.

The tracer is a standalone script for the sandbox's python3; these tests pin down what it
writes. The same tracer runs in the real sandbox in test_capture.py and test_cli.py.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import assay.trace

TRACER_PATH = Path(assay.trace.__file__).parent / "runners" / "tracer.py"


@pytest.fixture(scope="module")
def tracer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("assay_tracer_under_test", TRACER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def trace(tracer: ModuleType, source: str, call: str | None = None,
          **config: Any) -> list[str]:
    with tempfile.TemporaryFile() as out:
        namespace: dict[str, Any] = {"__name__": "__main__"}
        tracer.run_traced(source, "main.py", config, out.fileno(), namespace, call=call)
        out.seek(0)
        return out.read().decode().splitlines()


SORT_COUNT = '''\
def f(nums, limit):
    out = []
    for n in nums:
        if n > limit:
            out.append(n)
    total = sum(out)
    return total
'''


def test_a_function_traced_event_by_event(tracer: ModuleType) -> None:
    assert trace(tracer, SORT_COUNT, "f([3, 1, 5], 2)") == [
        "TRACE:IN:f@1:nums=[3, 1, 5], limit=2",
        "TRACE:VAR:f@2:out=[]",
        "TRACE:LOOP:f@3:iter=1",
        "TRACE:VAR:f@3:n=3",
        "TRACE:BRANCH:f@4:true",
        "TRACE:TRANSFORM:f@5:out=[3]",  # the same list, changed in place
        "TRACE:LOOP:f@3:iter=2",
        "TRACE:VAR:f@3:n=1",
        "TRACE:BRANCH:f@4:false",
        "TRACE:LOOP:f@3:iter=3",
        "TRACE:VAR:f@3:n=5",
        "TRACE:BRANCH:f@4:true",
        "TRACE:TRANSFORM:f@5:out=[3, 5]",
        "TRACE:VAR:f@6:total=8",
        "TRACE:OUT:f@7:8",
    ]


def test_loops_are_bounded(tracer: ModuleType) -> None:
    source = ("def g(x):\n    return x\n\ndef f(n):\n    s = 0\n    for i in range(n):\n"
              "        s += g(i)\n    return s\n")
    lines = trace(tracer, source, "f(50)", loop_iterations=3)
    assert [line for line in lines if ":LOOP:" in line] == [
        "TRACE:LOOP:f@6:iter=1", "TRACE:LOOP:f@6:iter=2", "TRACE:LOOP:f@6:iter=3",
        "TRACE:LOOP:f@6:iterations=50, traced=3"]
    assert sum(":IN:g@" in line for line in lines) == 3  # calls past the bound: untraced
    # What the untraced iterations changed shows once the loop is left.
    assert lines[-3:] == ["TRACE:VAR:f@6:s=1225", "TRACE:VAR:f@6:i=49", "TRACE:OUT:f@8:1225"]


def test_while_loop_with_break(tracer: ModuleType) -> None:
    source = "def f():\n    k = 0\n    while True:\n        k += 1\n        if k == 2:\n" \
             "            break\n    return k\n"
    lines = trace(tracer, source, "f()")
    assert [line for line in lines if ":LOOP:" in line or ":BRANCH:" in line] == [
        "TRACE:LOOP:f@3:iter=1", "TRACE:BRANCH:f@5:false",
        "TRACE:LOOP:f@3:iter=2", "TRACE:BRANCH:f@5:true"]
    assert lines[-1] == "TRACE:OUT:f@7:2"


def test_exceptions_caught_and_propagated(tracer: ModuleType) -> None:
    source = ("def inner(d):\n    return d['missing']\n\n"
              "def f(d):\n    try:\n        inner(d)\n    except KeyError:\n"
              "        return 'caught'\n")
    lines = trace(tracer, source, "f({})")
    assert "TRACE:ERR:inner@2:KeyError: 'missing'" in lines
    assert "TRACE:ERR:f@6:KeyError: 'missing'" in lines
    assert not any(line.startswith("TRACE:OUT:inner") for line in lines)  # left by raising
    assert lines[-1] == "TRACE:OUT:f@8:'caught'"


def test_generators_yield_and_recursion_depth(tracer: ModuleType) -> None:
    source = "def gen():\n    yield 1\n    yield 2\n\ndef f():\n    return list(gen())\n"
    lines = trace(tracer, source, "f()")
    assert "TRACE:OUT:gen@2:yield 1" in lines and "TRACE:OUT:gen@3:yield 2" in lines
    fact = "def fact(n):\n    return 1 if n <= 1 else n * fact(n - 1)\n"
    deep = trace(tracer, fact, "fact(10)", call_depth=3)
    assert [line for line in deep if ":IN:" in line] == [
        "TRACE:IN:fact@1:n=10", "TRACE:IN:fact@1:n=9", "TRACE:IN:fact@1:n=8"]
    assert deep[-1] == "TRACE:OUT:fact@2:3628800"


def test_granularity_and_comprehensions(tracer: ModuleType) -> None:
    source = "def f(xs):\n    ys = [x * 2 for x in xs if x]\n    return ys\n"
    assert trace(tracer, source, "f([0, 1])", events=["IN", "OUT"]) == [
        "TRACE:IN:f@1:xs=[0, 1]", "TRACE:OUT:f@3:[2]"]
    assert not any("listcomp" in line for line in trace(tracer, source, "f([0, 1])"))
    inner = trace(tracer, source, "f([0, 1])", comprehensions=True)
    assert "TRACE:IN:f.<listcomp>@2:" in inner  # its hidden iterator argument not shown
    assert any(line.startswith("TRACE:OUT:f.<listcomp>@2:[2]") for line in inner)


def test_values_are_rendered_without_addresses_or_hash_order(tracer: ModuleType) -> None:
    render = tracer.Renderer(120)
    assert render({"b", "a", "c"}) == "{'a', 'b', 'c'}"
    assert render(frozenset({3, 1})) == "frozenset({1, 3})"
    assert render(object()) == "<object>"
    assert " at 0x" not in render(lambda: 0) and " at 0x" not in render(iter([1]))

    class Point:
        def __init__(self) -> None:
            self.x, self.y = 1, [2]

    assert render(Point()) == "test_values_are_rendered_without_addresses_or_hash_order." \
                              "<locals>.Point(x=1, y=[2])"
    long = render(list(range(1000)))
    shown, rest = long[1:-1].split(", ...+")
    assert len(long) <= 120 and len(shown.split(", ")) + int(rest) == 1000
    assert render("x" * 500) == repr("x" * 96) + "...+404 chars"
    cycle: list[Any] = [1]
    cycle.append(cycle)
    assert render(cycle) == "[1, <recursive>]"
    assert render({"z": 1, "a": 2}) == "{'z': 1, 'a': 2}"  # dicts keep insertion order
    assert "\n" not in render("a\nb") and "\n" not in render(ValueError("x\ny"))


def test_rendering_is_the_same_under_any_hash_seed() -> None:
    """Guards against set-order noise: a set of strings iterates in hash order."""
    code = ("import importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('t', {str(TRACER_PATH)!r})\n"
            "t = importlib.util.module_from_spec(spec); spec.loader.exec_module(t)\n"
            "words = {'pear', 'apple', 'fig', 'kiwi', 'plum', 'date', 'lime'}\n"
            "print(t.Renderer(200)({'s': words, 'f': frozenset(words)}))\n"
            "print(list(words))\n")
    outputs, raw_orders = set(), set()
    for seed in ("0", "1", "2", "3"):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}, check=True)
        rendered, raw = done.stdout.splitlines()
        outputs.add(rendered)
        raw_orders.add(raw)
    assert len(raw_orders) > 1  # the seeds do change the iteration order...
    assert len(outputs) == 1  # ...but not the rendering


def test_too_deeply_nested_loops_fall_back_to_settrace_events(tracer: ModuleType) -> None:
    """The loop rewrite adds a try block per loop; past Python's 20 nested blocks the code
    is traced as written (no LOOP or BRANCH events) instead of failing to compile."""
    lines = ["def f():", "    n = 0"]
    lines += ["    " * (d + 1) + f"for i{d} in range(1):" for d in range(12)]
    lines += ["    " * 13 + "n += 1", "    return n"]
    traced = trace(tracer, "\n".join(lines) + "\n", "f()")
    assert traced[0] == "TRACE:IN:f@1:" and traced[-1] == "TRACE:OUT:f@16:1"
    assert not any(":LOOP:" in line for line in traced)
    assert "TRACE:VAR:f@14:i11=0" in traced
