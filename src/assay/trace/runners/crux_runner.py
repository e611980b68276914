# mypy: ignore-errors
"""assay's execution-prediction checker, run inside the sandbox by the system python3.

It reads jobs.json (every job read before any runs) and, per job, calls a Python function
and compares its return value with an expected value, as Python values (``==``). A job is:

``check``   f(<input>) == <expected>: both from the dataset (reproducing recorded outputs).
``output``  f(<input>) == <prediction>: the prediction is a predicted return value.
``input``   f(<prediction>) == <expected>: the prediction is predicted arguments.

What comes from a model is never run in the process that decides. A prediction that is a
Python literal (``ast.literal_eval``: no code runs) is used as it is by the deciding child,
which runs the dataset's code only. Any other prediction is evaluated in a child of its own,
which sends back the value (an output prediction) or f's return value on the predicted
arguments (an input prediction) in a tagged JSON form that only holds plain values; the
deciding child decodes it and compares. (An input prediction that is not a literal runs in
the same process as f, so it could fake f's return value: such results say so, in
``evaluated``.) Each child has the job's time limit. Results are JSON lines on the report
fd: ``{"start": N}``, then ``{"job": N, "equal": true | false | null, "actual": ...,
"error": ...}``; if a job kills this runner, the host starts a new run for the jobs after it.
"""

import ast
import base64
import builtins
import contextlib
import gc
import json
import os
import re
import select
import shutil
import signal
import sys
import time
import traceback
import types

REPORT_FD = int(os.environ.pop("ASSAY_REPORT_FD"))
os.set_inheritable(REPORT_FD, False)
SHOW_LIMIT = 300
VALUE_LIMIT = 1 << 20  # bytes of tagged JSON a child may send back
# Set by the bwrap sandbox (cold and warm runs alike): every process of our uid in this pid
# namespace, and everything in /tmp, belongs to this run, so kill(-1) and wiping /tmp touch
# nothing else. Never set by the local backend, which runs on the host itself.
SANDBOXED = os.environ.pop("ASSAY_SANDBOXED", "") == "1" and os.getuid() != 0
MAX_DEPTH = 100
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
WARM_MODULES = ("typing", "math", "re", "collections", "itertools", "functools", "heapq",
                "bisect", "string", "random", "statistics", "fractions", "decimal", "copy",
                "operator", "dataclasses", "enum", "datetime", "json", "unicodedata")


class Unsupported(Exception):
    pass


def emit(event):
    data = (json.dumps(event, ensure_ascii=False) + "\n").encode()
    while data:
        data = data[os.write(REPORT_FD, data):]


def show(value):
    try:
        text = ADDRESS.sub("", repr(value))
    except Exception as exc:
        text = f"<{type(value).__name__}: repr failed: {type(exc).__name__}>"
    return text if len(text) <= SHOW_LIMIT else text[:SHOW_LIMIT] + "..."


def describe(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    line = next((f.lineno for f in reversed(frames) if f.filename == "main.py"), None)
    place = f" (main.py:{line})" if line else ""
    text = ADDRESS.sub("", f"{type(exc).__name__}: {exc}{place}")
    return text if len(text) <= SHOW_LIMIT else text[:SHOW_LIMIT] + "..."


# -- plain values across processes -----------------------------------------------------------


def encode(value, depth=0):
    """Tagged JSON of a plain value (exact builtin types only)."""
    if depth > MAX_DEPTH:
        raise Unsupported("a value nested too deeply")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return {"int": hex(value)}
    if kind is float:
        return {"float": float.hex(value) if value == value else "nan"}
    if kind is complex:
        return {"complex": [encode(value.real), encode(value.imag)]}
    if kind is bytes:
        return {"bytes": base64.b64encode(value).decode()}
    if kind in (list, tuple, set, frozenset):
        return {kind.__name__: [encode(item, depth + 1) for item in value]}
    if kind is dict:
        return {"dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    raise Unsupported(f"a value of type {kind.__name__}")


def decode(data, depth=0):
    if depth > MAX_DEPTH:
        raise Unsupported("a value nested too deeply")
    if data is None or isinstance(data, (bool, str)):
        return data
    if not isinstance(data, dict) or len(data) != 1:
        raise Unsupported("not a tagged value")
    (tag, body), = data.items()
    if tag == "int":
        return int(body, 16)
    if tag == "float":
        return float("nan") if body == "nan" else float.fromhex(body)
    if tag == "complex":
        return complex(decode(body[0], depth + 1), decode(body[1], depth + 1))
    if tag == "bytes":
        return base64.b64decode(body)
    containers = {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}
    if tag in containers:
        return containers[tag](decode(item, depth + 1) for item in body)
    if tag == "dict":
        return {decode(k, depth + 1): decode(v, depth + 1) for k, v in body}
    raise Unsupported(f"unknown tag {tag!r}")


# -- parsing predictions without running them ------------------------------------------------


def literal(text):
    """The value of a Python literal, or raise ValueError (nothing is run)."""
    return ast.literal_eval(text.strip())


def literal_arguments(text, entry_point):
    """(args, kwargs) of ``f(...)`` or of a bare argument list, when every argument is a
    literal; raise ValueError otherwise."""
    source = text.strip()
    try:
        call = ast.parse(source, mode="eval").body
    except SyntaxError:
        call = None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id == entry_point):
        try:
            call = ast.parse(f"{entry_point}({source})", mode="eval").body
        except SyntaxError as exc:
            raise ValueError(f"not an argument list: {exc.msg}") from None
    if any(isinstance(arg, ast.Starred) for arg in call.args) or \
            any(keyword.arg is None for keyword in call.keywords):
        raise ValueError("starred arguments are not literals")
    args = [ast.literal_eval(arg) for arg in call.args]
    kwargs = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}
    return args, kwargs


def call_source(text, entry_point):
    """``f(...)`` for a prediction given as ``f(...)`` or as a bare argument list."""
    source = text.strip()
    with contextlib.suppress(SyntaxError):
        node = ast.parse(source, mode="eval").body
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == entry_point:
            return source
    return f"{entry_point}({source})"


# -- the children ----------------------------------------------------------------------------


def load(code):
    module = types.ModuleType("__main__")
    module.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = module
    exec(compile(code, "main.py", "exec", dont_inherit=True), module.__dict__)
    return module.__dict__


def gold_value(text, namespace):
    """A value from the dataset (trusted): a literal, else evaluated."""
    try:
        return literal(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return eval(compile(text, "<expected>", "eval", dont_inherit=True), namespace)


def untrusted_child(job):
    """Evaluate a prediction that is not a literal; returns what the decider needs."""
    if job["kind"] == "output":
        value = eval(compile(job["prediction"], "<prediction>", "eval", dont_inherit=True),
                     {"__builtins__": builtins})
        return {"value": encode(value)}
    namespace = load(job["code"])
    call = compile(call_source(job["prediction"], job["entry_point"]), "<prediction>", "eval",
                   dont_inherit=True)
    value = eval(call, namespace)
    return {"value": encode(value), "actual": show(value)}


def deciding_child(job, sent):
    """Runs the dataset's code only, and compares."""
    kind, entry = job["kind"], job["entry_point"]
    namespace = load(job["code"])
    if kind == "input":
        if sent is not None:
            actual, shown = decode(sent["value"]), sent.get("actual")
        else:
            args, kwargs = literal_arguments(job["prediction"], entry)
            actual = namespace[entry](*args, **kwargs)
            shown = None
        expected = gold_value(job["expected"], namespace)
    else:
        call = compile(f"{entry}({job['input']})", "<input>", "eval", dont_inherit=True)
        actual = eval(call, namespace)
        shown = None
        if kind == "check":
            expected = gold_value(job["expected"], namespace)
        else:
            expected = decode(sent["value"]) if sent is not None else literal(job["prediction"])
    equal = actual == expected
    return {"equal": bool(equal), "actual": shown or show(actual)}


def child_main(write_fd, work):
    os.close(REPORT_FD)
    os.setpgid(0, 0)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    result = None
    try:
        result = work()
    except Unsupported as exc:
        result = {"error": f"not a plain value: {exc}"}
    except BaseException as exc:
        result = {"error": describe(exc)}
    try:
        text = json.dumps(result, ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError) as exc:
        text = json.dumps({"error": f"result not reportable: {exc}"})
    if len(text) > VALUE_LIMIT:
        text = json.dumps({"error": f"the value is too large to compare ({len(text)} bytes)"})
    with contextlib.suppress(OSError):
        data = text.encode()
        while data:
            data = data[os.write(write_fd, data):]
    os._exit(0)


def run_child(work, timeout):
    """(result dict | None, timed out) of ``work`` run in a forked child."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        child_main(write_fd, work)
    os.close(write_fd)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)
    chunks, deadline, timed_out, size = [], time.monotonic() + timeout, False, 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready, _, _ = select.select([read_fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        size += len(chunk)
        if size <= VALUE_LIMIT + 4096:
            chunks.append(chunk)
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(read_fd)
    clean_up()
    if timed_out:
        return None, True
    try:
        return json.loads(b"".join(chunks)), False
    except ValueError:
        if os.WIFSIGNALED(status):
            return {"error": f"killed by signal {os.WTERMSIG(status)} (out of memory?)"}, False
        return {"error": "the call ended without a result"}, False


def clean_up():
    if SANDBOXED:
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)
        with contextlib.suppress(OSError):
            for entry in os.listdir("/tmp"):
                path = os.path.join("/tmp", entry)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(path)


def needs_untrusted(job):
    if job["kind"] == "output":
        try:
            literal(job["prediction"])
            return False
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return True
    if job["kind"] == "input":
        try:
            literal_arguments(job["prediction"], job["entry_point"])
            return False
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return True
    return False


def run_job(job, timeout):
    try:
        untrusted = needs_untrusted(job)
    except Exception as exc:  # a pathological prediction must not stop the batch
        return {"equal": False, "error": f"cannot read the prediction: {type(exc).__name__}"}
    out = {"evaluated": "expression" if untrusted else "literal"} \
        if job["kind"] != "check" else {}
    sent = None
    if untrusted:
        sent, timed_out = run_child(lambda: untrusted_child(job), timeout)
        if timed_out:
            return {**out, "equal": False, "timeout": True,
                    "error": f"evaluating the prediction exceeded {timeout:g} s"}
        if "error" in sent:
            return {**out, "equal": False, "error": sent["error"], "actual": sent.get("actual")}
    result, timed_out = run_child(lambda: deciding_child(job, sent), timeout)
    if timed_out:
        return {**out, "equal": None if job["kind"] == "check" else False, "timeout": True,
                "error": f"the call exceeded {timeout:g} s"}
    if "error" in result:
        return {**out, "equal": None if job["kind"] == "check" else False, **result}
    return {**out, **result}


def main():
    with open(sys.argv[1]) as handle:
        batch = json.load(handle)
    for name in WARM_MODULES:
        with contextlib.suppress(ImportError):
            __import__(name)
    gc.freeze()
    timeout = float(batch["timeout"])
    os.chdir("/tmp" if SANDBOXED else os.getcwd())
    for index, job in enumerate(batch["jobs"]):
        emit({"start": index})  # should a job take the runner down, the host knows which
        emit({"job": index, **run_job(job, timeout)})
    emit({"done": True})


main()
