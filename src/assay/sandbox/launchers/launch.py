"""Run a Python program as __main__ after checking that it compiles.

A syntax error is written to the status fd (ASSAY_STATUS_FD) so the sandbox reports
COMPILE_ERROR; the fd is closed before the program runs, so the program cannot forge it.
Only a program that starts the real one on its behalf (the io case runner) keeps it, when
its spec asks for that with ``ASSAY_PASS_STATUS_FD=1``: it then reports that program's
syntax error itself.

Run as a script (``python3 launch.py PROGRAM ARGS...``) on the cold path; the warm executor
(``warm.py``) and the io runner's program server import it and call ``launch`` in a forked
process, then ``shut_down`` to end it as the interpreter would.
"""

import os
import sys
import types

LAUNCHER_FILE = os.path.abspath(__file__)
PASS_STATUS_VARIABLE = "ASSAY_PASS_STATUS_FD"


def compile_entry(path: str, status_fd: int, keep_status_fd: bool = False) -> types.CodeType:
    """The program's code, or exit 1 with its syntax error on the status fd and stderr."""
    with open(path, "rb") as handle:
        source = handle.read()
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        import traceback

        message = "".join(traceback.format_exception_only(type(exc), exc))
        if status_fd >= 0:
            os.write(status_fd, message.encode("utf-8", "replace"))
        sys.stderr.write(message)
        sys.exit(1)
    if status_fd >= 0 and not keep_status_fd:
        os.close(status_fd)
    return code


def run_as_main(code: types.CodeType, path: str, module: types.ModuleType) -> None:
    """Execute the program in ``module`` as ``__main__``. An exception it does not catch is
    printed as the interpreter would, without the launcher's own frames, and exits 1."""
    # On the cold path ``module`` holds this file's own globals, cleared below: what is
    # needed after that is bound locally.
    import builtins as builtins_module
    import sys

    namespace = module.__dict__
    builtins = namespace.get("__builtins__", builtins_module)
    namespace.clear()
    namespace.update(__name__="__main__", __file__=path, __builtins__=builtins,
                     __doc__=None, __package__=None, __spec__=None, __loader__=None)
    sys.modules["__main__"] = module
    try:
        exec(code, namespace)
    except SystemExit:
        raise
    except BaseException as exc:
        trace = exc.__traceback__
        if trace is not None:  # the printed traceback starts in the program
            exc.__traceback__ = trace = trace.tb_next
        sys.excepthook(type(exc), exc, trace)
        sys.exit(1)


def launch(argv: list[str], module: types.ModuleType,
           compiled: types.CodeType | None = None) -> None:
    """``argv``: the program file, then its arguments (as ``sys.argv`` will show them).
    ``compiled``: the program's code, when it is known to compile (the warm executor keeps
    assay's own runners compiled)."""
    status_fd = int(os.environ.pop("ASSAY_STATUS_FD", "-1"))
    keep_status_fd = os.environ.pop(PASS_STATUS_VARIABLE, "") == "1" and status_fd >= 0
    path = argv[0]
    if compiled is None:
        code = compile_entry(path, status_fd, keep_status_fd)
    else:
        code = compiled
        if status_fd >= 0 and not keep_status_fd:
            os.close(status_fd)
    if keep_status_fd:
        os.environ["ASSAY_STATUS_FD"] = str(status_fd)
    sys.argv = list(argv)
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    run_as_main(code, path, module)


# -- ending a forked program (warm executor, io program server) ------------------------------

def exit_code(exc: SystemExit) -> int:
    """The interpreter's reading of ``sys.exit(value)``."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    import contextlib

    with contextlib.suppress(Exception):
        sys.stderr.write(f"{exc.code}\n")
    return 1


def shut_down(main: types.ModuleType, code: int) -> None:
    """End a forked program as the interpreter's own shutdown would, in the order it does:
    wait for non-daemon threads, run atexit functions, flush, let the program's globals go
    (their finalizers run, open files are flushed), flush again, exit.

    The interpreter's full finalization would also tear down every module the forking
    process imported, writing to every page shared with it; that copying alone costs a
    forked program several milliseconds, so it exits here instead.
    """
    # Imported here: the cold path, which never calls this, imports nothing more.
    import atexit
    import contextlib
    import gc
    import threading

    with contextlib.suppress(Exception):
        threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    code = flush_std_streams(code)
    namespace = main.__dict__
    for name in [n for n in namespace if n.startswith("_") and n != "__builtins__"]:
        namespace[name] = None
    for name in [n for n in namespace if n != "__builtins__"]:
        namespace[name] = None
    with contextlib.suppress(Exception):
        gc.collect()
    os._exit(flush_std_streams(code))


def flush_std_streams(code: int) -> int:
    """Flush stdout and stderr; as the interpreter, exit 120 when stdout cannot be."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None and not stream.closed:
                stream.flush()
        except Exception:
            if code == 0 and stream is sys.stdout:
                code = 120
    return code


if __name__ == "__main__":
    # The real __main__ module is reused, so that pickling and `if __name__ ==
    # "__main__"` work; nothing below looks up a global once it is cleared.
    launch(sys.argv[1:], sys.modules["__main__"])
