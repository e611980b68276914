"""Ruby, PHP and Bash: interpreters with a syntax-checking launcher."""

from __future__ import annotations

from assay.sandbox.languages.base import (
    LAUNCHER_DIR,
    Language,
    Toolchain,
    find_executable,
    first_line,
    install_root,
    probe,
)


class _Interpreter(Language):
    interpreter: str
    version_argv: tuple[str, ...] = ("--version",)

    def discover(self) -> Toolchain:
        exe = find_executable(self.interpreter, override_env=f"ASSAY_{self.name.upper()}")
        version = first_line(probe([exe, *self.version_argv]))
        return Toolchain(version=version, executables={self.interpreter: exe},
                         mounts=install_root(exe))

    def run_argv(self, tc: Toolchain, entry: str) -> list[str]:
        return [tc.exe(self.interpreter), f"{LAUNCHER_DIR}/{self.launcher}", entry]


class Ruby(_Interpreter):
    name = "ruby"
    extensions = (".rb",)
    default_entry = "main.rb"
    interpreter = "ruby"
    launcher = "launch.rb"
    out_of_memory_markers = ("failed to allocate memory (NoMemoryError)",)


class Php(_Interpreter):
    name = "php"
    extensions = (".php",)
    default_entry = "main.php"
    interpreter = "php"
    launcher = "launch.php"
    out_of_memory_markers = ("Allowed memory size of",)


class Bash(_Interpreter):
    name = "bash"
    extensions = (".sh", ".bash")
    default_entry = "main.sh"
    interpreter = "bash"
    launcher = "launch.sh"
