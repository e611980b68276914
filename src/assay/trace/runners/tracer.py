# mypy: ignore-errors
"""assay's Python tracer: runs a program and writes ``TRACE:<TYPE>:<LOC>:<STATE>`` lines.

Executed inside the sandbox by the system python3 (the trace runner loads it from its own
memory, never from a file the program could change); importing it has no side effects, so
assay's tests import it too. ``sys.settrace`` gives function entry with the arguments (IN),
exit with the return value or the value yielded (OUT), locals that changed after a line ran
(VAR when the name was bound to another value, TRANSFORM when the same object was changed in
place) and exceptions (ERR). A rewrite of the program's syntax tree adds exact BRANCH events
(``if``/``elif``/ternary tests: true or false) and LOOP events (``for``/``while``: one per
iteration up to a bound; past it nothing inside the loop is traced and the loop's exit says
how many iterations ran). LOC is ``function@line``.

Values are rendered deterministically and bounded: no memory addresses, sets sorted by their
rendered items, big containers cut with ``...+N`` (N more items), long strings with
``...+N chars``, every STATE on one line. The same program with the same input writes the
same trace, whatever the hash seed of sets of strings or the addresses of objects.
"""

import ast
import builtins
import dis
import os
import re
import sys
import types

ALL_EVENTS = ("IN", "OUT", "VAR", "TRANSFORM", "BRANCH", "LOOP", "ERR")
HOOK = "__assay_trace__"
DEFAULTS = {
    "events": list(ALL_EVENTS),
    "loop_iterations": 10,  # iterations traced per run of a loop
    "value_chars": 120,  # characters of one rendered value
    "call_depth": 32,  # nested traced calls; deeper ones run untraced
    "comprehensions": False,  # trace inside lambdas, comprehensions, generator expressions
    "module_level": True,  # trace the module's own statements (scripts)
}

_RETURN = dis.opmap["RETURN_VALUE"]
_YIELD = dis.opmap["YIELD_VALUE"]
_FOR_ITER = dis.opmap["FOR_ITER"]
_CO_OPTIMIZED = 0x0001
_INNER_CODE = frozenset({"<lambda>", "<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"})
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_IMMUTABLE = frozenset({int, float, complex, str, bytes, bool, type(None), range})
_MAX_DEPTH = 12
_SORTED_SET_LIMIT = 1000  # bigger sets are shown by their size only (sorting would cost)
_INT_BITS = 3000


def _one_line(text):
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r") \
        if ("\n" in text or "\r" in text) else text


def _clean_name(qualname):
    return qualname.replace(".<locals>", "")


# -- rendering of values ---------------------------------------------------------------------


class Renderer:
    """Deterministic, bounded text of a value (see the module docstring)."""

    def __init__(self, limit):
        self.limit = max(8, int(limit))

    def __call__(self, value):
        try:  # room is kept for the "...+N" that says how much was cut
            text = self._render(value, self.limit - min(24, self.limit // 3), 0, set())
        except Exception as exc:  # a value whose inspection fails must not stop the trace
            text = f"<{type(value).__name__} (cannot render: {type(exc).__name__})>"
        if len(text) > self.limit:
            text = text[:self.limit] + "..."
        return _one_line(text)

    def _render(self, value, budget, depth, active):
        kind = type(value)
        if value is None or kind is bool or kind is float or kind is complex:
            return repr(value)
        if kind is int:
            return repr(value) if value.bit_length() <= _INT_BITS \
                else f"<int of {value.bit_length()} bits>"
        if kind is str:
            if len(value) <= budget:
                return repr(value)
            return repr(value[:budget]) + f"...+{len(value) - budget} chars"
        if kind is bytes or kind is bytearray:
            head = repr(bytes(value[:budget]))
            text = head if kind is bytes else f"bytearray({head})"
            return text if len(value) <= budget else text + f"...+{len(value) - budget} bytes"
        if kind is range:
            return repr(value)
        if depth > _MAX_DEPTH:
            return "..."
        if id(value) in active:
            return "<recursive>"
        active.add(id(value))
        try:
            return self._container(value, kind, budget, depth, active)
        finally:
            active.discard(id(value))

    def _container(self, value, kind, budget, depth, active):
        if kind is list:
            return "[" + self._items(list.__iter__(value), len(value), budget, depth,
                                     active) + "]"
        if kind is tuple:
            inner = self._items(tuple.__iter__(value), len(value), budget, depth, active)
            return "(" + inner + ("," if len(value) == 1 else "") + ")"
        if kind is dict:
            return "{" + self._pairs(value, budget, depth, active) + "}"
        if kind is set or kind is frozenset:
            return self._set(value, kind, budget, depth, active)
        if isinstance(value, tuple) and hasattr(kind, "_fields"):  # namedtuple
            fields = ", ".join(
                f"{name}={self._render(item, budget, depth + 1, active)}"
                for name, item in zip(kind._fields, tuple.__iter__(value), strict=False))
            return f"{kind.__name__}({fields})"
        if isinstance(value, dict):
            return f"{kind.__name__}({{{self._pairs(value, budget, depth, active)}}})"
        if isinstance(value, (list, tuple)):
            base = list if isinstance(value, list) else tuple
            items = self._items(base.__iter__(value), len(value), budget, depth, active)
            return f"{kind.__name__}([{items}])"
        if isinstance(value, (set, frozenset)):
            return f"{kind.__name__}({self._set(value, set, budget, depth, active)})"
        if kind.__name__ == "deque" and kind.__module__ == "collections":
            return "deque([" + self._items(iter(value), len(value), budget, depth,
                                           active) + "])"
        return self._object(value, kind, budget, depth, active)

    @staticmethod
    def _bounded(items, count, budget, show):
        """``show(item, room)`` of each item, joined, until ``budget`` characters are used;
        the rest is counted: ``...+N``."""
        parts, used = [], 0
        for index, item in enumerate(items):
            if used >= budget:
                parts.append(f"...+{count - index}")
                break
            text = show(item, budget - used)
            parts.append(text)
            used += len(text) + 2
        return ", ".join(parts)

    def _items(self, iterator, count, budget, depth, active):
        return self._bounded(iterator, count, budget,
                             lambda item, room: self._render(item, room, depth + 1, active))

    def _pairs(self, value, budget, depth, active):
        def show(pair, room):
            return (self._render(pair[0], room, depth + 1, active) + ": "
                    + self._render(pair[1], room, depth + 1, active))

        return self._bounded(dict.items(value), len(value), budget, show)

    def _attributes(self, attributes, budget, depth, active):
        def show(pair, room):
            return f"{pair[0]}={self._render(pair[1], room, depth + 1, active)}"

        return self._bounded(dict.items(attributes), len(attributes), budget, show)

    def _set(self, value, kind, budget, depth, active):
        name = "frozenset" if kind is frozenset else "set"
        if not value:
            return f"{name}()"
        if len(value) > _SORTED_SET_LIMIT:
            inner = f"...{len(value)} items"
        else:
            members = set.__iter__(value) if isinstance(value, set) \
                else frozenset.__iter__(value)
            texts = sorted(self._render(item, self.limit, depth + 1, active)
                           for item in members)
            inner = self._bounded(texts, len(texts), budget, lambda text, room: text)
        return "{" + inner + "}" if kind is set else "frozenset({" + inner + "})"

    def _object(self, value, kind, budget, depth, active):
        if isinstance(value, types.FunctionType):
            return f"<function {_clean_name(value.__qualname__)}>"
        if isinstance(value, (types.BuiltinFunctionType, types.BuiltinMethodType)):
            return f"<built-in {value.__name__}>"
        if isinstance(value, types.MethodType):
            return f"<method {_clean_name(value.__func__.__qualname__)}>"
        if isinstance(value, type):
            return f"<class {value.__qualname__}>"
        if isinstance(value, types.ModuleType):
            return f"<module {value.__name__}>"
        if isinstance(value, types.GeneratorType):
            return f"<generator {_clean_name(value.__qualname__)}>"
        if isinstance(value, BaseException):
            args = self._items(iter(value.args), len(value.args), budget, depth, active)
            return f"{kind.__name__}({args})"
        fields = getattr(kind, "__dataclass_fields__", None)
        if isinstance(fields, dict) and kind.__repr__ is not object.__repr__:
            shown = ", ".join(
                f"{name}={self._render(getattr(value, name, None), budget, depth + 1, active)}"
                for name, field in fields.items() if getattr(field, "repr", True))
            return f"{kind.__qualname__}({shown})"
        if kind.__repr__ is object.__repr__:
            attributes = getattr(value, "__dict__", None)
            if isinstance(attributes, dict):
                shown = self._attributes(attributes, budget, depth, active)
                return f"{kind.__qualname__}({shown})"
            return f"<{kind.__qualname__}>"
        try:
            text = repr(value)
        except Exception:
            return f"<{kind.__qualname__} (repr failed)>"
        if not isinstance(text, str):
            return f"<{kind.__qualname__}>"
        return _ADDRESS.sub("", text)


# -- the syntax-tree rewrite: BRANCH and LOOP hooks ------------------------------------------


def _hook(name, line, *args):
    return ast.Call(func=ast.Attribute(value=ast.Name(id=HOOK, ctx=ast.Load()), attr=name,
                                       ctx=ast.Load()),
                    args=[ast.Constant(value=line), *args], keywords=[])


class Rewriter(ast.NodeTransformer):
    """Wraps ``if`` and ternary tests in ``branch(line, test)``; wraps each ``for``/``while``
    loop in ``loop_enter``/``loop_exit`` (try/finally, so a break, return or exception also
    closes it) and its iterator or test in ``loop_iter``/``loop_test``. Line numbers stay."""

    def __init__(self, branches, loops, inner):
        self.branches, self.loops, self.inner = branches, loops, inner

    def visit_If(self, node):
        self.generic_visit(node)
        if self.branches:
            node.test = ast.copy_location(_hook("branch", node.lineno, node.test), node.test)
        return node

    def visit_IfExp(self, node):
        self.generic_visit(node)
        if self.branches:
            node.test = ast.copy_location(_hook("branch", node.lineno, node.test), node.test)
        return node

    def visit_For(self, node):
        self.generic_visit(node)
        if not self.loops:
            return node
        node.iter = ast.copy_location(_hook("loop_iter", node.lineno, node.iter), node.iter)
        return self._wrap(node)

    def visit_While(self, node):
        self.generic_visit(node)
        if not self.loops:
            return node
        node.test = ast.copy_location(_hook("loop_test", node.lineno, node.test), node.test)
        return self._wrap(node)

    def _wrap(self, node):
        enter = ast.copy_location(ast.Expr(value=_hook("loop_enter", node.lineno)), node)
        leave = ast.copy_location(ast.Expr(value=_hook("loop_exit", node.lineno)), node)
        guarded = ast.copy_location(ast.Try(body=[node], handlers=[], orelse=[],
                                            finalbody=[leave]), node)
        return [enter, guarded]

    def _maybe_inner(self, node):
        return self.generic_visit(node) if self.inner else node

    visit_Lambda = _maybe_inner
    visit_ListComp = _maybe_inner
    visit_SetComp = _maybe_inner
    visit_DictComp = _maybe_inner
    visit_GeneratorExp = _maybe_inner


def compile_traced(source, filename, config):
    """The program's code with the BRANCH/LOOP hooks in (as far as events ask for them).

    Raises SyntaxError (or ValueError) when the source does not compile. Should the rewrite
    itself not compile (too many nested blocks), the code is compiled as written and only
    the settrace events are traced.
    """
    tree = ast.parse(source, filename)
    events = set(config["events"])
    if "BRANCH" in events or "LOOP" in events:
        rewritten = Rewriter("BRANCH" in events, "LOOP" in events,
                             bool(config["comprehensions"])).visit(tree)
        try:
            return compile(ast.fix_missing_locations(rewritten), filename, "exec",
                           dont_inherit=True)
        except (SyntaxError, ValueError):
            tree = ast.parse(source, filename)
    return compile(tree, filename, "exec", dont_inherit=True)


# -- the tracer ------------------------------------------------------------------------------


class _Frame:
    """What the tracer knows of one traced frame."""

    __slots__ = ("depth", "last_line", "loops", "module", "muted", "name", "silent", "snap",
                 "unwinding")

    def __init__(self, name, depth, silent, module, line):
        self.name, self.depth, self.silent, self.module = name, depth, silent, module
        self.snap = {}  # local name -> (object, rendered text)
        self.last_line = line
        self.loops = []
        self.muted = 0  # loops of this frame past their bound: nothing traced inside
        self.unwinding = False


class _Loop:
    __slots__ = ("count", "line", "over")

    def __init__(self, line):
        self.line, self.count, self.over = line, 0, False


class Tracer:
    """Traces the code of ``filenames`` (as compiled) and writes events to ``fd``."""

    def __init__(self, config, filenames, fd):
        settings = dict(DEFAULTS)
        settings.update(config or {})
        unknown = set(settings["events"]) - set(ALL_EVENTS)
        if unknown:
            raise ValueError(f"unknown trace events: {sorted(unknown)}")
        self.events = frozenset(settings["events"])
        self.loop_bound = int(settings["loop_iterations"])
        self.max_depth = int(settings["call_depth"])
        self.inner = bool(settings["comprehensions"])
        self.module_level = bool(settings["module_level"])
        self.render = Renderer(settings["value_chars"])
        self.files = frozenset(filenames)
        self.frames = {}
        self.fd = fd
        self.track_vars = bool(self.events & {"VAR", "TRANSFORM"})

    # -- switching on and off

    def start(self):
        builtins.__dict__[HOOK] = self
        sys.settrace(self._global)

    def stop(self):
        sys.settrace(None)

    # -- output

    def emit(self, kind, frame_state, line, state):
        if kind in self.events:
            text = f"TRACE:{kind}:{frame_state.name}@{line}:{state}\n"
            os.write(self.fd, text.encode("utf-8", "backslashreplace"))

    # -- settrace callbacks

    def _global(self, frame, event, arg):
        code = frame.f_code
        if code.co_filename not in self.files:
            return None
        known = self.frames.get(frame)
        if known is not None:  # a generator resumed
            return self._local
        module = code.co_name == "<module>"
        if module:
            if not self.module_level:
                return None
        elif not code.co_flags & _CO_OPTIMIZED:
            return None  # a class body
        elif code.co_name in _INNER_CODE and not self.inner:
            return None
        parent = self._parent(frame.f_back)
        depth = parent.depth + 1 if parent is not None else 1
        silent = (parent is not None and (parent.silent or parent.muted > 0)) \
            or depth > self.max_depth
        name = "<module>" if module else _clean_name(code.co_qualname)
        state = _Frame(name, depth, silent, module, frame.f_lineno)
        self.frames[frame] = state
        if silent:
            frame.f_trace_lines = False
            return self._local
        if self.track_vars or "IN" in self.events:
            self._snapshot(frame, state)
        if not module and "IN" in self.events:
            self.emit("IN", state, code.co_firstlineno, self._arguments(code, state))
        return self._local

    def _parent(self, frame):
        while frame is not None:
            state = self.frames.get(frame)
            if state is not None:
                return state
            frame = frame.f_back
        return None

    def _local(self, frame, event, arg):
        state = self.frames.get(frame)
        if state is None:
            return None
        if event == "line":
            if not state.silent:
                if not state.muted and self.track_vars:
                    self._diff(frame, state)
                state.last_line = frame.f_lineno
        elif event == "return":
            self._return(frame, state, arg)
        elif event == "exception" and not state.silent and not state.muted:
            self._exception(frame, state, arg[1])
        return self._local

    def _exception(self, frame, state, exc):
        if self.track_vars:
            self._diff(frame, state)
        state.last_line = frame.f_lineno
        if isinstance(exc, StopIteration) and frame.f_lasti >= 0 \
                and frame.f_code.co_code[frame.f_lasti] == _FOR_ITER:
            return  # how a loop over an iterator class ends
        message = _ADDRESS.sub("", self._exception_text(exc))
        self.emit("ERR", state, frame.f_lineno,
                  _one_line(f"{type(exc).__name__}: {message}" if message
                            else type(exc).__name__))

    def _return(self, frame, state, value):
        opcode = frame.f_code.co_code[frame.f_lasti] if frame.f_lasti >= 0 else _RETURN
        yielded = opcode == _YIELD
        if not yielded:
            del self.frames[frame]
        if state.silent:
            return
        if not state.muted and self.track_vars:
            self._diff(frame, state)
        if state.module:
            return
        if yielded:
            self.emit("OUT", state, frame.f_lineno, "yield " + self.render(value))
        elif opcode == _RETURN:
            self.emit("OUT", state, frame.f_lineno, self.render(value))
        # else: the frame is left by an exception (its ERR is already out)

    def _exception_text(self, exc):
        try:
            text = str(exc)
        except Exception:
            return "(message cannot be shown)"
        limit = self.render.limit
        return text if len(text) <= limit else text[:limit] + "..."

    # -- locals

    def _visible(self, name, value, module):
        if name.startswith(".") or name.startswith("__assay"):
            return False
        if module:
            return not (name.startswith("__") and name.endswith("__")) and not isinstance(
                value, (types.ModuleType, types.FunctionType, type, types.BuiltinFunctionType))
        return True

    def _snapshot(self, frame, state):
        for name, value in frame.f_locals.items():
            if self._visible(name, value, state.module):
                state.snap[name] = (value, self.render(value))

    def _arguments(self, code, state):
        count = code.co_argcount + code.co_kwonlyargcount
        count += bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)
        parts = []
        for name in code.co_varnames[:count]:
            known = state.snap.get(name)
            if known is not None:
                parts.append(f"{name}={known[1]}")
        return ", ".join(parts)

    def _diff(self, frame, state):
        snap = state.snap
        current = frame.f_locals
        line = state.last_line
        for name, value in current.items():
            old = snap.get(name)
            if old is not None and old[0] is value:
                if type(value) in _IMMUTABLE:
                    continue
                text = self.render(value)
                if text != old[1]:
                    snap[name] = (value, text)
                    self.emit("TRANSFORM", state, line, f"{name}={text}")
                continue
            if not self._visible(name, value, state.module):
                continue
            text = self.render(value)
            snap[name] = (value, text)
            if old is None or old[1] != text:
                self.emit("VAR", state, line, f"{name}={text}")
        for name in [name for name in snap if name not in current]:
            del snap[name]  # deleted: binding it again is a change

    # -- hooks called by the rewritten code

    def _caller(self):
        state = self.frames.get(sys._getframe(2))
        return None if state is None or state.silent else state

    def branch(self, line, value):
        taken = bool(value)
        state = self._caller()
        if state is not None and not state.muted:
            self.emit("BRANCH", state, line, "true" if taken else "false")
        return taken

    def loop_enter(self, line):
        state = self._caller()
        if state is not None:
            state.loops.append(_Loop(line))

    def loop_iter(self, line, iterable):
        iterator = iter(iterable)
        state = self._caller()
        if state is None or not state.loops:
            return iterator
        return self._iterate(state, state.loops[-1], iterator)

    def _iterate(self, state, loop, iterator):
        # A generator: its end is not an exception in the loop's frame (a class with
        # __next__ would show the StopIteration that ends every loop as an ERR event).
        for item in iterator:
            self._step(state, loop)
            yield item

    def loop_test(self, line, value):
        taken = bool(value)
        if taken:
            state = self._caller()
            if state is not None and state.loops:
                self._step(state, state.loops[-1])
        return taken

    def loop_exit(self, line):
        state = self._caller()
        if state is None or not state.loops:
            return
        loop = state.loops.pop()
        if loop.over:
            state.muted -= 1
            if not state.muted:
                self.emit("LOOP", state, loop.line,
                          f"iterations={loop.count}, traced={self.loop_bound}")
            state.last_line = loop.line

    def _step(self, state, loop):
        loop.count += 1
        if loop.count <= self.loop_bound:
            if not state.muted:
                self.emit("LOOP", state, loop.line, f"iter={loop.count}")
        elif not loop.over:
            loop.over = True
            state.muted += 1


# -- running a program under the tracer --------------------------------------------------------


def run_traced(source, filename, config, fd, namespace, call=None, script=None):
    """Run ``source`` (compiled as ``filename``) under a tracer writing to ``fd``.

    Without ``call`` or ``script`` the module itself is traced (a script). With ``call`` (an
    expression such as ``f(1, 2)``, evaluated in the module's namespace) the module runs
    untraced and only the call is traced; its value is returned. With ``script`` (a code
    object: a test script that imports the program) the program is registered in
    ``sys.modules`` under its file's stem, then the script runs in ``namespace``; only the
    program's own code is traced.
    """
    settings = dict(DEFAULTS)
    settings.update(config or {})
    code = compile_traced(source, filename, settings)
    tracer = Tracer(settings, {filename}, fd)
    builtins.__dict__[HOOK] = tracer
    if script is not None:
        name = os.path.splitext(os.path.basename(filename))[0]
        module = types.ModuleType(name)
        module.__dict__.update(__file__=filename, __builtins__=builtins)
        sys.modules[name] = module
        tracer.start()
        try:
            exec(code, module.__dict__)
            exec(script, namespace)
        finally:
            tracer.stop()
        return None
    if call is None:
        tracer.start()
        try:
            exec(code, namespace)
        finally:
            tracer.stop()
        return None
    exec(code, namespace)
    expression = compile(call, "<call>", "eval", dont_inherit=True)
    tracer.start()
    try:
        return eval(expression, namespace)
    finally:
        tracer.stop()
