"""Per-run cost of a trivial program under the bwrap sandbox vs the same program spawned bare.

For each language, the hello-world program of the conformance suite is run N times through
``Sandbox.run`` (compiled languages hit the compile cache, so this is the run cost) and N
times as a bare ``subprocess.run`` of the very same command line on the host (the baseline),
interleaved so that both see the same machine state. Prints medians, the overhead in ms and
the ratio sandbox / bare. Python runs in a warm executor (the default); its cold path (a new
sandbox and interpreter per run) is a row of its own.

Then the warm executor's cost per job: a Python program that does nothing, run warm and
cold, against a bare ``python3 -c pass`` spawned on the host (the baseline a warm job must
beat) and a bare ``python3 launch.py main.py`` (what a cold run starts).

    python benchmarks/sandbox_overhead.py              # all languages, 30 runs each
    python benchmarks/sandbox_overhead.py -n 50 -l python -l c --json out.json
    python benchmarks/sandbox_overhead.py --warm-only -n 200
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


def warm_per_job(repeat: int, warm: object, cold: object) -> list[tuple[str, float]]:
    """Median ms of a do-nothing Python job: warm, cold, and the bare baselines."""
    from assay.sandbox import Sandbox

    assert isinstance(warm, Sandbox) and isinstance(cold, Sandbox)
    spec = RunSpec.single("python", "pass")
    python = get_language("python").toolchain().exe("python3")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "main.py").write_text("pass\n")
        commands = {
            "bare python3 -c pass (baseline)": lambda: subprocess.run(
                [python, "-c", "pass"], check=False),
            "bare python3 launch.py main.py": lambda: subprocess.run(
                [python, str(LAUNCHERS / "launch.py"), "main.py"], cwd=tmp, check=False),
            "assay cold job (new sandbox)": lambda: cold.run(spec),
            "assay warm job (forked)": lambda: warm.run(spec),
        }
        for command in commands.values():  # start the executor, fill the page cache
            command()
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(repeat):  # interleaved, so that every row sees the same machine
            for name, command in commands.items():
                started = time.perf_counter()
                command()
                times[name].append(time.perf_counter() - started)
    return [(name, statistics.median(values) * 1000) for name, values in times.items()]


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
    parser.add_argument("--warm-only", action="store_true",
                        help="only the warm executor's cost per job")
    args = parser.parse_args()
    languages = args.language or [lang.name for lang in all_languages()]
    with get_sandbox("bwrap") as sandbox, get_sandbox("bwrap", warm=False) as cold:
        job_rows = warm_per_job(args.repeat, sandbox, cold)
        print(f"Python job that does nothing, median of {args.repeat} interleaved runs:")
        for name, ms in job_rows:
            print(f"  {name:<36}{ms:>8.2f} ms")
        per_job = dict(job_rows)
        baseline = per_job["bare python3 -c pass (baseline)"]
        warm_ms = per_job["assay warm job (forked)"]
        cold_ms = per_job["assay cold job (new sandbox)"]
        print(f"  warm job / bare python3 -c pass: {warm_ms / baseline:.2f}x; "
              f"cold / warm: {cold_ms / warm_ms:.2f}x\n")
        if args.warm_only:
            if args.json:
                args.json.write_text(json.dumps({"per_job_ms": per_job}, indent=2))
            return
        print(f"sandbox: bwrap ({'; '.join(getattr(sandbox, 'isolation_notes', []))}); "
              f"baseline: the same command spawned bare; median of {args.repeat} runs")
        header = (f"{'language':<14}{'sandbox ms':>12}{'bare ms':>10}{'overhead ms':>13}"
                  f"{'ratio':>8}")
        print(header)
        print("-" * len(header))
        rows = []
        for language in languages:
            row = measure(language, args.repeat, sandbox)
            rows.append(row)
            if language == "python":
                print_row(row)
                row = measure(language, args.repeat, cold)
                row["language"] = "python, cold"
                rows.append(row)
            print_row(row)
        overheads = [float(r["overhead_ms"]) for r in rows]  # type: ignore[arg-type]
        print(f"median overhead over languages: {statistics.median(overheads):.2f} ms")
        print("\nfixed cost, median ms:")
        for name, ms in floor(args.repeat, sandbox):
            print(f"  {name:<42}{ms:>8.2f}")
    if args.json:
        args.json.write_text(json.dumps({"per_job_ms": per_job, "languages": rows}, indent=2))


def print_row(row: dict[str, object]) -> None:
    print(f"{row['language']!s:<14}{row['sandbox_ms']:>12.2f}{row['bare_ms']:>10.2f}"
          f"{row['overhead_ms']:>13.2f}{row['ratio']:>7.2f}x")


if __name__ == "__main__":
    main()
