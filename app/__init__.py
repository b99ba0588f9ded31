"""Ticketflow: BPMN process orchestration for customer-service tickets.

`create_app()` builds the Flask application; nothing is created at import time.
"""

import os

from flask import Flask

from app import security_headers
from app.config import MIN_SECRET_KEY_LENGTH, Config, MissingSecretKey, TestConfig, secret_key
from app.extensions import csrf, db, login_manager, migrate


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, error handlers, CLI, and (optionally) the embedded worker."""
    instance_path = (test_config or {}).get("INSTANCE_PATH")  # tests keep their files apart
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.from_object(TestConfig if test_config is not None else Config)
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    configure_secret_key(app)
    configure_logging(app)
    register_extensions(app)
    register_inputs(app)
    register_policy(app)
    register_blueprints(app)
    register_metrics(app)
    security_headers.init_app(app)  # CSP and companions on every answer
    register_errorhandlers(app)
    register_cli(app)
    register_faults(app)
    if app.config.get("EMBEDDED_WORKER"):
        _embed_worker(app)
    return app


def configure_secret_key(app: Flask) -> None:
    """SECRET_KEY from the environment, else instance/secret_key; production demands the former."""
    production = app.config.get("TICKETFLOW_ENV") == "production"
    key = app.config.get("SECRET_KEY")
    if not key:
        app.config["SECRET_KEY"] = secret_key(app.instance_path, production)
    elif production and len(key) < MIN_SECRET_KEY_LENGTH:
        raise MissingSecretKey(
            f"SECRET_KEY is too short for production (at least {MIN_SECRET_KEY_LENGTH} characters)"
        )


def configure_logging(app: Flask) -> None:
    """LOG_FORMAT (json or text) and LOG_LEVEL; a line per request and per engine command (app/logs.py)."""
    from app import logs

    logs.init_app(app)


def register_extensions(app: Flask) -> None:
    """The database (with SQLite's pragmas), migrations, sign-in sessions and CSRF."""
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    from app import models  # noqa: F401  (register tables)
    from app.engine import init_sqlite

    with app.app_context():
        init_sqlite(db.engine, busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"])
        if db.engine.dialect.driver == "psycopg":
            from app.stats.upsert import cache_long_statements

            cache_long_statements()


def register_inputs(app: Flask) -> None:
    """Strict JSON, text and integers at the edge (before the blueprints, for the URL converters)."""
    from app import inputs

    inputs.init_app(app)


def register_policy(app: Flask) -> None:
    """Who may claim, complete, release, reassign and cancel: the engine asks `app.access.POLICY`."""
    from app.access import POLICY
    from app.engine import register_checker

    register_checker(app, POLICY)


def register_blueprints(app: Flask) -> None:
    """The JSON API (bearer tokens, so no CSRF), the page blueprints, `/healthz` and `/readyz`."""
    from app import api, health, web

    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)
    web.init_app(app)
    health.init_app(app)


def register_metrics(app: Flask) -> None:
    """`/metrics` for Prometheus, and the engine command latency histogram behind it."""
    from app import metrics

    metrics.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    """JSON for the API and for clients asking for JSON, styled pages for everyone else."""
    from app import errors

    errors.init_app(app)


def register_cli(app: Flask) -> None:
    """The `flask processes`, `users`, `seed` and `worker` commands."""
    from app import cli

    cli.init_app(app)


def register_faults(app: Flask) -> None:
    """The fault suite's crash points, only when TICKETFLOW_FAULT is set (app/faults.py)."""
    from app import faults

    faults.install(app)


def _embed_worker(app: Flask) -> None:
    from app.worker import Worker

    worker = Worker(app)
    app.extensions["ticketflow_worker"] = worker
    worker.start()

    @app.after_request
    def wake_worker(response):
        if response.status_code < 400 and _is_write():
            worker.wake()
        return response


def _is_write() -> bool:
    from flask import request

    return request.method in ("POST", "PUT", "PATCH", "DELETE")
