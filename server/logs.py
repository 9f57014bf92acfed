"""Structured logs: one line per event with the ``extra`` fields a call passed, and the id of
the request or job run it happened in, so one tablet's sync can be followed through the log.
JSON lines when ``HAZARDCHAIN_LOG_FORMAT=json`` (for a collector), ``key=value`` otherwise."""

from __future__ import annotations

import json
import logging
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

_STD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def new_request_id(given: str | None = None) -> str:
    """The caller's id when it looks like one (a proxy's), else a fresh one."""
    if given and 8 <= len(given) <= 64 and all(c.isalnum() or c in "-_." for c in given):
        return given
    return uuid.uuid4().hex


def _fields(record: logging.LogRecord) -> dict:
    data = {k: v for k, v in record.__dict__.items() if k not in _STD}
    rid = request_id.get()
    if rid and "request_id" not in data:
        data["request_id"] = rid
    return data


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        data.update(_fields(record))
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For a person at a terminal: time, level, event, then the fields as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M:%S")
        fields = " ".join(
            f"{k}={json.dumps(v, ensure_ascii=False, default=str)}"
            for k, v in _fields(record).items()
        )
        line = f"{at} {record.levelname:<7} {record.name}: {record.getMessage()}"
        line = f"{line}  {fields}" if fields else line
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(level: str = "INFO", fmt: str = "json") -> None:
    root = logging.getLogger("hazardchain")
    formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    for handler in root.handlers:
        if isinstance(handler.formatter, JsonFormatter | TextFormatter):
            handler.setFormatter(formatter)
            break
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
