"""Repeated warnings are written once per interval, with how many were held back."""

import logging

from shared.logs import Repeats


def record(message: str, level: int = logging.ERROR, name: str = "aiokafka") -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, ("node-1",), None)


def test_the_same_error_repeated_is_written_once_per_interval_then_says_how_many_were_held_back(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("shared.logs.time.monotonic", lambda: now[0])
    repeats = Repeats(interval=30)
    written = [repeats.filter(record("Unable connect to %s")) for _ in range(1800)]
    assert written.count(True) == 1
    now[0] += 31
    again = record("Unable connect to %s")
    assert repeats.filter(again) and again.fields == {"repeated": 1799}


def test_information_and_other_errors_are_never_held_back():
    repeats = Repeats(interval=30)
    assert all(repeats.filter(record("relayed", logging.INFO)) for _ in range(5))
    assert repeats.filter(record("Unable connect to %s"))
    assert repeats.filter(record("another failure"))
    assert repeats.filter(record("Unable connect to %s", name="relay"))
