"""Logging: text lines in development, one JSON object a line in production (`LOG_FORMAT`).

Two kinds of lines besides the application's own messages:

- one per request (logger `ticketflow.request`): method, path, status, duration in ms, the user's
  id and the request id (`X-Request-ID` from the client or proxy when it is a plain token, else
  made here; it is sent back in the answer's `X-Request-ID`);
- one per engine command (logger `ticketflow.command`, from the engine's command observer):
  command name, outcome, duration in ms, and the ticket id and BPMN element when the caller
  knows them (the worker names its job's or timer's; a request names the ticket in its URL).

Nothing else of a request is logged: no query string, no form or JSON body, no header but the
request id, and path parameters named like a secret (a survey link's `token`) are masked.
"""

import json
import logging
import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

import sqlalchemy
from flask import Flask, g, request

REQUEST_LOG = logging.getLogger("ticketflow.request")
COMMAND_LOG = logging.getLogger("ticketflow.command")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
SECRET_ARGS = ("token", "secret", "password")
STARTED, CONTEXT = "ticketflow.request_started", "ticketflow.log_context"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Fields the current request or worker step adds to every command line (ticket_id, element ...).
_context: ContextVar[dict | None] = ContextVar("ticketflow_log_context", default=None)
# The LogRecord's own attributes: anything else on a record came from `extra=` and is a field.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, msg, the record's `extra` fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(log_format: str, level: str | None = None) -> None:
    """Give the root logger one handler writing `log_format` (json or text); idempotent.

    Leaves logging alone when another handler is already there (pytest's, a host application's).
    """
    # SpiffWorkflow logs every task state change at INFO; aiosmtpd (`mail.log`) every SMTP connection.
    for noisy in ("apscheduler", "spiff", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_ticketflow", False)]
    if root.handlers and not ours:  # someone else configured logging (pytest, an embedding app)
        return
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    if ours:
        ours[0].setFormatter(formatter)
    else:
        handler = logging.StreamHandler()
        handler._ticketflow = True
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level or os.environ.get("LOG_LEVEL", "INFO"))
    if log_format == "json":  # our request line replaces the development server's access line
        logging.getLogger("werkzeug").setLevel(logging.WARNING)


@contextmanager
def log_context(**fields) -> Iterator[None]:
    """Add `fields` (ticket_id, element, job_id ...) to the command lines logged inside the block."""
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict:
    """The fields `log_context` (or the request) set for this block."""
    return _context.get() or {}


def command_observer(name: str, seconds: float, outcome: str) -> None:
    """The engine's command observer: one line per outermost command."""
    if not COMMAND_LOG.isEnabledFor(logging.INFO):
        return
    fields = {"command": name, "outcome": outcome, "duration_ms": round(seconds * 1000, 2)}
    fields.update(_context.get() or {})
    where = f" ticket={fields['ticket_id']}" if "ticket_id" in fields else ""
    where += f" element={fields['element']}" if "element" in fields else ""
    level = logging.DEBUG if name == "claim_due" else logging.INFO  # the worker's sweeps: mostly empty
    COMMAND_LOG.log(
        level, "command %s %s %.1f ms%s", name, outcome, fields["duration_ms"], where, extra=fields
    )


def init_app(app: Flask) -> None:
    """Configure the format from LOG_FORMAT, log every request, observe every engine command."""
    from app.engine import register_observer

    configure(app.config["LOG_FORMAT"])
    register_observer(app, command_observer)

    @app.before_request
    def _start_request():
        given = request.headers.get("X-Request-ID", "")
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        request.environ[STARTED] = (time.perf_counter(), request_id)  # not g: tests clear g per request
        fields = {"request_id": request_id}
        args = request.view_args or {}
        ticket = args.get("ticket_id")
        if isinstance(ticket, int):
            fields["ticket_id"] = ticket
        request.environ[CONTEXT] = _context.set(fields)

    @app.after_request
    def _log_request(response):
        started, request_id = request.environ.get(STARTED, (None, None))
        if started is None:
            return response
        response.headers["X-Request-ID"] = request_id
        if not REQUEST_LOG.isEnabledFor(logging.INFO):
            return response
        duration = round((time.perf_counter() - started) * 1000, 2)
        fields = {
            "method": request.method,
            "path": _safe_path(),
            "status": response.status_code,
            "duration_ms": duration,
            "user_id": _user_id(),
            "request_id": request_id,
        }
        REQUEST_LOG.info(
            "%s %s %s %.1f ms", fields["method"], fields["path"], fields["status"], duration, extra=fields
        )
        return response

    @app.teardown_request
    def _end_request(_exc):
        token = request.environ.pop(CONTEXT, None)
        if token is not None:
            try:
                _context.reset(token)
            except ValueError:  # set in another context (a test client reusing one): clear it
                _context.set(None)


def _safe_path() -> str:
    """The path, with path parameters named like a secret masked (never the query string)."""
    args = request.view_args or {}
    rule = request.url_rule
    if rule is None or not any(part in name for name in args for part in SECRET_ARGS):
        return request.path
    path = rule.rule
    for name, value in args.items():
        shown = "***" if any(part in name for part in SECRET_ARGS) else str(value)
        path = re.sub(rf"<(?:[^:<>]+:)?{re.escape(name)}>", shown, path)
    return path


def _user_id() -> int | None:
    """The signed-in user's id if this request loaded one (no extra query for anonymous requests)."""
    user = g.get("api_user") or g.get("_login_user")
    if user is None:
        return None
    try:  # the identity key: no lazy load of an expired row (the database may be gone, F4)
        identity = sqlalchemy.inspect(user).identity
    except sqlalchemy.exc.NoInspectionAvailable:  # Flask-Login's anonymous user
        return None
    return identity[0] if identity else None
