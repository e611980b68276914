from __future__ import annotations

import multiprocessing
from pathlib import Path

from assay.engine import RunStore, content_key, run_streaming


def test_content_key_is_stable_and_order_independent_for_mappings() -> None:
    assert content_key("a", {"x": 1, "y": 2}) == content_key("a", {"y": 2, "x": 1})
    assert content_key("a", {"x": 1}) != content_key("a", {"x": 2})


def test_results_survive_reopening_and_the_first_write_wins(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with RunStore(path) as store:
        store.put("k1", "kind", {"v": 1})
        store.put("k1", "kind", {"v": 2})
        store.put("k2", "other", [1, 2])
    with RunStore(path) as store:
        assert store.get("k1") == {"v": 1}
        assert store.has("k2") and not store.has("k3")
        assert store.count() == 2 and store.count("kind") == 1
        assert [key for key, _ in store.items("other")] == ["k2"]


def _writer(path: str, start: int) -> None:
    with RunStore(path) as store:
        for i in range(start, start + 200):
            store.put(f"key{i}", "kind", {"i": i})


def test_two_processes_can_write_one_store(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite")
    RunStore(path).close()
    processes = [multiprocessing.Process(target=_writer, args=(path, start))
                 for start in (0, 100)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
        assert process.exitcode == 0
    with RunStore(path) as store:
        assert store.count() == 300


def test_run_streaming_returns_every_job_once_with_a_bounded_window() -> None:
    pulled = 0

    def jobs():  # type: ignore[no-untyped-def]
        nonlocal pulled
        for i in range(100):
            pulled += 1
            yield i

    seen = []
    for job, result in run_streaming(jobs(), lambda i: i * i, workers=2, window=4):
        assert result == job * job
        assert pulled - len(seen) <= 5  # never more than the window ahead of the consumer
        seen.append(job)
    assert sorted(seen) == list(range(100))
