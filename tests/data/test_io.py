"""Streaming IO: errors that name file, line and field; JSONL, gzip and Parquet round trips;
atomic writes; flat memory on a million rows."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from assay.data import (
    InputError,
    Problem,
    RecordWriter,
    Solution,
    SolutionReport,
    Status,
    TestOutcome,
    check_records,
    read_records,
    read_rows,
    write_records,
)
from assay.data.io import PARQUET_BATCH_ROWS, read_numbered_records

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = {"id": "p1", "language": "python", "tests": {"kind": "unit", "code": "assert 1\n"}}


def lines(path: Path, *rows: dict[str, Any] | str) -> Path:
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n"
                            for row in rows))
    return path


def problem_error(path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        check_records(path, Problem)
    return caught.value


def with_(**changes: Any) -> dict[str, Any]:
    return {**GOOD, "id": "p2", **changes}


# -- errors name the file, the line and the field ---------------------------------------------


def test_bad_json_names_its_line(tmp_path: Path) -> None:
    path = lines(tmp_path / "p.jsonl", GOOD, "", '{"id": "p3", "language": ')
    error = problem_error(path)
    assert (error.path, error.line) == (str(path), 3)  # the blank line 2 is counted
    assert str(error).startswith(f"{path}:3: not valid JSON")


@pytest.mark.parametrize(("row", "field", "message"), [
    ({"id": "p2", "language": "python"}, "tests", "missing (required)"),
    (with_(language="cobol"), "language", "unknown language 'cobol'"),
    (with_(tests='{"kind": "unit"}'), "tests", "valid dictionary"),
    (with_(tests={"kind": "io", "cases": [{"name": "a"}, {"name": "a"}]}), "tests.cases",
     "test case name 'a' appears twice"),
    (with_(tests={"kind": "io", "cases": [{"name": "a"}, {"name": 5}]}),
     "tests.cases[1].name", "valid string"),
    (with_(tests={"kind": "io", "timeout_s": -1}), "tests.timeout_s", "greater than 0"),
    (with_(colour="red"), "colour", "Extra inputs are not permitted"),
])
def test_invalid_row_names_line_and_field(tmp_path: Path, row: dict[str, Any], field: str,
                                          message: str) -> None:
    path = lines(tmp_path / "p.jsonl", GOOD, row)
    error = problem_error(path)
    assert (error.line, error.field) == (2, field)
    assert message in error.message
    assert str(error).startswith(f"{path}:2: field {field!r}: ")


def test_a_string_is_never_taken_for_a_nested_record_in_jsonl(tmp_path: Path) -> None:
    # JSON text where an object belongs is a wrong type, not something to decode quietly.
    path = lines(tmp_path / "p.jsonl", with_(tests=json.dumps(GOOD["tests"])))
    assert problem_error(path).field == "tests"


@pytest.mark.parametrize(("text", "message"), [
    ("[1, 2]", "expected a JSON object, got list"),
    ('"just a string"', "expected a JSON object, got str"),
])
def test_rows_must_be_objects(tmp_path: Path, text: str, message: str) -> None:
    path = lines(tmp_path / "p.jsonl", GOOD, text)
    assert problem_error(path).message == message


def test_a_json_array_file_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps([GOOD, GOOD], indent=2))
    error = problem_error(path)
    assert error.line == 1 and "JSON array" in error.message and "jq" in error.message


def test_unreadable_files(tmp_path: Path) -> None:
    assert problem_error(tmp_path / "missing.jsonl").message == "no such file"
    assert "directory" in problem_error(tmp_path).message
    (tmp_path / "fake.jsonl.gz").write_text("not gzip\n")
    assert "cannot read" in problem_error(tmp_path / "fake.jsonl.gz").message
    (tmp_path / "latin1.jsonl").write_bytes(json.dumps(GOOD).encode() + b'\n{"id": "\xe9"}\n')
    error = problem_error(tmp_path / "latin1.jsonl")
    assert "UTF-8" in error.message
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 nothing like parquet")
    assert "Parquet" in problem_error(tmp_path / "bad.parquet").message


def test_truncated_gzip_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    write_records(path, [GOOD] * 2000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "cannot read" in problem_error(path).message


def test_the_error_stops_reading_at_the_bad_row(tmp_path: Path) -> None:
    path = lines(tmp_path / "p.jsonl", GOOD, with_(language="cobol"), with_(id="p9"))
    seen = []
    with pytest.raises(InputError):
        for problem in read_records(path, Problem):
            seen.append(problem.id)
    assert seen == ["p1"]


def test_numbered_records(tmp_path: Path) -> None:
    path = lines(tmp_path / "p.jsonl", GOOD, "", with_())
    assert [(n, p.id) for n, p in read_numbered_records(path, Problem)] == [(1, "p1"),
                                                                           (3, "p2")]


# -- round trips ------------------------------------------------------------------------------


def fixture_problems() -> list[Problem]:
    return list(read_records(FIXTURES / "native_problems.jsonl", Problem))


@pytest.mark.parametrize("suffix", [".parquet", ".pq", ".jsonl.gz", ".jsonl"])
def test_round_trip_through_every_format(tmp_path: Path, suffix: str) -> None:
    problems = fixture_problems()
    assert write_records(tmp_path / f"p{suffix}", problems) == 3
    assert list(read_records(tmp_path / f"p{suffix}", Problem)) == problems


def test_jsonl_to_parquet_to_jsonl_is_the_same(tmp_path: Path) -> None:
    original = FIXTURES / "native_problems.jsonl"
    write_records(tmp_path / "p.parquet", read_records(original, Problem))
    write_records(tmp_path / "p.jsonl", read_records(tmp_path / "p.parquet", Problem))
    again = list(read_records(tmp_path / "p.jsonl", Problem))
    assert again == list(read_records(original, Problem))
    call = again[2].tests  # nested suites survive, down to kwargs and float expectations
    assert call.kind == "call" and call.cases[0].args == [[1, 2]]
    assert call.cases[0].expected == 1.5 and call.cases[2].kwargs == {"xs": [1, 1, 4]}
    assert again[0].tests.cases[1].name == "test_negative"


def test_parquet_rows_read_as_the_jsonl_rows(tmp_path: Path) -> None:
    # read_rows (used by the verify pipeline) gives the same dicts for both formats.
    problems = fixture_problems()
    write_records(tmp_path / "p.jsonl", problems)
    write_records(tmp_path / "p.parquet", problems)
    assert [row for _, row in read_rows(tmp_path / "p.parquet")] == \
        [row for _, row in read_rows(tmp_path / "p.jsonl")]


def test_parquet_keeps_scalar_columns_typed(tmp_path: Path) -> None:
    report = SolutionReport(problem_id="p", solution_id="s", language="python", code="x",
                            outcomes=[TestOutcome(name="t", status=Status.FAIL, message="m")],
                            passed=0, total=1, pass_fraction=0.0, score=0.0)
    write_records(tmp_path / "r.parquet", [report])
    schema = pq.ParquetFile(tmp_path / "r.parquet").schema_arrow
    assert str(schema.field("passed").type) == "int64"
    assert str(schema.field("pass_fraction").type) == "double"
    assert str(schema.field("outcomes").type) == "string"  # nested: JSON text
    assert list(read_records(tmp_path / "r.parquet", SolutionReport)) == [report]


def test_parquet_values_missing_from_the_first_batch(tmp_path: Path) -> None:
    # A column that is null in the whole first row group still takes values later.
    count = PARQUET_BATCH_ROWS * 2 + 5
    problems = [Problem(id=f"p{i}", language="python", tests={"kind": "unit"},
                        reference=None if i < PARQUET_BATCH_ROWS + 3 else f"ref {i}",
                        difficulty=None if i < count - 1 else "hard")
                for i in range(count)]
    write_records(tmp_path / "p.parquet", problems)
    assert list(read_records(tmp_path / "p.parquet", Problem)) == problems
    rows: list[dict[str, Any]] = [{"n": i, "x": None if i < PARQUET_BATCH_ROWS else i,
                                   "nested": {"i": i} if i % 2 else [i], "text": "[1]"}
                                  for i in range(count)]
    write_records(tmp_path / "rows.parquet", rows)
    assert [row for _, row in read_rows(tmp_path / "rows.parquet")] == rows


def test_parquet_refuses_a_row_with_new_columns(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="surprise not in the file's schema"), \
            RecordWriter(tmp_path / "rows.parquet") as writer:
        for i in range(PARQUET_BATCH_ROWS + 1):
            writer.write({"a": i})
        writer.write({"a": 1, "surprise": 2})
        writer.close()
    assert not (tmp_path / "rows.parquet").exists()


def test_empty_parquet_files_are_readable(tmp_path: Path) -> None:
    with RecordWriter(tmp_path / "typed.parquet", model=Problem):
        pass
    assert "tests" in pq.ParquetFile(tmp_path / "typed.parquet").schema_arrow.names
    write_records(tmp_path / "untyped.parquet", [])
    for name in ("typed.parquet", "untyped.parquet"):
        assert list(read_records(tmp_path / name, Problem)) == []


def test_gzip_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl.gz"
    solutions = [Solution(id=f"s{i}", problem_id="p", code=f"print({i})  # ✓")
                 for i in range(100)]
    write_records(path, solutions)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        assert json.loads(handle.readline())["code"] == "print(0)  # ✓"
    assert list(read_records(path, Solution)) == solutions


def test_legacy_parquet_without_column_names_is_still_decoded(tmp_path: Path) -> None:
    # Files written before the JSON columns were named in the schema metadata.
    import pyarrow as pa

    problem = fixture_problems()[2]
    row = {key: json.dumps(value) if isinstance(value, (dict, list)) else value
           for key, value in problem.model_dump(mode="json").items()}
    pq.write_table(pa.Table.from_pylist([row]), tmp_path / "old.parquet")
    assert list(read_records(tmp_path / "old.parquet", Problem)) == [problem]


# -- atomic writes ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".parquet"])
def test_an_error_inside_the_writer_keeps_the_old_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out{suffix}"
    old = [Solution(id="old", problem_id="p", code="")]
    write_records(path, old)
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="boom"), RecordWriter(path) as writer:
        for i in range(PARQUET_BATCH_ROWS * 2):  # past a Parquet row group
            writer.write(Solution(id=f"new{i}", problem_id="p", code=""))
        raise RuntimeError("boom")
    assert path.read_bytes() == before
    assert list(read_records(path, Solution)) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp file left


def test_nothing_appears_before_close(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    writer = RecordWriter(path)
    writer.write(Solution(id="s", problem_id="p", code=""))
    assert not path.exists()
    writer.close()
    assert path.exists() and writer.count == 1
    writer.close()  # again: nothing happens
    with pytest.raises(ValueError, match="after close"):
        writer.write(Solution(id="t", problem_id="p", code=""))


def test_two_writers_of_one_process_do_not_share_a_temp_file(tmp_path: Path) -> None:
    first, second = RecordWriter(tmp_path / "a.jsonl"), RecordWriter(tmp_path / "a.jsonl")
    first.write({"n": 1})
    second.write({"n": 2})
    second.close(commit=False)
    first.close()
    assert [row for _, row in read_rows(tmp_path / "a.jsonl")] == [{"n": 1}]


# -- memory stays flat ------------------------------------------------------------------------

MILLION = 1_000_000
# Growth of the peak RSS allowed while streaming. Keeping the rows would cost far more: the
# file alone is about 65 MB, and a million Solution objects take about 700 MB.
RSS_GROWTH_BOUND_KIB = 24 * 1024

STREAM = textwrap.dedent("""
    import json, resource, sys
    from assay.data import RecordWriter, Solution, read_records

    def peak_kib():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    with RecordWriter(sys.argv[2]) as writer:
        for index, record in enumerate(read_records(sys.argv[1], Solution)):
            writer.write(record)
            if index == 20_000:  # imports, caches and buffers are warm by now
                base = peak_kib()
    print(json.dumps({"base": base, "peak": peak_kib(), "count": writer.count}))
""")


@pytest.mark.slow
def test_streaming_a_million_rows_keeps_memory_flat(tmp_path: Path) -> None:
    source, target = tmp_path / "million.jsonl", tmp_path / "copy.jsonl"
    with source.open("w") as handle:
        for i in range(MILLION):
            handle.write(f'{{"id": "s{i:07d}", "problem_id": "p{i % 1000}", '
                         f'"code": "print({i})"}}\n')
    assert source.stat().st_size > 2 * RSS_GROWTH_BOUND_KIB * 1024
    # A fresh interpreter, so that the peak RSS is this job's and nothing else's.
    done = subprocess.run([sys.executable, "-c", STREAM, str(source), str(target)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["count"] == MILLION
    growth = result["peak"] - result["base"]
    assert growth < RSS_GROWTH_BOUND_KIB, f"peak RSS grew by {growth} KiB while streaming"
    with target.open() as handle:
        assert sum(1 for _ in handle) == MILLION
