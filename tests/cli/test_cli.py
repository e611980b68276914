"""The console script, run as a user runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ASSAY = [sys.executable, "-m", "assay.cli.main"]


def assay(*args: str, cwd: Path | None = None, cache: Path | None = None
          ) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if cache is not None:
        env["ASSAY_CACHE_DIR"] = str(cache)
    return subprocess.run([*ASSAY, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300, check=False)


@pytest.fixture
def hello(tmp_path: Path) -> Path:
    path = tmp_path / "hello.py"
    path.write_text("import sys\nprint('hello', sys.stdin.read().strip(), *sys.argv[1:])\n")
    return path


def test_run_prints_ok(hello: Path) -> None:
    done = assay("run", str(hello))
    assert done.returncode == 0, done.stderr
    assert "hello" in done.stdout and "OK" in done.stdout


def test_run_json_has_every_field(hello: Path, tmp_path: Path) -> None:
    stdin = tmp_path / "in.txt"
    stdin.write_text("world\n")
    done = assay("run", str(hello), "--stdin", str(stdin), "--json", "--", "a1")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    for key in ("verdict", "exit_code", "signal", "stdout", "stderr", "stdout_truncated",
                "stderr_truncated", "wall_s", "cpu_s", "peak_memory_mb", "compile"):
        assert key in result
    assert result["verdict"] == "OK"
    assert result["stdout"] == "hello world a1\n"
    assert result["compile"] is None


def test_run_cold_gives_the_warm_result(hello: Path, tmp_path: Path) -> None:
    stdin = tmp_path / "in.txt"
    stdin.write_text("world\n")
    results = [json.loads(assay("run", str(hello), "--stdin", str(stdin), "--json",
                                *flag).stdout) for flag in ([], ["--cold"])]
    for result in results:
        del result["wall_s"], result["cpu_s"], result["peak_memory_mb"]
    assert results[0] == results[1]
    assert results[0]["stdout"] == "hello world\n"


def test_run_compiled_language_reports_compile_step(tmp_path: Path) -> None:
    source = tmp_path / "main.c"
    source.write_text('#include <stdio.h>\nint main(void){puts("c");return 0;}\n')
    done = assay("run", str(source), "--json", cache=tmp_path / "cache")
    result = json.loads(done.stdout)
    assert result["verdict"] == "OK"
    assert result["compile"]["verdict"] == "OK" and result["compile"]["cached"] is False


def test_exit_codes_mean_something(tmp_path: Path) -> None:
    loop = tmp_path / "loop.sh"
    loop.write_text("while :; do :; done\n")
    done = assay("run", str(loop), "--time-limit", "0.5", "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["verdict"] == "TIME_LIMIT"

    unknown = tmp_path / "notes.txt"
    unknown.write_text("hi")
    done = assay("run", str(unknown))
    assert done.returncode == 2
    assert "--lang" in done.stderr

    done = assay("run", str(unknown), "--lang", "cobol")
    assert done.returncode == 2
    assert "unknown language 'cobol'" in done.stderr

    done = assay("run", str(loop), "--backend", "docker")
    assert done.returncode == 3


def test_lang_flag_overrides_the_extension(tmp_path: Path) -> None:
    script = tmp_path / "script.txt"
    script.write_text("puts 6 * 7\n")
    done = assay("run", str(script), "--lang", "ruby", "--json")
    assert json.loads(done.stdout)["stdout"] == "42\n"


def test_languages_lists_every_language_with_its_version() -> None:
    done = assay("languages", "--json")
    assert done.returncode == 0, done.stdout
    rows = json.loads(done.stdout)
    assert len(rows) == 11
    assert all(row["available"] and row["version"] for row in rows)
    table = assay("languages")
    assert "typescript" in table.stdout and "available" in table.stdout


def test_help_shows_examples() -> None:
    for command in ("run", "languages", "selfcheck"):
        done = assay(command, "--help")
        assert done.returncode == 0
        assert "Examples" in done.stdout and "assay " + command in done.stdout


def test_selfcheck_subset_prints_a_passing_table() -> None:
    done = assay("selfcheck", "--lang", "bash")
    assert done.returncode == 0, done.stdout
    assert "FAIL" not in done.stdout
    assert "passed, 0 failed" in done.stdout
