from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from assay.sandbox.languages.base import (
    BUILD_DIR,
    Language,
    Toolchain,
    find_executable,
    first_line,
    install_root,
    probe,
)

# A serial GC and no perf-data file: fewer threads and no writes outside the work dir.
JVM_FLAGS = ("-XX:+UseSerialGC", "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1")
# String concatenation compiled to StringBuilder calls, as before JDK 9, rather than to
# invokedynamic: the same strings, but the first indy concatenation of a JVM bootstraps
# java.lang.invoke (~30 ms of every start of a short program).
JAVAC_FLAGS = ("-encoding", "UTF-8", "-XDstringConcat=inline")


class Java(Language):
    name = "java"
    extensions = (".java",)
    default_entry = "Main.java"
    compiled = True
    out_of_memory_markers = ("java.lang.OutOfMemoryError",)

    def discover(self) -> Toolchain:
        javac = find_executable("javac", override_env="ASSAY_JAVAC")
        java = find_executable("java", override_env="ASSAY_JAVA")
        version = first_line(probe([javac, "-version"]))
        return Toolchain(version=version, executables={"javac": javac, "java": java},
                         mounts=install_root(javac, levels=3))

    def compile_argv(self, tc: Toolchain, entry: str, sources: Sequence[str]) -> list[str]:
        java_sources = [s for s in sources if s.endswith(".java")]
        return [tc.exe("javac"), *(f"-J{flag}" for flag in JVM_FLAGS), *JAVAC_FLAGS,
                "-d", BUILD_DIR, *java_sources]

    def run_argv(self, tc: Toolchain, entry: str) -> list[str]:
        # The class to run is the entry file's name, as javac requires of public classes.
        main_class = PurePosixPath(entry).stem
        return [tc.exe("java"), "-XX:+UseSerialGC", "-XX:-UsePerfData", "-Xss64m",
                "-cp", BUILD_DIR, main_class]
