from __future__ import annotations

from assay.sandbox.languages.base import (
    LAUNCHER_DIR,
    Language,
    Toolchain,
    find_executable,
    install_root,
    probe,
)


class Python(Language):
    name = "python"
    extensions = (".py",)
    default_entry = "main.py"
    launcher = "launch.py"
    out_of_memory_markers = ("MemoryError",)
    warm = True

    def discover(self) -> Toolchain:
        # The system python3 by default, so that solutions never see assay's own venv.
        exe = find_executable("python3", override_env="ASSAY_PYTHON", system_first=True)
        version = probe([exe, "--version"])
        return Toolchain(version=version, executables={"python3": exe},
                         mounts=install_root(exe),
                         env={"PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "0",
                              "PYTHONHASHSEED": "0"})

    def run_argv(self, tc: Toolchain, entry: str) -> list[str]:
        return [tc.exe("python3"), f"{LAUNCHER_DIR}/{self.launcher}", entry]
