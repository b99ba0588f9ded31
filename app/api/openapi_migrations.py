"""The OpenAPI description of the migration routes: the dry run, one ticket and its roll back, batches."""

from app.api.openapi_parts import (
    NULLABLE_STRING,
    NULLABLE_TIME,
    error,
    json_body,
    json_response,
    obj,
    op,
    path_param,
    ref,
    text,
    whole,
)
from app.config import Config

ROLES_TEXT = "analyst or admin"
VERSION = whole(1_000_000, 1)
MAPPING = {
    "type": "object",
    "maxProperties": 200,
    "propertyNames": text(128, minLength=1),
    "additionalProperties": text(128, minLength=1),
    "description": "renamed elements: old element id → new element id (waiting and ready tasks only)",
}
FILTER = {
    "type": "object",
    "properties": {name: text(64, minLength=1) for name in ("status", "priority", "team")},
    "additionalProperties": False,
    "description": "only the tickets with this status, priority and/or SLA team",
}
COUNT = {"type": "integer"}
TICKET_REF = {
    "type": ["integer", "string"],
    "description": "a ticket id (`instance N` for one without a ticket)",
}


def migration_schemas() -> dict:
    return {
        "MigrationDryRun": obj(
            {
                "process_key": {"type": "string"},
                "source_version": {"type": "integer"},
                "target_version": {"type": "integer"},
                "movable": {"type": "array", "items": TICKET_REF},
                "blocked": {
                    "type": "array",
                    "description": "the tickets that cannot move, grouped by reason",
                    "items": obj(
                        {
                            "element_id": {"type": "string"},
                            "state": {
                                "type": "string",
                                "description": "the task state there (READY, COMPLETED ...)",
                            },
                            "reason": {"type": "string"},
                            "tickets": {"type": "array", "items": TICKET_REF},
                        }
                    ),
                },
                "counts": obj({"movable": {"type": "integer"}, "blocked": {"type": "integer"}}),
            }
        ),
        "MigrationBatch": obj(
            {
                "id": {"type": "integer"},
                "process_key": {"type": "string"},
                "source_version": {"type": "integer"},
                "target_version": {"type": "integer"},
                "mapping": {"type": "object", "additionalProperties": {"type": "string"}},
                "state": {"type": "string", "enum": ["queued", "running", "done"]},
                "counts": obj(
                    {"total": COUNT, "moved": COUNT, "failed": COUNT, "skipped": COUNT, "pending": COUNT},
                    description="skipped: no longer running on the source version",
                ),
                "failures": {
                    "type": "array",
                    "description": "the tickets that could not move (the first 500), with the reason",
                    "items": obj({"ticket_id": {"type": "integer"}, "reason": {"type": "string"}}),
                },
                "created_by": NULLABLE_STRING,
                "created_at": NULLABLE_TIME,
                "finished_at": NULLABLE_TIME,
            }
        ),
        "MigrationDone": obj(
            {
                "ticket_id": {"type": "integer"},
                "from_version": {"type": "integer"},
                "to_version": {"type": "integer"},
            }
        ),
    }


def migration_paths() -> dict:
    return {
        "/api/v1/migrations/dry-run": {
            "post": op(
                "migrations",
                "Which running tickets of a process version can move to another version",
                {
                    "200": json_response(
                        "Movable tickets and the others grouped by reason", ref("MigrationDryRun")
                    ),
                    "404": error("The process has no such version (the message names the field)"),
                    "422": error("A field is missing or out of range (`errors` names it)"),
                },
                description="Reads only. A ticket can move when every task completed or started in it "
                "exists unchanged in the target; its waiting tasks and timers move to the element with "
                "the same id or the one `mapping` names.",
                roles=ROLES_TEXT,
                body=json_body(
                    obj(
                        {
                            "process_key": text(128, minLength=1),
                            "source_version": VERSION,
                            "target_version": VERSION,
                            "mapping": MAPPING,
                        },
                        ("process_key", "source_version", "target_version"),
                    )
                ),
            )
        },
        "/api/v1/migrations": {
            "post": op(
                "migrations",
                "Queue a bulk migration of running tickets; the worker moves them in chunks",
                {
                    "202": json_response(
                        "The batch is queued; follow it at its Location", ref("MigrationBatch")
                    ),
                    "404": error("The process has no such version (the message names the field)"),
                    "409": error("A ticket is already in another open batch (the message names it)"),
                    "422": error(
                        "A field is missing or out of range, no ticket matches, or more than "
                        "MIGRATION_BATCH_MAX do (`errors` names the field)"
                    ),
                },
                description="Every running ticket of the source version, or only `ticket_ids` (those no "
                "longer running on it are counted as skipped) and/or those matching `filter`. Each ticket "
                "moves in its own transaction as `POST /tickets/{id}/migrate` would; one that cannot "
                "move is listed in `failures` with the reason and left alone. A ticket is in at most "
                "one open batch.",
                roles=ROLES_TEXT,
                body=json_body(
                    obj(
                        {
                            "process_key": text(128, minLength=1),
                            "source_version": VERSION,
                            "target_version": VERSION,
                            "mapping": MAPPING,
                            "ticket_ids": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": Config.MIGRATION_BATCH_MAX,
                                "items": whole(minimum=1),
                            },
                            "filter": FILTER,
                        },
                        ("process_key", "source_version", "target_version"),
                    )
                ),
            )
        },
        "/api/v1/migrations/{batch_id}": {
            "parameters": [path_param("batch_id", "integer", "the batch id")],
            "get": op(
                "migrations",
                "A bulk migration's progress: state, counts and failures",
                {
                    "200": json_response("The batch", ref("MigrationBatch")),
                    "404": error("No such batch"),
                },
                roles=ROLES_TEXT,
            ),
        },
        "/api/v1/tickets/{ticket_id}/migrate/rollback": {
            "parameters": [path_param("ticket_id", "integer", "the ticket id")],
            "post": op(
                "migrations",
                "Move a migrated ticket back to the version it came from",
                {
                    "200": json_response("The ticket moved back", ref("MigrationDone")),
                    "404": error("No such ticket with a running process"),
                    "409": error(
                        "Nothing to roll back, or the ticket moved on since its migration (the message "
                        "names the element)"
                    ),
                },
                description="Only while the ticket has not moved on since its last migration (no element "
                "completed, timer fired or message arrived); the mapping is reversed. History: "
                "`migration_rolled_back` with both versions.",
                roles=ROLES_TEXT,
            ),
        },
        "/api/v1/tickets/{ticket_id}/migrate": {
            "parameters": [path_param("ticket_id", "integer", "the ticket id")],
            "post": op(
                "migrations",
                "Move one ticket's running process to another version of its type",
                {
                    "200": json_response("The ticket moved", ref("MigrationDone")),
                    "404": error("No such ticket with a running process, or no such version"),
                    "409": error("The ticket cannot move: the message names the element and its state"),
                    "422": error("A field is missing or out of range (`errors` names it)"),
                },
                description="One transaction: timers keep their due times, open tasks their assignees, "
                "the ticket its status and SLA clock; the history gets `instance_migrated` with both "
                "versions. Nothing changes when it is refused.",
                roles=ROLES_TEXT,
                body=json_body(obj({"target_version": VERSION, "mapping": MAPPING}, ("target_version",))),
            ),
        },
    }
