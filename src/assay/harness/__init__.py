"""Per-language test harnesses: one (solution, suite) in, one outcome per test out."""

from assay.harness import call, io, unit  # noqa: F401  (registers the harnesses)
from assay.harness.base import Harness, HarnessTask, get_harness, harness_languages
from assay.harness.driver import SuiteRun, run_batch, run_tests

__all__ = ["Harness", "HarnessTask", "SuiteRun", "get_harness", "harness_languages",
           "run_batch", "run_tests"]
