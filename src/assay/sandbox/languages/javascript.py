from __future__ import annotations

from assay.sandbox.languages.base import (
    LAUNCHER_DIR,
    Language,
    Toolchain,
    find_executable,
    install_root,
    probe,
)


class JavaScript(Language):
    name = "javascript"
    extensions = (".js", ".cjs", ".mjs")
    default_entry = "main.js"
    launcher = "check_syntax.js"
    out_of_memory_markers = ("JavaScript heap out of memory",)

    def discover(self) -> Toolchain:
        node = find_executable("node", override_env="ASSAY_NODE")
        return Toolchain(version="node " + probe([node, "--version"]),
                         executables={"node": node}, mounts=install_root(node))

    def run_argv(self, tc: Toolchain, entry: str) -> list[str]:
        # The preload checks the entry's syntax before node runs it, in the same process.
        return [tc.exe("node"), "--require", f"{LAUNCHER_DIR}/{self.launcher}", entry]
