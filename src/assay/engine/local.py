"""The local executor: a bounded pool of worker threads over a stream of jobs.

Jobs are sandbox runs (subprocesses), so threads are enough to keep every core busy. At most
``window`` jobs are in flight, so a stream of a million jobs is never held in memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

J = TypeVar("J")
R = TypeVar("R")


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def run_streaming(jobs: Iterable[J], work: Callable[[J], R], workers: int | None = None,
                  window: int | None = None) -> Iterator[tuple[J, R]]:
    """Yield (job, result) as jobs finish (completion order), keeping the pool busy."""
    workers = workers or default_workers()
    window = window or workers * 4
    pending: dict[Future[R], J] = {}
    iterator = iter(jobs)
    exhausted = False
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="assay-job") as pool:
        while True:
            while not exhausted and len(pending) < window:
                try:
                    job = next(iterator)
                except StopIteration:
                    exhausted = True
                    break
                pending[pool.submit(work, job)] = job
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                yield job, future.result()
