"""The studio's "Migrate tickets" panel: a dry run, a batch of the movable tickets, its progress.

The same engine commands as the API's /api/v1/migrations routes, for the analyst signed in to
the studio (session and CSRF token instead of a bearer token). The batch runs in the worker; the
panel polls its progress.
"""

from flask import current_app, jsonify
from flask_login import current_user

from app.access import roles_required
from app.engine import migration_batch, migration_dry_run, start_migration_batch
from app.inputs import INT_MAX
from app.web.studio.blueprint import bp
from app.web.studio.common import ANALYSTS, BadInput, body, type_key

MAX_VERSION = 1_000_000


def _version(data: dict, name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_VERSION:
        raise BadInput(name, f"required: a version number from 1 to {MAX_VERSION}")
    return value


def _mapping(data: dict):
    mapping = data.get("mapping")
    if mapping is not None and not isinstance(mapping, dict):
        raise BadInput("mapping", "an object of old element id → new element id")
    return mapping or None


def _ticket_ids(data: dict) -> list[int] | None:
    ids = data.get("ticket_ids")
    if ids is None:
        return None
    limit = current_app.config["MIGRATION_BATCH_MAX"]
    ok = isinstance(ids, list) and 0 < len(ids) <= limit
    if not ok or any(not isinstance(i, int) or isinstance(i, bool) or not 1 <= i <= INT_MAX for i in ids):
        raise BadInput("ticket_ids", f"a list of 1 to {limit} ticket ids")
    return ids


@bp.post("/api/types/<key>/migrations/dry-run")
@roles_required(*ANALYSTS)
def migration_dry_run_studio(key: str):
    """Which running tickets of a version can move to another, grouped by why the others cannot."""
    key, data = type_key(key), body()
    source, target = _version(data, "source_version"), _version(data, "target_version")
    return jsonify(migration_dry_run(key, source, target, _mapping(data)))


@bp.post("/api/types/<key>/migrations")
@roles_required(*ANALYSTS)
def start_migration_studio(key: str):
    """Queue a batch moving the picked tickets; 202 with the batch (the worker moves them)."""
    key, data = type_key(key), body()
    source, target = _version(data, "source_version"), _version(data, "target_version")
    batch = start_migration_batch(
        key, source, target, _mapping(data), ticket_ids=_ticket_ids(data), actor=current_user.username
    )
    return jsonify(batch), 202


@bp.get("/api/migrations/<int:batch_id>")
@roles_required(*ANALYSTS)
def migration_batch_studio(batch_id: int):
    """A batch's state, counts and failures (the panel polls it)."""
    return jsonify(migration_batch(batch_id))
