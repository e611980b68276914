"""assay: execution-verified data for training and evaluating code models.

The public Python API. The command line (``assay``) is a thin layer over it.
"""

from assay.sandbox import (
    CompileResult,
    Limits,
    RunResult,
    RunSpec,
    Sandbox,
    Verdict,
    all_languages,
    get_language,
    get_sandbox,
)

__version__ = "0.1.0"

__all__ = [
    "CompileResult",
    "Limits",
    "RunResult",
    "RunSpec",
    "Sandbox",
    "Verdict",
    "__version__",
    "all_languages",
    "get_language",
    "get_sandbox",
]
