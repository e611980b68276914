from __future__ import annotations

import os
from collections.abc import Sequence

from assay.sandbox.languages.base import (
    BUILD_DIR,
    Language,
    Toolchain,
    ToolchainMissing,
    find_executable,
    outside_system_dirs,
    probe,
)


class Rust(Language):
    name = "rust"
    extensions = (".rs",)
    default_entry = "main.rs"
    compiled = True
    out_of_memory_markers = ("memory allocation of",)

    def discover(self) -> Toolchain:
        # `rustc` on PATH is usually rustup's proxy; the sandbox needs the real toolchain dir.
        proxy = find_executable("rustc", override_env="ASSAY_RUSTC")
        sysroot = probe([proxy, "--print", "sysroot"])
        rustc = os.path.join(sysroot, "bin", "rustc")
        if not os.access(rustc, os.X_OK):
            raise ToolchainMissing(f"no rustc in sysroot {sysroot}")
        version = probe([rustc, "--version"])
        return Toolchain(version=version, executables={"rustc": rustc},
                         mounts=(sysroot,) if outside_system_dirs(sysroot) else ())

    def compile_argv(self, tc: Toolchain, entry: str, sources: Sequence[str]) -> list[str]:
        return [tc.exe("rustc"), "--edition", "2021", "-O", "-o", f"{BUILD_DIR}/main", entry]

    def run_argv(self, tc: Toolchain, entry: str) -> list[str]:
        return [f"{BUILD_DIR}/main"]
