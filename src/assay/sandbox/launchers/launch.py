"""Run a Python program as __main__ after checking that it compiles.

A syntax error is written to the status fd (ASSAY_STATUS_FD) so the sandbox reports
COMPILE_ERROR; the fd is closed before the program runs, so the program cannot forge it.

Run as a script (``python3 launch.py PROGRAM ARGS...``) on the cold path; the warm executor
(``warm.py``) imports it and calls ``launch`` in the forked process of each job.
"""

import os
import sys
import types

LAUNCHER_FILE = os.path.abspath(__file__)


def compile_entry(path: str, status_fd: int) -> types.CodeType:
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
    if status_fd >= 0:
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


def launch(argv: list[str], module: types.ModuleType) -> None:
    """``argv``: the program file, then its arguments (as ``sys.argv`` will show them)."""
    status_fd = int(os.environ.pop("ASSAY_STATUS_FD", "-1"))
    path = argv[0]
    code = compile_entry(path, status_fd)
    sys.argv = list(argv)
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    run_as_main(code, path, module)


if __name__ == "__main__":
    # The real __main__ module is reused, so that pickling and `if __name__ ==
    # "__main__"` work; nothing below looks up a global once it is cleared.
    launch(sys.argv[1:], sys.modules["__main__"])
