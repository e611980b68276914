"""Warm executors: Python jobs forked from an interpreter already started in its sandbox."""

from assay.sandbox.warm.executor import ExecutorBroken, WarmExecutor
from assay.sandbox.warm.pool import WarmPool

__all__ = ["ExecutorBroken", "WarmExecutor", "WarmPool"]
