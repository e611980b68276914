"""Every language compiles and runs for real in the sandbox."""

import pytest

from assay.conformance.programs import BASIC, ECHO_INPUT, HELLO_OUTPUT
from assay.sandbox import (
    RunSpec,
    Sandbox,
    UnknownLanguage,
    Verdict,
    all_languages,
    get_language,
    language_for_file,
)

LANGUAGES = [language.name for language in all_languages()]


def test_all_eleven_languages_are_registered_and_installed() -> None:
    assert sorted(LANGUAGES) == sorted(
        ["python", "javascript", "typescript", "java", "c", "cpp", "go", "rust", "ruby",
         "php", "bash"])
    for language in all_languages():
        assert language.toolchain().version, language.name


@pytest.mark.parametrize("language", LANGUAGES)
def test_hello_world_and_stdin_echo(sandbox: Sandbox, language: str) -> None:
    hello = sandbox.run(RunSpec.single(language, BASIC[language]["hello"]))
    assert hello.verdict is Verdict.OK, hello
    assert hello.stdout == HELLO_OUTPUT
    echo = sandbox.run(RunSpec.single(language, BASIC[language]["echo"], stdin=ECHO_INPUT))
    assert (echo.verdict, echo.stdout) == (Verdict.OK, ECHO_INPUT)
    assert (hello.compile is not None) == get_language(language).compiled


@pytest.mark.parametrize("language", LANGUAGES)
def test_syntax_errors_are_compile_errors_with_the_message(sandbox: Sandbox, language: str
                                                           ) -> None:
    result = sandbox.run(RunSpec.single(language, BASIC[language]["compile_error"]))
    assert result.verdict is Verdict.COMPILE_ERROR
    assert result.compile is not None and result.compile.verdict is Verdict.COMPILE_ERROR
    assert result.compile.stderr or result.compile.stdout
    assert result.stdout == ""


def test_unknown_language_is_a_clear_error(sandbox: Sandbox) -> None:
    with pytest.raises(UnknownLanguage, match="known: bash, c, cpp"):
        sandbox.run(RunSpec(language="cobol", files={"main.cob": ""}))


def test_language_from_extension_and_aliases() -> None:
    assert language_for_file("x/Solution.java").name == "java"
    assert language_for_file("a.cc").name == "cpp"
    assert get_language("py").name == "python"
    with pytest.raises(UnknownLanguage, match="--lang"):
        language_for_file("notes.txt")


def test_python_program_runs_as_main_with_argv_and_sibling_modules(sandbox: Sandbox) -> None:
    files = {
        "main.py": "import sys, pickle, helper\n"
                   "class Point:\n    pass\n"
                   "if __name__ == '__main__':\n"
                   "    pickle.dumps(Point())\n"
                   "    print(sys.argv[1:], helper.VALUE, __file__)\n",
        "helper.py": "VALUE = 42\n",
    }
    result = sandbox.run(RunSpec(language="python", files=files, argv=("a", "b")))
    assert result.verdict is Verdict.OK, result.stderr
    assert result.stdout == "['a', 'b'] 42 main.py\n"


def test_launcher_status_fd_is_closed_before_the_program_runs(sandbox: Sandbox) -> None:
    """A program must not be able to forge a COMPILE_ERROR through the launcher's fd."""
    code = ("import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, b'SyntaxError')\n"
            "    except OSError:\n        pass\n")
    result = sandbox.run(RunSpec.single("python", code))
    assert result.verdict is Verdict.OK
    assert result.compile is None


def test_java_class_named_after_the_entry_file(sandbox: Sandbox) -> None:
    code = ("public class Solution {\n"
            "    public static void main(String[] a) { System.out.println(7); }\n}\n")
    result = sandbox.run(RunSpec.single("java", code, name="Solution.java"))
    assert (result.verdict, result.stdout) == (Verdict.OK, "7\n")


def test_typescript_type_error_is_a_compile_error(sandbox: Sandbox) -> None:
    result = sandbox.run(RunSpec.single("typescript", "const n: number = 'x';\n"))
    assert result.verdict is Verdict.COMPILE_ERROR
    assert result.compile is not None and "TS2322" in result.compile.stdout + result.compile.stderr


def test_javascript_shebang_is_accepted(sandbox: Sandbox) -> None:
    result = sandbox.run(RunSpec.single("javascript", "#!/usr/bin/env node\nconsole.log(1)\n"))
    assert (result.verdict, result.stdout) == (Verdict.OK, "1\n")
