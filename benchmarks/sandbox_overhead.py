"""Per-run cost of a trivial program under the bwrap sandbox vs the same program spawned bare.

For each language, the hello-world program of the conformance suite is run N times through
``Sandbox.run`` (compiled languages hit the compile cache, so this is the run cost) and N
times as a bare ``subprocess.run`` of the very same command line on the host (the baseline),
interleaved so that both see the same machine state. Prints medians, the overhead in ms and
the ratio sandbox / bare.

    python benchmarks/sandbox_overhead.py              # all languages, 30 runs each
    python benchmarks/sandbox_overhead.py -n 50 -l python -l c --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from assay.conformance.programs import BASIC, HELLO_OUTPUT
from assay.sandbox import RunSpec, Verdict, all_languages, get_language, get_sandbox
from assay.sandbox.bwrap import LAUNCHERS
from assay.sandbox.languages.base import BUILD_DIR, LAUNCHER_DIR, WORK_DIR
from assay.sandbox.local import to_host_path


def bare_argv(language: str, artefact: Path | None, work: Path) -> list[str]:
    """The sandbox's command line for the language, with its paths mapped to host paths."""
    lang = get_language(language)
    paths = {WORK_DIR: str(work), LAUNCHER_DIR: str(LAUNCHERS)}
    if artefact is not None:
        paths[BUILD_DIR] = str(artefact)
    return [to_host_path(arg, paths)
            for arg in lang.run_argv(lang.toolchain(), lang.default_entry)]


def measure(language: str, repeat: int, sandbox: object) -> dict[str, object]:
    from assay.sandbox import Sandbox

    assert isinstance(sandbox, Sandbox)
    lang = get_language(language)
    spec = RunSpec.single(language, BASIC[language]["hello"])
    first = sandbox.run(spec)  # compiles (or warms the interpreter's page cache)
    assert first.verdict is Verdict.OK and first.stdout == HELLO_OUTPUT, first
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / lang.default_entry).write_text(BASIC[language]["hello"])
        key = first.compile.cache_key if first.compile else None
        with sandbox.cache.lookup(key) if key else nullcontext() as artefact:
            argv = bare_argv(language, artefact, work)
            env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8"}
            env.update(lang.sandbox_env(lang.toolchain()))
            boxed, bare = [], []
            for _ in range(repeat):
                started = time.perf_counter()
                result = sandbox.run(spec)
                boxed.append(time.perf_counter() - started)
                assert result.verdict is Verdict.OK
                started = time.perf_counter()
                done = subprocess.run(argv, cwd=work, env=env, capture_output=True, check=False)
                bare.append(time.perf_counter() - started)
                assert done.stdout.decode() == HELLO_OUTPUT, done.stderr
    boxed_ms, bare_ms = statistics.median(boxed) * 1000, statistics.median(bare) * 1000
    return {"language": language, "sandbox_ms": round(boxed_ms, 2), "bare_ms": round(bare_ms, 2),
            "overhead_ms": round(boxed_ms - bare_ms, 2), "ratio": round(boxed_ms / bare_ms, 2)}


def floor(repeat: int, sandbox: object) -> list[tuple[str, float]]:
    """Where the fixed cost goes: /bin/true bare, under a bare bwrap, and through assay."""
    from assay.sandbox import Limits, Sandbox, Step

    assert isinstance(sandbox, Sandbox)
    toolchain = get_language("bash").toolchain()
    step = Step(argv=("/bin/true",), files={"empty": b""}, stdin=b"", env={"PATH": "/usr/bin"},
                limits=Limits(), toolchain=toolchain)
    commands = {
        "/bin/true bare": lambda: subprocess.run(["/bin/true"], check=False),
        "bwrap --unshare-all --ro-bind / / true": lambda: subprocess.run(
            ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "/bin/true"], check=False),
        "assay execute(/bin/true)": lambda: sandbox.execute(step),
    }
    rows = []
    for name, command in commands.items():
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            command()
            times.append(time.perf_counter() - started)
        rows.append((name, statistics.median(times) * 1000))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--repeat", type=int, default=30)
    parser.add_argument("-l", "--language", action="append")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    languages = args.language or [lang.name for lang in all_languages()]
    with get_sandbox("bwrap") as sandbox:
        print(f"sandbox: bwrap ({'; '.join(getattr(sandbox, 'isolation_notes', []))}); "
              f"baseline: the same command spawned bare; median of {args.repeat} runs")
        header = f"{'language':<12}{'sandbox ms':>12}{'bare ms':>10}{'overhead ms':>13}{'ratio':>8}"
        print(header)
        print("-" * len(header))
        rows = []
        for language in languages:
            row = measure(language, args.repeat, sandbox)
            rows.append(row)
            print(f"{row['language']:<12}{row['sandbox_ms']:>12.2f}{row['bare_ms']:>10.2f}"
                  f"{row['overhead_ms']:>13.2f}{row['ratio']:>7.2f}x")
        overheads = [float(r["overhead_ms"]) for r in rows]  # type: ignore[arg-type]
        print(f"median overhead over languages: {statistics.median(overheads):.2f} ms")
        print("\nfixed cost, median ms:")
        for name, ms in floor(args.repeat, sandbox):
            print(f"  {name:<42}{ms:>8.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
