import pytest

from assay.sandbox import Limits, RunSpec


def test_limits_reject_non_positive_values() -> None:
    with pytest.raises(ValueError, match="wall_s"):
        Limits(wall_s=0)
    with pytest.raises(ValueError, match="memory_mb"):
        Limits(memory_mb=-1)


@pytest.mark.parametrize("name", ["/etc/passwd", "../escape.py", "a/../../b.py", "", "./x.py"])
def test_file_names_must_stay_inside_the_work_dir(name: str) -> None:
    with pytest.raises(ValueError, match="relative path"):
        RunSpec(language="python", files={name: "print(1)"})


def test_entry_must_be_one_of_the_files() -> None:
    with pytest.raises(ValueError, match="entry"):
        RunSpec(language="python", files={"a.py": ""}, entry="b.py")


def test_single_uses_the_language_default_file_name() -> None:
    spec = RunSpec.single("java", "class Main {}")
    assert spec.entry == "Main.java"
    assert spec.files == {"Main.java": "class Main {}"}


def test_specs_are_immutable() -> None:
    spec = RunSpec.single("python", "print(1)", stdin="text")
    assert spec.stdin == b"text"
    with pytest.raises(TypeError):
        spec.files["other.py"] = ""  # type: ignore[index]


def test_ambiguous_entry_is_a_clear_error_before_anything_runs() -> None:
    from assay.sandbox import get_sandbox

    spec = RunSpec(language="python", files={"a.py": "", "b.py": ""})
    with get_sandbox() as sandbox, pytest.raises(ValueError, match=r"set RunSpec\.entry"):
        sandbox.run_many([RunSpec.single("python", "print(1)"), spec])
