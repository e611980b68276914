"""The ``local`` backend: no isolation at all, only limits. For trusted code and debugging.

It runs the program as the calling user in a temporary directory of the host. Paths the
language modules use inside the sandbox (/work, /build, /assay) are rewritten to host paths.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path

from assay.sandbox.base import Sandbox, Step, register_sandbox
from assay.sandbox.bwrap import LAUNCHERS
from assay.sandbox.cgroups import CgroupManager
from assay.sandbox.compile_cache import CompileCache
from assay.sandbox.languages.base import LAUNCHER_DIR, WORK_DIR
from assay.sandbox.supervisor import RawExit, rlimits_for, supervise


@register_sandbox("local")
class LocalSandbox(Sandbox):
    """No isolation: the program sees the host as the calling user does."""

    def __init__(self, cache: CompileCache | None = None, use_cgroups: bool = True) -> None:
        warnings.warn("the 'local' sandbox backend does not isolate programs from the host; "
                      "use it only for trusted code", stacklevel=2)
        super().__init__(cache)
        self.cgroups = CgroupManager() if use_cgroups else None

    def execute(self, step: Step) -> RawExit:
        work = Path(tempfile.mkdtemp(prefix="assay-local-"))
        group = self.cgroups.create(step.limits) if self.cgroups and self.cgroups.available \
            else None
        try:
            for name, content in step.files.items():
                (work / name).parent.mkdir(parents=True, exist_ok=True)
                (work / name).write_bytes(content)
            paths = {WORK_DIR: str(work), LAUNCHER_DIR: str(LAUNCHERS)}
            paths.update({bind.dest: bind.host for bind in step.binds})
            env = {key: to_host_path(value, paths) for key, value in step.env.items()}
            pass_fds = []
            side: dict[str, int] = {}
            writers: list[int] = []
            for wanted, name in ((step.status_channel, "status"), (step.report_channel, "report")):
                if wanted:
                    reader, writer = os.pipe2(os.O_CLOEXEC)
                    side[name] = reader
                    env[f"ASSAY_{name.upper()}_FD"] = str(writer)
                    writers.append(writer)
            pass_fds += writers
            gate_reader, gate_writer = os.pipe2(os.O_CLOEXEC)
            # The shell blocks on the gate until the limits are applied, then becomes the
            # program (bash: dash cannot name fds above 9).
            argv = ["/bin/bash", "-c", f"cd {_quote(str(work))} && read -r _ <&{gate_reader}; "
                    f"exec {gate_reader}<&-; exec \"$@\"", "bash",
                    *(to_host_path(arg, paths) for arg in step.argv)]
            pass_fds.append(gate_reader)
            try:
                return supervise(
                    argv, limits=step.limits, stdin=step.stdin, env=env, pass_fds=pass_fds,
                    gate_write_fd=gate_writer, gate_holds_child=False, group=group,
                    rlimits=rlimits_for(step.limits, memory_by_rlimit=group is None,
                                        processes_by_rlimit=group is None),
                    side_channels=side)
            finally:
                os.close(gate_reader)
                for writer in writers:
                    os.close(writer)
        finally:
            if group is not None:
                group.remove()
            shutil.rmtree(work, ignore_errors=True)


def to_host_path(value: str, paths: Mapping[str, str]) -> str:
    """Rewrite a path as seen inside the sandbox (``/work/x``) to its host place."""
    for inside, host in paths.items():
        if value == inside or value.startswith(inside + "/"):
            return host + value[len(inside):]
    return value


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"
