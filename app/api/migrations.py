"""Migration of running tickets to another version of their process: the dry run and one ticket."""

from flask import g, jsonify

from app.api.auth import token_required
from app.api.blueprint import bp
from app.api.serialize import json_body
from app.engine import InvalidData, migrate_instance, migration_dry_run
from app.inputs import body_int, body_text

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
    key = body_text(body, "process_key", MAX_KEY)
    if not key:
        raise InvalidData({"process_key": "required: a process key"}, "process_key: required")
    source, target = _version(body, "source_version"), _version(body, "target_version")
    return jsonify(migration_dry_run(key, source, target, _mapping(body)))


@bp.post("/tickets/<int:ticket_id>/migrate")
@token_required(*ROLES)
def migrate_ticket_api(ticket_id: int):
    """Move one ticket's running process to another version of its type; 409 names the element that blocks."""
    body = json_body()
    target = _version(body, "target_version")
    return jsonify(migrate_instance(ticket_id, target, _mapping(body), actor=g.api_user.username))
