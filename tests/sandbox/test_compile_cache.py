import os
from pathlib import Path

from assay.sandbox import CompileCache, RunSpec, Sandbox, Verdict, get_sandbox
from assay.sandbox.compile_cache import compile_key

C_PROGRAM = '#include <stdio.h>\nint main(void) { puts("%s"); return 0; }\n'


def test_second_run_is_a_cache_hit(sandbox: Sandbox) -> None:
    spec = RunSpec.single("c", C_PROGRAM % "cache-hit-test")
    first, second = sandbox.run(spec), sandbox.run(spec)
    assert first.compile is not None and second.compile is not None
    assert (first.compile.cached, second.compile.cached) == (False, True)
    assert first.compile.cache_key == second.compile.cache_key
    assert second.stdout == "cache-hit-test\n"


def test_key_covers_language_toolchain_flags_and_sources() -> None:
    base = compile_key("c", "gcc 12", ["gcc", "-O2"], {"main.c": "x"})
    assert base == compile_key("c", "gcc 12", ["gcc", "-O2"], {"main.c": b"x"})
    assert base != compile_key("c", "gcc 13", ["gcc", "-O2"], {"main.c": "x"})
    assert base != compile_key("c", "gcc 12", ["gcc", "-O0"], {"main.c": "x"})
    assert base != compile_key("c", "gcc 12", ["gcc", "-O2"], {"main.c": "y"})
    assert base != compile_key("cpp", "gcc 12", ["gcc", "-O2"], {"main.c": "x"})
    assert base != compile_key("c", "gcc 12", ["gcc", "-O2"], {"other.c": "x"})


def test_compile_errors_are_cached_with_their_message(tmp_path: Path) -> None:
    """A rerun (a new process, the same cache) does not ask the compiler again about sources
    it rejected: it gets the same COMPILE_ERROR and message."""
    spec = RunSpec.single("c", "int main(void) { return missing; }\n")
    results = []
    for _ in range(2):
        with get_sandbox("bwrap", cache=CompileCache(tmp_path), warm=False) as box:
            results.append(box.run(spec))
    first, second = (r.compile for r in results)
    assert first is not None and second is not None
    assert [r.verdict for r in results] == [Verdict.COMPILE_ERROR] * 2
    assert (first.cached, second.cached) == (False, True)
    assert "missing" in first.stderr and second.stderr == first.stderr
    assert second.verdict is Verdict.COMPILE_ERROR and second.cache_key == first.cache_key


def test_a_compile_stopped_by_a_limit_is_not_cached(sandbox: Sandbox) -> None:
    """A compile cut off by its time limit might pass on a quieter machine: not kept."""
    from assay.sandbox import Limits

    spec = RunSpec.single("c", C_PROGRAM % "too-slow-to-compile",
                          compile_limits=Limits(wall_s=0.005, cpu_s=0.005))
    for _ in range(2):
        result = sandbox.run(spec)
        assert result.verdict is Verdict.COMPILE_ERROR
        assert result.compile is not None and result.compile.cached is False


def test_concurrent_workers_compiling_the_same_source(tmp_path: Path) -> None:
    cache = CompileCache(tmp_path)
    with get_sandbox("bwrap", cache=cache) as box:
        spec = RunSpec.single("cpp", '#include <cstdio>\nint main(){std::puts("same");}\n')
        results = box.run_many([spec] * 4, workers=4)
    assert [r.verdict for r in results] == [Verdict.OK] * 4
    # One worker compiled; the others waited for it and found the artefact.
    assert sorted(r.compile.cached for r in results) == [False, True, True, True]  # type: ignore[union-attr]
    assert len(cache.entries()) == 1
    assert list((cache.root / ".staging").iterdir()) == []


def test_eviction_keeps_the_cache_bounded_and_spares_entries_in_use(tmp_path: Path) -> None:
    cache = CompileCache(tmp_path, max_bytes=10**12)
    with get_sandbox("bwrap", cache=cache) as box:
        specs = [RunSpec.single("c", C_PROGRAM % f"evict-{i}") for i in range(3)]
        keys = [box.run(s).compile.cache_key for s in specs]  # type: ignore[union-attr]
    assert len(cache.entries()) == 3
    cache.max_bytes = 1
    assert keys[0] is not None
    with cache.lookup(keys[0]) as in_use:
        assert in_use is not None
        cache.evict()
        assert [p.name for _, _, p in cache.entries()] == [keys[0]]
        assert (in_use / "main").exists()
    cache.evict()
    assert cache.entries() == []


def test_cache_location_from_environment(tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("ASSAY_CACHE_DIR", str(tmp_path / "elsewhere"))
    cache = CompileCache()
    assert cache.root == tmp_path / "elsewhere" / "compile"
    assert os.path.isdir(cache.root)


def test_staging_dirs_of_dead_processes_are_removed(tmp_path: Path) -> None:
    """A compile killed mid-way leaves a staging dir; the next cache cleans it up."""
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    cache = CompileCache(tmp_path)
    stale = cache.root / ".staging" / f"{dead.pid}-123-abcd"
    stale.mkdir()
    mine = cache.new_staging_dir()
    CompileCache(tmp_path)
    assert not stale.exists()
    assert mine.exists() and cache.staging_dirs_of_this_process() == [mine]
