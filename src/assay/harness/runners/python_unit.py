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
import linecache
import mmap
import os
import select
import shutil
import signal
import struct
import sys
import tempfile
import time
import types

REPORT_FD = int(os.environ.pop("ASSAY_REPORT_FD"))
os.set_inheritable(REPORT_FD, False)
MESSAGE_LIMIT = 2000

# Set by the bwrap sandbox (cold and warm runs alike): every process of our uid in this pid
# namespace, and everything in /tmp, belongs to this run, so kill(-1) and wiping /tmp touch
# nothing else. Never set by the local backend, which runs on the host itself.
SANDBOXED = os.environ.pop("ASSAY_SANDBOXED", "") == "1" and os.getuid() != 0


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


def describe_failure(exc, tests_lines):
    """(status, message) of a test that raised: FAIL for a failed assert, with the line of
    the tests it failed on, ERROR for anything else, with where it was raised. The frames
    are walked by hand: the traceback module would cost a forked test many page copies."""
    trace, last, in_tests = exc.__traceback__, None, None
    while trace is not None:
        last = (trace.tb_frame.f_code.co_filename, trace.tb_lineno)
        if last[0] == "tests.py":
            in_tests = last[1]
        trace = trace.tb_next
    if isinstance(exc, AssertionError):
        line = tests_lines[in_tests - 1].strip() if in_tests and \
            in_tests <= len(tests_lines) else ""
        detail = f": {exc}" if str(exc) else ""
        return "FAIL", short(f"{line or 'assertion failed'}{detail}")
    where = f" ({last[0]}:{last[1]})" if last else ""
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
    try:
        return run_plan(plan, module.__dict__, solution_code, entry_point)
    finally:
        # Functions and their globals form cycles: break them now, so that the next test
        # reuses this memory instead of touching (and copying) pages shared with the runner.
        module.__dict__.clear()


def run_plan(plan, namespace, solution_code, entry_point):
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


class Board:
    """Shared memory between the runner and the child running a solution's tests.

    The child says which test it started and when, then appends each result; the runner
    reads it only when the child has exited or a test's time is up, so a test costs no
    message and no wake-up of the runner. Header: tests started (at 0), tests finished (4),
    start time of the last one started (8), bytes of results written (16); then each
    result: status, seconds, message length, message (UTF-8). Plain structs, not JSON: what
    the child touches, it copies from the runner's memory, page by page.
    """

    HEADER = struct.Struct("=IIdI")
    COUNT = struct.Struct("=I")
    TIME = struct.Struct("=d")
    RECORD = struct.Struct("=BdI")
    STATUSES = ("PASS", "FAIL", "ERROR", "TIMEOUT")
    SIZE = 4 << 20
    FULL = 3  # the child's exit status when the results no longer fit

    def __init__(self):
        self.memory = mmap.mmap(-1, self.SIZE)
        self.done = self.used = 0  # the child's own count of what it wrote

    def reset(self):
        self.HEADER.pack_into(self.memory, 0, 0, 0, 0.0, 0)
        self.done = self.used = 0

    def header(self):
        return self.HEADER.unpack_from(self.memory, 0)

    # -- in the child ----------------------------------------------------------------------

    def start(self, index):
        # The time first: the runner judges a test started by the time beside its number.
        self.TIME.pack_into(self.memory, 8, time.monotonic())
        self.COUNT.pack_into(self.memory, 0, index + 1)

    def finish(self, status, message, seconds):
        text = message.encode("utf-8", "replace")
        offset = self.HEADER.size + self.used
        room = self.SIZE - offset - self.RECORD.size
        if len(text) > room:
            text = text[:max(0, min(room, 200))]
            if len(text) > room:
                os._exit(self.FULL)
        self.RECORD.pack_into(self.memory, offset, self.STATUSES.index(status), seconds,
                              len(text))
        start = offset + self.RECORD.size
        self.memory[start:start + len(text)] = text
        self.used += self.RECORD.size + len(text)
        self.done += 1
        self.COUNT.pack_into(self.memory, 16, self.used)
        self.COUNT.pack_into(self.memory, 4, self.done)

    # -- in the runner ---------------------------------------------------------------------

    def results(self):
        """(status, message, seconds) of each finished test, in order."""
        done = self.header()[1]
        found, offset = [], self.HEADER.size
        for _ in range(done):
            code, seconds, length = self.RECORD.unpack_from(self.memory, offset)
            offset += self.RECORD.size
            message = self.memory[offset:offset + length].decode("utf-8", "replace")
            offset += length
            found.append((self.STATUSES[code], message, round(seconds, 6)))
        return found


BOARD = None  # made once, before the first fork
QUIET = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)  # what tests print goes here


def child_main(board, plans, names, solution_code, entry_point, tests_lines):
    """Runs the named tests in order, each in a fresh namespace, writing to the board."""
    os.close(REPORT_FD)  # the code under test must not reach the report channel
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    # What tests print is not their result; nor may it fill the run's own output.
    for fd in (0, 1, 2):
        os.dup2(QUIET, fd)
    for index, name in enumerate(names):
        board.start(index)
        started = time.monotonic()
        try:
            status, message = run_in_child(plans[name], solution_code, entry_point)
        except BaseException as exc:  # every way a test can end is an outcome
            status, message = describe_failure(exc, tests_lines)
        board.finish(status, message, time.monotonic() - started)
    os._exit(0)


def death_message(wait_status):
    if os.WIFSIGNALED(wait_status):
        sig = os.WTERMSIG(wait_status)
        name = signal.Signals(sig).name if sig in signal.Signals.__members__.values() else sig
        hint = " (out of memory?)" if sig == signal.SIGKILL else ""
        return f"the test crashed: killed by {name}{hint}"
    return f"the test exited with status {os.WEXITSTATUS(wait_status)} before finishing"


def supervise_child(pid, board, names, timeout):
    """(name, status, message, seconds) of each test the child got to. The child is killed
    when a test outlives its time limit (TIMEOUT); a test it dies in is an ERROR. The caller
    forks a new child for the tests after those."""
    pidfd = os.pidfd_open(pid)
    try:
        while True:
            started_count, done, started, _ = board.header()
            running = started_count > done
            # Between tests, look again after one time limit: a test that started
            # meanwhile is then judged by its own start time.
            left = started + timeout - time.monotonic() if running else timeout
            if running and left <= 0:
                kill_group(pid)
                _, wait_status = os.waitpid(pid, 0)
                timed_out = (names[started_count - 1], "TIMEOUT",
                             f"test exceeded its {timeout:g} s time limit", timeout)
                break
            if select.select([pidfd], [], [], left)[0]:
                kill_group(pid)  # what the child left in its process group
                _, wait_status = os.waitpid(pid, 0)
                timed_out = None
                break
    finally:
        os.close(pidfd)
    results = board.results()
    outcomes = [(name, *result) for name, result in zip(names, results, strict=False)]
    if timed_out is not None:
        outcomes.append(timed_out)
    elif len(results) < len(names) and board.header()[0] > len(results):
        name = names[len(results)]  # the test it died in
        message = death_message(wait_status)
        outcomes.append((name, "ERROR", message, time.monotonic() - board.header()[2]))
    return outcomes, wait_status


def kill_group(pid):
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def clean_up_after_test(scratch):
    """Nothing a test leaves behind reaches the next: stray processes, scratch files."""
    if SANDBOXED:
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)
    for directory in (scratch, "/tmp") if SANDBOXED else (scratch,):
        with contextlib.suppress(OSError):
            for entry in os.listdir(directory):
                path = os.path.join(directory, entry)
                if path != scratch:
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        os.unlink(path)


def test_plans(tests_source, entry_point, cache={}):  # noqa: B006 - the cache on purpose
    """(names, plans) of a test file, or a fatal message; solutions of one problem share
    their tests, which are parsed and compiled once."""
    key = (tests_source, entry_point)
    if key not in cache:
        if len(cache) > 64:
            cache.clear()
        cache[key] = _test_plans(tests_source, entry_point)
    return cache[key]


def _test_plans(tests_source, entry_point):
    try:
        tests_tree = ast.parse(tests_source, "tests.py")
    except SyntaxError as exc:
        return short(f"the test file does not parse: {exc}")
    tests, check_node = discover(tests_tree, entry_point)
    if check_node is not None and not entry_point:
        return "the tests use check(candidate) but the problem names no entry_point"
    try:
        return list(tests), compile_plans(tests, tests_tree, check_node)
    except (SyntaxError, ValueError) as exc:
        return short(f"the test file does not compile: {exc}")


def run_job(solution_source, tests_source, entry_point, timeout, only, scratch):
    """The report events of one solution's tests, written at once."""
    events = []
    plans = test_plans(tests_source, entry_point)
    if isinstance(plans, str):
        return [{"fatal": plans}]
    names, plans = plans
    events.append({"collect": names})
    try:
        solution_code = compile(solution_source, "solution.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        message = short(f"the solution does not compile: {type(exc).__name__}: {exc}")
        events += [{"result": name, "status": "ERROR", "message": message, "time": 0.0}
                   for name in names]
        return [*events, {"done": True}]
    remaining = [name for name in names if only is None or name in only]
    remember_sources({"solution.py": solution_source, "tests.py": tests_source})
    tests_lines = linecache.cache["tests.py"][2]
    # One child runs the tests in order; after a crash or a timeout a new child takes the
    # tests not yet run, so one test never hides the others.
    while remaining:
        BOARD.reset()
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            os.chdir(scratch)
            child_main(BOARD, plans, remaining, solution_code, entry_point, tests_lines)
        outcomes, wait_status = supervise_child(pid, BOARD, remaining, timeout)
        events += [{"result": name, "status": status, "message": message,
                    "time": round(seconds, 6)} for name, status, message, seconds in outcomes]
        clean_up_after_test(scratch)
        if not outcomes:  # the child died before starting a test: do not loop forever
            message = ("the test process died before running it: "
                       + death_message(wait_status).removeprefix("the test "))
            events += [{"result": name, "status": "ERROR", "message": message, "time": 0.0}
                       for name in remaining]
            break
        remaining = remaining[len(outcomes):]
    return [*events, {"done": True}]


def remember_sources(sources):
    """Put the sources in linecache, so that tracebacks (a failing assert's line) do not
    look for "tests.py" along sys.path."""
    for name, text in sources.items():
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        linecache.cache[name] = (len(text), None, text.splitlines(True), name)


def read_job(job_dir):
    sources = []
    for name in ("solution.py", "tests.py"):
        with open(os.path.join(job_dir, name), "rb") as handle:
            sources.append(handle.read())
    return sources


def emit_all(events):
    data = "".join(json.dumps(event) + "\n" for event in events).encode()
    view = memoryview(data)
    while view:
        view = view[os.write(REPORT_FD, view):]


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
    global BOARD
    warm_up()
    BOARD = Board()
    scratch = tempfile.mkdtemp(prefix="assay-test-")
    if sys.argv[1:2] == ["--batch"]:
        # Many solutions in one run: every input is read before any test starts, and each
        # solution's tests run in a child of their own with a fresh scratch dir.
        with open(sys.argv[2]) as handle:
            batch = json.load(handle)
        for index, job in enumerate(batch["jobs"]):
            events = run_job(job["solution"], batch["tests"][job["tests"]],
                             job.get("entry_point"), float(job["timeout"]), None, scratch)
            emit_all([{"job": index, "events": events}])
        return
    entry_point = os.environ.get("ASSAY_ENTRY_POINT") or None
    timeout = float(os.environ.get("ASSAY_TEST_TIMEOUT", "5"))
    solution, tests = read_job(".")
    emit_all(run_job(solution, tests, entry_point, timeout, set(sys.argv[1:]) or None, scratch))


main()
