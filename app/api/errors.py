"""JSON answers for errors: every engine error becomes one clear 4xx, never a stack trace."""

from flask import current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from app.api.blueprint import bp
from app.engine import DiagramRejected, EngineError, InvalidData, StepFailed


def api_error(status: int, message: str, **extra):
    return jsonify({"error": message, **extra}), status


@bp.errorhandler(EngineError)
def engine_error(exc: EngineError):
    if isinstance(exc, DiagramRejected):
        return api_error(exc.status, exc.message, errors=[p.as_dict() for p in exc.problems])
    if isinstance(exc, InvalidData):
        return api_error(exc.status, exc.message, errors=exc.errors)
    if isinstance(exc, StepFailed):
        return api_error(exc.status, exc.message, errors=[exc.as_dict()])
    return api_error(exc.status, exc.message)


def json_body() -> dict:
    """The request's JSON object, or InvalidData naming the body."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # the JSON parser gives up on thousands of nested levels
        raise InvalidData({"body": "the JSON is nested too deeply"}) from None
    if not isinstance(data, dict):
        raise InvalidData({"body": "send a JSON object with Content-Type: application/json"})
    return data


def register_app_handlers(app) -> None:
    """JSON errors for anything under /api/ (404s of unknown routes, 405, 413, 500)."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if request.path.startswith("/api/"):
            message = exc.description or exc.name
            if exc.code == 413:
                limit = current_app.config["MAX_CONTENT_LENGTH"]
                if request.endpoint == "api.deploy_definition":
                    limit = current_app.config["MAX_DIAGRAM_BYTES"]
                message = f"the request body is too large (limit {limit / 1048576:g} MiB)"
            return api_error(exc.code or 500, message)
        return exc

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        app.logger.exception("unhandled error on %s", request.path)
        if request.path.startswith("/api/"):
            return api_error(500, "internal error; it was logged")
        return "Internal error; it was logged.", 500
