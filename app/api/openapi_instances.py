"""The OpenAPI description of `GET /api/v1/tickets/{id}/instance` and of the cancel's optional reason."""

from app.api.openapi_parts import (
    NULLABLE_TIME,
    STAFF_TEXT,
    TIME,
    error,
    json_response,
    obj,
    path_param,
    ref,
    text,
)

ELEMENT_STATES = ["incident", "active", "waiting", "completed", "cancelled"]


def instance_schemas() -> dict:
    element = obj(
        {
            "state": {"type": "string", "enum": ELEMENT_STATES, "description": "the first that applies"},
            "completed": {"type": "integer", "description": "times the element finished"},
            "cancelled": {"type": "integer", "description": "times a task there closed without completion"},
            "active": {"type": "integer", "description": "open user tasks and running jobs there"},
            "due_at": {"type": "array", "items": TIME, "description": "due times of its waiting timers"},
            "messages": {
                "type": "array",
                "items": {"type": "string"},
                "description": "messages it waits for",
            },
            "incidents": {
                "type": "array",
                "items": obj({"id": {"type": "integer"}, "message": {"type": "string"}}),
            },
        }
    )
    return {
        "InstanceStates": obj(
            {
                "ticket_id": {"type": "integer"},
                "instance": obj(
                    {
                        "id": {"type": "integer"},
                        "status": {
                            "type": "string",
                            "enum": ["running", "completed", "cancelled", "incident"],
                        },
                        "created_at": TIME,
                        "ended_at": NULLABLE_TIME,
                    }
                ),
                "definition": obj(
                    {
                        "key": {"type": "string"},
                        "version": {"type": "integer"},
                        "name": {"type": ["string", "null"]},
                    }
                ),
                "diagram_url": {
                    "type": "string",
                    "description": "the version's BPMN XML (`GET /api/v1/process-definitions/{key}/versions/{version}`)",
                },
                "elements": {"type": "object", "additionalProperties": element},
            }
        )
    }


def instance_paths(op) -> dict:
    return {
        "/api/v1/tickets/{ticket_id}/instance": {
            "parameters": [path_param("ticket_id", "integer", "the ticket id")],
            "get": op(
                "tickets",
                "Where the ticket's process stands on its diagram, per element",
                {
                    "200": json_response(
                        "The element states of the ticket's latest instance", ref("InstanceStates")
                    ),
                    "404": error(
                        "No such ticket, one outside the caller's teams, or one without an instance"
                    ),
                },
                description="For a diagram viewer: per BPMN element id its state (incident, active, waiting, "
                "completed, cancelled), how often it completed or was cancelled, its open tasks and jobs, the "
                "due times of its waiting timers, the messages it waits for and its open incidents.",
                roles=STAFF_TEXT,
            ),
        }
    }


CANCEL_BODY = {
    "required": False,
    "content": {
        "application/json": {
            "schema": {
                **obj({"reason": {**text(500), "description": "why, kept in the ticket's history"}}, ()),
            }
        }
    },
}
