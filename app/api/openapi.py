"""The OpenAPI 3.1 document of the REST API, served at /api/v1/openapi.json.

The document is written by hand next to the routes it describes; tests/api/test_openapi.py
checks that every route in the url map is described and that nothing else is.
"""

import functools

from flask import jsonify

from app.api.blueprint import bp
from app.api.openapi_definitions import definition_paths
from app.api.openapi_instances import CANCEL_BODY, instance_paths, instance_schemas
from app.api.openapi_migrations import migration_paths, migration_schemas
from app.api.openapi_parts import (
    JSON_OBJECT,
    NULLABLE_STRING,
    NULLABLE_TIME,
    QUERY_TEXT,
    STAFF_TEXT,
    error,
    json_body,
    json_response,
    list_of,
    obj,
    op,
    path_param,
    query,
    ref,
    schemas,
    text,
    whole,
)
from app.api.openapi_statistics import statistics_paths
from app.api.openapi_tasks import task_action
from app.api.openapi_texts import FORMLESS_DATA, STEP_FAILED
from app.api.openapi_tickets import ticket_list_parameters, ticket_page


def _ticket_paths() -> dict:
    created = obj(
        {
            "id": {"type": "integer"},
            "type": {"type": "string"},
            "status": {
                "type": "string",
                "description": "`closed` (or `cancelled`) once the "
                "process ended without setting a final status itself",
            },
            "priority": NULLABLE_STRING,
            "instance_id": {"type": "integer"},
        }
    )
    new_ticket = obj(
        {
            "type": text(128, description="a deployed process key"),
            "customer_id": whole(),
            "subject": text(300, minLength=1),
            "data": {
                **JSON_OBJECT,
                "description": "the start form's data, checked against its JSON Schema. " + FORMLESS_DATA,
            },
            "priority": {"type": ["string", "null"], "enum": ["low", "normal", "high", "urgent", None]},
        },
        required=("type", "subject"),
    )
    return {
        "/api/v1/customers": {
            "get": op(
                "customers",
                "List customers with their profile",
                {"200": json_response("All customers by id", list_of("customers", ref("Customer")))},
            )
        },
        "/api/v1/tickets": {
            "post": op(
                "tickets",
                "Open a ticket and start its process",
                {
                    "201": json_response("The ticket was opened", created),
                    "404": error("A customer's token named another customer"),
                    "409": error("The command kept conflicting with others; nothing was saved, try again"),
                    "422": error(
                        "A field is invalid (`errors` maps field to message, `data.<name>` for "
                        "data), " + STEP_FAILED
                    ),
                },
                body=json_body(new_ticket),
                roles=f"{STAFF_TEXT} (customer_id required), or customer (for "
                "themselves: customer_id optional, no priority)",
            ),
            "get": op(
                "tickets",
                "List tickets with filters, newest first",
                {
                    "200": json_response(
                        "One page of tickets, the total and the counts per status", ticket_page()
                    )
                },
                parameters=ticket_list_parameters(),
                description="The dashboard's ticket list (`/dashboard/tickets`, same parameter names): "
                "every ticket in the caller's scope (managers and admins: all; others: their teams' "
                "tickets and those they worked on; a customer: their own). Filters combine with AND; "
                "a parameter left out means any, a blank one is refused (422 naming it).",
                roles=f"{STAFF_TEXT}, or customer (their own tickets only; not team, assignee_id, customer)",
            ),
        },
        "/api/v1/tickets/{ticket_id}": {
            "parameters": [path_param("ticket_id", "integer", "the ticket id")],
            "get": op(
                "tickets",
                "Read a ticket with its instance, tasks, waits and history",
                {
                    "200": json_response(
                        "The ticket (as staff or as its customer see it)",
                        {"anyOf": [ref("TicketDetail"), ref("CustomerTicket")]},
                    ),
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
                roles=f"{STAFF_TEXT}, or customer (their own ticket; without tasks, incidents, actors and "
                "history data)",
            ),
        },
        "/api/v1/tickets/{ticket_id}/cancel": {
            "parameters": [path_param("ticket_id", "integer", "the ticket id")],
            "post": op(
                "tickets",
                "Cancel a ticket: its process stops, its open tasks close",
                {
                    "200": json_response("The ticket, now `cancelled`", ref("TicketDetail")),
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "409": error("The ticket has already ended, or the command kept conflicting with others"),
                    "422": error("The reason is not text of at most 500 characters"),
                },
                description="Every open task, timer, job and message wait of the ticket's process goes "
                "away and the ticket's status becomes `cancelled`. Other staff who see the "
                "ticket get 403.",
                roles="manager or admin, or a lead of the team of one of the ticket's open tasks",
                body=CANCEL_BODY,
            ),
        },
        **instance_paths(op),
    }


def _task_paths() -> dict:
    completed = obj(
        {
            "completed": {"type": "string", "description": "the task id"},
            "opened_tasks": {
                "type": "array",
                "items": {"type": "string"},
                "description": "ids of the tasks the step opened",
            },
        }
    )
    return {
        "/api/v1/tasks": {
            "get": op(
                "tasks",
                "List open tasks with their forms",
                {"200": json_response("Tasks by due time, then creation", list_of("tasks", ref("Task")))},
                parameters=[
                    query("ticket_id", "only this ticket's tasks", whole()),
                    query("team", "only this team's tasks"),
                    query("assignee", "a username, or `none` for unclaimed tasks", text(80, QUERY_TEXT)),
                    query(
                        "state", "claimed or unclaimed", {"type": "string", "enum": ["claimed", "unclaimed"]}
                    ),
                    query("limit", "at most this many", whole(500, 1, default=100)),
                ],
            )
        },
        "/api/v1/tasks/{task_id}/claim": task_action("Claim an open task for the caller"),
        "/api/v1/tasks/{task_id}/release": task_action("Give a claimed task back to its team"),
        "/api/v1/tasks/{task_id}/complete": task_action(
            "Complete a task with data validated against its form, or merged without one",
            extra={
                "422": error(
                    "The data does not satisfy the form or the formless rules "
                    "(`errors` maps field to message), " + STEP_FAILED
                )
            },
            body=json_body(
                obj(
                    {
                        "data": {
                            **JSON_OBJECT,
                            "default": {},
                            "description": "With a form (the task's `form`), its JSON Schema decides, "
                            "`additionalProperties` included. " + FORMLESS_DATA,
                        }
                    }
                )
            ),
            ok=json_response("The task was completed", completed),
        ),
    }


def _event_paths() -> dict:
    keys = {
        "type": "object",
        "additionalProperties": JSON_OBJECT,
        "propertyNames": text(200),
        "description": "`{key name: {property id: value}}`, SpiffWorkflow's shape: the "
        "`bpmn:correlationKey` name and the `bpmn:correlationProperty` id",
    }
    message = obj(
        {
            "name": text(200, description="the `bpmn:message` name"),
            "ticket_id": whole(
                description="the ticket to deliver to; omit it to find the ticket by correlation keys"
            ),
            "correlation_keys": {
                **keys,
                "description": keys["description"] + ". Keys the message carries "
                "besides what its payload gives (e.g. ones a catch event computes from "
                "process variables); a value the payload gives too must agree",
            },
            "payload": {
                **JSON_OBJECT,
                "description": "the message's data; its correlation properties "
                "are read from it by their retrieval expressions",
            },
        },
        required=("name",),
    )
    delivered = obj(
        {
            "delivered": {"type": "boolean", "const": True},
            "ticket_id": {"type": ["integer", "null"]},
            "element_id": {"type": "string"},
            "instance_id": {"type": "integer"},
            "correlations": {**keys, "description": "the message's correlation keys, as matched"},
        },
        required=("delivered", "ticket_id", "element_id"),
    )
    ambiguous = json_response(
        "Several waiting tickets match the message's correlation keys (no ticket id)",
        obj(
            {
                "error": {"type": "string"},
                "matches": {
                    "type": "array",
                    "items": obj(
                        {
                            "ticket_id": {"type": ["integer", "null"]},
                            "instance_id": {"type": "integer"},
                            "element_id": {"type": "string"},
                        }
                    ),
                },
            }
        ),
    )
    retried = obj(
        {
            "id": {"type": "integer"},
            "resolved_at": NULLABLE_TIME,
            "retrying": {"type": "boolean", "const": True},
        }
    )
    return {
        "/api/v1/messages": {
            "post": op(
                "messages",
                "Deliver a message to the ticket waiting for it",
                {
                    "200": json_response(
                        "The message was delivered (`instance_id` and `correlations` when routed "
                        "by correlation keys)",
                        delivered,
                    ),
                    "404": error(
                        "The ticket does not wait for a message of that name (with these correlation "
                        "keys), or no waiting ticket matches the message's correlation keys, or the "
                        "ticket is not one the caller may deliver to (the same answer, so as not to "
                        "reveal it)"
                    ),
                    "409": ambiguous,
                    "422": error(
                        "The name, ticket id, payload or correlation keys are malformed, or a "
                        "correlation property of the message cannot be read from the payload "
                        "(`errors.payload` names the property, its expression and the message)"
                    ),
                },
                description=(
                    "With `ticket_id` the message goes to that ticket. Without it the ticket is found by "
                    "the message's correlation keys: each candidate catch event's "
                    "`bpmn:correlationProperty` retrieval expressions are evaluated on the payload, "
                    "`correlation_keys` are added, and a waiting catch event matches when every key it "
                    "expects (from `spiffworkflow:processVariableCorrelation` or earlier messages) is "
                    "carried with the same values; one that expects nothing yet matches any message of "
                    "its name. Exactly one waiting ticket must match. Only the tickets the caller may "
                    "act on are considered: a customer's own tickets (and only the customer messages, "
                    "`CUSTOMER_MESSAGES`, by default `customer_reply`), a staff member's teams' tickets, "
                    "any ticket for admins and for tokens with the `messages` scope. Delivering a "
                    "message grants no access to the ticket."
                ),
                roles="any (customer, agent, analyst, manager, admin); the ticket decides",
                body=json_body(message),
            )
        },
        "/api/v1/incidents": {
            "get": op(
                "incidents",
                "List incidents, newest first",
                {
                    "200": json_response(
                        "Open incidents (all of them with all=1) of the tickets the caller may see",
                        list_of("incidents", ref("Incident")),
                    )
                },
                description="Scoped like tickets: the incidents of the caller's teams' tickets; admins see all.",
                roles="agent, manager, admin or analyst",
                parameters=[
                    query("all", "1 to include resolved incidents", {"type": "string", "enum": ["0", "1"]})
                ],
            )
        },
        "/api/v1/incidents/{incident_id}/retry": {
            "parameters": [path_param("incident_id", "integer", "the incident id")],
            "post": op(
                "incidents",
                "Retry the failed step now",
                {
                    "200": json_response("The step is being retried", retried),
                    "404": error("No such incident, or one of a ticket the caller may not see"),
                    "409": error("The incident was already resolved, or a retry of it is under way"),
                },
                description="The incident stays open (`resolved_at` null) until its job or timer succeeds.",
                roles="manager or admin (of the incident ticket's teams; admins any)",
            ),
        },
    }


@functools.cache
def document() -> dict:
    """Build the OpenAPI 3.1 document of the API (once; callers must not mutate it)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ticketflow API",
            "version": "1.0",
            "description": "Open customer-service tickets, work their tasks and deploy "
            "the BPMN processes behind them.",
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": name}
            for name in (
                "meta",
                "definitions",
                "customers",
                "tickets",
                "tasks",
                "messages",
                "incidents",
                "migrations",
            )
        ],
        "paths": {
            "/api/v1/openapi.json": {
                "get": op(
                    "meta",
                    "This OpenAPI document",
                    {"200": json_response("The document", {"type": "object"})},
                    roles=None,
                )
            },
            **definition_paths(),
            **statistics_paths(),
            **_ticket_paths(),
            **_task_paths(),
            **_event_paths(),
            **migration_paths(),
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "an API token (`tf_...`)"}
            },
            "schemas": {**schemas(), **instance_schemas(), **migration_schemas()},
            "responses": {
                "Unauthorized": error("The bearer token is missing or invalid"),
                "Forbidden": error("The caller's role may not do this"),
                "NotFound": error("No such resource"),
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    """Answer the OpenAPI document of this API."""
    return jsonify(document())
