"""The sandbox conformance suite (``assay selfcheck``)."""

from assay.conformance.suite import CaseResult, run_selfcheck

__all__ = ["CaseResult", "run_selfcheck"]
