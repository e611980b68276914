"""Sandboxed, limited execution of untrusted code.

    from assay.sandbox import RunSpec, get_sandbox

    with get_sandbox() as sandbox:
        result = sandbox.run(RunSpec.single("python", "print(input())", stdin=b"hi\\n"))
        print(result.verdict, result.stdout)
"""

from assay.sandbox import bwrap as _bwrap  # noqa: F401 - registers the backend
from assay.sandbox import local as _local  # noqa: F401 - registers the backend
from assay.sandbox.base import (
    ProgressCallback,
    Sandbox,
    SandboxError,
    Step,
    get_sandbox,
    register_sandbox,
    sandbox_names,
)
from assay.sandbox.compile_cache import CompileCache
from assay.sandbox.languages import (
    Language,
    LanguageError,
    Toolchain,
    ToolchainMissing,
    UnknownLanguage,
    all_languages,
    get_language,
    language_for_file,
    register_language,
)
from assay.sandbox.result import CompileResult, RunResult, StepResult
from assay.sandbox.spec import DEFAULT_COMPILE_LIMITS, Bind, Limits, RunSpec, Verdict

__all__ = [
    "DEFAULT_COMPILE_LIMITS", "Bind", "CompileCache", "CompileResult", "Language",
    "LanguageError", "Limits", "ProgressCallback", "RunResult", "RunSpec", "Sandbox",
    "SandboxError", "Step", "StepResult", "Toolchain", "ToolchainMissing", "UnknownLanguage",
    "Verdict", "all_languages", "get_language", "get_sandbox", "language_for_file",
    "register_language", "register_sandbox", "sandbox_names",
]
