"""Java unit tests: JUnit 4 / JUnit 5 style classes with ``@Test`` methods.

There is no JUnit jar in the sandbox: the tests are compiled against assay's own stand-ins
for the JUnit annotations and assertions (``runners/java_junit_shims.txt``). Those and the
runner are compiled with the host's javac into a small jar that each run carries, once per
toolchain and runner version (the jar is kept under the cache root, beside the compile
cache), so the javac of a (solution, suite) compiles only the solution, the tests and a
tiny main class. Tests are named ``ClassName.method``; their names are read from the test
file here, so that a solution that does not compile still gets one ERROR per test.

A cache-warm rerun costs one JVM start per (solution, suite), so the runner is written to
start fast (see the comment of ``runners/java_junit_runner.java``).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import subprocess
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assay.harness.base import Harness, HarnessTask, register_harness, runner_source
from assay.sandbox import RunSpec
from assay.sandbox.compile_cache import default_cache_root
from assay.sandbox.languages import get_language
from assay.sandbox.languages.base import WORK_DIR, LanguageError
from assay.sandbox.languages.java import JAVAC_FLAGS, JVM_FLAGS

log = logging.getLogger(__name__)

MAIN_FILE = "AssayJUnitRunner.java"
JAR_FILE = "assay-junit.jar"
SOURCES_DIR = "junit"  # where the runner's sources go when there is no jar
_SHIM_MARKER = re.compile(r"^//// file: (\S+)\n", re.MULTILINE)

_IDENTIFIER = r"(?:[^\W\d]|\$)[\w$]*"
# A type declaration; not `Foo.class` (a class literal).
_TYPE_DECLARATION = re.compile(rf"(?<![\w$.])(?:class|interface|enum|record)\s+({_IDENTIFIER})")
_PACKAGE = re.compile(r"^\s*package\s+([\w$.\s]+?)\s*;")
# @Test, @org.junit.Test or @org.junit.jupiter.api.Test, not @TestFactory or @RepeatedTest.
_TEST_ANNOTATION = re.compile(
    r"@\s*(?:org\s*\.\s*junit\s*\.\s*(?:jupiter\s*\.\s*api\s*\.\s*)?)?Test(?![\w$])")
_ANNOTATION = re.compile(rf"@\s*{_IDENTIFIER}(?:\s*\.\s*{_IDENTIFIER})*")
_METHOD_NAME = re.compile(rf"({_IDENTIFIER})\s*\(")


@dataclass(frozen=True)
class JavaTypes:
    """What assay needs to know of a Java source file.

    Attributes:
        package: The package it declares ("" for none).
        top_level: Its top-level type names, in order.
        public: The public top-level type, which names the file; None when there is none.
        tests: (class, method) of each ``@Test`` method of a top-level class, in order.
    """

    package: str
    top_level: tuple[str, ...]
    public: str | None
    tests: tuple[tuple[str, str], ...]

    def file_name(self, fallback: str) -> str:
        """The file javac accepts the source under."""
        name = self.public or (self.top_level[0] if self.top_level else fallback)
        return f"{name}.java"

    def qualified(self, name: str) -> str:
        return f"{self.package}.{name}" if self.package else name


@register_harness
class JavaUnitHarness(Harness):
    """JUnit-style test classes against a Java solution, one JVM for all the tests."""

    kind = "unit"
    languages = ("java",)

    def test_names(self, task: HarnessTask) -> list[str] | None:
        listed = super().test_names(task)
        if listed is not None:
            return listed
        return [f"{cls}.{method}" for cls, method in java_types(task.test_file).tests] \
            or None

    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        tests_source = task.test_file
        tests = java_types(tests_source)
        solution = java_types(task.code)
        # Subdirectories keep the three apart whatever their classes are called; javac
        # does not mind where a source file lies.
        files: dict[str, str | bytes] = {
            MAIN_FILE: runner_source("java_junit_main.java"),
            f"solution/{solution.file_name('Solution')}": task.code,
            f"tests/{tests.file_name('Tests')}": tests_source}
        test_classes = dict.fromkeys(cls for cls, _ in tests.tests) or tests.top_level
        env = {**self.runner_env(task),
               "ASSAY_TEST_CLASSES": ",".join(tests.qualified(c) for c in test_classes)}
        jar = junit_jar()
        if jar is not None:
            files[JAR_FILE] = jar
            env["CLASSPATH"] = f"{WORK_DIR}/{JAR_FILE}"  # javac's class path (no -cp given)
        else:  # compile the runner and the stand-ins with the solution: slower, same result
            files.update({f"{SOURCES_DIR}/{path}": text
                          for path, text in runner_sources().items()})
        # The names come as arguments (all of them when none is asked for), so that the
        # tests run in the order of the file.
        names = tuple(only) or tuple(self.test_names(task) or ())
        return RunSpec(language="java", files=files, entry=MAIN_FILE, argv=names, env=env,
                       report=True, limits=self.limits(task, len(names) or 50))


def runner_sources(for_jar: bool = False) -> dict[str, str]:
    """The runner and the JUnit stand-ins: package path -> source. The jar has one more
    class, which javac warns about (see ``runners/java_junit_descriptor.java``)."""
    parts = _SHIM_MARKER.split(runner_source("java_junit_shims.txt"))
    sources = dict(zip(parts[1::2], parts[2::2], strict=True))
    sources["assay/junit/Runner.java"] = runner_source("java_junit_runner.java")
    sources["assay/junit/Annotations.java"] = runner_source("java_junit_annotations.java")
    if for_jar:
        sources["assay/junit/DescriptorSetter.java"] = runner_source(
            "java_junit_descriptor.java")
    return sources


_JAR_LOCK = threading.Lock()
_JARS: dict[str, bytes | None] = {}
# Where built jars are kept, under the cache root beside the compile cache: a new process
# (each `assay verify`) would otherwise pay ~1 s of host javac before its first Java run.
JAR_CACHE_DIR = "java-junit"


def junit_jar() -> bytes | None:
    """The runner and the stand-ins compiled by the host's javac (the one the sandbox runs),
    once per toolchain and runner version and kept on disk; None when that cannot be done
    (the run then compiles the sources)."""
    try:
        toolchain = get_language("java").toolchain()
    except LanguageError:
        return None
    javac = toolchain.exe("javac")
    sources = runner_sources(for_jar=True)
    key = _jar_key(javac, toolchain.version, sources)
    with _JAR_LOCK:
        if key not in _JARS:
            path = default_cache_root() / JAR_CACHE_DIR / f"{key}.jar"
            jar = _stored_jar(path)
            if jar is None:
                try:
                    jar = _compile_jar(javac, sources)
                except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
                    log.warning("cannot precompile the Java test runner, runs will compile "
                                "it: %s", exc)
                else:
                    _store_jar(path, jar)
            _JARS[key] = jar
        return _JARS[key]


def _jar_key(javac: str, version: str, sources: dict[str, str]) -> str:
    """Hash of everything that decides the jar's bytes."""
    digest = hashlib.sha256(json.dumps(
        {"javac": javac, "version": version, "flags": [*JVM_FLAGS, *JAVAC_FLAGS]},
        sort_keys=True).encode())
    for name in sorted(sources):
        digest.update(f"\0{name}\0".encode() + sources[name].encode())
    return digest.hexdigest()[:32]


def _stored_jar(path: Path) -> bytes | None:
    """The jar kept at ``path``, or None when there is none or it does not read as one."""
    try:
        data = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as jar:
            if jar.testzip() is not None:
                return None
        return data
    except (OSError, zipfile.BadZipFile):
        return None


def _store_jar(path: Path, data: bytes) -> None:
    """Keep the jar for later processes: written aside and renamed, so that a concurrent
    reader never sees half of it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        staging.write_bytes(data)
        os.replace(staging, path)
    except OSError as exc:  # a read-only cache only costs later processes the compile
        log.debug("cannot keep the Java test runner jar at %s: %s", path, exc)


def _compile_jar(javac: str, runner: dict[str, str]) -> bytes:
    with tempfile.TemporaryDirectory(prefix="assay-junit-") as tmp:
        sources, classes = Path(tmp, "src"), Path(tmp, "classes")
        paths = []
        for name, text in runner.items():
            path = sources / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            paths.append(str(path))
        done = subprocess.run([javac, *(f"-J{flag}" for flag in JVM_FLAGS), *JAVAC_FLAGS,
                               "-d", str(classes), *paths],
                              capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"javac failed: {(done.stderr or done.stdout)[-1000:]}")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as jar:
            for path in sorted(classes.rglob("*.class")):
                # A fixed date: the same classes make the same jar, so the compile cache hits.
                info = zipfile.ZipInfo(path.relative_to(classes).as_posix(),
                                       date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                jar.writestr(info, path.read_bytes())
        return buffer.getvalue()


def java_types(source: str) -> JavaTypes:
    """The package, top-level types and ``@Test`` methods of a Java source file.

    A light scan, not a parser: comments and literals are dropped, then braces are counted;
    a type at depth 0 is top-level, a ``@Test`` at depth 1 annotates a method of it.
    """
    code = strip_comments_and_literals(source)
    depth = _depths(code)
    package_match = _PACKAGE.match(code)
    package = re.sub(r"\s+", "", package_match.group(1)) if package_match else ""
    types: list[tuple[str, int, int]] = []  # name, body start, body end
    public: str | None = None
    for match in _TYPE_DECLARATION.finditer(code):
        if depth[match.start()] != 0:
            continue
        body_start = code.find("{", match.end())
        if body_start < 0:
            break
        body_end = _matching_brace(code, body_start)
        types.append((match.group(1), body_start, body_end))
        declaration_start = max(code.rfind(c, 0, match.start()) for c in ";{}") + 1
        if public is None and re.search(r"\bpublic\b", code[declaration_start:match.start()]):
            public = match.group(1)
    tests: list[tuple[str, str]] = []
    for match in _TEST_ANNOTATION.finditer(code):
        owner = next((name for name, start, end in types if start < match.start() < end), None)
        method = _annotated_method(code, match.end())
        if owner and method and depth[match.start()] == 1 and (owner, method) not in tests:
            tests.append((owner, method))
    return JavaTypes(package, tuple(name for name, _, _ in types), public, tuple(tests))


def _annotated_method(code: str, position: int) -> str | None:
    """The name of the method whose annotations continue at ``position``."""
    while True:
        position = _skip_space(code, position)
        if position < len(code) and code[position] == "(":  # the annotation's arguments
            position = _matching_paren(code, position) + 1
            continue
        annotation = _ANNOTATION.match(code, position)
        if annotation is None:
            break
        position = annotation.end()
    method = _METHOD_NAME.search(code, position)
    if method is None or any(c in code[position:method.start()] for c in ";{}="):
        return None  # a field or something else, not a method
    return method.group(1)


def _skip_space(code: str, position: int) -> int:
    while position < len(code) and code[position].isspace():
        position += 1
    return position


def _depths(code: str) -> list[int]:
    """The brace depth at each character of ``code``."""
    depths = []
    depth = 0
    for char in code:
        if char == "}":
            depth = max(0, depth - 1)
        depths.append(depth)
        if char == "{":
            depth += 1
    return depths


def _matching_brace(code: str, start: int) -> int:
    return _matching(code, start, "{", "}")


def _matching_paren(code: str, start: int) -> int:
    return _matching(code, start, "(", ")")


def _matching(code: str, start: int, opening: str, closing: str) -> int:
    depth = 0
    for index in range(start, len(code)):
        if code[index] == opening:
            depth += 1
        elif code[index] == closing:
            depth -= 1
            if depth == 0:
                return index
    return len(code)


def strip_comments_and_literals(source: str) -> str:
    """The source without comments, and with string, text-block and char literals emptied,
    so that braces and annotations in them are not counted."""
    out: list[str] = []
    index, length = 0, len(source)
    while index < length:
        char = source[index]
        pair = source[index:index + 2]
        if pair == "//":
            end = source.find("\n", index)
            index = length if end < 0 else end
        elif pair == "/*":
            end = source.find("*/", index + 2)
            index = length if end < 0 else end + 2
            out.append(" ")
        elif source.startswith('"""', index):
            index = _literal_end(source, index + 3, '"""')
            out.append('""')
        elif char in "\"'":
            index = _literal_end(source, index + 1, char)
            out.append(char * 2)
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _literal_end(source: str, index: int, closing: str) -> int:
    """The index after the literal that ends with ``closing`` (escapes skipped)."""
    while index < len(source):
        if source[index] == "\\":
            index += 2
        elif source.startswith(closing, index):
            return index + len(closing)
        elif source[index] == "\n" and len(closing) == 1:
            return index  # an unterminated literal ends with its line
        else:
            index += 1
    return len(source)
