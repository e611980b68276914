"""Run a Python program as __main__ after checking that it compiles.

A syntax error is written to the status fd (ASSAY_STATUS_FD) so the sandbox reports
COMPILE_ERROR; the fd is closed before the program runs, so the program cannot forge it.
"""

import os
import sys
from types import CodeType


def _compile() -> tuple[CodeType, str]:
    status_fd = int(os.environ.pop("ASSAY_STATUS_FD", "-1"))
    path = sys.argv[1]
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
    sys.argv = sys.argv[1:]
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    return code, path


def _run(code: CodeType, path: str) -> None:
    # Reuse the real __main__ module so that pickling and `if __name__ == "__main__"` work.
    namespace = sys.modules["__main__"].__dict__
    builtins = namespace["__builtins__"]
    namespace.clear()
    namespace.update(__name__="__main__", __file__=path, __builtins__=builtins,
                     __doc__=None, __package__=None, __spec__=None, __loader__=None)
    exec(code, namespace)


_run(*_compile())
