import json

from assay.sandbox import RunResult, RunSpec, Sandbox, Verdict


def test_results_come_back_in_input_order_with_progress(sandbox: Sandbox) -> None:
    specs = [RunSpec.single("bash", f"sleep 0.{9 - i}; echo {i}") for i in range(6)]
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int, result: RunResult) -> None:
        seen.append((done, total))

    results = sandbox.run_many(specs, workers=3, progress=progress)
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(6)]
    assert seen == [(i, 6) for i in range(1, 7)]


def test_concurrency_is_bounded_by_workers(sandbox: Sandbox) -> None:
    """Each run reports when it started and ended; at most `workers` may overlap."""
    code = ("import json, time\nstart = time.time()\ntime.sleep(0.3)\n"
            "print(json.dumps([start, time.time()]))\n")
    results = sandbox.run_many([RunSpec.single("python", code) for _ in range(6)], workers=2)
    spans = [json.loads(r.stdout) for r in results]
    most = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)
    assert most <= 2
    assert most == 2  # and the two workers were really used at once


def test_one_bad_program_does_not_spoil_the_batch(sandbox: Sandbox) -> None:
    specs = [RunSpec.single("python", "print(1)"),
             RunSpec.single("python", "import os\nos.abort()"),
             RunSpec.single("c", "int main(){return 0;}")]
    verdicts = [r.verdict for r in sandbox.run_many(specs, workers=2)]
    assert verdicts == [Verdict.OK, Verdict.RUNTIME_ERROR, Verdict.OK]
