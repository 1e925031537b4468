"""JSON-lines logging with the request id of the current request on every line."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from contextvars import ContextVar
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Standard record attributes, and uvicorn's ANSI-coloured duplicate of the message.
_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: ts, level, logger, msg, service, request_id and any extras."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": _LEVELS.get(record.levelno) or record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "service": self.service,
        }
        if (request_id := request_id_var.get()) is not None:
            line["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _RESERVED and key[0] != "_":
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


_LEVELS = {level: logging.getLevelName(level).lower() for level in (10, 20, 30, 40, 50)}


def _timestamp(created: float) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. 2026-12-02T04:34:28.244+00:00."""
    seconds = int(created)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int((created - seconds) * 1000):03d}+00:00"


class BatchedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes the lines of one short stretch together: one write (a system call, and a
    wake-up of whoever reads the pipe) per `delay` seconds instead of one per line, which on a busy subgraph was a
    write per request and a hundred per batch mutation. Every line is still written, in order: at once for a
    warning or worse, when `max_lines` are waiting, outside an event loop, and at exit (`logging.shutdown`)."""

    def __init__(self, stream: Any = None, *, delay: float = 0.05, max_lines: int = 512) -> None:
        super().__init__(stream)
        self.delay = delay
        self.max_lines = max_lines
        self._lines: list[str] = []
        self._scheduled: asyncio.AbstractEventLoop | None = None  # the loop a flush is waiting on

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._lines.append(line)
        if record.levelno >= logging.WARNING or len(self._lines) >= self.max_lines:
            self._write()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._write()
            return
        if self._scheduled is not loop:  # none waiting, or on a loop that has ended
            self._scheduled = loop
            loop.call_later(self.delay, self.flush)

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._scheduled = None
            self._write()

    def _write(self) -> None:
        if not self._lines:
            return
        text, self._lines = "".join(self._lines), []
        try:
            self.stream.write(text)
            self.stream.flush()
        except Exception:
            self.handleError(logging.makeLogRecord({"msg": "could not write log lines"}))


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every logger, uvicorn's included, to stdout as JSON lines (written in batches: see
    BatchedStreamHandler)."""
    # No caller lookup (a walk up the stack per line), thread or process names: no line shows them.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = BatchedStreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
