"""Code, tests and JSON out of model answers: well-formed ones, and the malformed ones models
really give (no fence, cut off, wrong language, chatter around JSON, asserts that are not
of the asked form)."""

from __future__ import annotations

import pytest

from assay.synth.extract import extract_code, extract_json
from assay.synth.testgen import parse_asserts

GOOD = """Here is the solution:

```python
def add(a, b):
    return a + b
```

It adds the two numbers."""


def test_a_fenced_python_block_is_taken() -> None:
    assert extract_code(GOOD, "python", "add").value == "def add(a, b):\n    return a + b\n"


def test_the_block_that_defines_the_entry_point_wins() -> None:
    text = ("```python\nprint(add(1, 2))\n```\n\nand the function:\n\n"
            "```py\ndef helper():\n    pass\n\ndef add(a, b):\n    return a + b\n```")
    assert "def add" in extract_code(text, "python", "add").value


def test_bare_code_without_a_fence_is_taken_when_it_parses() -> None:
    assert extract_code("def add(a, b):\n    return a + b\n", "python").ok
    assert extract_code("The answer is 42.", "python").reason == "no code block in the answer"


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty answer"),
    ("```javascript\nfunction add(a, b) { return a + b; }\n```", "wrong language: javascript"),
    ("```python\ndef add(a, b):\n    return (a +\n", "truncated"),
    ("```python\ndef add(a, b) return a + b\n```", "syntax error"),
    ("```python\n```", "empty code block"),
])
def test_malformed_answers_are_rejected_with_a_reason(text: str, reason: str) -> None:
    found = extract_code(text, "python", "add")
    assert not found.ok and str(found.reason).startswith(reason)


def test_an_unclosed_block_that_parses_is_used() -> None:
    found = extract_code("```python\ndef add(a, b):\n    return a + b\n", "python")
    assert found.value == "def add(a, b):\n    return a + b\n"


def test_tilde_fences_and_longer_fences_nest_backticks() -> None:
    text = '~~~python\ndef f():\n    return "```"\n~~~'
    assert extract_code(text, "python").value == 'def f():\n    return "```"\n'


def test_asserts_become_call_cases_and_the_rest_is_skipped() -> None:
    code = """
assert add(1, 2) == 3
assert 5 == add(2, 3)
assert add(a=1, b=1) == 2
assert add((1, 2), [3]) == [1, 2, 3]
assert is_even(4)
assert add(1, 2) == 3
assert add(x, 1) == 2
assert abs(add(0.1, 0.2) - 0.3) < 1e-9
assert add({1}, {2}) == {1, 2}
assert add(float("nan"), 1) == 1
"""
    parsed = parse_asserts(code, "add")
    assert [(c.args, c.kwargs, c.expected) for c in parsed.cases] == [
        ([1, 2], None, 3), ([2, 3], None, 5), ([], {"a": 1, "b": 1}, 2),
        ([[1, 2], [3]], None, [1, 2, 3])]
    assert parsed.skipped == 5  # is_even, a variable, abs(...), sets, nan
    assert [c.name for c in parsed.cases] == ["gen_1", "gen_2", "gen_3", "gen_4"]


def test_truthy_asserts_mean_true_and_false() -> None:
    parsed = parse_asserts("assert is_even(2)\nassert not is_even(3)\n", "is_even")
    assert [(c.args, c.expected) for c in parsed.cases] == [([2], True), ([3], False)]


@pytest.mark.parametrize(("text", "value"), [
    ('{"score": 1, "explanation": "correct"}', {"score": 1, "explanation": "correct"}),
    ('Sure! ```json\n{"score": 0, "explanation": "off by one"}\n```',
     {"score": 0, "explanation": "off by one"}),
    ('My verdict: {"difficulty": 3, "reason": "uses {braces} in text"} hope it helps',
     {"difficulty": 3, "reason": "uses {braces} in text"}),
    ('{not json} then {"score": 1}', {"score": 1}),
])
def test_json_is_found_in_chatter(text: str, value: dict[str, object]) -> None:
    assert extract_json(text).value == value


@pytest.mark.parametrize("text", ["", "score: 1", '{"score": 1', "[1, 2]"])
def test_answers_without_a_json_object_are_rejected(text: str) -> None:
    assert not extract_json(text).ok
