"""The trace format: one event per line, ``TRACE:<TYPE>:<LOC>:<STATE>``, on stderr.

TYPE is one of ``EVENT_TYPES``; LOC says where (assay's tracer writes ``function@line``; it
holds no colon); STATE is the rest of the line (it may hold colons, and may be empty). Any
other line — a program's own messages, a traceback, a half-written line — is noise: the
parser skips it and counts it, so a trace is read from whatever else shares stderr.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PREFIX = "TRACE"
EVENT_TYPES = ("IN", "OUT", "VAR", "BRANCH", "LOOP", "ERR", "TRANSFORM")
_TYPES = frozenset(EVENT_TYPES)
NOISE_EXAMPLES = 3  # noise lines kept as examples


@dataclass(frozen=True)
class TraceEvent:
    """One event of a trace.

    Attributes:
        type: One of ``EVENT_TYPES``.
        loc: Where it happened (``function@line`` for assay's tracer).
        state: What it says (arguments, a value, ``true``/``false``, ``iter=3``...).
    """

    type: str
    loc: str
    state: str

    @property
    def line(self) -> str:
        """The event as a trace line."""
        return f"{PREFIX}:{self.type}:{self.loc}:{self.state}"

    def as_dict(self) -> dict[str, str]:
        return {"type": self.type, "loc": self.loc, "state": self.state}


@dataclass(frozen=True)
class ParsedTrace:
    """The events of a text, and how much of it was noise.

    Attributes:
        events: The events, in order.
        noise: Non-blank lines that are not events.
        noise_examples: The first few of those lines.
    """

    events: tuple[TraceEvent, ...] = ()
    noise: int = 0
    noise_examples: tuple[str, ...] = field(default=())

    @property
    def lines(self) -> list[str]:
        return [event.line for event in self.events]

    @property
    def text(self) -> str:
        """The canonical trace: its event lines, newline-separated."""
        return "\n".join(self.lines)


def parse_line(line: str) -> TraceEvent | None:
    """The event on one line, or None when the line is not an event."""
    text = line.strip()
    if not text.startswith(PREFIX + ":"):
        return None
    parts = text.split(":", 3)
    if len(parts) != 4 or parts[1] not in _TYPES or not parts[2]:
        return None
    return TraceEvent(parts[1], parts[2], parts[3])


def parse_trace(text: str | None) -> ParsedTrace:
    """Every event of ``text`` (lines ending in \\n, \\r\\n or \\r), noise counted."""
    events: list[TraceEvent] = []
    noise = 0
    examples: list[str] = []
    for line in (text or "").splitlines():
        event = parse_line(line)
        if event is not None:
            events.append(event)
        elif line.strip():
            noise += 1
            if len(examples) < NOISE_EXAMPLES:
                examples.append(line[:200])
    return ParsedTrace(tuple(events), noise, tuple(examples))


def format_event(type_: str, loc: str, state: str) -> str:
    """A trace line; raises ValueError for what the format cannot hold."""
    if type_ not in _TYPES:
        raise ValueError(f"unknown trace event type {type_!r}; known: {', '.join(EVENT_TYPES)}")
    if not loc or ":" in loc or "\n" in loc:
        raise ValueError(f"a trace LOC must be non-empty, without ':' or newlines: {loc!r}")
    if "\n" in state or "\r" in state:
        raise ValueError("a trace STATE must fit on one line")
    return f"{PREFIX}:{type_}:{loc}:{state}"


def first_difference(a: tuple[TraceEvent, ...], b: tuple[TraceEvent, ...]) -> int | None:
    """The 1-based number of the first event where two traces differ (a trace that is a
    prefix of the other differs at the event after its last), or None when they agree."""
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return index + 1
    if len(a) != len(b):
        return min(len(a), len(b)) + 1
    return None
