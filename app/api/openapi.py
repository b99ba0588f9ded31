"""The OpenAPI 3.1 document of the REST API, served at /api/v1/openapi.json.

The document is written by hand next to the routes it describes; tests/api/test_openapi.py
checks that every route in the url map is described and that nothing else is.
"""

import functools

from flask import jsonify

from app.api.blueprint import bp
from app.api.openapi_parts import (
    NULLABLE_STRING,
    NULLABLE_TIME,
    STAFF_TEXT,
    TIME,
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
)


def _definition_paths() -> dict:
    deployed = ref("DeployedDefinition")
    raw_xml = {"schema": {"type": "string", "description": "the BPMN or DMN XML"}}
    version = obj(
        {
            "key": {"type": "string"},
            "version": {"type": "integer"},
            "kind": {"type": "string"},
            "name": NULLABLE_STRING,
            "deployment_id": {"type": ["integer", "null"]},
            "deployed_at": TIME,
            "xml": {"type": "string"},
            "start_form": NULLABLE_STRING,
            "forms": {"type": "array", "items": {"type": "string"}},
            "decisions": {"type": "array", "items": {"type": "string"}},
            "calls": {"type": "array", "items": {"type": "string"}},
            "called_files": {"type": "array", "items": {"type": "string"}},
        }
    )
    binary = {"type": "string", "contentMediaType": "application/octet-stream"}
    return {
        "/api/v1/deployments": {
            "post": op(
                "definitions",
                "Deploy a bundle: BPMN, DMN and JSON form files, all or nothing",
                {
                    "201": json_response("Something new was deployed", ref("Deployment")),
                    "200": json_response(
                        "Everything was deployed already with identical content", ref("Deployment")
                    ),
                    "413": error("The body is larger than the bundle limit (8 MiB)"),
                    "422": error(
                        "The bundle was refused; `errors` lists every problem of every file "
                        "({file, element_id, message}) and nothing was stored"
                    ),
                },
                roles="analyst or admin",
                body={
                    "required": True,
                    "content": {
                        "multipart/form-data": {"schema": obj({"file": {"type": "array", "items": binary}})}
                    },
                },
                description="Send each file as a multipart field `file` (or one `.zip`). Call activities, "
                "forms (`formJsonSchemaFilename`, `formUiSchemaFilename`) and decisions resolve "
                "in the bundle first, then against what is deployed.",
            )
        },
        "/api/v1/process-definitions/{key}/versions/{version}": {
            "parameters": [
                path_param("key", "string", "the process or decision key"),
                path_param("version", "integer", "the version"),
            ],
            "get": op(
                "definitions",
                "Read one version: its XML, forms and decisions",
                {
                    "200": json_response("The version", version),
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            ),
        },
        "/api/v1/forms/{name}": {
            "parameters": [path_param("name", "string", "the form's file name")],
            "get": op(
                "definitions",
                "Read a deployed form",
                {
                    "200": json_response(
                        "The form",
                        obj(
                            {
                                "name": {"type": "string"},
                                "version": {"type": "integer"},
                                "deployment_id": {"type": ["integer", "null"]},
                                "schema": {"type": "object"},
                            }
                        ),
                    ),
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "422": error("version is not a whole number"),
                },
                parameters=[query("version", "that version (default: the latest)", {"type": "integer"})],
                roles=f"{STAFF_TEXT}, or customer",
            ),
        },
        "/api/v1/process-definitions": {
            "post": op(
                "definitions",
                "Deploy a BPMN or DMN diagram",
                {
                    "201": json_response("A new version was deployed", deployed),
                    "200": json_response(
                        "The diagram is unchanged; the latest version is answered", deployed
                    ),
                    "413": error("The body is larger than 2 MiB"),
                    "422": error("The diagram was rejected; `errors` lists every problem"),
                },
                roles="analyst or admin",
                body={
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": obj(
                                {"file": {"type": "string", "contentMediaType": "application/octet-stream"}}
                            )
                        },
                        "application/xml": raw_xml,
                        "text/xml": raw_xml,
                    },
                },
                description="Send the file as multipart field `file`, or as the raw XML body.",
            ),
            "get": op(
                "definitions",
                "List process definitions with their versions and start forms",
                {
                    "200": json_response(
                        "Every key, oldest key first", list_of("definitions", ref("Definition"))
                    ),
                },
                roles=f"{STAFF_TEXT}, or customer",
            ),
        },
    }


# The rules for data sent without a form (app/engine/forms.py check_formless_data).
FORMLESS_DATA = (
    "Without a form, any JSON object, merged into the process data as it is (diagram conditions "
    "and scripts read its top-level names): at most 64 KiB as compact JSON (config "
    "MAX_PROCESS_DATA_BYTES), at most 32 levels of nested objects and lists, top-level names are "
    "identifiers and not Python keywords, and not the names the engine sets (`ticket_id`, "
    "`ticket_type`, `subject`, `priority`, `customer`, `feedback_delay`); no key `typename` and "
    "no key starting with `_` at any level. A refused name answers 422 with `errors` naming it."
)
STEP_FAILED = (
    "or a step after it failed, e.g. a gateway condition or script reading a name the process data "
    "lacks: `errors` is `[{element_id, message, missing}]` (`missing`: the name) and nothing was saved"
)


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
            "type": {"type": "string", "description": "a deployed process key"},
            "customer_id": {"type": "integer"},
            "subject": {"type": "string"},
            "data": {
                "type": "object",
                "description": "the start form's data, checked against its JSON Schema. " + FORMLESS_DATA,
            },
            "priority": {"type": "string"},
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
                "List tickets, newest first",
                {"200": json_response("One page of tickets", list_of("tickets", ref("Ticket")))},
                parameters=[
                    query("type", "only tickets of this process key"),
                    query("status", "only tickets in this status"),
                    query("customer_id", "only this customer's tickets", {"type": "integer"}),
                    query("limit", "page size", {"type": "integer", "default": 50, "maximum": 200}),
                    query("offset", "tickets to skip", {"type": "integer", "default": 0}),
                ],
                roles=f"{STAFF_TEXT}, or customer (their own tickets only)",
            ),
        },
        "/api/v1/tickets/{ticket_id}": {
            "parameters": [path_param("ticket_id", "integer", "the ticket id")],
            "get": op(
                "tickets",
                "Read a ticket with its instance, tasks, waits and history",
                {
                    "200": json_response("The ticket", ref("TicketDetail")),
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
                },
                description="Every open task, timer, job and message wait of the ticket's process goes "
                "away and the ticket's status becomes `cancelled`. Other staff who see the "
                "ticket get 403.",
                roles="manager or admin, or a lead of the team of one of the ticket's open tasks",
            ),
        },
    }


def _task_action(
    summary: str, extra: dict | None = None, body: dict | None = None, ok: dict | None = None
) -> dict:
    responses = {
        "200": ok or json_response("The task as it is now", obj({"task": ref("Task")})),
        "404": {"$ref": "#/components/responses/NotFound"},
        "409": error(
            "The task is claimed by someone else, or no longer open (the message "
            "says when and why: completed by whom, or escalated or cancelled by "
            "which element), or the command kept conflicting with others"
        ),
        **(extra or {}),
    }
    return {
        "parameters": [path_param("task_id", "string", "the task id")],
        "post": op("tasks", summary, responses, body=body),
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
                    query("ticket_id", "only this ticket's tasks", {"type": "integer"}),
                    query("team", "only this team's tasks"),
                    query("assignee", "a username, or `none` for unclaimed tasks"),
                    query(
                        "state", "claimed or unclaimed", {"type": "string", "enum": ["claimed", "unclaimed"]}
                    ),
                    query("limit", "at most this many", {"type": "integer", "default": 100, "maximum": 500}),
                ],
            )
        },
        "/api/v1/tasks/{task_id}/claim": _task_action("Claim an open task for the caller"),
        "/api/v1/tasks/{task_id}/release": _task_action("Give a claimed task back to its team"),
        "/api/v1/tasks/{task_id}/complete": _task_action(
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
                            "type": "object",
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
        "additionalProperties": {"type": "object"},
        "description": "`{key name: {property id: value}}`, SpiffWorkflow's shape: the "
        "`bpmn:correlationKey` name and the `bpmn:correlationProperty` id",
    }
    message = obj(
        {
            "name": {"type": "string", "description": "the `bpmn:message` name"},
            "ticket_id": {
                "type": "integer",
                "description": "the ticket to deliver to; omit it to find the ticket by correlation keys",
            },
            "correlation_keys": {
                **keys,
                "description": keys["description"] + ". Keys the message carries "
                "besides what its payload gives (e.g. ones a catch event computes from "
                "process variables); a value the payload gives too must agree",
            },
            "payload": {
                "type": "object",
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
                        "keys), or no waiting ticket matches the message's correlation keys"
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
                    "its name. Exactly one waiting ticket must match."
                ),
                body=json_body(message),
            )
        },
        "/api/v1/incidents": {
            "get": op(
                "incidents",
                "List incidents, newest first",
                {
                    "200": json_response(
                        "Open incidents (all of them with all=1)", list_of("incidents", ref("Incident"))
                    )
                },
                roles="agent, manager, admin or analyst",
                parameters=[
                    query("all", "1 to include resolved incidents", {"type": "string", "enum": ["1"]})
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
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "409": error("The incident was already resolved"),
                },
                roles="manager or admin",
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
            for name in ("meta", "definitions", "customers", "tickets", "tasks", "messages", "incidents")
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
            **_definition_paths(),
            **_ticket_paths(),
            **_task_paths(),
            **_event_paths(),
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "an API token (`tf_...`)"}
            },
            "schemas": schemas(),
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
