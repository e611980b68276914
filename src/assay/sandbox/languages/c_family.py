"""C and C++: gcc and g++, one binary per program."""

from __future__ import annotations

from collections.abc import Sequence

from assay.sandbox.languages.base import (
    BUILD_DIR,
    Language,
    Toolchain,
    find_executable,
    first_line,
    probe,
)


class _GccLanguage(Language):
    compiled = True
    compiler: str
    flags: tuple[str, ...]
    source_suffixes: tuple[str, ...]
    out_of_memory_markers = ("std::bad_alloc",)

    def discover(self) -> Toolchain:
        exe = find_executable(self.compiler, override_env=f"ASSAY_{self.name.upper()}_COMPILER")
        version = first_line(probe([exe, "--version"]))
        return Toolchain(version=version, executables={"cc": exe})

    def compile_argv(self, tc: Toolchain, entry: str, sources: Sequence[str]) -> list[str]:
        units = [s for s in sources if s.endswith(self.source_suffixes)]
        return [tc.exe("cc"), *self.flags, "-o", f"{BUILD_DIR}/main", *units, "-lm"]

    def run_argv(self, tc: Toolchain, entry: str) -> list[str]:
        return [f"{BUILD_DIR}/main"]


class C(_GccLanguage):
    name = "c"
    extensions = (".c",)
    default_entry = "main.c"
    compiler = "gcc"
    flags = ("-O2", "-std=gnu17", "-pipe")
    source_suffixes = (".c",)


class Cpp(_GccLanguage):
    name = "cpp"
    extensions = (".cpp", ".cc", ".cxx", ".c++")
    default_entry = "main.cpp"
    compiler = "g++"
    flags = ("-O2", "-std=gnu++17", "-pipe")
    source_suffixes = (".cpp", ".cc", ".cxx", ".c++")
