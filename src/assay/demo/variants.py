"""Wrong variants of a correct Python solution, made by editing its syntax tree.

Each variant breaks the entry-point function in one known way, so a good test suite must
catch it: an off-by-one constant or comparison, a wrong return value, an exception, an
infinite loop.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable

_FLIP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
         ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    return None


def _body_start(function: ast.FunctionDef) -> int:
    first = function.body[0]
    is_doc = (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
              and isinstance(first.value.value, str))
    return 1 if is_doc else 0


def _own_nodes(function: ast.FunctionDef) -> list[ast.expr | ast.stmt]:
    """Nodes of the function's body in source order, docstring excluded."""
    nodes: list[ast.AST] = []
    for statement in function.body[_body_start(function):]:
        nodes += list(ast.walk(statement))
    located = [n for n in nodes if isinstance(n, (ast.expr, ast.stmt))]
    return sorted(located, key=lambda n: (n.lineno, n.col_offset))


def off_by_one(function: ast.FunctionDef) -> bool:
    for node in _own_nodes(function):
        if (isinstance(node, ast.Constant) and isinstance(node.value, int)
                and not isinstance(node.value, bool)):
            node.value += 1
            return True
    for node in _own_nodes(function):
        if isinstance(node, ast.Compare) and type(node.ops[0]) in _FLIP:
            node.ops[0] = _FLIP[type(node.ops[0])]()
            return True
    return False


def wrong_return(function: ast.FunctionDef) -> bool:
    changed = False
    for node in _own_nodes(function):
        if isinstance(node, ast.Return):
            node.value = ast.Constant(value=None)
            changed = True
    return changed


def raise_exception(function: ast.FunctionDef) -> bool:
    statement = ast.parse("raise RuntimeError('injected failure')").body[0]
    function.body.insert(_body_start(function), statement)
    return True


def infinite_loop(function: ast.FunctionDef) -> bool:
    statement = ast.parse("while True:\n    pass").body[0]
    function.body.insert(_body_start(function), statement)
    return True


MUTATIONS: dict[str, Callable[[ast.FunctionDef], bool]] = {
    "off_by_one": off_by_one,
    "wrong_return": wrong_return,
    "exception": raise_exception,
    "infinite_loop": infinite_loop,
}


def make_variant(code: str, entry_point: str, kind: str) -> str | None:
    """The code with ``kind`` applied to ``entry_point``, or None when it does not apply."""
    tree = copy.deepcopy(ast.parse(code))
    function = _function(tree, entry_point)
    if function is None or not MUTATIONS[kind](function):
        return None
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"
