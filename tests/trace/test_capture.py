"""Capture in the real sandbox: the determinism filter, the fixed environment, languages,
the run store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.data import InputError, read_rows, write_records
from assay.engine import RunStore
from assay.sandbox import Sandbox
from assay.trace import (
    CaptureConfig,
    DropReason,
    TraceProgram,
    TracerConfig,
    TraceRecord,
    capture,
    capture_programs,
)

TRACED = CaptureConfig(instrument=True, timeout_s=3)

OBJECT_SET = '''\
class Node:
    def __init__(self, name):
        self.name = name

def f(n):
    nodes = {Node(i) for i in range(n)}
    order = []
    for node in nodes:
        order.append(node.name)
    return order
'''

STRING_SET = '''\
def f(words):
    out = []
    for w in set(words):
        out.append(w)
    return out
'''


def program(program_id: str, code: str, **fields: object) -> TraceProgram:
    return TraceProgram.model_validate({"id": program_id, "code": code, **fields})


def by_id(records: list[TraceRecord]) -> dict[str, TraceRecord]:
    return {record.id: record for record in records}


def test_time_unseeded_randomness_and_set_order_are_caught(sandbox: Sandbox) -> None:
    programs = [
        program("clock", "import time\nstarted = time.time()\n"),
        program("random", "import random\nvalue = random.random()\n"),
        program("objects", OBJECT_SET, input="20"),
        program("seeded", "import random\nrandom.seed(7)\nvalue = random.random()\n"),
        program("pure", "def f(x):\n    y = x * 2\n    return y + 1\n", input="20"),
        program("words", STRING_SET, input="['pear', 'apple', 'fig', 'kiwi', 'plum']"),
    ]
    records = by_id(capture_programs(sandbox, programs, TRACED))
    for name in ("clock", "random", "objects"):
        assert records[name].reason is DropReason.DIFFERS, records[name]
        assert "differ at event" in records[name].detail
    assert records["clock"].detail.startswith("runs 1 and 2 differ at event 1: "
                                              "'TRACE:VAR:<module>@2:started=")
    for name in ("seeded", "pure", "words"):  # PYTHONHASHSEED=0: string sets reproduce
        assert records[name].kept, records[name]
    assert records["pure"].trace == ("TRACE:IN:f@1:x=20\nTRACE:VAR:f@2:y=40\n"
                                     "TRACE:OUT:f@3:41")
    assert records["pure"].events[0] == {"type": "IN", "loc": "f@1", "state": "x=20"}
    assert records["pure"].stats.runs == 3 and records["pure"].stats.instrumented

    varied = by_id(capture_programs(sandbox, programs[-2:],
                                    CaptureConfig(instrument=True, vary_hash_seed=True)))
    assert varied["pure"].kept
    assert varied["words"].reason is DropReason.DIFFERS  # the hash seed changes the order


def test_programs_printing_their_own_traces(sandbox: Sandbox) -> None:
    emit = "import sys\ndef emit(s):\n    print('TRACE:VAR:main@1:' + s, file=sys.stderr)\n"
    programs = [
        program("clock", emit + "import time\nemit('t=%d' % time.time_ns())\n"),
        program("random", emit + "import random\nemit('r=%r' % random.random())\n"),
        program("ids", emit + "emit('id=%d' % (id(object()) % 100003))\n"),
        program("stdin", emit + "import sys\nfor n, line in enumerate(sys.stdin):\n"
                "    emit(f'{n}={line.strip()}')\nprint('noise', file=sys.stderr)\n",
                stdin="a\nb\n"),
    ]
    records = by_id(capture_programs(sandbox, programs, CaptureConfig()))
    assert {r.id for r in records.values() if r.reason is DropReason.DIFFERS} == \
        {"clock", "random", "ids"}
    assert records["stdin"].kept
    assert records["stdin"].trace == "TRACE:VAR:main@1:0=a\nTRACE:VAR:main@1:1=b"
    assert records["stdin"].stats.noise_lines == 1


def test_every_run_sees_the_same_environment_and_a_clean_slate(sandbox: Sandbox) -> None:
    """Guards against state leaking from one run into the next (files left in the work dir
    or /tmp, or a process left running, would make run 2 differ) and against a varying
    environment."""
    code = '''\
import os, sys
def emit(key, value):
    print(f"TRACE:VAR:env@1:{key}={value}", file=sys.stderr)
for key in ("TZ", "LC_ALL", "PYTHONHASHSEED"):
    emit(key, os.environ.get(key))
emit("cwd", os.getcwd())
emit("argv", sys.argv[1:])
emit("files", sorted(os.listdir(".")) + sorted(os.listdir("/tmp")))
open("left.txt", "w").write("x")
open("/tmp/left.txt", "w").write("x")
if os.fork() == 0:  # a daemon that would keep writing into the next runs
    os.setsid()
    while True:
        open("/tmp/late.txt", "w").write("x")
'''
    record = capture_programs(sandbox, [program("env", code, argv=["a", "b"])],
                              CaptureConfig())[0]
    assert record.kept, record.detail
    assert record.trace.splitlines() == [
        "TRACE:VAR:env@1:TZ=UTC", "TRACE:VAR:env@1:LC_ALL=C.UTF-8",
        "TRACE:VAR:env@1:PYTHONHASHSEED=0", "TRACE:VAR:env@1:cwd=/work/run",
        "TRACE:VAR:env@1:argv=['a', 'b']", "TRACE:VAR:env@1:files=[]"]


def test_drop_reasons(sandbox: Sandbox) -> None:
    programs = [
        program("raises", "def f(x):\n    return x[5]\n", input="[1]"),
        program("sleeps", "import time\ntime.sleep(30)\n"),
        program("floods", "def f():\n    n = 0\n    while True:\n        n += 1\n",
                input=""),
        program("silent", "print('no trace here')\n"),
        program("broken", "def f(:\n    pass\n"),
        program("exits", "import sys\nx = 1\nsys.exit(3)\n"),
    ]
    config = CaptureConfig(instrument=True, timeout_s=1, max_events=50,
                           tracer=TracerConfig(loop_iterations=1000))
    records = by_id(capture_programs(sandbox, programs, config))
    assert records["raises"].reason is DropReason.CRASHED
    assert "IndexError: list index out of range" in records["raises"].detail
    assert "TRACE:ERR:f@2:IndexError: list index out of range" in records["raises"].trace
    assert records["sleeps"].reason is DropReason.TIMED_OUT
    assert records["floods"].reason is DropReason.TOO_LONG
    assert "more than 50 events" in records["floods"].detail
    assert records["silent"].reason is DropReason.EMPTY
    assert records["broken"].reason is DropReason.COMPILE_ERROR
    assert "SyntaxError" in records["broken"].detail
    assert records["exits"].reason is DropReason.CRASHED
    assert "exited with code 3" in records["exits"].detail
    lenient = capture_programs(sandbox, [programs[0], programs[5]],
                               CaptureConfig(instrument=True, keep_errors=True))
    assert all(record.kept for record in lenient)


def test_a_test_script_drives_the_traced_program(sandbox: Sandbox) -> None:
    code = "def double(x):\n    y = x * 2\n    return y\n"
    script = "import program\nassert program.double(4) == 8\nprogram.double(1)\n"
    record = capture_programs(sandbox, [program("lib", code, script=script)], TRACED)[0]
    assert record.kept, record.detail
    assert record.trace.splitlines() == [
        "TRACE:IN:double@1:x=4", "TRACE:VAR:double@2:y=8", "TRACE:OUT:double@3:8",
        "TRACE:IN:double@1:x=1", "TRACE:VAR:double@2:y=2", "TRACE:OUT:double@3:2"]


def test_other_languages(sandbox: Sandbox) -> None:
    programs = [
        program("js", "const n = Number(process.argv[2]);\nlet s = 0;\n"
                "for (let i = 1; i <= n; i++) {\n"
                "  s += i; console.error(`TRACE:VAR:main@3:s=${s}`);\n}\n",
                language="javascript", argv=["3"]),
        program("js-clock", "console.error(`TRACE:VAR:main@1:t=${process.hrtime.bigint()}`);\n",
                language="javascript"),
        program("c", '#include <stdio.h>\nint main(void) {\n  int n; scanf("%d", &n);\n'
                "  for (int i = 1; i <= n; i++)\n"
                '    fprintf(stderr, "TRACE:LOOP:main@4:iter=%d\\n", i);\n'
                "  return 0;\n}\n", language="c", stdin="2\n"),
        program("c-broken", "int main(void) { return 0 }\n", language="c"),
        program("bash-random", 'echo "TRACE:VAR:main@1:r=$RANDOM$RANDOM" >&2\n',
                language="bash"),
    ]
    records = by_id(capture_programs(sandbox, programs, CaptureConfig()))
    assert records["js"].kept and records["js"].trace.splitlines() == [
        "TRACE:VAR:main@3:s=1", "TRACE:VAR:main@3:s=3", "TRACE:VAR:main@3:s=6"]
    assert records["c"].kept and records["c"].stats.events == 2
    assert records["c-broken"].reason is DropReason.COMPILE_ERROR
    assert records["js-clock"].reason is DropReason.DIFFERS
    assert records["bash-random"].reason is DropReason.DIFFERS


def test_capture_writes_in_order_and_reuses_the_store(sandbox: Sandbox, tmp_path: Path) -> None:
    rows = [{"id": f"p{i}", "code": f"def f(x):\n    return x + {i}\n", "input": str(i),
             "output": str(2 * i)} for i in range(5)]
    rows.insert(2, {"id": "noisy", "code": "import random\nx = random.random()\n"})
    write_records(tmp_path / "programs.jsonl", rows)
    with RunStore(tmp_path / "store.sqlite") as store:
        summary = capture(tmp_path / "programs.jsonl", tmp_path / "kept.jsonl", store, sandbox,
                          TRACED, dropped=tmp_path / "dropped.jsonl")
        assert (summary.programs, summary.kept, summary.from_store) == (6, 5, 0)
        assert summary.dropped == {"differs": 1}
        again = capture(tmp_path / "programs.jsonl", tmp_path / "kept2.jsonl", store, sandbox,
                        TRACED)
        assert again.from_store == 6 and again.kept == 5
    kept = [row for _, row in read_rows(tmp_path / "kept.jsonl")]
    assert [row["id"] for row in kept] == ["p0", "p1", "p2", "p3", "p4"]
    assert kept[3]["output"] == "6" and kept[3]["trace"].endswith("TRACE:OUT:f@2:6")
    dropped = [row for _, row in read_rows(tmp_path / "dropped.jsonl")]
    assert [(row["id"], row["reason"]) for row in dropped] == [("noisy", "differs")]
    assert (tmp_path / "kept.jsonl").read_text() == (tmp_path / "kept2.jsonl").read_text()


@pytest.mark.parametrize(("row", "field", "message"), [
    ({"id": "a", "code": "x", "language": "javascript", "input": "1"}, None, "Python"),
    ({"id": "a", "language": "python"}, "code", "missing"),
    ({"id": "a", "code": "x", "language": "cobol"}, "language", "cobol"),
    ({"id": "a", "code": "x", "input": "1", "script": "y"}, None, "either"),
])
def test_bad_input_names_file_line_and_field(sandbox: Sandbox, tmp_path: Path,
                                             row: dict[str, object], field: str | None,
                                             message: str) -> None:
    path = tmp_path / "programs.jsonl"
    path.write_text(json.dumps({"id": "ok", "code": "x = 1"}) + "\n" + json.dumps(row) + "\n")
    with RunStore(tmp_path / "s.sqlite") as store, pytest.raises(InputError) as caught:
        capture(path, tmp_path / "out.jsonl", store, sandbox, TRACED)
    assert caught.value.line == 2 and caught.value.path == str(path)
    assert caught.value.field == field and message in str(caught.value)
    assert not (tmp_path / "out.jsonl").exists()


def test_a_repeated_id_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    write_records(tmp_path / "p.jsonl", [{"id": "a", "code": "x = 1"}] * 2)
    with RunStore(tmp_path / "s.sqlite") as store, pytest.raises(InputError, match="twice"):
        capture(tmp_path / "p.jsonl", tmp_path / "out.jsonl", store, sandbox, TRACED)


def test_a_program_that_kills_the_runner_is_dropped_alone(sandbox: Sandbox) -> None:
    """Guards against one hostile program losing the results of its whole batch."""
    killer = "import os, signal\nfor pid in (os.getppid(), 2):\n    os.kill(pid, signal.SIGKILL)\n"
    programs = [program("before", "x = 1\n"), program("killer", killer),
                program("after", "y = 2\n")]
    records = by_id(capture_programs(sandbox, programs, TRACED))
    assert records["before"].kept and records["after"].kept
    assert records["after"].trace == "TRACE:VAR:<module>@1:y=2"
    assert records["killer"].reason is DropReason.CRASHED
    assert "died while running it" in records["killer"].detail
