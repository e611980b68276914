"""Executors and the run store: how long jobs run, resume and report progress."""

from assay.engine.local import default_workers, run_streaming
from assay.engine.run_store import RunStore, content_key

__all__ = ["RunStore", "content_key", "default_workers", "run_streaming"]
