"""The trace format and its parser."""

from __future__ import annotations

import pytest

from assay.trace import TraceEvent, first_difference, format_event, parse_trace


def test_events_are_parsed_and_noise_is_counted() -> None:
    text = ("hello from the program\n"
            "TRACE:IN:f@1:x=1, y='a:b'\n"
            "  TRACE:VAR:f@2:z={'k': 1}\r\n"
            "\n"
            "TRACE:BOGUS:f@3:x\n"
            "TRACE:OUT:f@4:\n"
            "TRACE:VAR::x=1\n"
            "Traceback (most recent call last):\n")
    parsed = parse_trace(text)
    assert [e.type for e in parsed.events] == ["IN", "VAR", "OUT"]
    assert parsed.events[0] == TraceEvent("IN", "f@1", "x=1, y='a:b'")  # colons in STATE
    assert parsed.events[2].state == ""
    # the unknown type, the empty LOC, the two program lines; blank lines are not noise
    assert parsed.noise == 4
    assert parsed.noise_examples[0] == "hello from the program"
    assert parsed.text == "TRACE:IN:f@1:x=1, y='a:b'\nTRACE:VAR:f@2:z={'k': 1}\nTRACE:OUT:f@4:"


def test_every_event_type_is_known() -> None:
    for kind in ("IN", "OUT", "VAR", "BRANCH", "LOOP", "ERR", "TRANSFORM"):
        assert parse_trace(f"TRACE:{kind}:main@1:s").events[0].type == kind


def test_format_event_round_trips_and_refuses_what_it_cannot_hold() -> None:
    line = format_event("LOOP", "main@7", "iter=3")
    assert parse_trace(line).events == (TraceEvent("LOOP", "main@7", "iter=3"),)
    with pytest.raises(ValueError, match="unknown trace event type"):
        format_event("CALL", "f@1", "")
    with pytest.raises(ValueError, match="LOC"):
        format_event("IN", "f:1", "")
    with pytest.raises(ValueError, match="one line"):
        format_event("VAR", "f@1", "x='a\nb'")


def test_first_difference_counts_from_one() -> None:
    a = parse_trace("TRACE:VAR:f@1:x=1\nTRACE:VAR:f@2:y=2").events
    b = parse_trace("TRACE:VAR:f@1:x=1\nTRACE:VAR:f@2:y=3").events
    assert first_difference(a, a) is None
    assert first_difference(a, b) == 2
    assert first_difference(a, a[:1]) == 2  # one is a prefix of the other
    assert first_difference((), a) == 1
