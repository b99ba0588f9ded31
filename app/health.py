"""Liveness and readiness: `/healthz` (the process answers, its database too) and `/readyz`.

`/readyz` is what a load balancer or an orchestrator asks before it sends traffic: the database
answers and its schema is at the migrations' head (a web process started before `flask db
upgrade` finished, or against an older database, says 503 and why). A schema ahead of the code
(a newer release's expand migration, during an online upgrade) is ready: "migrations": "ahead".
"""

import os
from functools import cache

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import Flask, jsonify
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db


@cache
def migration_heads(directory: str) -> frozenset[str]:
    """The head revisions of the migration scripts (read once per process)."""
    config = AlembicConfig()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@cache
def known_revisions(directory: str) -> frozenset[str]:
    """Every revision of the migration scripts this code ships."""
    config = AlembicConfig()
    config.set_main_option("script_location", directory)
    return frozenset(script.revision for script in ScriptDirectory.from_config(config).walk_revisions())


def readiness(directory: str) -> tuple[dict, int]:
    """The readiness answer and its status: 200 when the database is reachable and current."""
    try:
        rows = db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalars().all()
    except SQLAlchemyError as error:
        db.session.rollback()
        reason = "database unreachable" if _unreachable(error) else "database has no migration table"
        return {"status": "unavailable", "database": reason, "error": f"not ready: {reason}"}, 503
    heads = migration_heads(directory)
    current = frozenset(rows)
    if current and current != heads and not current <= known_revisions(directory):
        # A revision this code does not know: a newer release's expand migration ran while this
        # (older) process still serves. Expand migrations keep old code working (docs/operations.md
        # "Online upgrades"), so it stays ready; the newer processes report current.
        return {
            "status": "ready",
            "database": "reachable",
            "migrations": "ahead",
            "current": sorted(current),
        }, 200
    if current != heads:
        return {
            "status": "unavailable",
            "database": "reachable",
            "migrations": "behind" if current else "none applied",
            "current": sorted(current),
            "expected": sorted(heads),
            "error": "not ready: the database schema is not at the migrations' head (run flask db upgrade)",
        }, 503
    return {"status": "ready", "database": "reachable", "migrations": "current"}, 200


def _unreachable(error: SQLAlchemyError) -> bool:
    from sqlalchemy.exc import OperationalError

    text = str(error).lower()
    return (
        isinstance(error, OperationalError) and "no such table" not in text and "does not exist" not in text
    )


def init_app(app: Flask) -> None:
    directory = os.path.join(os.path.dirname(app.root_path), "migrations")

    @app.get("/healthz")
    def healthz():
        """Answer when the server is up and its database reachable."""
        try:
            db.session.execute(db.text("SELECT 1"))
        except SQLAlchemyError:
            db.session.rollback()
            return jsonify(
                {"status": "unavailable", "database": "unreachable", "error": "database unreachable"}
            ), 503
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    def readyz():
        """Answer 200 when this process may take traffic: database reachable, migrations current."""
        body, status = readiness(directory)
        return jsonify(body), status
