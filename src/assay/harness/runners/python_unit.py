"""assay's Python test runner, run inside the sandbox by the system python3.

It reads solution.py and tests.py from the work dir, finds the tests (``test_*``
functions, ``unittest.TestCase`` methods, or the asserts of HumanEval's ``check(candidate)``
and of a plain module, each assert its own test), and runs each test in a forked child so
that a crash, a hang or leftover state in one test does not touch the others. The parent
never runs untrusted code: it only compiles it. Results go to the report fd as JSON lines.
"""

import ast
import builtins
import contextlib
import json
import os
import select
import signal
import sys
import time
import traceback
import types

REPORT_FD = int(os.environ.pop("ASSAY_REPORT_FD"))
os.set_inheritable(REPORT_FD, False)
MESSAGE_LIMIT = 2000


def emit(event):
    os.write(REPORT_FD, (json.dumps(event) + "\n").encode())


def short(text):
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + "..."


def contains_assert(node):
    return any(isinstance(child, ast.Assert) for child in ast.walk(node))


def split_asserts(statements, prefix):
    """(name, index) of each statement holding an assert; the others are setup."""
    return [(f"{prefix}:{stmt.lineno}", index) for index, stmt in enumerate(statements)
            if contains_assert(stmt)]


def is_test_case_class(node):
    for base in node.bases:
        name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
        if name.endswith("TestCase"):
            return True
    return False


def discover(tree, entry_point):
    """name -> how to run it: ("func", fn) | ("method", cls, fn) | ("check", i) | ("module", i)"""
    tests = {}
    check = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name.startswith("test"):
                tests[node.name] = ("func", node.name)
            elif node.name == "check":
                check = node
        elif isinstance(node, ast.ClassDef) and is_test_case_class(node):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test"):
                    tests[f"{node.name}.{item.name}"] = ("method", node.name, item.name)
    if tests:
        return tests, None
    if check is not None:
        return {name: ("check", i) for name, i in split_asserts(check.body, "check")}, check
    return {name: ("module", i) for name, i in split_asserts(tree.body, "assert")}, None


def describe_failure(exc, source):
    if isinstance(exc, AssertionError):
        frames = traceback.extract_tb(exc.__traceback__)
        where = next((f for f in reversed(frames) if f.filename == "tests.py"), None)
        line = (where.line or "").strip() if where else ""
        detail = f": {exc}" if str(exc) else ""
        return "FAIL", short(f"{line or 'assertion failed'}{detail}")
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    where = f" ({last.filename}:{last.lineno})" if last else ""
    return "ERROR", short(f"{type(exc).__name__}: {exc}{where}")


def run_in_child(how, solution_code, tests_tree, check_node, entry_point):
    """Runs in the forked child: returns (status, message)."""
    # A fresh __main__ for the code under test; the runner keeps its own globals.
    module = types.ModuleType("__main__")
    module.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = module
    namespace = module.__dict__
    exec(solution_code, namespace)
    kind = how[0]
    if kind == "module":
        body = [s for i, s in enumerate(tests_tree.body)
                if i == how[1] or (i < how[1] and not contains_assert(s))]
        exec(compile(ast.Module(body=body, type_ignores=[]), "tests.py", "exec"), namespace)
        return "PASS", ""
    exec(compile(tests_tree, "tests.py", "exec"), namespace)
    if kind == "func":
        namespace[how[1]]()
        return "PASS", ""
    if kind == "method":
        import unittest

        result = unittest.TestResult()
        namespace[how[1]](how[2]).run(result)
        if result.failures:
            return "FAIL", short(result.failures[0][1].strip().splitlines()[-1])
        if result.errors:
            return "ERROR", short(result.errors[0][1].strip().splitlines()[-1])
        if result.skipped:
            return "ERROR", short(f"skipped, so it did not run: {result.skipped[0][1]}")
        if result.testsRun != 1:
            return "ERROR", "the test did not run"
        return "PASS", ""
    # kind == "check": the setup statements before this assert, then the assert itself.
    body = [s for i, s in enumerate(check_node.body)
            if i == how[1] or (i < how[1] and not contains_assert(s))]
    one = ast.FunctionDef(name="__assay_check", args=check_node.args, body=body,
                          decorator_list=[], returns=None)
    module = ast.fix_missing_locations(ast.Module(body=[ast.copy_location(one, check_node)],
                                                  type_ignores=[]))
    exec(compile(module, "tests.py", "exec"), namespace)
    if entry_point not in namespace:
        return "ERROR", f"the solution does not define {entry_point!r}"
    namespace["__assay_check"](namespace[entry_point])
    return "PASS", ""


def child_main(write_fd, how, solution_code, tests_tree, check_node, entry_point):
    os.close(REPORT_FD)  # the code under test must not reach the report channel
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        status, message = run_in_child(how, solution_code, tests_tree, check_node, entry_point)
    except BaseException as exc:  # every way a test can end is an outcome
        status, message = describe_failure(exc, None)
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os.write(write_fd, json.dumps({"status": status, "message": message}).encode())
    os._exit(0)


def wait_child(pid, read_fd, timeout):
    """(status, message) of a child; kills it when it outlives the timeout."""
    deadline = time.monotonic() + timeout
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            kill_group(pid)
            os.waitpid(pid, 0)
            return "TIMEOUT", f"test exceeded its {timeout:g} s time limit"
        ready, _, _ = select.select([read_fd], [], [], left)
        if ready:
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    kill_group(pid)  # processes the test started must not outlive it
    _, wait_status = os.waitpid(pid, 0)
    if chunks:
        try:
            reply = json.loads(b"".join(chunks))
            return reply["status"], reply["message"]
        except (ValueError, KeyError):
            return "ERROR", "the test sent an unreadable result"
    if os.WIFSIGNALED(wait_status):
        sig = os.WTERMSIG(wait_status)
        name = signal.Signals(sig).name if sig in signal.Signals.__members__.values() else sig
        hint = " (out of memory?)" if sig == signal.SIGKILL else ""
        return "ERROR", f"the test crashed: killed by {name}{hint}"
    return "ERROR", f"the test exited with status {os.WEXITSTATUS(wait_status)} before finishing"


def kill_group(pid):
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def main():
    entry_point = os.environ.get("ASSAY_ENTRY_POINT") or None
    timeout = float(os.environ.get("ASSAY_TEST_TIMEOUT", "5"))
    only = set(sys.argv[1:]) or None
    with open("tests.py", "rb") as handle:
        tests_source = handle.read()
    try:
        tests_tree = ast.parse(tests_source, "tests.py")
    except SyntaxError as exc:
        emit({"fatal": short(f"the test file does not parse: {exc}")})
        return
    tests, check_node = discover(tests_tree, entry_point)
    if check_node is not None and not entry_point:
        emit({"fatal": "the tests use check(candidate) but the problem names no entry_point"})
        return
    emit({"collect": list(tests)})
    with open("solution.py", "rb") as handle:
        solution_source = handle.read()
    try:
        solution_code = compile(solution_source, "solution.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        message = short(f"the solution does not compile: {type(exc).__name__}: {exc}")
        for name in tests:
            emit({"result": name, "status": "ERROR", "message": message, "time": 0.0})
        emit({"done": True})
        return
    sys.path.insert(0, os.getcwd())
    for name, how in tests.items():
        if only is not None and name not in only:
            continue
        emit({"start": name})
        started = time.monotonic()
        read_fd, write_fd = os.pipe()
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            child_main(write_fd, how, solution_code, tests_tree, check_node, entry_point)
        os.close(write_fd)
        status, message = wait_child(pid, read_fd, timeout)
        os.close(read_fd)
        emit({"result": name, "status": status, "message": message,
              "time": round(time.monotonic() - started, 6)})
    emit({"done": True})


main()
