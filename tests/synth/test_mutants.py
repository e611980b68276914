"""Mutants: valid, distinct, deterministic; text in strings and comments is never touched."""

from __future__ import annotations

import ast

import pytest

from assay.synth.mutants import make_mutants

PYTHON = '''"""A module docstring with 1 + 2 < 3."""
from typing import List


def score(xs: List[int], limit: int = 10) -> int:
    """Sum of the items below limit, doubled; 0 when there are none."""
    total = 0
    for x in xs:
        if x < limit and x != 3:
            total += x * 2
    label = f"total {total + 1}"
    if not xs:
        return 0
    return total if label else -1
'''


def test_python_mutants_are_valid_distinct_and_not_the_original() -> None:
    mutants = make_mutants(PYTHON, "python", max_mutants=1000)
    original = ast.unparse(ast.parse(PYTHON))
    codes = [m.code for m in mutants]
    assert len(mutants) > 30
    assert len(set(codes)) == len(codes) and original not in codes
    for mutant in mutants:
        ast.parse(mutant.code)  # every mutant is valid Python
        assert mutant.line >= 1 and mutant.description
    kinds = {m.operator for m in mutants}
    assert kinds == {"arithmetic", "comparison", "boolean", "negation", "constant", "return",
                     "statement"}


def test_python_mutants_leave_docstrings_annotations_and_imports_alone() -> None:
    for mutant in make_mutants(PYTHON, "python", max_mutants=1000):
        tree = ast.parse(mutant.code)
        assert ast.get_docstring(tree) == "A module docstring with 1 + 2 < 3."
        function = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
        assert ast.get_docstring(function) is not None
        assert ast.unparse(function.args.args[0].annotation or ast.Pass()) == "List[int]"
        assert "from typing import List" in mutant.code


def test_python_mutants_include_the_expected_edits() -> None:
    descriptions = {m.description for m in make_mutants(PYTHON, "python", max_mutants=1000)}
    for expected in ("replace < with <=", "replace != with ==", "replace and with or",
                     "replace * with //", "replace + with -", "change 10 to 11", "change 0 to 1",
                     "negate the if condition", "return None instead of the value",
                     "change 2 to 3", "remove `total = 0`"):
        assert expected in descriptions, expected
    # `not xs` negated is `xs`, not `not not xs`.
    negated = [m for m in make_mutants(PYTHON, "python", max_mutants=1000)
               if m.description == "negate the if condition" and m.line == 12]
    assert negated and "if xs:" in negated[0].code


def test_mutants_are_deterministic_and_capped_and_keep_their_ids() -> None:
    first = make_mutants(PYTHON, "python", max_mutants=10, seed=7)
    assert first == make_mutants(PYTHON, "python", max_mutants=10, seed=7)
    assert len(first) == 10
    assert first != make_mutants(PYTHON, "python", max_mutants=10, seed=8)
    everything = {m.id: m for m in make_mutants(PYTHON, "python", max_mutants=1000)}
    assert all(everything[m.id] == m for m in first)  # an id names the same mutant


def test_code_that_does_not_parse_and_unsupported_languages_have_no_mutants() -> None:
    assert make_mutants("def f(:\n", "python") == []
    assert make_mutants("echo $((1 + 2))\n", "bash") == []


# Every literal and comment here holds operators and digits that must survive every mutant.
C_LIKE = {
    "cpp": ('#include <vector>\n#include <string>\n// a < b && c - 1\n'
            'template <typename T>\nint f(std::vector<std::pair<int, int>> v, T s) {\n'
            '    int total = 0; /* x - 1 > 2 */\n'
            '    for (size_t i = 0; i<v.size(); i++) {\n'
            '        if (v[i].first > 10 && s != "a+b<3") total += v[i].second * 2;\n'
            '    }\n    char c = \'+\';\n    int *p = &total;\n'
            '    return total - 1\'000 + *p - c;\n}\n',
            ['// a < b && c - 1', '/* x - 1 > 2 */', '"a+b<3"', "'+'", "#include <vector>",
             "std::vector<std::pair<int, int>>", "template <typename T>", "int *p", "1'000"]),
    "javascript": ('function f(xs) {\n  const re = /a+b*[/]-1/g;  // comment - 1\n'
                   '  let t = `x ${1 + 2} - y`;\n  const s = "3 < 4" + \'5 - 6\';\n'
                   '  return xs.filter(x => x % 2 === 0).reduce((a, b) => a + b, -1) / 3;\n}\n',
                   ["/a+b*[/]-1/g", "// comment - 1", "`x ${1 + 2} - y`", '"3 < 4"',
                    "'5 - 6'", "=>"]),
    "java": ('import java.util.*;\nclass S {\n  static int f(List<Integer> xs) {\n'
             '    Map<String, List<Integer>> m = new HashMap<>();\n'
             '    String t = """\n      a + b - 1\n      """;\n    int s = 0;\n'
             '    for (int x : xs) if (x >= 0 || x == -5) s += x;\n'
             '    return s * 2 > 10 ? s : -1; // s < 1\n  }\n}\n',
             ["List<Integer> xs", "Map<String, List<Integer>>", "new HashMap<>()",
              '"""\n      a + b - 1\n      """', "// s < 1"]),
    "rust": ("fn f(v: &Vec<i32>) -> i32 {\n    let s: &'static str = \"a+1\";\n"
             "    let mut t = 0; // t - 1\n    for i in 0..v.len() { if v[i] < 3 { t += v[i]; } }\n"
             "    let c = '-';\n    t * 2 + s.len() as i32 - c as i32\n}\n",
             ["&Vec<i32>", "-> i32", '"a+1"', "// t - 1", "'-'", "&'static str"]),
    "go": ('package main\nimport "fmt"\nfunc f(x int) int {\n    s := `raw - 1`\n'
           '    fmt.Println(s, "a<b") // x - 2\n    if x <= 1 { return 1 }\n'
           '    return x * f(x-1)\n}\n',
           ["`raw - 1`", '"a<b"', "// x - 2", '"fmt"']),
}


def _common_prefix(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)))


@pytest.mark.parametrize("language", sorted(C_LIKE))
def test_token_mutants_never_touch_strings_comments_or_generics(language: str) -> None:
    code, kept = C_LIKE[language]
    mutants = make_mutants(code, language, max_mutants=1000)
    assert len(mutants) >= 5
    assert len({m.code for m in mutants}) == len(mutants)
    assert code not in [m.code for m in mutants]
    for mutant in mutants:
        for text in kept:
            assert text in mutant.code, (mutant.description, text)
        # One token changed, in one place.
        prefix = _common_prefix(code, mutant.code)
        suffix = _common_prefix(code[prefix:][::-1], mutant.code[prefix:][::-1])
        old = code[prefix:len(code) - suffix]
        new = mutant.code[prefix:len(mutant.code) - suffix]
        assert 0 < len(old) + len(new) <= 6 and not (old + new).isspace()


def test_token_mutants_change_operators_and_integers() -> None:
    code = ("int f(int a, int b) {\n    if (a < b && a != 0) return a + b * 3;\n"
            "    return a - 1;\n}\n")
    descriptions = {m.description for m in make_mutants(code, "c", max_mutants=1000)}
    assert {"replace < with <=", "replace < with >", "replace && with ||",
            "replace != with ==", "replace + with -", "replace * with /", "replace - with +",
            "change 3 to 4", "change 3 to 0", "change 0 to 1", "change 1 to 2",
            "change 1 to 0"} <= descriptions
    assert make_mutants(code, "c", seed=3) == make_mutants(code, "c", seed=3)


def test_unary_operators_and_declarators_are_not_mutated() -> None:
    code = "int f(int a) {\n    int *p = &a;\n    return -a + *p - 1;\n}\n"
    mutants = make_mutants(code, "c", max_mutants=1000)
    assert {m.description for m in mutants} == {
        "replace + with -", "replace - with +", "change 1 to 2", "change 1 to 0"}
    for mutant in mutants:
        assert "int *p = &a;" in mutant.code and "return -a " in mutant.code
