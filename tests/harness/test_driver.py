"""The driver's promises, with a real runner written in bash: a test that never ran is never
a pass, a crash or a hang restarts the runner for the tests after it."""

from __future__ import annotations

from collections.abc import Sequence

from assay.data import Problem, Status, TestSuite
from assay.harness import Harness, HarnessTask, run_tests
from assay.harness.protocol import parse_batch_report, parse_report
from assay.sandbox import Limits, RunSpec, Sandbox

# The solution is a bash script of "name=action" lines: pass, fail, crash, hang, skip.
RUNNER = r"""
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  names=(a b c d)
  echo '{"collect": ["a", "b", "c", "d"]}' >&$ASSAY_REPORT_FD
fi
for name in "${names[@]}"; do
  action=$(grep "^$name=" solution.txt | cut -d= -f2)
  [ "$action" = skip ] && continue
  echo "{\"start\": \"$name\"}" >&$ASSAY_REPORT_FD
  case "$action" in
    crash) kill -9 $$ ;;
    hang) while :; do :; done ;;
    fail) echo "{\"result\": \"$name\", \"status\": \"FAIL\"}" >&$ASSAY_REPORT_FD ;;
    *) echo "{\"result\": \"$name\", \"status\": \"PASS\"}" >&$ASSAY_REPORT_FD ;;
  esac
done
echo '{"done": true}' >&$ASSAY_REPORT_FD
"""


class ScriptHarness(Harness):
    kind = "unit"
    languages = ("bash",)

    def __init__(self, collect: bool = True) -> None:
        self.collect = collect

    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        runner = RUNNER if self.collect else RUNNER.replace("echo '{\"collect\"", ": '")
        return RunSpec(language="bash", files={"runner.sh": runner, "solution.txt": task.code},
                       entry="runner.sh", argv=tuple(only), report=True,
                       limits=Limits(wall_s=2, cpu_s=2))


def outcomes(sandbox: Sandbox, plan: str, collect: bool = True) -> dict[str, str]:
    problem = Problem(id="p", language="bash", tests=TestSuite(kind="unit"))
    task = HarnessTask(problem=problem, code=plan, language="bash", suite=problem.tests)
    run = run_tests(sandbox, ScriptHarness(collect), task)
    return {o.name: o.status.value for o in run.outcomes}


def test_every_test_reported_in_one_run(sandbox: Sandbox) -> None:
    assert outcomes(sandbox, "a=pass\nb=fail\nc=pass\nd=pass\n") == {
        "a": "PASS", "b": "FAIL", "c": "PASS", "d": "PASS"}


def test_a_crash_restarts_the_runner_for_the_tests_after_it(sandbox: Sandbox) -> None:
    assert outcomes(sandbox, "a=pass\nb=crash\nc=fail\nd=pass\n") == {
        "a": "PASS", "b": "ERROR", "c": "FAIL", "d": "PASS"}


def test_a_hang_the_runner_cannot_stop_is_a_timeout_and_the_rest_still_run(
        sandbox: Sandbox) -> None:
    assert outcomes(sandbox, "a=hang\nb=pass\nc=crash\nd=pass\n") == {
        "a": "TIMEOUT", "b": "PASS", "c": "ERROR", "d": "PASS"}


def test_tests_the_runner_skips_are_errors_not_passes(sandbox: Sandbox) -> None:
    result = outcomes(sandbox, "a=pass\nb=skip\nc=pass\nd=skip\n")
    assert result == {"a": "PASS", "b": "ERROR", "c": "PASS", "d": "ERROR"}


def test_a_runner_that_finds_no_test_gives_an_error(sandbox: Sandbox) -> None:
    assert outcomes(sandbox, "a=skip\nb=skip\nc=skip\nd=skip\n", collect=False) == {
        "<collection>": "ERROR"}


def test_without_a_collect_event_the_reported_tests_are_the_tests(sandbox: Sandbox) -> None:
    assert outcomes(sandbox, "a=pass\nb=fail\nc=skip\nd=pass\n", collect=False) == {
        "a": "PASS", "b": "FAIL", "d": "PASS"}


def test_report_parser_tolerates_noise_and_unknown_statuses() -> None:
    report = parse_report('garbage\n{"collect": ["x", "y"]}\n{"start": "x"}\n'
                          '{"result": "x", "status": "WEIRD"}\n{"result": "y", '
                          '"status": "INFRA"}\n[1]\n{"done": true}\n')
    assert report.collected == ["x", "y"] and report.done and report.noise_lines == 2
    assert report.results["x"].status is Status.ERROR  # unknown status
    assert report.results["y"].status is Status.ERROR  # only the harness may say INFRA
    assert report.started is None


def test_batch_report_is_split_by_job() -> None:
    text = ('{"job": 0}\n{"collect": ["a"]}\n{"result": "a", "status": "PASS"}\n'
            '{"done": true}\n{"job": 1}\n{"collect": ["a"]}\n{"start": "a"}\n')
    reports = parse_batch_report(text)
    assert reports[0].done and reports[0].results["a"].status is Status.PASS
    assert not reports[1].done and reports[1].started == "a"
