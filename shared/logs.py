"""Structured logs: one JSON object a line, carrying the correlation id of the work at hand.

Warnings and errors that repeat (a broker or a database away: every client retries many times a second)
are written once per interval, with how many were held back: an outage is one line every 30 s, not
thousands.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime

REPEAT_SECONDS = 30.0

from shared.context import correlation_id


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if cid := correlation_id.get():
            entry["correlation_id"] = cid
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class Repeats(logging.Filter):
    """Lets a warning or an error of the same logger and message template through once per interval."""

    def __init__(self, interval: float = REPEAT_SECONDS):
        super().__init__()
        self.interval = interval
        self.seen: dict[tuple[str, str], tuple[float, int]] = {}  # key → (last written, held back since)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key, now = (record.name, str(record.msg)), time.monotonic()
        written, held = self.seen.get(key, (-self.interval, 0))
        if now - written < self.interval:
            self.seen[key] = (written, held + 1)
            return False
        self.seen[key] = (now, 0)
        if held:
            record.fields = {**getattr(record, "fields", {}), "repeated": held}
        return True


def configure(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(Repeats())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiokafka").setLevel("WARNING")
    logging.getLogger("faststream").setLevel("WARNING")
    logging.getLogger("uvicorn.access").setLevel("WARNING")
    logging.getLogger("httpx").setLevel("WARNING")
    logging.getLogger(service).info("starting", extra={"fields": {"service": service}})


def log(logger: logging.Logger, event: str, /, **fields) -> None:
    logger.info(event, extra={"fields": fields})
