"""assay's Python call-suite runner, run inside the sandbox by the system python3.

It reads solution.py and cases.json (name -> args, kwargs) from the work dir and calls the
problem's entry point once per case. The parent never runs untrusted code: it compiles the
solution and forks a loader, which runs the solution's top level once and then forks one
child per case, so that each case starts from the freshly loaded solution and a crash or
leftover state in one case does not touch the others. The parent enforces each case's time
limit; after a timeout a new loader takes the cases not yet run.

Each case's return value is reported in a canonical JSON form (see ``canonical``) and
compared with the expected one outside the sandbox, by the harness's ``grade``: the
expected values never enter the sandbox.
"""

import base64
import builtins
import contextlib
import decimal
import fractions
import gc
import json
import math
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
RAW_PREFIX = "assay-raw:"  # the harness's grade() reads the JSON after it
MESSAGE_LIMIT = 2000

# Set by the bwrap sandbox (cold and warm runs alike): every process of our uid in this pid
# namespace, and everything in /tmp, belongs to this run, so kill(-1) and wiping /tmp touch
# nothing else. Never set by the local backend, which runs on the host itself.
SANDBOXED = os.environ.pop("ASSAY_SANDBOXED", "") == "1" and os.getuid() != 0
RETURN_LIMIT = 1 << 20  # bytes of JSON a return value may take
MAX_DEPTH = 200
NODE_LIMIT = 1_000_000  # values in one return value (shared references count each time)
budget = [NODE_LIMIT]


class TooLarge(Exception):
    pass


def emit(event):
    os.write(REPORT_FD, (json.dumps(event) + "\n").encode())


def short(text):
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + "..."


# -- the canonical form of a return value ---------------------------------------------------


def canonical(value, depth=0):
    """JSON for a returned value: tuples are lists, NaN and infinities
    ``{"$float": "nan" | "inf" | "-inf"}``, sets ``{"$set": [...]}``, bytes
    ``{"$bytes": base64}``, ints too long for JSON text ``{"$int": hex}``, dict keys strings
    as json.dumps writes them, Fraction / Decimal floats, numpy values their ``tolist()``,
    anything else ``{"$repr": repr, "$type": name}``."""
    if depth > MAX_DEPTH:
        return {"$repr": "...", "$type": "too deeply nested"}
    budget[0] -= 1
    if budget[0] < 0:
        raise TooLarge(f"the return value is too large to report (over {NODE_LIMIT} values)")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return {"$int": hex(value)} if value.bit_length() > 10000 else int(value)
    if isinstance(value, (float, fractions.Fraction, decimal.Decimal)):
        try:
            number = float(value)
        except (OverflowError, ValueError):
            number = math.nan
        if math.isnan(number):
            return {"$float": "nan"}
        if math.isinf(number):
            return {"$float": "inf" if number > 0 else "-inf"}
        return number
    if isinstance(value, (list, tuple)):
        return [canonical(item, depth + 1) for item in value]
    if isinstance(value, (set, frozenset)):
        return {"$set": [canonical(item, depth + 1) for item in value]}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dict):
        return {key_text(key): canonical(item, depth + 1) for key, item in value.items()}
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays and scalars
        with contextlib.suppress(Exception):
            return canonical(value.tolist(), depth + 1)
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__} object>"
    return {"$repr": text[:200], "$type": type(value).__name__}


def key_text(key):
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    return str(key)


# -- one case, in its own child -------------------------------------------------------------


def resolve(namespace, entry_point):
    """The callable to test: a function, ``Class.method``, or a method of ``Solution``
    (LeetCode style), on a fresh instance."""
    head, _, rest = entry_point.partition(".")
    if rest and isinstance(namespace.get(head), type):
        owner = namespace[head]()
        return getattr(owner, rest)
    if entry_point in namespace:
        return namespace[entry_point]
    owner = namespace.get("Solution")
    if isinstance(owner, type) and hasattr(owner, entry_point):
        return getattr(owner(), entry_point)
    raise LookupError(f"the solution does not define {entry_point!r}")


def describe(exc):
    if type(exc) is LookupError:  # raised by resolve()
        return str(exc.args[0])
    frames = traceback.extract_tb(exc.__traceback__)
    line = next((f.lineno for f in reversed(frames) if f.filename == "solution.py"), None)
    place = f" (solution.py:{line})" if line else ""
    return short(f"{type(exc).__name__}: {exc}{place}")


def run_case(namespace, entry_point, case_json):
    case = json.loads(case_json)
    args, kwargs = case.get("args") or [], case.get("kwargs") or {}
    try:
        function = resolve(namespace, entry_point)
        value = function(*args, **kwargs)
        budget[0] = NODE_LIMIT
        text = json.dumps({"returned": canonical(value)}, allow_nan=False)
    except TooLarge as exc:
        return {"error": str(exc)}
    except BaseException as exc:  # every way a call can end is an outcome
        return {"error": describe(exc)}
    if len(text) > RETURN_LIMIT:
        return {"error": f"the return value is too large to report ({len(text)} bytes "
                         f"of JSON; the limit is {RETURN_LIMIT})"}
    return text


# -- the loader: the solution's top level once, then a child per case -------------------------


def send(fd, kind, payload):
    data = (kind + " " + (payload if isinstance(payload, str) else json.dumps(payload))
            + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def loader_main(write_fd, solution_code, names, cases, entry_point):
    """Runs in the loader: writes "L" once the solution is loaded (or "F {message}"),
    then per case "S name", the child's "R {json}", and "X status" when the child ended."""
    os.close(REPORT_FD)  # the code under test must not reach the report channel
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    quiet = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(quiet, fd)
    fork, wait, exit_now = os.fork, os.waitpid, os._exit  # the solution may replace them
    # Imported, not run as a script: an `if __name__ == "__main__":` block stays out.
    module = types.ModuleType("solution")
    module.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = sys.modules["solution"] = module
    namespace = module.__dict__
    try:
        exec(solution_code, namespace)
    except BaseException as exc:
        send(write_fd, "F", json.dumps(describe(exc)))
        exit_now(0)
    send(write_fd, "L", "null")
    for name in names:
        send(write_fd, "S", json.dumps(name))
        pid = fork()
        if pid == 0:
            result = run_case(namespace, entry_point, cases[name])
            send(write_fd, "R", result)
            with contextlib.suppress(Exception):
                sys.stdout.flush()
            exit_now(0)
        _, status = wait(pid, 0)
        send(write_fd, "X", str(status))
    exit_now(0)


def death_message(wait_status):
    if os.WIFSIGNALED(wait_status):
        number = os.WTERMSIG(wait_status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        hint = " (out of memory?)" if number == signal.SIGKILL else ""
        return f"the call crashed: killed by {name}{hint}"
    return f"the call exited with status {os.WEXITSTATUS(wait_status)} before returning"


def supervise(pid, read_fd, names, timeout):
    """Yield (name, status, message, seconds) as the loader reports, ("*", ...) when the
    solution does not load. Stops at a timeout (the loader is killed) or when it ends."""
    started, current, loaded, result = time.monotonic(), None, False, None
    buffer = b""
    while True:
        waiting = current is not None or not loaded
        left = started + timeout - time.monotonic() if waiting else 3600
        if left <= 0:
            kill_group(pid)
            os.waitpid(pid, 0)
            if current is None:
                yield "*", "TIMEOUT", (f"the solution's top-level code did not finish in "
                                       f"{timeout:g} s"), timeout
            else:
                yield current, "TIMEOUT", f"exceeded the {timeout:g} s time limit", timeout
            return
        ready, _, _ = select.select([read_fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(read_fd, 1 << 20)
        if not chunk:
            break
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            kind, _, payload = line.decode("utf-8", "replace").partition(" ")
            if kind == "F":
                yield "*", "ERROR", f"the solution failed to load: {json.loads(payload)}", 0.0
            elif kind == "L":
                loaded, started = True, time.monotonic()
            elif kind == "S":
                name = json.loads(payload)
                if name in names:
                    current, started, result = name, time.monotonic(), None
                    # Now, not with the result: if the call kills this runner, the
                    # harness knows which case did it.
                    emit({"start": name})
            elif kind == "R" and current is not None:
                result = case_outcome(payload)
                yield current, *result, time.monotonic() - started
            elif kind == "X" and current is not None:
                if result is None:
                    yield current, "ERROR", death_message(int(payload)), \
                        time.monotonic() - started
                current = None
    kill_group(pid)
    _, wait_status = os.waitpid(pid, 0)
    if current is not None and result is None:
        yield current, "ERROR", death_message(wait_status), time.monotonic() - started
    elif not loaded:
        yield "*", "ERROR", f"the solution failed to load: {death_message(wait_status)}", 0.0


def case_outcome(payload):
    """(status, message) of a case child's report; a value goes to grade() as it is."""
    try:
        value = json.loads(payload)
    except ValueError:
        return "ERROR", "the call sent back an unreadable result"
    if isinstance(value, dict) and "returned" in value:
        return "ERROR", RAW_PREFIX + json.dumps({"returned": value["returned"]})
    if isinstance(value, dict) and "error" in value:
        return "ERROR", short(str(value["error"]))
    return "ERROR", "the call sent back an unreadable result"


def kill_group(pid):
    """The loader and its group (called before it is reaped, so its pid is still its)."""
    for kill in (os.kill, os.killpg):
        with contextlib.suppress(OSError):
            kill(pid, signal.SIGKILL)


def clean_up(scratch):
    """Nothing a loader leaves behind reaches the next: stray processes, scratch files."""
    if SANDBOXED:
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)
    for directory in (scratch, "/tmp") if SANDBOXED else (scratch,):
        with contextlib.suppress(OSError):
            for entry in os.listdir(directory):
                path = os.path.join(directory, entry)
                if path == scratch:
                    continue
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(path)


def run_cases(solution_code, cases, names, entry_point, timeout, scratch):
    remaining = list(names)
    while remaining:
        read_fd, write_fd = os.pipe()
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            os.chdir(scratch)
            loader_main(write_fd, solution_code, remaining, cases, entry_point)
        os.close(write_fd)
        reported = set()
        for name, status, message, seconds in supervise(pid, read_fd, set(remaining),
                                                        timeout):
            for one in (remaining if name == "*" else [name]):
                if one in reported:
                    continue
                if name == "*":
                    emit({"start": one})
                emit({"result": one, "status": status, "message": message,
                      "time": round(seconds, 6)})
                reported.add(one)
        os.close(read_fd)
        clean_up(scratch)
        if not reported:  # the loader died before starting a case: do not loop forever
            for name in remaining:
                emit({"result": name, "status": "ERROR",
                      "message": "the test process died before running it", "time": 0.0})
            return
        remaining = [name for name in remaining if name not in reported]


WARM_MODULES = ("typing", "math", "re", "collections", "itertools", "functools", "heapq",
                "bisect", "string", "random", "statistics", "fractions", "decimal", "copy",
                "operator", "dataclasses", "enum", "datetime", "json")


def warm_up():
    """Imported once here, so that each loader does not pay for them again."""
    for name in WARM_MODULES:
        with contextlib.suppress(ImportError):
            __import__(name)
    gc.freeze()  # forked children then do not copy the parent's objects when collecting


def main():
    entry_point = os.environ.get("ASSAY_ENTRY_POINT") or None
    timeout = float(os.environ.get("ASSAY_TEST_TIMEOUT", "5"))
    with open("cases.json") as handle:
        cases = {case["name"]: json.dumps({"args": case.get("args"),
                                           "kwargs": case.get("kwargs")})
                 for case in json.load(handle)}
    if not cases:
        emit({"fatal": "the suite has no test cases"})
        return
    if not entry_point:
        emit({"fatal": "a call suite needs the problem's entry_point (the function to call)"})
        return
    emit({"collect": list(cases)})
    only = set(sys.argv[1:])
    names = [name for name in cases if not only or name in only]
    with open("solution.py", "rb") as handle:
        source = handle.read()
    try:
        solution_code = compile(source, "solution.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        message = short(f"the solution does not compile: {type(exc).__name__}: {exc}")
        for name in names:
            emit({"result": name, "status": "ERROR", "message": message, "time": 0.0})
        emit({"done": True})
        return
    warm_up()
    run_cases(solution_code, cases, names, entry_point, timeout,
              tempfile.mkdtemp(prefix="assay-call-"))
    emit({"done": True})


main()
