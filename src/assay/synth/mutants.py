"""Mutants of a reference solution: small, plausible bugs that a good test suite catches.

A suite's mutation score (the share of mutants it kills) says how much of the reference's
behaviour the suite pins down, which its pass rate cannot: a suite that checks one easy case
passes the reference and most of its mutants alike.

Python is mutated on its syntax tree, so every mutant parses. Other languages are mutated on
tokens (operators and integer literals) found in a copy of the source whose comments,
strings and character literals are blanked, so that text is never touched. A token mutant
may not compile (a ``<`` that was a generic's bracket after all): it is run, found
stillborn and left out of the score.
"""

from __future__ import annotations

import ast
import copy
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from assay.harness.unit.c_family import TestFileError, mask_source
from assay.harness.unit.go import mask_go
from assay.harness.unit.rust import mask_rust

DEFAULT_MAX_MUTANTS = 30
# Languages mutated on tokens. Bash is not one: its < and > are redirections, and a broken
# script is only found out by running it, where it would count as killed.
TOKEN_LANGUAGES = frozenset({"c", "cpp", "java", "javascript", "typescript", "go", "rust",
                             "php", "ruby"})


@dataclass(frozen=True)
class Mutant:
    """One mutant. ``id`` is the mutation's place among every candidate of the code, so a
    mutant keeps its id whatever the cap and the seed."""

    id: str
    operator: str  # arithmetic, comparison, boolean, negation, constant, return, statement
    description: str
    line: int
    code: str


@dataclass(frozen=True)
class _Candidate:
    operator: str
    description: str
    line: int
    make: Callable[[], str | None]  # the mutated code; None when it is not valid


def supports(language: str) -> bool:
    return language == "python" or language in TOKEN_LANGUAGES


def make_mutants(code: str, language: str, max_mutants: int = DEFAULT_MAX_MUTANTS,
                 seed: int = 0) -> list[Mutant]:
    """Up to ``max_mutants`` distinct mutants of ``code``, in source order.

    Every candidate mutation is listed, then drawn in an order shuffled by ``seed``, so every
    candidate has the same chance and the result depends on (code, seed) only.
    Mutants equal to the original or to one drawn before are skipped. Code that does not
    parse, and unsupported languages, have none.
    """
    if language == "python":
        candidates, original = _python_candidates(code)
    elif language in TOKEN_LANGUAGES:
        candidates, original = _token_candidates(code, language), code
    else:
        return []
    order = list(range(len(candidates)))
    random.Random(seed).shuffle(order)
    seen = {original}
    chosen: list[Mutant] = []
    for index in order:
        if len(chosen) >= max_mutants:
            break
        candidate = candidates[index]
        mutated = candidate.make()
        if mutated is None or mutated in seen:
            continue
        seen.add(mutated)
        chosen.append(Mutant(f"m{index}", candidate.operator, candidate.description,
                             candidate.line, mutated))
    return sorted(chosen, key=lambda m: (m.line, int(m.id[1:])))


# -- Python: edits of the syntax tree -------------------------------------------------------

_ARITHMETIC: dict[type[ast.operator], tuple[type[ast.operator], ...]] = {
    ast.Add: (ast.Sub, ast.Mult), ast.Sub: (ast.Add,), ast.Mult: (ast.FloorDiv, ast.Add),
    ast.Div: (ast.Mult, ast.FloorDiv), ast.FloorDiv: (ast.Div, ast.Mult),
    ast.Mod: (ast.FloorDiv,)}
_COMPARISON: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    ast.Lt: (ast.LtE, ast.Gt), ast.LtE: (ast.Lt, ast.Gt), ast.Gt: (ast.GtE, ast.Lt),
    ast.GtE: (ast.Gt, ast.Lt), ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,), ast.NotIn: (ast.In,), ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,)}
_SYMBOLS: dict[type[ast.AST], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.And: "and",
    ast.Or: "or"}
# Removing these is a trivial kill (a missing name), not a plausible bug.
_KEEP_STATEMENTS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
                    ast.ImportFrom, ast.Pass)
_SCOPES = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)

Edit = Callable[[ast.AST], None]  # changes the node (of a copy of the tree) in place


def _python_candidates(code: str) -> tuple[list[_Candidate], str]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return [], code
    skip = _untouchable(tree)
    candidates = []
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        for operator, description, line, edit in _edits(node):
            candidates.append(_Candidate(operator, description, line,
                                         _applier(tree, index, edit)))
    return candidates, ast.unparse(tree)


def _applier(tree: ast.Module, index: int, edit: Edit) -> Callable[[], str | None]:
    def apply() -> str | None:
        # ast.walk visits a copy's nodes in the same order, so the index finds the node.
        mutated = copy.deepcopy(tree)
        node = next(n for i, n in enumerate(ast.walk(mutated)) if i == index)
        edit(node)
        text = ast.unparse(ast.fix_missing_locations(mutated))
        try:
            compile(text, "<mutant>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            return None
        return text
    return apply


def _untouchable(tree: ast.Module) -> set[int]:
    """Ids of nodes never mutated: docstrings, annotations and f-strings' literal text."""
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, _SCOPES) and _has_docstring(node):
            roots.append(node.body[0])
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            roots.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            roots.append(node.returns)
        if isinstance(node, ast.JoinedStr):
            roots += [n for n in ast.walk(node)
                      if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return {id(n) for root in roots for n in ast.walk(root)}


def _has_docstring(node: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
                   ) -> bool:
    first = node.body[0] if node.body else None
    return (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str))


def _edits(node: ast.AST) -> Iterator[tuple[str, str, int, Edit]]:
    """(operator, description, line, edit) of every mutation of this node."""
    line = getattr(node, "lineno", 0)
    if isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in _ARITHMETIC:
        old = type(node.op)
        for new in _ARITHMETIC[old]:
            yield ("arithmetic", f"replace {_SYMBOLS[old]} with {_SYMBOLS[new]}", line,
                   partial(_set, "op", new()))
    elif isinstance(node, ast.Compare):
        for position, op in enumerate(node.ops):
            for cmp in _COMPARISON.get(type(op), ()):
                yield ("comparison", f"replace {_SYMBOLS[type(op)]} with {_SYMBOLS[cmp]}",
                       line, partial(_set_item, "ops", position, cmp()))
    elif isinstance(node, ast.BoolOp):
        new_op = ast.Or if isinstance(node.op, ast.And) else ast.And
        yield ("boolean", f"replace {_SYMBOLS[type(node.op)]} with {_SYMBOLS[new_op]}", line,
               partial(_set, "op", new_op()))
    elif isinstance(node, ast.Constant):
        yield from _constant_edits(node, line)
    elif (isinstance(node, ast.Return) and node.value is not None
          and not (isinstance(node.value, ast.Constant) and node.value.value is None)):
        yield ("return", "return None instead of the value", line,
               partial(_set, "value", ast.Constant(value=None)))
    if isinstance(node, ast.If | ast.While | ast.IfExp):
        kind = {ast.If: "if", ast.While: "while", ast.IfExp: "conditional"}[type(node)]
        yield "negation", f"negate the {kind} condition", line, partial(_negate, "test", None)
    if isinstance(node, ast.comprehension):
        for k, condition in enumerate(node.ifs):
            yield ("negation", "negate the comprehension's filter", condition.lineno,
                   partial(_negate, "ifs", k))
    yield from _statement_removals(node)


# The edits, bound to their arguments with partial; each gets the node last.

def _set(field: str, value: object, node: ast.AST) -> None:
    setattr(node, field, value)


def _set_item(field: str, position: int, value: ast.AST, node: ast.AST) -> None:
    getattr(node, field)[position] = value


def _remove_item(field: str, position: int, node: ast.AST) -> None:
    getattr(node, field).pop(position)


def _negate(field: str, position: int | None, node: ast.AST) -> None:
    """Negate a condition; a condition that is already ``not x`` becomes ``x``."""
    test = getattr(node, field) if position is None else getattr(node, field)[position]
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        negated = test.operand
    else:
        negated = ast.UnaryOp(op=ast.Not(), operand=test)
    if position is None:
        setattr(node, field, negated)
    else:
        getattr(node, field)[position] = negated


def _constant_edits(node: ast.Constant, line: int) -> Iterator[tuple[str, str, int, Edit]]:
    value = node.value
    new_values: list[object] = []
    if isinstance(value, bool):
        new_values = [not value]
    elif isinstance(value, int):
        new_values = [v for v in dict.fromkeys((value + 1, value - 1, 0)) if v != value]
    elif isinstance(value, str) and value:
        new_values = [""]
    for new in new_values:
        shown = repr(value) if len(repr(value)) <= 20 else repr(value)[:17] + "..."
        yield "constant", f"change {shown} to {new!r}", line, partial(_set, "value", new)


def _statement_removals(node: ast.AST) -> Iterator[tuple[str, str, int, Edit]]:
    """Remove one statement of a block that keeps at least one other (module level is left
    alone: removing a definition or an import is a trivial kill)."""
    if isinstance(node, ast.Module):
        return
    for field in ("body", "orelse", "finalbody"):
        statements = getattr(node, field, None)
        if not isinstance(statements, list) or not statements \
                or not isinstance(statements[0], ast.stmt):
            continue
        start = 1 if field == "body" and isinstance(node, _SCOPES) and _has_docstring(node) \
            else 0
        if len(statements) - start < 2:
            continue
        for k in range(start, len(statements)):
            statement = statements[k]
            if isinstance(statement, _KEEP_STATEMENTS):
                continue
            shown = ast.unparse(statement).splitlines()[0]
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            yield ("statement", f"remove `{shown}`", statement.lineno,
                   partial(_remove_item, field, k))


# -- other languages: operator and integer tokens ------------------------------------------

_OPERATOR = re.compile(r"<=>|>>>=|<<=|>>=|>>>|===|!==|\*\*=|&&=|\|\|=|\?\?=|==|!=|<=|>=|&&|"
                       r"\|\||<<|>>|\+\+|--|\+=|-=|\*=|/=|%=|->|=>|::|\*\*|<-|:=|[-+*/%<>]")
_SWAPS: dict[str, tuple[str, ...]] = {
    "+": ("-",), "-": ("+",), "*": ("/",), "/": ("*",), "%": ("/",), "<": ("<=", ">"),
    "<=": ("<", ">"), ">": (">=", "<"), ">=": (">", "<"), "==": ("!=",), "!=": ("==",),
    "===": ("!==",), "!==": ("===",), "&&": ("||",), "||": ("&&",), "+=": ("-=",),
    "-=": ("+=",), "*=": ("/=",), "/=": ("*=",), "++": ("--",), "--": ("++",)}
_KINDS = {"<": "comparison", "<=": "comparison", ">": "comparison", ">=": "comparison",
          "==": "comparison", "!=": "comparison", "===": "comparison", "!==": "comparison",
          "&&": "boolean", "||": "boolean"}
# After these words an operator is unary (return -1, case -2) or a declarator (int *p).
_PREFIX_WORDS = frozenset({
    "return", "case", "yield", "throw", "in", "of", "typeof", "await", "else", "do", "and",
    "or", "not", "then", "when", "puts", "echo", "print", "int", "char", "void", "const",
    "long", "short", "double", "float", "unsigned", "signed", "auto", "struct", "bool"})
_GENERIC_CHARS = frozenset(" \t_,.:[]&*?'")


def _token_candidates(code: str, language: str) -> list[_Candidate]:
    masked = mask(code, language)
    if masked is None:
        return []
    skipped = _generic_brackets(masked) | _preprocessor_offsets(masked, language)
    sites: list[tuple[int, int, str, str, str]] = []  # start, end, new text, operator, text
    for match in _OPERATOR.finditer(masked):
        old, start = match.group(), match.start()
        if old not in _SWAPS or start in skipped:
            continue
        if old not in ("++", "--") and not _is_binary(masked, start):
            continue
        for new in _SWAPS[old]:
            sites.append((start, match.end(), new, _KINDS.get(old, "arithmetic"),
                          f"replace {old} with {new}"))
    for match in re.finditer(r"\d+", masked):
        if match.start() in skipped or not _is_integer(masked, match.start(), match.end()):
            continue
        value = int(match.group())
        for new_value in dict.fromkeys((value + 1, 0)):
            if new_value != value:
                sites.append((match.start(), match.end(), str(new_value), "constant",
                              f"change {value} to {new_value}"))
    sites.sort(key=lambda site: site[:3])
    return [_Candidate(operator, description, masked.count("\n", 0, start) + 1,
                       partial(_splice, code, start, end, new))
            for start, end, new, operator, description in sites]


def _splice(code: str, start: int, end: int, text: str) -> str:
    return code[:start] + text + code[end:]


def mask(code: str, language: str) -> str | None:
    """``code`` with comments and the insides of string and character literals blanked
    (same length, same line breaks); None when it cannot be scanned."""
    if language == "rust":
        return mask_rust(code)
    if language == "go":
        return mask_go(code)
    if language in ("c", "cpp"):
        try:
            return mask_source(code)
        except TestFileError:  # an unterminated comment: not code that compiles anyway
            return None
    return _mask_generic(code, language)


def _mask_generic(source: str, language: str) -> str:
    """The masker of Java, JavaScript, TypeScript, PHP and Ruby: //, /* */ and # comments as
    the language has them, ' " ` and triple-quoted literals, JavaScript regex literals."""
    out = list(source)
    i, n = 0, len(source)
    slash_comments = language != "ruby"
    hash_comments = language in ("ruby", "php")
    quotes = "\"'`" if language in ("javascript", "typescript", "ruby") else "\"'"

    def blank(start: int, end: int) -> None:
        for k in range(start, min(end, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        char = source[i]
        if (slash_comments and source.startswith("//", i)) or (hash_comments and char == "#"):
            end = source.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
        elif slash_comments and source.startswith("/*", i):
            end = source.find("*/", i + 2)
            end = n if end < 0 else end + 2
            blank(i, end)
        elif source.startswith('"""', i):  # Java text block
            end = source.find('"""', i + 3)
            end = n if end < 0 else end + 3
            blank(i + 3, end - 3)
        elif char in quotes or (char == "/" and language in ("javascript", "typescript")
                                and _starts_regex(source, i)):
            end = _literal_end(source, i)
            blank(i + 1, end - 1)
        else:
            i += 1
            continue
        i = end
    return "".join(out)


def _literal_end(source: str, start: int) -> int:
    """The offset after the literal opened at ``start`` (escapes skipped; a one-line literal
    ends at the line's end when it is not closed; a regex's [...] may hold a /)."""
    closing, n = source[start], len(source)
    in_class = False
    k = start + 1
    while k < n:
        char = source[k]
        if char == "\\":
            k += 2
            continue
        if char == "\n" and closing != "`":
            return k
        if closing == "/" and char in "[]":
            in_class = char == "["
        elif char == closing and not in_class:
            return k + 1
        k += 1
    return n


def _starts_regex(source: str, slash: int) -> bool:
    """A / that opens a JavaScript regex literal: where a value is expected, not a divisor."""
    before = source[:slash].rstrip()
    if not before:
        return True
    word = re.search(r"(\w+)\Z", before)
    if word is not None:
        return word.group(1) in ("return", "typeof", "case", "in", "of", "yield", "await")
    return before[-1] in "(,=:[!&|?{};+-*%<>~^"


def _is_binary(masked: str, start: int) -> bool:
    """An operator between two operands: what comes before it ends a value (a name, a
    number, a closing bracket or quote) and is not a keyword like ``return``."""
    before = masked[max(0, start - 40):start].rstrip()
    if not before or not (before[-1].isalnum() or before[-1] in "_)]\"'`"):
        return False
    word = re.search(r"(\w+)\Z", before)
    return word is None or word.group(1) not in _PREFIX_WORDS


def _is_integer(masked: str, start: int, end: int) -> bool:
    """A whole decimal literal: not part of a name, a hex or float literal, a suffixed one
    (10L, 5u32) or one with separators; ``0..n`` (a range) counts."""
    before = masked[start - 1] if start else " "
    after = masked[end] if end < len(masked) else " "
    if before.isalnum() or before in "_'$" or after.isalnum() or after in "_'":
        return False
    if before == "." and masked[start - 2:start] != "..":
        return False
    if after == "." and masked[end:end + 2] != "..":
        return False
    return not (len(masked[start:end]) > 1 and masked[start] == "0")  # octal in C


def _generic_brackets(masked: str) -> set[int]:
    """Offsets of < and > that look like a generic's brackets (``Vec<i32>``, ``Map<K,
    List<V>>``, ``new ArrayList<>()``): a < right after a name, closed on the same line by
    a > with only names, commas and the like between."""
    found: set[int] = set()
    for match in re.finditer(r"(?<=[\w:])<|template\s*<", masked):
        depth, spots = 0, []
        for k in range(match.end() - 1, len(masked)):
            char = masked[k]
            if char == "<":
                depth += 1
            elif char == ">" and masked[k - 1] not in "-=":
                depth -= 1
            elif (char not in _GENERIC_CHARS and not char.isalnum()) \
                    or masked.startswith("&&", k):
                break
            else:
                continue
            spots.append(k)
            if depth == 0:
                found.update(spots)
                break
    return found


def _preprocessor_offsets(masked: str, language: str) -> set[int]:
    """Offsets on C and C++ preprocessor lines other than #define (#include <stdio.h>)."""
    if language not in ("c", "cpp"):
        return set()
    found: set[int] = set()
    for match in re.finditer(r"(?m)^[ \t]*#(?![ \t]*define\b)[^\n]*", masked):
        found.update(range(match.start(), match.end()))
    return found
