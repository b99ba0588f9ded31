"""One set of error handlers for the whole app: JSON for the API, styled pages for people.

A request gets JSON when its path is under /api/ or /studio/api/ (the studio's JSON) or when
it prefers application/json to text/html (`Accept`); everyone else gets `errors/error.html`,
which extends the site's base page, says what happened in plain words and offers a way back.
No Werkzeug default page is ever shown. The JSON body is `{"error": message, ...}`; engine
errors keep their status (`NotFound` 404, `Forbidden` 403, `TaskNotOpen`/`Conflict` 409,
`InvalidData`/`DiagramRejected`/`StepFailed` 422) and carry their details under `errors`.

A database lock held longer than the busy timeout (SQLite "database is locked", a PostgreSQL
lock timeout, deadlock or serialization failure) is a 503 with `Retry-After`, never a 500; so is
a database that cannot be reached (restarting, a connection cut), with a body saying so.

Pages that know more than the status keep their own templates (a task that closed, a survey
link that no longer works); these handlers catch everything else.
"""

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from app.engine import DiagramRejected, EngineError, InvalidData, StepFailed
from app.extensions import db

# status -> (title, what happened and what to do); {limit} is the upload limit.
PAGES = {
    400: (
        "We could not read that request",
        "Something in what your browser sent did not make sense to us, so nothing was saved. "
        "Go back, reload the page and try again.",
    ),
    403: (
        "You may not do this",
        "Your account does not allow this page or action. If you think it should, ask an administrator.",
    ),
    404: (
        "Page not found",
        "There is nothing at this address, or it is not yours to see. Check the address, or start "
        "again from your home page.",
    ),
    405: (
        "This address does not work that way",
        "The page cannot be used like this, so nothing was done. Start again from your home page.",
    ),
    409: (
        "Something changed in the meantime",
        "Someone else changed this while you were working on it, so nothing was saved. Reload the "
        "page to see where things stand and try again.",
    ),
    413: (
        "That is too large to send",
        "What you sent is larger than we accept ({limit} at most), so nothing was saved. Go back "
        "and attach smaller files, or fewer at a time.",
    ),
    422: (
        "This could not be done",
        "What you sent could not be used, so nothing was saved. Go back, check it and try again.",
    ),
    429: (
        "Too many attempts",
        "There were too many requests in a short time. Wait a few minutes, then try again.",
    ),
    503: (
        "We are busy right now",
        "Too many changes are being saved at this moment, so nothing was saved. Wait a few seconds "
        "and try again.",
    ),
    500: (
        "Something went wrong on our side",
        "The error was logged for us to look at. Try again in a moment; if it keeps happening, tell "
        "your administrator.",
    ),
}
UNAVAILABLE_PAGE = (
    "Our database cannot be reached for a moment (it may be restarting), so nothing was saved. "
    "Wait a few seconds and try again."
)
OTHER = "That did not work, so nothing was done. Start again from your home page."
STALE_FORM = (
    "Please send the form again",
    "The page was open too long, or your browser did not keep our cookie, so nothing was "
    "saved. Go back, reload the page and send it again.",
)


def init_app(app: Flask) -> None:
    """Register the handlers for engine errors, HTTP errors and anything unexpected."""
    app.register_error_handler(EngineError, engine_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(OperationalError, database_error)
    app.register_error_handler(InterfaceError, database_error)  # a connection the server closed
    app.register_error_handler(Exception, unexpected_error)


def wants_json() -> bool:
    """Whether this request is answered in JSON: the API, or a client that prefers JSON to HTML."""
    if request.path.startswith(("/api/", "/studio/api/")):
        return True
    accept = request.accept_mimetypes
    return accept["application/json"] > accept["text/html"]


def json_error(status: int, message: str, **extra):
    """A JSON error answer: `{"error": message, **extra}` with `status`."""
    return jsonify({"error": message, **extra}), status


def error_page(status: int, title: str | None = None, text: str | None = None, headers=None):
    """The styled page for `status`, with the standard title and text unless given."""
    standard_title, standard_text = PAGES.get(status) or (HTTP_STATUS_CODES.get(status, "Error"), OTHER)
    text = (text or standard_text).replace("{limit}", _mib(_upload_limit()))
    return (
        render_template("errors/error.html", status=status, title=title or standard_title, text=text),
        status,
        headers or {},
    )


def engine_error(exc: EngineError):
    """An engine error with its status: its message and details in JSON, or the status page."""
    if not wants_json():
        return error_page(exc.status)
    if isinstance(exc, DiagramRejected):
        return json_error(exc.status, exc.message, errors=[p.as_dict() for p in exc.problems])
    if isinstance(exc, InvalidData):
        return json_error(exc.status, exc.message, errors=exc.errors)
    if isinstance(exc, StepFailed):
        return json_error(exc.status, exc.message, errors=[exc.as_dict()])
    return json_error(exc.status, exc.message)


def http_error(exc: HTTPException):
    """A 4xx or 5xx raised by Flask, Werkzeug or `abort()`, with its headers (e.g. `Allow`)."""
    if exc.code is None or exc.response is not None:
        return exc  # a ready response passed to abort()
    headers = [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]
    fields = getattr(exc, "errors", None)  # app/inputs.py names the field it refused
    if wants_json():
        message = exc.description or exc.name
        if exc.code == 413 and not fields:
            message = f"the request body is too large (limit {_mib(_upload_limit())})"
        body, status = json_error(exc.code, message, **({"errors": fields} if fields else {}))
        return body, status, headers
    if isinstance(exc, CSRFError):
        return error_page(exc.code, *STALE_FORM, headers=headers)
    if fields:
        return error_page(exc.code, text=f"{PAGES[exc.code][1]} ({exc.description})", headers=headers)
    return error_page(exc.code, headers=headers)


def unexpected_error(exc: Exception):
    """Anything else: logged with its trace, answered with a 500 that shows none of it."""
    if isinstance(exc, HTTPException):
        return http_error(exc)
    current_app.logger.exception("unhandled error on %s", request.path)
    db.session.rollback()
    if wants_json():
        return json_error(500, "internal error; it was logged")
    return error_page(500)


# Lock waits that ran out: SQLite's messages; PostgreSQL's serialization, deadlock, lock timeout.
BUSY_MESSAGES = ("database is locked", "database table is locked", "lock timeout", "could not obtain lock")
BUSY_SQLSTATES = {"40001", "40P01", "55P03"}


# The database cannot be reached (restarting, failed over, network): connection exceptions
# (SQLSTATE class 08), an administrator's shutdown (57P01-57P03), and the drivers' messages.
UNAVAILABLE_MESSAGES = (
    "connection refused",
    "could not connect",
    "server closed the connection",
    "terminating connection",
    "connection is closed",
    "the database system is",
    "connection failed",
    "unable to open database file",
)
UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03"}


def database_unavailable(exc: OperationalError) -> bool:
    """Whether `exc` says the database cannot be reached now (not that a statement was wrong)."""
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    return (
        getattr(exc, "connection_invalidated", False)
        or sqlstate.startswith("08")
        or sqlstate in UNAVAILABLE_SQLSTATES
        or any(text in str(exc.orig).lower() for text in UNAVAILABLE_MESSAGES)
    )


def database_error(exc: OperationalError):
    """A lock that outlasted the busy timeout, or a database that cannot be reached (restarting):
    503 with Retry-After and a body that says so; any other database error: 500."""
    busy = getattr(exc.orig, "sqlstate", None) in BUSY_SQLSTATES or any(
        text in str(exc.orig).lower() for text in BUSY_MESSAGES
    )
    down = not busy and database_unavailable(exc)
    if not (busy or down):
        return unexpected_error(exc)
    try:
        db.session.rollback()
    except Exception:  # the connection is gone: the pool replaces it on the next checkout
        db.session.close()
    what = "busy" if busy else "unavailable"
    current_app.logger.warning("database %s on %s %s: %s", what, request.method, request.path, exc.orig)
    headers = {"Retry-After": str(current_app.config["DATABASE_BUSY_RETRY_AFTER"])}
    if wants_json():
        message = (
            "the database is busy; nothing was saved, try again shortly"
            if busy
            else "the database is unavailable for a moment; nothing was saved, try again shortly"
        )
        return *json_error(503, message), headers
    if down:
        return error_page(503, "We are restarting", UNAVAILABLE_PAGE, headers=headers)
    return error_page(503, headers=headers)


def _upload_limit() -> int:
    if request.endpoint == "api.deploy_definition":
        return current_app.config["MAX_DIAGRAM_BYTES"]
    return current_app.config["MAX_CONTENT_LENGTH"]


def _mib(size: int) -> str:
    return f"{size / 1048576:g} MiB"
