"""assay: execution-verified data for training and evaluating code models.

The public Python API. The command line (``assay``) is a thin layer over it.
"""

from assay.data import (
    InputError,
    Problem,
    Solution,
    SolutionReport,
    Status,
    TestCase,
    TestOutcome,
    TestSuite,
    read_records,
    write_records,
)
from assay.engine import RunStore
from assay.harness import HarnessTask, get_harness, run_tests
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
from assay.verify import (
    SelectionConfig,
    VerifyConfig,
    agreement,
    pass_at_k,
    select,
    tau_sweep,
    verify,
)

__version__ = "0.1.0"

__all__ = [
    "CompileResult",
    "HarnessTask",
    "InputError",
    "Limits",
    "Problem",
    "RunResult",
    "RunSpec",
    "RunStore",
    "Sandbox",
    "SelectionConfig",
    "Solution",
    "SolutionReport",
    "Status",
    "TestCase",
    "TestOutcome",
    "TestSuite",
    "Verdict",
    "VerifyConfig",
    "__version__",
    "agreement",
    "all_languages",
    "get_harness",
    "get_language",
    "get_sandbox",
    "pass_at_k",
    "read_records",
    "run_tests",
    "select",
    "tau_sweep",
    "verify",
    "write_records",
]
