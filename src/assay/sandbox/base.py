"""The sandbox contract: one small ABC, backends registered by name."""

from __future__ import annotations

import logging
import os
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from assay.sandbox.compile_cache import CompileCache, compile_key
from assay.sandbox.languages import Language, Toolchain, get_language
from assay.sandbox.languages.base import BUILD_DIR, SYSTEM_PATH
from assay.sandbox.result import CompileResult, RunResult, StepResult
from assay.sandbox.spec import Bind, Limits, RunSpec, Verdict, file_bytes
from assay.sandbox.supervisor import RawExit
from assay.sandbox.verdicts import classify, decode

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, RunResult], None]

# Compile-step verdicts that mean "the program does not build" rather than "the sandbox broke".
_BUILD_FAILURES = {Verdict.RUNTIME_ERROR, Verdict.TIME_LIMIT, Verdict.MEMORY_LIMIT,
                   Verdict.OUTPUT_LIMIT}


@dataclass(frozen=True)
class Step:
    """One process tree to run: a compile step or the program itself."""

    argv: tuple[str, ...]
    files: Mapping[str, bytes]
    stdin: bytes
    env: Mapping[str, str]
    limits: Limits
    toolchain: Toolchain
    binds: tuple[Bind, ...] = ()
    status_channel: bool = False  # pass a pipe as ASSAY_STATUS_FD (syntax-check launchers)
    report_channel: bool = False  # pass a pipe as ASSAY_REPORT_FD (test harnesses)
    network: bool = False  # share the host's network (dependency set-up stages)
    warm: bool = False  # the language's launcher can run it in a warm executor


class SandboxError(Exception):
    """The sandbox cannot work at all on this machine (as opposed to one failed run)."""


class Sandbox(ABC):
    """Runs untrusted programs. ``run`` compiles (through the cache) and runs one spec.

    Subclasses implement ``execute``, which runs one step's process tree and reports what
    happened. Unknown or missing languages raise ``LanguageError``; everything that goes
    wrong while running becomes a verdict, SANDBOX_ERROR when the machinery failed.
    """

    name: ClassVar[str]

    def __init__(self, cache: CompileCache | None = None) -> None:
        self.cache = cache or CompileCache()

    @abstractmethod
    def execute(self, step: Step) -> RawExit:
        """Run one step's process tree under its limits."""

    def prepare_writable_dir(self, path: Path) -> None:
        """Make a host dir writable by the sandboxed user (backends that switch uid)."""

    def prepare_writable_tree(self, path: Path) -> None:
        """``prepare_writable_dir`` for a directory and everything below it (symlinks are
        never followed)."""
        self.prepare_writable_dir(path)

    def release_idle(self) -> None:
        """Stop what the backend keeps running between runs (warm executors); later runs
        start it again."""

    def close(self) -> None:
        """Release what the backend holds (namespaces, descriptors, warm executors)."""

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running -------------------------------------------------------------------------

    def run(self, spec: RunSpec) -> RunResult:
        """Compile (if needed) and run one program; never raises for what the program does."""
        language = get_language(spec.language)
        toolchain = with_toolchains(language.toolchain(), spec.toolchains)
        entry = resolve_entry(spec, language)
        try:
            return self._run(spec, language, toolchain, entry)
        except Exception as exc:  # a broken run must not break the batch
            log.exception("sandbox failure")
            return RunResult(verdict=Verdict.SANDBOX_ERROR, language=language.name,
                             backend=self.name, error=f"{type(exc).__name__}: {exc}")

    def run_many(self, specs: Sequence[RunSpec], workers: int | None = None,
                 progress: ProgressCallback | None = None) -> list[RunResult]:
        """Run many specs with at most ``workers`` at once; results in input order.

        Every spec's language and entry file are checked before anything runs.
        """
        for spec in specs:
            language = get_language(spec.language)
            with_toolchains(language.toolchain(), spec.toolchains)
            resolve_entry(spec, language)
        workers = max(1, workers or os.cpu_count() or 1)
        results: list[RunResult | None] = [None] * len(specs)
        done = 0
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="assay-run") as pool:
            futures = {pool.submit(self.run, spec): i for i, spec in enumerate(specs)}
            for future in as_completed(futures):
                index = futures[future]
                results[index] = future.result()
                done += 1
                if progress is not None:
                    progress(done, len(specs), future.result())
        return [r for r in results if r is not None]

    def _run(self, spec: RunSpec, language: Language, toolchain: Toolchain, entry: str
             ) -> RunResult:
        files = {name: file_bytes(content) for name, content in spec.files.items()}
        env = {**base_env(toolchain), **language.sandbox_env(toolchain), **spec.env}
        if not language.compiled:
            return self._run_program(spec, language, toolchain, entry, files, env, None, None)

        compile_argv = language.compile_argv(toolchain, entry, sorted(files))
        assert compile_argv is not None
        key = compile_key(language.name, toolchain.version, compile_argv, spec.files)
        compiled = self._cached_compile(key)
        if compiled is None:
            with self.cache.compile_lock(key):
                compiled = self._cached_compile(key)  # by another worker, while we waited
                if compiled is None:
                    compiled = self._compile(spec, language, toolchain, compile_argv, key,
                                             files, env)
        if compiled.verdict is not Verdict.OK:
            overall = (Verdict.SANDBOX_ERROR if compiled.verdict is Verdict.SANDBOX_ERROR
                       else Verdict.COMPILE_ERROR)
            return RunResult(verdict=overall, language=language.name, backend=self.name,
                             compile=compiled, error=compiled.error)
        with self.cache.lookup(key) as artefact:
            if artefact is None:
                return RunResult(verdict=Verdict.SANDBOX_ERROR, language=language.name,
                                 backend=self.name, compile=compiled,
                                 error="compiled artefact vanished from the cache")
            return self._run_program(spec, language, toolchain, entry, files, env, artefact,
                                     compiled)

    def _cached_compile(self, key: str) -> CompileResult | None:
        """The cached compile of ``key``: its artefact is there (OK), or the compiler's
        rejection of the same sources (COMPILE_ERROR with its message); None on a miss."""
        with self.cache.lookup(key) as hit:
            if hit is None:
                return None
            failure = self.cache.failure(hit)
        if failure is None:
            return CompileResult(verdict=Verdict.OK, cached=True, cache_key=key)
        return CompileResult.model_validate({**failure, "cached": True, "cache_key": key})

    def _compile(self, spec: RunSpec, language: Language, toolchain: Toolchain,
                 argv: list[str], key: str, files: Mapping[str, bytes],
                 env: Mapping[str, str]) -> CompileResult:
        staging = self.cache.new_staging_dir()
        self.prepare_writable_dir(staging)
        binds = [Bind(str(staging), BUILD_DIR, writable=True)]
        if language.build_cache_dir:
            binds.append(Bind(str(self._build_cache(language)), language.build_cache_dir,
                              writable=True))
        step = Step(argv=tuple(argv), files=files, stdin=b"", env=env,
                    limits=spec.compile_limits, toolchain=toolchain, binds=tuple(binds))
        try:
            raw = self.execute(step)
            result = classify(raw, spec.compile_limits)
        except BaseException:
            self.cache.discard(staging)
            raise
        if result.verdict is Verdict.OK:
            self.cache.commit(key, staging, {"language": language.name,
                                             "toolchain": toolchain.version})
            return CompileResult(**result.model_dump(), cached=False, cache_key=key)
        self.cache.discard(staging)
        verdict = Verdict.COMPILE_ERROR if result.verdict in _BUILD_FAILURES else result.verdict
        fields = {**result.model_dump(), "verdict": verdict}
        if result.verdict is Verdict.RUNTIME_ERROR:
            # The compiler rejected the sources, within every limit: it always will, so a
            # rerun need not ask again. (A compile stopped by a limit may pass another time.)
            self.cache.commit_failure(key, fields)
        return CompileResult(**fields, cached=False, cache_key=key)

    def _build_cache(self, language: Language) -> Path:
        """A persistent build cache of the language's own (Go's GOCACHE), shared by compiles."""
        path = self.cache.root.parent / f"{language.name}-build-cache"
        if not path.exists():
            path.mkdir(parents=True, exist_ok=True)
            self.prepare_writable_dir(path)
        return path

    def _run_program(self, spec: RunSpec, language: Language, toolchain: Toolchain, entry: str,
                     files: Mapping[str, bytes], env: Mapping[str, str],
                     artefact: Path | None, compiled: CompileResult | None) -> RunResult:
        binds: tuple[Bind, ...] = ((Bind(str(artefact), BUILD_DIR),) if artefact is not None
                                   else ())
        for bind in spec.binds:
            if bind.writable and os.path.isdir(bind.host):
                self.prepare_writable_dir(Path(bind.host))
        binds += spec.binds
        step = Step(argv=(*spec.wrapper, *language.run_argv(toolchain, entry), *spec.argv),
                    files=files,
                    stdin=spec.stdin, env=env, limits=spec.limits, toolchain=toolchain,
                    binds=binds, status_channel=language.launcher is not None,
                    report_channel=spec.report, network=spec.network,
                    warm=language.warm and not spec.wrapper)
        raw = self.execute(step)
        result = classify(raw, spec.limits, language.out_of_memory_markers)
        report = decode(raw.side_channels.get("report", b"")) if spec.report else None
        syntax_error = raw.side_channels.get("status", b"")
        if syntax_error and result.verdict is Verdict.RUNTIME_ERROR:
            # The launcher found a syntax error before running anything.
            check = _as_compile_error(result, decode(syntax_error))
            return RunResult(**{**result.model_dump(), "verdict": Verdict.COMPILE_ERROR},
                             language=language.name, backend=self.name, compile=check,
                             report=report)
        return RunResult(**result.model_dump(), language=language.name, backend=self.name,
                         compile=compiled, report=report)


def _as_compile_error(result: StepResult, message: str) -> CompileResult:
    fields = result.model_dump()
    fields.update(verdict=Verdict.COMPILE_ERROR, stdout="", stderr=message,
                  stdout_truncated=False, stderr_truncated=False)
    return CompileResult(**fields)


def with_toolchains(toolchain: Toolchain, others: Sequence[str]) -> Toolchain:
    """``toolchain`` with the mounts and PATH dirs of other languages' toolchains added
    (``RunSpec.toolchains``). Raises LanguageError when one is unknown or missing."""
    if not others:
        return toolchain
    mounts = list(toolchain.mounts)
    path_dirs = list(toolchain.path_dirs)
    for name in others:
        other = get_language(name).toolchain()
        mounts += [m for m in other.mounts if m not in mounts]
        bin_dirs = [os.path.dirname(exe) for exe in other.executables.values()]
        path_dirs += [d for d in [*other.path_dirs, *bin_dirs] if d not in path_dirs]
    return replace(toolchain, mounts=tuple(mounts), path_dirs=tuple(path_dirs))


def resolve_entry(spec: RunSpec, language: Language) -> str:
    if spec.entry is not None:
        return spec.entry
    if language.default_entry in spec.files:
        return language.default_entry
    candidates = [n for n in spec.files if n.endswith(language.extensions)]
    if len(candidates) == 1:
        return candidates[0]
    raise ValueError(f"cannot tell which of {sorted(spec.files)} is the {language.name} "
                     f"entry file; set RunSpec.entry")


# Set in every run of the bwrap backend, cold or warm: the processes of the run's uid in its
# pid namespace and the files in its /tmp are the run's alone, so a runner may kill(-1) and
# wipe /tmp between the tests it runs. The local backend never sets it.
SANDBOXED_VARIABLE = "ASSAY_SANDBOXED"


def base_env(toolchain: Toolchain) -> dict[str, str]:
    """The environment every sandboxed process starts from; nothing of the host's."""
    return {
        "PATH": ":".join([*toolchain.path_dirs, SYSTEM_PATH]),
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
    }


_BACKENDS: dict[str, type[Sandbox]] = {}


def register_sandbox(name: str) -> Callable[[type[Sandbox]], type[Sandbox]]:
    """Class decorator registering a backend under ``name``."""

    def decorate(cls: type[Sandbox]) -> type[Sandbox]:
        cls.name = name
        _BACKENDS[name] = cls
        return cls

    return decorate


def sandbox_names() -> list[str]:
    return sorted(_BACKENDS)


def get_sandbox(name: str = "bwrap", **kwargs: object) -> Sandbox:
    """Create the backend registered under ``name`` (``bwrap`` unless told otherwise)."""
    if name not in _BACKENDS:
        raise SandboxError(f"unknown sandbox backend {name!r}; known: {', '.join(sandbox_names())}")
    return _BACKENDS[name](**kwargs)  # type: ignore[arg-type]


def which_or_raise(program: str, install_hint: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise SandboxError(f"'{program}' not found; {install_hint}")
    return found
