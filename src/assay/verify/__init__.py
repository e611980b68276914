"""Verification: per-test outcomes -> pass fraction, score, pass@k, agreement, selection."""

from assay.verify.agreement import Agreement, agreement
from assay.verify.dedup import code_fingerprint, normalise
from assay.verify.pipeline import (
    Summarizer,
    VerifyConfig,
    VerifySummary,
    load_problems,
    verify,
    verify_one,
)
from assay.verify.scoring import mean_pass_at_k, pass_at_k, pass_fraction, score
from assay.verify.selection import (
    Selection,
    SelectionConfig,
    SweepRow,
    parse_mix,
    select,
    tau_sweep,
)

__all__ = [
    "Agreement", "Selection", "SelectionConfig", "Summarizer", "SweepRow", "VerifyConfig",
    "VerifySummary", "agreement", "code_fingerprint", "load_problems", "mean_pass_at_k",
    "normalise", "parse_mix", "pass_at_k", "pass_fraction", "score", "select", "tau_sweep",
    "verify", "verify_one",
]
