"""Warm executors kept by what their interpreter was started with; one job each at a time."""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from assay.sandbox.supervisor import RawExit
from assay.sandbox.warm.executor import ExecutorBroken, WarmExecutor

if TYPE_CHECKING:
    from assay.sandbox.base import Step
    from assay.sandbox.bwrap import BwrapSandbox

log = logging.getLogger(__name__)

MAX_IDLE = 8  # executors kept waiting for work; the least recently used beyond are stopped
JOB_VARIABLE_PREFIX = "ASSAY_"  # per-job settings (report fd, test timeout), not start-up


def executor_key(step: Step) -> Hashable:
    """Jobs share an executor when its interpreter started as theirs would: same toolchain,
    same environment (but assay's per-job variables, which the interpreter does not read
    at start-up), same size of /work and /tmp."""
    env = tuple(sorted(_startup_env(step).items()))
    toolchain = step.toolchain
    return (toolchain.version, tuple(sorted(toolchain.executables.items())), toolchain.mounts,
            env, step.limits.disk_mb)


class WarmPool:
    """Hands each job an idle executor of its key, starting one when there is none.

    A job whose executor breaks while running it is not lost: ``execute`` returns None and
    the caller runs it on the cold path; the broken executor is stopped and replaced by the
    next job that needs one. Keys whose executor cannot start at all run cold from then on.
    """

    def __init__(self, sandbox: BwrapSandbox) -> None:
        self.sandbox = sandbox
        self._lock = threading.Lock()
        self._idle: list[tuple[Hashable, WarmExecutor]] = []  # most recently used last
        self._failed: dict[Hashable, str] = {}
        self.started = 0  # executors started
        self.replaced = 0  # executors that failed during a job (which then ran cold)
        self.jobs = 0  # jobs run warm
        # bwrap's --die-with-parent fires when the *thread* that started it ends: executors
        # are started from this one thread, alive as long as the pool, not from the caller's
        # (often a short-lived worker thread of a pool of runs).
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="assay-warm")

    def execute(self, step: Step) -> RawExit | None:
        """The job's result, or None when it must run on the cold path."""
        key = executor_key(step)
        executor = self._checkout(key, step)
        if executor is None:
            return None
        try:
            raw = executor.run(step)
        except ExecutorBroken as exc:
            log.warning("warm executor failed and is replaced (the job runs cold): %s", exc)
            self.replaced += 1
            executor.close()
            return None
        except BaseException:  # not the executor's fault, but it is mid-job: not reusable
            executor.close()
            raise
        self._checkin(key, executor)
        with self._lock:
            self.jobs += 1
        return raw

    def _checkout(self, key: Hashable, step: Step) -> WarmExecutor | None:
        with self._lock:
            if key in self._failed:
                return None
            for index in range(len(self._idle) - 1, -1, -1):
                if self._idle[index][0] == key:
                    return self._idle.pop(index)[1]
        try:
            executor = WarmExecutor(self.sandbox, step.toolchain, _startup_env(step),
                                    step.limits.disk_mb, spawn=self._spawn)
        except (ExecutorBroken, OSError) as exc:
            with self._lock:
                self._failed[key] = str(exc)
            log.warning("warm executor could not start; these jobs run cold: %s", exc)
            return None
        with self._lock:
            self.started += 1
        return executor

    def _checkin(self, key: Hashable, executor: WarmExecutor) -> None:
        with self._lock:
            self._idle.append((key, executor))
            surplus = self._idle[:-MAX_IDLE] if len(self._idle) > MAX_IDLE else []
            del self._idle[:len(surplus)]
        for _, old in surplus:
            old.close()

    def _spawn(self, *args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        def start() -> subprocess.Popen[bytes]:
            return subprocess.Popen(*args, **kwargs)

        return self._spawner.submit(start).result()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for _, executor in idle:
            executor.close()


def _startup_env(step: Step) -> dict[str, str]:
    return {k: v for k, v in step.env.items() if not k.startswith(JOB_VARIABLE_PREFIX)}
