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
import gc
import json
import os
import select
import shutil
import signal
import sys
import tempfile
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


def compile_plans(tests, tests_tree, check_node):
    """Compile, once in the parent, what each test's child executes (test code is data)."""
    module_code = compile(tests_tree, "tests.py", "exec", dont_inherit=True)
    plans = {}
    for name, how in tests.items():
        kind = how[0]
        if kind == "module":
            body = [s for i, s in enumerate(tests_tree.body)
                    if i == how[1] or (i < how[1] and not contains_assert(s))]
            plans[name] = ("module", compile(ast.Module(body=body, type_ignores=[]),
                                             "tests.py", "exec", dont_inherit=True))
        elif kind == "check":
            # The setup statements before this assert, then the assert itself.
            body = [s for i, s in enumerate(check_node.body)
                    if i == how[1] or (i < how[1] and not contains_assert(s))]
            one = ast.FunctionDef(name="__assay_check", args=check_node.args, body=body,
                                  decorator_list=[], returns=None)
            tree = ast.fix_missing_locations(
                ast.Module(body=[ast.copy_location(one, check_node)], type_ignores=[]))
            plans[name] = ("check", module_code, compile(tree, "tests.py", "exec",
                                                         dont_inherit=True))
        else:
            plans[name] = (*how, module_code)
    return plans


def run_in_child(plan, solution_code, entry_point):
    """Runs in the forked child: returns (status, message)."""
    # A fresh __main__ for the code under test (also importable as `solution`); the runner
    # keeps its own globals.
    module = types.ModuleType("__main__")
    module.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = sys.modules["solution"] = module
    namespace = module.__dict__
    exec(solution_code, namespace)
    kind = plan[0]
    if kind == "module":
        exec(plan[1], namespace)
        return "PASS", ""
    if kind == "check":
        exec(plan[1], namespace)
        exec(plan[2], namespace)
        if entry_point not in namespace:
            return "ERROR", f"the solution does not define {entry_point!r}"
        namespace["__assay_check"](namespace[entry_point])
        return "PASS", ""
    exec(plan[-1], namespace)
    if kind == "func":
        namespace[plan[1]]()
        return "PASS", ""
    import unittest

    result = unittest.TestResult()
    namespace[plan[1]](plan[2]).run(result)
    if result.failures:
        return "FAIL", short(result.failures[0][1].strip().splitlines()[-1])
    if result.errors:
        return "ERROR", short(result.errors[0][1].strip().splitlines()[-1])
    if result.skipped:
        return "ERROR", short(f"skipped, so it did not run: {result.skipped[0][1]}")
    if result.testsRun != 1:
        return "ERROR", "the test did not run"
    return "PASS", ""


def child_main(write_fd, plans, names, solution_code, entry_point):
    """Runs the named tests in order, each in a fresh namespace; writes "S name" before a
    test and "R {json}" after it to the parent, which enforces the time limits."""
    os.close(REPORT_FD)  # the code under test must not reach the report channel
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    out = os.fdopen(write_fd, "w", buffering=1)
    for name in names:
        out.write("S " + json.dumps(name) + "\n")
        try:
            status, message = run_in_child(plans[name], solution_code, entry_point)
        except BaseException as exc:  # every way a test can end is an outcome
            status, message = describe_failure(exc, None)
        out.write("R " + json.dumps({"status": status, "message": message}) + "\n")
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(0)


def death_message(wait_status):
    if os.WIFSIGNALED(wait_status):
        sig = os.WTERMSIG(wait_status)
        name = signal.Signals(sig).name if sig in signal.Signals.__members__.values() else sig
        hint = " (out of memory?)" if sig == signal.SIGKILL else ""
        return f"the test crashed: killed by {name}{hint}"
    return f"the test exited with status {os.WEXITSTATUS(wait_status)} before finishing"


def supervise_child(pid, read_fd, names, timeout):
    """Yield (name, status, message, seconds) as the child reports; a test that outlives its
    time limit is killed (TIMEOUT), one the child dies in is an ERROR. Stops at the first
    of those: the caller forks a new child for the tests after it."""
    reader = os.fdopen(read_fd, "r")
    current, started = None, time.monotonic()
    buffer = ""
    while True:
        left = (started + timeout - time.monotonic()) if current is not None else 3600
        if left <= 0:
            kill_group(pid)
            os.waitpid(pid, 0)
            yield current, "TIMEOUT", f"test exceeded its {timeout:g} s time limit", timeout
            return
        ready, _, _ = select.select([reader], [], [], left)
        if not ready:
            continue
        chunk = os.read(read_fd, 65536).decode("utf-8", "replace")
        if not chunk:
            break
        buffer += chunk
        while "\n" in buffer:
            line, buffer = buffer.split("\n", 1)
            kind, _, payload = line.partition(" ")
            try:
                value = json.loads(payload)
            except ValueError:
                value = None
            if kind == "S" and isinstance(value, str) and value in names:
                current, started = value, time.monotonic()
                emit({"start": current})  # so a test that takes the runner down is known
            elif kind == "R" and current is not None:
                if isinstance(value, dict) and "status" in value:
                    yield current, value["status"], str(value.get("message", "")), \
                        time.monotonic() - started
                else:
                    yield current, "ERROR", "the test sent an unreadable result", 0.0
                current = None
    kill_group(pid)
    _, wait_status = os.waitpid(pid, 0)
    if current is not None:
        yield current, "ERROR", death_message(wait_status), time.monotonic() - started


def kill_group(pid):
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def clean_up_after_test(scratch):
    """Nothing a test leaves behind reaches the next: stray processes, scratch files."""
    # Only in our own pid namespace (we are its pid 2) and never as root: kill(-1) then
    # reaches the processes of this sandbox's user and no one else.
    if os.getpid() == 2 and os.getuid() != 0:
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)
    for directory in (scratch, "/tmp"):
        with contextlib.suppress(OSError):
            for entry in os.listdir(directory):
                path = os.path.join(directory, entry)
                if path != scratch:
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        os.unlink(path)


def read_job(job_dir):
    sources = []
    for name in ("solution.py", "tests.py"):
        with open(os.path.join(job_dir, name), "rb") as handle:
            sources.append(handle.read())
    return sources


def run_job(solution_source, tests_source, entry_point, timeout, only, scratch):
    """Run the tests of one solution."""
    try:
        tests_tree = ast.parse(tests_source, "tests.py")
    except SyntaxError as exc:
        emit({"fatal": short(f"the test file does not parse: {exc}")})
        return
    tests, check_node = discover(tests_tree, entry_point)
    if check_node is not None and not entry_point:
        emit({"fatal": "the tests use check(candidate) but the problem names no entry_point"})
        return
    try:
        plans = compile_plans(tests, tests_tree, check_node)
    except (SyntaxError, ValueError) as exc:
        emit({"fatal": short(f"the test file does not compile: {exc}")})
        return
    emit({"collect": list(tests)})
    try:
        solution_code = compile(solution_source, "solution.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        message = short(f"the solution does not compile: {type(exc).__name__}: {exc}")
        for name in tests:
            emit({"result": name, "status": "ERROR", "message": message, "time": 0.0})
        emit({"done": True})
        return
    remaining = [name for name in plans if only is None or name in only]
    # One child runs the tests in order; after a crash or a timeout a new child takes the
    # tests not yet run, so one test never hides the others.
    while remaining:
        read_fd, write_fd = os.pipe()
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            os.chdir(scratch)
            child_main(write_fd, plans, remaining, solution_code, entry_point)
        os.close(write_fd)
        reported = set()
        for name, status, message, seconds in supervise_child(pid, read_fd, set(remaining),
                                                              timeout):
            emit({"result": name, "status": status, "message": message,
                  "time": round(seconds, 6)})
            reported.add(name)
        clean_up_after_test(scratch)
        if not reported:  # the child died before starting a test: do not loop forever
            for name in remaining:
                emit({"result": name, "status": "ERROR",
                      "message": "the test process died before running it", "time": 0.0})
            break
        remaining = [name for name in remaining if name not in reported]
    emit({"done": True})


# Imported once here, so that each test's child does not pay for them again.
WARM_MODULES = ("typing", "math", "re", "collections", "itertools", "functools", "heapq",
                "bisect", "string", "random", "statistics", "fractions", "decimal", "hashlib",
                "copy", "operator", "unittest", "dataclasses", "enum", "datetime", "json")


def warm_up():
    for name in WARM_MODULES:
        with contextlib.suppress(ImportError):
            __import__(name)
    gc.freeze()  # forked children then do not copy the parent's objects when collecting


def main():
    warm_up()
    scratch = tempfile.mkdtemp(prefix="assay-test-")
    if sys.argv[1:2] == ["--batch"]:
        # Many solutions in one run: every input is read before any test starts, and each
        # test still runs in its own child with a fresh scratch dir.
        with open(sys.argv[2]) as handle:
            jobs = json.load(handle)
        sources = [read_job(job["dir"]) for job in jobs]
        for index, (job, (solution, tests)) in enumerate(zip(jobs, sources, strict=True)):
            emit({"job": index})
            run_job(solution, tests, job.get("entry_point"), float(job["timeout"]), None,
                    scratch)
        return
    entry_point = os.environ.get("ASSAY_ENTRY_POINT") or None
    timeout = float(os.environ.get("ASSAY_TEST_TIMEOUT", "5"))
    solution, tests = read_job(".")
    run_job(solution, tests, entry_point, timeout, set(sys.argv[1:]) or None, scratch)


main()
