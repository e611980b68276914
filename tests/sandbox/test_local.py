import pytest

from assay.sandbox import CompileCache, Limits, RunSpec, Verdict, get_sandbox


def test_local_backend_runs_with_limits_but_warns(tmp_path: object) -> None:
    with pytest.warns(UserWarning, match="does not isolate"):
        box = get_sandbox("local", cache=CompileCache(tmp_path))  # type: ignore[arg-type]
    with box:
        hello = box.run(RunSpec.single("python", "import sys\nprint(sys.stdin.read())",
                                       stdin="hi"))
        assert (hello.verdict, hello.stdout, hello.backend) == (Verdict.OK, "hi\n", "local"), hello
        compiled = box.run(RunSpec.single("c", "int main(void) { return 4; }"))
        assert (compiled.verdict, compiled.exit_code) == (Verdict.RUNTIME_ERROR, 4)
        broken = box.run(RunSpec.single("python", "def (:"))
        assert broken.verdict is Verdict.COMPILE_ERROR
        slow = box.run(RunSpec.single("bash", "sleep 10", limits=Limits(wall_s=0.3)))
        assert slow.verdict is Verdict.TIME_LIMIT
