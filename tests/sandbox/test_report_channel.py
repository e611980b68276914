"""RunSpec.report and RunSpec.wrapper: the two hooks the test harnesses are built on."""

from __future__ import annotations

from assay.sandbox import RunSpec, Sandbox, Verdict


def test_the_report_channel_is_apart_from_stdout(sandbox: Sandbox) -> None:
    code = ("import os\nos.write(int(os.environ['ASSAY_REPORT_FD']), b'reported')\n"
            "print('printed')\n")
    result = sandbox.run(RunSpec.single("python", code, report=True))
    assert result.verdict is Verdict.OK
    assert result.report == "reported" and result.stdout == "printed\n"


def test_without_report_there_is_no_channel(sandbox: Sandbox) -> None:
    result = sandbox.run(RunSpec.single("python", "import os\nprint('ASSAY_REPORT_FD' in "
                                                  "os.environ)\n"))
    assert result.stdout == "False\n" and result.report is None


def test_the_wrapper_runs_the_compiled_program(sandbox: Sandbox) -> None:
    program = '#include <stdio.h>\nint main(void) { puts("inner"); return 0; }\n'
    wrapper = ("/bin/sh", "-c", 'echo before; "$@"; echo after', "sh")
    result = sandbox.run(RunSpec.single("c", program, wrapper=wrapper))
    assert result.verdict is Verdict.OK
    assert result.stdout == "before\ninner\nafter\n"
