from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import PurePosixPath

from assay.sandbox.languages.base import (
    BUILD_DIR,
    WORK_DIR,
    Language,
    Toolchain,
    ToolchainMissing,
    find_executable,
    install_root,
    probe,
)


class TypeScript(Language):
    name = "typescript"
    extensions = (".ts",)
    default_entry = "main.ts"
    compiled = True
    out_of_memory_markers = ("JavaScript heap out of memory",)

    def discover(self) -> Toolchain:
        node = find_executable("node", override_env="ASSAY_NODE")
        tsc = os.path.realpath(find_executable("tsc", override_env="ASSAY_TSC"))
        # tsc lives in <root>/typescript/bin/tsc; @types/node is expected beside it.
        modules_root = os.path.dirname(os.path.dirname(os.path.dirname(tsc)))
        types_root = os.path.join(modules_root, "@types")
        if not os.path.isdir(os.path.join(types_root, "node")):
            raise ToolchainMissing(f"@types/node not installed in {modules_root}")
        version = probe([tsc, "--version"]) + ", node " + probe([node, "--version"])
        return Toolchain(version=version, executables={"node": node, "tsc": tsc},
                         mounts=install_root(node) + install_root(tsc, levels=4),
                         env={"ASSAY_TS_TYPES": types_root})

    def compile_argv(self, tc: Toolchain, entry: str, sources: Sequence[str]) -> list[str]:
        ts_sources = [s for s in sources if s.endswith(".ts")]
        return [tc.exe("tsc"), "--outDir", BUILD_DIR, "--rootDir", WORK_DIR,
                "--target", "es2022", "--module", "commonjs", "--types", "node",
                "--typeRoots", tc.env["ASSAY_TS_TYPES"], "--noEmitOnError", "--pretty", "false",
                "--skipLibCheck", *ts_sources]

    def run_argv(self, tc: Toolchain, entry: str) -> list[str]:
        js = PurePosixPath(BUILD_DIR) / PurePosixPath(entry).with_suffix(".js")
        return [tc.exe("node"), str(js)]
