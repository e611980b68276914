"""Errors about input data: they name the file, the line and the field."""

from __future__ import annotations

from pydantic import ValidationError


class InputError(Exception):
    """Bad input data: which file, which line (or row), which field, what was expected."""

    def __init__(self, path: str, line: int | None, message: str, field: str | None = None
                 ) -> None:
        self.path, self.line, self.field, self.message = path, line, field, message
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {'field ' + repr(field) + ': ' if field else ''}{message}")


def from_validation(path: str, line: int, exc: ValidationError) -> InputError:
    """The first problem pydantic found, as an InputError naming its field."""
    first = exc.errors()[0]
    field = field_path(first["loc"]) or None
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        message = "missing (required)"
    elif "input" in first and first["type"] != "value_error":
        message += f" (got {_short(first['input'])})"
    extra = len(exc.errors()) - 1
    if extra:
        message += f" (and {extra} more problem{'s' if extra > 1 else ''})"
    return InputError(path, line, message, field)


def field_path(loc: tuple[int | str, ...]) -> str:
    """``('tests', 'cases', 0, 'name')`` -> ``tests.cases[0].name``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
