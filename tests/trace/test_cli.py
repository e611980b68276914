"""``assay trace ...`` run as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from assay.data import read_rows, write_records
from assay.engine import RunStore

ASSAY = [sys.executable, "-m", "assay.cli.main"]


def assay(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ASSAY, *args], capture_output=True, text=True, timeout=300,
                          check=False)


def rows(path: Path) -> list[dict[str, Any]]:
    return [row for _, row in read_rows(path)]


CRUX = [{"id": "a", "code": "def f(x):\n    return x * 2\n", "input": "3", "output": "6"},
        {"id": "b", "code": "def f(s):\n    return s[::-1]\n", "input": "'ab'",
         "output": "'ba'"},
        {"id": "c", "code": "def f(x):\n    return x + 1\n", "input": "1", "output": "3"}]


def test_run_writes_kept_and_dropped_traces(tmp_path: Path) -> None:
    programs = [*CRUX, {"id": "clock", "code": "import time\nnow = time.time()\n"}]
    write_records(tmp_path / "programs.jsonl", programs)
    done = assay("trace", "run", str(tmp_path / "programs.jsonl"), "-o",
                 str(tmp_path / "traces.jsonl"), "--instrument", "--dropped",
                 str(tmp_path / "dropped.jsonl"), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["programs"] == 4 and summary["kept"] == 3
    assert summary["dropped"]["differs"] == 1 and summary["incomplete"] == 0
    kept = rows(tmp_path / "traces.jsonl")
    assert kept[0]["trace"] == "TRACE:IN:f@1:x=3\nTRACE:OUT:f@2:6"
    assert kept[0]["language"] == "python" and kept[0]["stats"]["runs"] == 3
    assert rows(tmp_path / "dropped.jsonl")[0]["reason"] == "differs"
    table = assay("trace", "run", str(tmp_path / "programs.jsonl"), "-o",
                  str(tmp_path / "traces.jsonl"), "--instrument")
    assert table.returncode == 0 and "Trace capture" in table.stdout
    assert "reused from the run store" in table.stdout


def test_run_refuses_bad_input_before_running(tmp_path: Path) -> None:
    path = tmp_path / "programs.jsonl"
    path.write_text(json.dumps(CRUX[0]) + "\n" + json.dumps({"id": "x", "code": 5}) + "\n")
    done = assay("trace", "run", str(path), "-o", str(tmp_path / "out.jsonl"))
    assert done.returncode == 2
    assert f"{path}:2" in done.stderr and "code" in done.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_instrument_prints_the_trace(tmp_path: Path) -> None:
    source = tmp_path / "prog.py"
    source.write_text("import sys\nwords = sys.stdin.read().split()\ncount = len(words)\n"
                      "def f(a, b=2):\n    return a * b\n")
    (tmp_path / "in.txt").write_text("x y z\n")
    script = assay("trace", "instrument", str(source), "--stdin", str(tmp_path / "in.txt"))
    assert script.returncode == 0, script.stderr
    assert script.stdout.splitlines() == ["TRACE:VAR:<module>@2:words=['x', 'y', 'z']",
                                          "TRACE:VAR:<module>@3:count=3"]
    call = assay("trace", "instrument", str(source), "--call", "f(4, b=3)", "--json")
    record = json.loads(call.stdout)
    assert record["trace"] == "TRACE:IN:f@4:a=4, b=3\nTRACE:OUT:f@5:12" and record["kept"]
    crash = assay("trace", "instrument", str(source), "--call", "f(None)")
    assert crash.returncode == 1 and "TypeError" in crash.stderr
    assert "TRACE:IN:f@4:a=None, b=2" in crash.stdout
    bad = assay("trace", "instrument", str(source), "--call", "f(")
    assert bad.returncode == 2


def test_tasks_and_scores(tmp_path: Path) -> None:
    write_records(tmp_path / "crux.jsonl", CRUX)
    done = assay("trace", "tasks", str(tmp_path / "crux.jsonl"), "-o",
                 str(tmp_path / "tasks.jsonl"), "--failures", str(tmp_path / "bad.jsonl"),
                 "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["rows"], summary["reproduced"], summary["tasks"]) == (3, 2, 4)
    assert summary["not_reproduced"] == [{"id": "c", "reason": "returned 2"}]
    assert rows(tmp_path / "bad.jsonl")[0]["actual"] == "2"
    tasks = rows(tmp_path / "tasks.jsonl")
    assert [t["id"] for t in tasks] == ["a/output", "a/input", "b/output", "b/input"]
    assert "assert f(3) == ??" in tasks[0]["prompt"]

    predictions = [{"id": "a/output", "prediction": "6"}, {"id": "a/input", "prediction": "4"},
                   {"id": "b/output", "prediction": "'ba'"}, {"id": "zzz", "prediction": "1"}]
    write_records(tmp_path / "pred.jsonl", predictions)
    scored = assay("trace", "score", "--pred", str(tmp_path / "pred.jsonl"), "--gold",
                   str(tmp_path / "tasks.jsonl"), "-o", str(tmp_path / "per.jsonl"), "--json")
    assert scored.returncode == 0, scored.stderr
    result = json.loads(scored.stdout)
    assert (result["samples"], result["correct"], result["missing"], result["extra"]) == \
        (4, 2, 1, 1)
    assert result["by_kind"]["input"] == {"samples": 2, "correct": 0, "accuracy": 0.0}
    per = {row["id"]: row for row in rows(tmp_path / "per.jsonl")}
    assert per["a/input"]["actual"] == "8" and per["b/input"]["error"] == "no prediction"

    write_records(tmp_path / "out_pred.jsonl", [{"id": "a", "prediction": "6"},
                                                {"id": "b", "prediction": "'ab'"}])
    crux = assay("trace", "score", "--pred", str(tmp_path / "out_pred.jsonl"), "--gold",
                 str(tmp_path / "crux.jsonl"), "--task", "output", "--json")
    assert json.loads(crux.stdout)["correct"] == 1
    no_task = assay("trace", "score", "--pred", str(tmp_path / "out_pred.jsonl"), "--gold",
                    str(tmp_path / "crux.jsonl"))
    assert no_task.returncode == 2 and "--task" in no_task.stderr


def test_score_traces(tmp_path: Path) -> None:
    gold = [{"id": "1", "trace": "TRACE:IN:f@1:\nTRACE:VAR:f@2:a=1\nTRACE:OUT:f@3:1"},
            {"id": "2", "trace": "TRACE:IN:g@1:\nTRACE:OUT:g@2:None"}]
    predicted = [{"id": "1", "trace": ["TRACE:IN:f@1:", "TRACE:VAR:f@2:a=1",
                                       "TRACE:OUT:f@3:1"]},
                 {"id": "2", "trace": "TRACE:IN:g@1:\nTRACE:OUT:g@2:0"}]
    write_records(tmp_path / "gold.jsonl", gold)
    write_records(tmp_path / "pred.jsonl", predicted)
    done = assay("trace", "score", "--pred", str(tmp_path / "pred.jsonl"), "--gold",
                 str(tmp_path / "gold.jsonl"), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["mode"] == "trace" and result["exact_match"] == 0.5
    assert result["rouge2_f1"] == pytest.approx(0.5)
    (tmp_path / "pred.jsonl").write_text(json.dumps({"id": "1", "trace": 7}) + "\n")
    bad = assay("trace", "score", "--pred", str(tmp_path / "pred.jsonl"), "--gold",
                str(tmp_path / "gold.jsonl"))
    assert bad.returncode == 2 and f"{tmp_path / 'pred.jsonl'}:1" in bad.stderr
    assert "trace" in bad.stderr


def _comparable(path: Path) -> list[dict[str, Any]]:
    """Records without what differs between two honest runs: timings."""
    out = []
    for row in rows(path):
        row["stats"].pop("time_s")
        out.append(row)
    return out


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_output_of_an_uninterrupted_run(tmp_path: Path) -> None:
    """Guards against a resume that loses, repeats or reorders traces after SIGKILL."""
    programs = [{"id": f"p{i:02d}", "code": f"import time\ntime.sleep(0.05)\nx = {i}\n"}
                for i in range(24)]
    write_records(tmp_path / "programs.jsonl", programs)
    common = [*ASSAY, "trace", "run", str(tmp_path / "programs.jsonl"), "--instrument",
              "--workers", "2", "--batch-size", "2"]
    killed_store = tmp_path / "killed.sqlite"
    process = subprocess.Popen([*common, "-o", str(tmp_path / "resumed.jsonl"), "--store",
                                str(killed_store)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if killed_store.exists() and RunStore(killed_store).count() >= 4:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    with RunStore(killed_store) as store:
        finished = store.count()
    assert 4 <= finished < 24, "the kill must land part-way"
    assert not (tmp_path / "resumed.jsonl").exists()
    resumed = subprocess.run([*common, "-o", str(tmp_path / "resumed.jsonl"), "--store",
                              str(killed_store), "--json"], capture_output=True, text=True,
                             timeout=300, check=False)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["from_store"] == finished
    whole = subprocess.run([*common, "-o", str(tmp_path / "whole.jsonl"), "--store",
                            str(tmp_path / "whole.sqlite")], capture_output=True, text=True,
                           timeout=300, check=False)
    assert whole.returncode == 0, whole.stderr
    assert _comparable(tmp_path / "resumed.jsonl") == _comparable(tmp_path / "whole.jsonl")
    assert [row["id"] for row in rows(tmp_path / "resumed.jsonl")] == \
        [p["id"] for p in programs]
    with RunStore(killed_store) as store:
        assert store.count() == 24  # nothing duplicated


def test_help_shows_examples() -> None:
    for command in ("run", "instrument", "tasks", "score"):
        done = assay("trace", command, "--help")
        assert done.returncode == 0
        assert "Examples" in done.stdout and f"assay trace {command}" in done.stdout
