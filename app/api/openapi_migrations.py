"""The OpenAPI description of the migration routes: the dry run and moving one ticket."""

from app.api.openapi_parts import error, json_body, json_response, obj, op, path_param, ref, text, whole

ROLES_TEXT = "analyst or admin"
VERSION = whole(1_000_000, 1)
MAPPING = {
    "type": "object",
    "maxProperties": 200,
    "propertyNames": text(128, minLength=1),
    "additionalProperties": text(128, minLength=1),
    "description": "renamed elements: old element id → new element id (waiting and ready tasks only)",
}
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
