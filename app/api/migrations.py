"""Migration of running tickets to another version of their process: the dry run, one ticket (and its
roll back), and bulk batches the worker runs."""

from flask import current_app, g, jsonify, url_for

from app.api.auth import token_required
from app.api.blueprint import bp
from app.api.serialize import json_body
from app.engine import (
    InvalidData,
    migrate_instance,
    migration_batch,
    migration_dry_run,
    rollback_migration,
    start_migration_batch,
)
from app.inputs import INT_MAX, body_int, body_text

ROLES = ("analyst", "admin")
MAX_KEY = 128
MAX_VERSION = 1_000_000


def _version(body: dict, name: str) -> int:
    value = body_int(body, name, minimum=1, maximum=MAX_VERSION)
    if value is None:
        raise InvalidData({name: "required: a version number"}, f"{name}: required")
    return value


def _mapping(body: dict):
    mapping = body.get("mapping")
    if mapping is not None and not isinstance(mapping, dict):
        raise InvalidData(
            {"mapping": "an object of old element id → new element id"}, "mapping: not an object"
        )
    return mapping


@bp.post("/migrations/dry-run")
@token_required(*ROLES)
def migration_dry_run_api():
    """Which running tickets of a process version can move to another version, and why the others cannot."""
    body = json_body()
    key = _process_key(body)
    source, target = _version(body, "source_version"), _version(body, "target_version")
    return jsonify(migration_dry_run(key, source, target, _mapping(body)))


def _process_key(body: dict) -> str:
    key = body_text(body, "process_key", MAX_KEY)
    if not key:
        raise InvalidData({"process_key": "required: a process key"}, "process_key: required")
    return key


def _ticket_ids(body: dict) -> list[int] | None:
    ids = body.get("ticket_ids")
    if ids is None:
        return None
    limit = current_app.config["MIGRATION_BATCH_MAX"]
    message = f"a list of 1 to {limit} ticket ids"
    if not isinstance(ids, list) or not 0 < len(ids) <= limit:
        raise InvalidData({"ticket_ids": message}, f"ticket_ids: {message}")
    for value in ids:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= INT_MAX:
            raise InvalidData({"ticket_ids": message}, f"ticket_ids: {message}")
    return ids


@bp.post("/migrations")
@token_required(*ROLES)
def start_migration_api():
    """Queue a bulk migration of running tickets (all of a version, picked ids or a filter); 202 with its id."""
    body = json_body()
    key = _process_key(body)
    source, target = _version(body, "source_version"), _version(body, "target_version")
    batch = start_migration_batch(
        key,
        source,
        target,
        _mapping(body),
        ticket_ids=_ticket_ids(body),
        ticket_filter=body.get("filter"),
        actor=g.api_user.username,
    )
    location = url_for("api.migration_api", batch_id=batch["id"])
    return jsonify(batch), 202, {"Location": location}


@bp.get("/migrations/<int:batch_id>")
@token_required(*ROLES)
def migration_api(batch_id: int):
    """A bulk migration's state, counts (total, moved, failed, skipped, pending) and failures."""
    return jsonify(migration_batch(batch_id))


@bp.post("/tickets/<int:ticket_id>/migrate")
@token_required(*ROLES)
def migrate_ticket_api(ticket_id: int):
    """Move one ticket's running process to another version of its type; 409 names the element that blocks."""
    body = json_body()
    target = _version(body, "target_version")
    return jsonify(migrate_instance(ticket_id, target, _mapping(body), actor=g.api_user.username))


@bp.post("/tickets/<int:ticket_id>/migrate/rollback")
@token_required(*ROLES)
def rollback_migration_api(ticket_id: int):
    """Move a migrated ticket back to its previous version; 409 with the reason when it moved on since."""
    return jsonify(rollback_migration(ticket_id, actor=g.api_user.username))
