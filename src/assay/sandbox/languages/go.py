from __future__ import annotations

from collections.abc import Sequence

from assay.sandbox.languages.base import (
    BUILD_DIR,
    Language,
    Toolchain,
    find_executable,
    probe,
)

# Where the Go build cache is mounted in the compile step (a persistent host dir).
GO_CACHE_DIR = "/gocache"


class Go(Language):
    name = "go"
    extensions = (".go",)
    default_entry = "main.go"
    compiled = True
    build_cache_dir = GO_CACHE_DIR
    out_of_memory_markers = ("runtime: out of memory", "fatal error: out of memory")

    def discover(self) -> Toolchain:
        go = find_executable("go", override_env="ASSAY_GO")
        env = {"GOTOOLCHAIN": "local"}
        version = probe([go, "env", "GOVERSION"], env=env)
        goroot = probe([go, "env", "GOROOT"], env=env)
        return Toolchain(
            version=version, executables={"go": go},
            mounts=() if goroot.startswith("/usr/") else (goroot,),
            path_dirs=(f"{goroot}/bin",),
            env={"GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "-mod=mod",
                 "GOTELEMETRY": "off", "CGO_ENABLED": "0", "GOPATH": "/tmp/gopath",
                 "GOCACHE": GO_CACHE_DIR, "GO111MODULE": "auto"},
        )

    def compile_argv(self, tc: Toolchain, entry: str, sources: Sequence[str]) -> list[str]:
        go_files = [s for s in sources if s.endswith(".go") and not s.endswith("_test.go")]
        return [tc.exe("go"), "build", "-trimpath", "-o", f"{BUILD_DIR}/main", *go_files]

    def run_argv(self, tc: Toolchain, entry: str) -> list[str]:
        return [f"{BUILD_DIR}/main"]
