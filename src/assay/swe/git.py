"""Git, run the same way on every machine: no user or system config, no hooks, no prompts.

Every command gets a fixed environment (``HOME`` is an empty temporary directory, system
config off, global config ``/dev/null``, ``LC_ALL=C`` so that messages are stable) and
``-c`` overrides for the repository settings that would run a program (hooks, fsmonitor)
or change what a diff looks like (prefixes, context, order, colour). Commands have a time
limit and their errors name the repository and the command.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TIMEOUT_S = 120.0
_READ_CHUNK = 1 << 16
_ARGS_SHOWN = 24  # of a command in an error message (a diff may name thousands of paths)

# Settings a repository's own .git/config could use to run programs or to change the bytes
# of a diff; the command line beats the repository's config. diff.external and textconv
# drivers are switched off by --no-ext-diff / --no-textconv on the diff commands.
_OVERRIDES = (
    "core.hooksPath=/dev/null", "core.fsmonitor=false", "core.pager=cat", "core.quotePath=true",
    "core.autocrlf=false", "core.safecrlf=false", "core.abbrev=auto", "color.ui=never",
    "protocol.allow=never",
    "diff.noprefix=false", "diff.mnemonicPrefix=false", "diff.relative=false",
    "diff.context=3", "diff.interHunkContext=0", "diff.algorithm=myers",
    "diff.indentHeuristic=true", "diff.suppressBlankEmpty=false", "diff.submodule=short",
    "diff.ignoreSubmodules=none", "log.showSignature=false", "log.decorate=false",
    "i18n.logOutputEncoding=UTF-8", "apply.whitespace=nowarn", "apply.ignoreWhitespace=no",
)

_home_lock = threading.Lock()
_home: str | None = None


class GitError(Exception):
    """A git command failed; names the repository, the command and git's message."""

    def __init__(self, repo: str | Path, args: Sequence[str], message: str,
                 returncode: int | None = None) -> None:
        self.repo, self.command, self.returncode = str(repo), list(args), returncode
        self.message = message.strip()
        status = "timed out" if returncode is None else f"exit {returncode}"
        shown = self.command if len(self.command) <= _ARGS_SHOWN else [
            *self.command[:_ARGS_SHOWN], f"... ({len(self.command) - _ARGS_SHOWN} more)"]
        super().__init__(f"{self.repo}: git {' '.join(shown)} ({status}): "
                         f"{self.message or 'no message'}")


def _empty_home() -> str:
    """An empty directory used as HOME, so that ~/.gitconfig and friends are never read."""
    global _home
    with _home_lock:
        if _home is None:
            _home = tempfile.mkdtemp(prefix="assay-git-home-")
            atexit.register(shutil.rmtree, _home, True)
        return _home


def safe_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every git command runs with (``extra`` added on top)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": _empty_home(), "XDG_CONFIG_HOME": _empty_home(),
        "LANG": "C", "LC_ALL": "C", "TZ": "UTC",
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_ATTR_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "",
        "SSH_ASKPASS": "", "GIT_PAGER": "cat", "PAGER": "cat",
        # Read-only use must not rewrite the index (git status refreshes it otherwise).
        "GIT_OPTIONAL_LOCKS": "0",
        # History as stored, not as rewritten by replace refs.
        "GIT_NO_REPLACE_OBJECTS": "1",
    }
    if extra:
        env.update(extra)
    return env


def git_command(repo: str | Path | None, args: Sequence[str]) -> list[str]:
    """The argv of ``git args`` in ``repo`` with the safety overrides."""
    argv = ["git"]
    for override in _OVERRIDES:
        argv += ["-c", override]
    if repo is not None:
        argv += ["-C", str(repo)]
    return [*argv, *args]


def run_git(repo: str | Path | None, args: Sequence[str], *, input: bytes | None = None,
            env: Mapping[str, str] | None = None, timeout_s: float | None = DEFAULT_TIMEOUT_S,
            check: bool = True, cwd: str | Path | None = None
            ) -> subprocess.CompletedProcess[bytes]:
    """Run git and capture its output (bytes).

    Args:
        repo: The repository (``git -C``), or None to run in ``cwd`` without one.
        args: The git command and its arguments.
        input: Bytes for stdin (stdin is empty otherwise).
        env: Variables added to the safe environment (``GIT_INDEX_FILE``, ...).
        timeout_s: Time limit; the command and its children are killed when it is over.
        check: Raise GitError on a non-zero exit.
        cwd: Working directory.

    Raises:
        GitError: git is missing, timed out, or (with ``check``) failed.
    """
    argv = git_command(repo, args)
    where = repo if repo is not None else cwd or "."
    try:
        # A session of its own, so that a timeout kills what git started too (aliases,
        # helpers), not only git.
        process = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None
                                   else subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=safe_env(env), cwd=cwd,
                                   start_new_session=True)
    except FileNotFoundError as exc:
        raise GitError(where, args, f"cannot run git: {exc.strerror}", 127) from None
    try:
        stdout, stderr = process.communicate(input, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        process.communicate()
        raise GitError(where, args, f"no answer within {timeout_s:g} s") from None
    except BaseException:
        _kill_group(process)
        process.communicate()
        raise
    done = subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)
    if check and done.returncode != 0:
        raise GitError(where, args, stderr.decode("utf-8", "replace"), done.returncode)
    return done


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


@dataclass(frozen=True)
class GitRepo:
    """A local repository, read through the safe git runner.

    Attributes:
        path: The repository's directory (a work tree or a bare repository).
        timeout_s: Time limit of each command.
    """

    path: Path
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def open(cls, path: str | Path, timeout_s: float = DEFAULT_TIMEOUT_S) -> GitRepo:
        """The repository at ``path``; GitError when it is not one."""
        resolved = Path(path).expanduser().resolve()
        if not resolved.is_dir():
            raise GitError(resolved, ["rev-parse"], "no such directory")
        repo = cls(resolved, timeout_s)
        # The top of the work tree (or the git directory of a bare repository): pathspecs
        # are relative to where git runs, and candidates name the repository by it.
        if repo.text("rev-parse", "--is-inside-work-tree") == "true":
            return cls(Path(repo.text("rev-parse", "--show-toplevel")), timeout_s)
        return cls(Path(repo.text("rev-parse", "--absolute-git-dir")), timeout_s)

    def run(self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[bytes]:
        """``git args`` in this repository (see run_git)."""
        return run_git(self.path, args, input=input, env=env, timeout_s=self.timeout_s,
                       check=check)

    def text(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        """The stdout of ``git args`` as text, without its final newline."""
        out = self.run(*args, env=env).stdout
        return out.decode("utf-8", "surrogateescape").removesuffix("\n")

    def commit_id(self, rev: str) -> str | None:
        """The full id of the commit ``rev`` names, or None when there is none."""
        if not rev or rev.startswith("-"):
            return None
        done = self.run("rev-parse", "--verify", "--quiet", "--end-of-options",
                        f"{rev}^{{commit}}", check=False)
        if done.returncode != 0:
            return None
        return done.stdout.decode().strip() or None

    def objects_dir(self) -> str:
        """The absolute path of the object store (shared by all work trees)."""
        common = self.text("rev-parse", "--path-format=absolute", "--git-common-dir")
        return os.path.join(common, "objects")

    def blob(self, object_id: str) -> bytes:
        """The content of a blob."""
        return self.run("cat-file", "blob", object_id).stdout

    def stream(self, *args: str, timeout_s: float | None = None
               ) -> Generator[bytes, None, None]:
        """The NUL-separated fields of a long output (``git log -z``), read as they come.

        Raises:
            GitError: on a non-zero exit or when ``timeout_s`` is over.
        """
        argv = git_command(self.path, args)
        try:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, env=safe_env(),
                                       start_new_session=True)
        except FileNotFoundError as exc:
            raise GitError(self.path, args, f"cannot run git: {exc.strerror}", 127) from None
        timed_out = threading.Event()

        def expire() -> None:
            timed_out.set()
            _kill_group(process)

        timer = threading.Timer(timeout_s, expire) if timeout_s else None
        # stderr is drained by a thread so that a chatty git never blocks on a full pipe.
        errors: list[bytes] = []
        reader = threading.Thread(target=lambda: errors.append(process.stderr.read()
                                                               if process.stderr else b""))
        reader.start()
        if timer is not None:
            timer.start()
        try:
            assert process.stdout is not None
            pending = b""
            while chunk := process.stdout.read(_READ_CHUNK):
                *fields, pending = (pending + chunk).split(b"\0")
                yield from fields
            if pending:
                yield pending
            process.wait()
        finally:
            if timer is not None:
                timer.cancel()
            if process.poll() is None:
                _kill_group(process)
                process.wait()
            reader.join()
            if process.stdout is not None:
                process.stdout.close()
        if timed_out.is_set():
            raise GitError(self.path, args, f"no answer within {timeout_s:g} s")
        if process.returncode != 0:
            raise GitError(self.path, args, b"".join(errors).decode("utf-8", "replace"),
                           process.returncode)
