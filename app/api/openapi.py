"""The OpenAPI 3.1 document of the REST API, served at /api/v1/openapi.json.

The document is written by hand next to the routes it describes; tests/api/test_openapi.py
checks that every route in the url map is described and that nothing else is.
"""

import functools

from flask import jsonify

from app.api import bp
from app.models import STAFF

STAFF_TEXT = f"{', '.join(STAFF[:-1])} or {STAFF[-1]}"  # agent, analyst, manager or admin
NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
TIME = {"type": "string", "format": "date-time"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict, required: tuple[str, ...] | None = None, **extra) -> dict:
    """An object schema; every property is required unless `required` says otherwise."""
    return {"type": "object", "properties": properties,
            "required": list(properties if required is None else required), **extra}


def _list_of(key: str, item: dict) -> dict:
    return _obj({key: {"type": "array", "items": item}})


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(description, _ref("Error"))


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def _path_param(name: str, kind: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": kind}}


def _op(tag: str, summary: str, responses: dict, *, roles: str | None = STAFF_TEXT,
        description: str | None = None, parameters: list | None = None,
        body: dict | None = None) -> dict:
    """One operation; `roles` adds the bearer requirement and its 401/403 answers."""
    op: dict = {"tags": [tag], "summary": summary, "responses": dict(responses)}
    if description:
        op["description"] = description
    if parameters:
        op["parameters"] = parameters
    if body:
        op["requestBody"] = body
    if roles is None:
        op["security"] = []
    else:
        op["security"] = [{"bearer": []}]
        op["description"] = (op.get("description", "") + f"\n\nRoles: {roles}.").strip()
        op["responses"]["401"] = {"$ref": "#/components/responses/Unauthorized"}
        op["responses"]["403"] = {"$ref": "#/components/responses/Forbidden"}
    return op


def _json_body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _schemas() -> dict:
    problem_list = {"type": "array", "items": _ref("DiagramProblem")}
    field_errors = {"type": "object", "additionalProperties": {"type": "string"},
                    "description": "field name (or `data.<field>`, `body`) to message"}
    ticket = _obj({
        "id": {"type": "integer"}, "type": {"type": "string", "description": "process key"},
        "subject": {"type": "string"}, "customer_id": {"type": "integer"},
        "priority": NULLABLE_STRING, "status": {"type": "string"}, "resolution": NULLABLE_STRING,
        "created_at": NULLABLE_TIME, "updated_at": NULLABLE_TIME})
    return {
        "Error": _obj({
            "error": {"type": "string", "description": "what went wrong, for people"},
            "errors": {"oneOf": [problem_list, field_errors],
                       "description": "diagram or step problems (list), or form field errors (map)"},
        }, required=("error",)),
        "DiagramProblem": _obj({"file": {**NULLABLE_STRING, "description": "the bundle file it is in"},
                                "element_id": NULLABLE_STRING, "message": {"type": "string"}}),
        "Deployment": _obj({
            "deployment_id": {"type": ["integer", "null"]},
            "processes": {"type": "array", "items": _obj({
                "key": {"type": "string"}, "version": {"type": "integer"}, "created": {"type": "boolean"},
                "new_type": {"type": "boolean", "description": "the first version of a new ticket type"},
                "name": NULLABLE_STRING, "file": {"type": "string"}})},
            "decisions": {"type": "array", "items": _obj({
                "key": {"type": "string"}, "version": {"type": "integer"}, "created": {"type": "boolean"},
                "decisions": {"type": "array", "items": {"type": "string"}}})},
            "forms": {"type": "array", "items": _obj({
                "name": {"type": "string"}, "version": {"type": "integer"}, "created": {"type": "boolean"}})},
            "warnings": {"type": "array", "items": _ref("DiagramProblem"),
                         "description": "e.g. lanes that name no team (their tasks go to DEFAULT_TEAM)"}}),
        "Customer": _obj({
            "id": {"type": "integer"}, "name": {"type": "string"}, "email": {"type": "string"},
            "tier": {"type": "string"}, "tenure_months": {"type": "integer"},
            "order_count": {"type": "integer"}, "on_time_payment_ratio": {"type": "number"},
            "open_balance": {"type": "number"}}),
        "Ticket": ticket,
        "TicketDetail": {"allOf": [_ref("Ticket"), _obj({
            "customer": _ref("Customer"),
            "data": {"type": "object", "description": "the process data of the ticket"},
            "sla": _obj({"due_at": NULLABLE_TIME, "state": NULLABLE_STRING}),
            "feedback": {"oneOf": [_obj({"rating": {"type": "integer", "minimum": 1, "maximum": 5},
                                         "comment": NULLABLE_STRING, "created_at": TIME}),
                                   {"type": "null"}], "description": "the customer's latest survey answer"},
            "instance": {"oneOf": [_obj({"id": {"type": "integer"}, "status": {"type": "string"}}),
                                   {"type": "null"}]},
            "tasks": {"type": "array", "items": _ref("Task")},
            "waiting": _obj({
                "messages": {"type": "array", "items": _obj({"name": {"type": "string"},
                                                             "element_id": {"type": "string"}})},
                "timers": {"type": "array", "items": _obj({"element_id": {"type": "string"},
                                                           "due_at": NULLABLE_TIME})}}),
            "incidents": {"type": "array", "items": _obj({
                "id": {"type": "integer"}, "element_id": NULLABLE_STRING,
                "message": {"type": "string"}})},
            "history": {"type": "array", "items": _obj({
                "at": TIME, "actor": NULLABLE_STRING, "kind": {"type": "string"},
                "element_id": NULLABLE_STRING, "element_name": NULLABLE_STRING,
                "data": {"type": ["object", "null"]}})},
        })]},
        "Task": _obj({
            "id": {"type": "string"}, "ticket_id": {"type": ["integer", "null"]},
            "instance_id": {"type": "integer"}, "name": {"type": "string", "description": "BPMN id"},
            "title": {"type": "string"}, "team": NULLABLE_STRING,
            "assignee": {**NULLABLE_STRING, "description": "username, null when unclaimed"},
            "priority": NULLABLE_STRING,
            "form": {"type": ["object", "null"], "description": "the JSON Schema of the task's form"},
            "instructions": NULLABLE_STRING, "due_at": NULLABLE_TIME, "created_at": NULLABLE_TIME}),
        "Definition": _obj({
            "key": {"type": "string"}, "kind": {"type": "string", "enum": ["bpmn", "dmn"]},
            "name": NULLABLE_STRING, "latest_version": {"type": "integer"},
            "start_form": {"type": ["object", "null"],
                           "description": "the JSON Schema of the latest version's start form"},
            "versions": {"type": "array", "items": _obj({"version": {"type": "integer"},
                                                         "deployed_at": TIME})}}),
        "Incident": _obj({
            "id": {"type": "integer"}, "instance_id": {"type": "integer"},
            "ticket_id": {"type": ["integer", "null"]},
            "kind": {"type": "string", "enum": ["job", "timer", "engine"]},
            "element_id": NULLABLE_STRING, "operator": NULLABLE_STRING,
            "message": {"type": "string"}, "created_at": TIME, "resolved_at": NULLABLE_TIME}),
        "DeployedDefinition": _obj({"key": {"type": "string"}, "version": {"type": "integer"},
                                    "kind": {"type": "string"}, "id": {"type": "integer"}}),
    }


def _definition_paths() -> dict:
    deployed = _ref("DeployedDefinition")
    raw_xml = {"schema": {"type": "string", "description": "the BPMN or DMN XML"}}
    version = _obj({
        "key": {"type": "string"}, "version": {"type": "integer"}, "kind": {"type": "string"},
        "name": NULLABLE_STRING, "deployment_id": {"type": ["integer", "null"]}, "deployed_at": TIME,
        "xml": {"type": "string"}, "start_form": NULLABLE_STRING,
        "forms": {"type": "array", "items": {"type": "string"}},
        "decisions": {"type": "array", "items": {"type": "string"}},
        "calls": {"type": "array", "items": {"type": "string"}},
        "called_files": {"type": "array", "items": {"type": "string"}}})
    binary = {"type": "string", "contentMediaType": "application/octet-stream"}
    return {"/api/v1/deployments": {
        "post": _op("definitions", "Deploy a bundle: BPMN, DMN and JSON form files, all or nothing", {
            "201": _json("Something new was deployed", _ref("Deployment")),
            "200": _json("Everything was deployed already with identical content", _ref("Deployment")),
            "413": _error("The body is larger than the bundle limit (8 MiB)"),
            "422": _error("The bundle was refused; `errors` lists every problem of every file "
                          "({file, element_id, message}) and nothing was stored"),
        }, roles="analyst or admin", body={"required": True, "content": {"multipart/form-data": {"schema": _obj(
            {"file": {"type": "array", "items": binary}})}}},
            description="Send each file as a multipart field `file` (or one `.zip`). Call activities, "
                        "forms (`formJsonSchemaFilename`, `formUiSchemaFilename`) and decisions resolve "
                        "in the bundle first, then against what is deployed.")},
        "/api/v1/process-definitions/{key}/versions/{version}": {
            "parameters": [_path_param("key", "string", "the process or decision key"),
                           _path_param("version", "integer", "the version")],
            "get": _op("definitions", "Read one version: its XML, forms and decisions", {
                "200": _json("The version", version),
                "404": {"$ref": "#/components/responses/NotFound"}})},
        "/api/v1/forms/{name}": {
            "parameters": [_path_param("name", "string", "the form's file name")],
            "get": _op("definitions", "Read a deployed form", {
                "200": _json("The form", _obj({"name": {"type": "string"}, "version": {"type": "integer"},
                                               "deployment_id": {"type": ["integer", "null"]},
                                               "schema": {"type": "object"}})),
                "404": {"$ref": "#/components/responses/NotFound"},
                "422": _error("version is not a whole number")},
                parameters=[_query("version", "that version (default: the latest)", {"type": "integer"})],
                roles=f"{STAFF_TEXT}, or customer")},
        "/api/v1/process-definitions": {
        "post": _op("definitions", "Deploy a BPMN or DMN diagram", {
            "201": _json("A new version was deployed", deployed),
            "200": _json("The diagram is unchanged; the latest version is answered", deployed),
            "413": _error("The body is larger than 2 MiB"),
            "422": _error("The diagram was rejected; `errors` lists every problem"),
        }, roles="analyst or admin", body={"required": True, "content": {
            "multipart/form-data": {"schema": _obj(
                {"file": {"type": "string", "contentMediaType": "application/octet-stream"}})},
            "application/xml": raw_xml, "text/xml": raw_xml}},
            description="Send the file as multipart field `file`, or as the raw XML body."),
        "get": _op("definitions", "List process definitions with their versions and start forms", {
            "200": _json("Every key, oldest key first", _list_of("definitions", _ref("Definition"))),
        }, roles=f"{STAFF_TEXT}, or customer"),
    }}


# The rules for data sent without a form (app/engine/forms.py check_formless_data).
FORMLESS_DATA = (
    "Without a form, any JSON object, merged into the process data as it is (diagram conditions "
    "and scripts read its top-level names): at most 64 KiB as compact JSON (config "
    "MAX_PROCESS_DATA_BYTES), at most 32 levels of nested objects and lists, top-level names are "
    "identifiers and not Python keywords, and not the names the engine sets (`ticket_id`, "
    "`ticket_type`, `subject`, `priority`, `customer`, `feedback_delay`); no key `typename` and "
    "no key starting with `_` at any level. A refused name answers 422 with `errors` naming it.")
STEP_FAILED = (
    "or a step after it failed, e.g. a gateway condition or script reading a name the process data "
    "lacks: `errors` is `[{element_id, message, missing}]` (`missing`: the name) and nothing was saved")


def _ticket_paths() -> dict:
    created = _obj({"id": {"type": "integer"}, "type": {"type": "string"},
                    "status": {"type": "string", "description": "`closed` (or `cancelled`) once the "
                               "process ended without setting a final status itself"},
                    "priority": NULLABLE_STRING, "instance_id": {"type": "integer"}})
    new_ticket = _obj({
        "type": {"type": "string", "description": "a deployed process key"},
        "customer_id": {"type": "integer"}, "subject": {"type": "string"},
        "data": {"type": "object", "description": "the start form's data, checked against its JSON "
                                                  "Schema. " + FORMLESS_DATA},
        "priority": {"type": "string"}}, required=("type", "subject"))
    return {
        "/api/v1/customers": {"get": _op("customers", "List customers with their profile", {
            "200": _json("All customers by id", _list_of("customers", _ref("Customer")))})},
        "/api/v1/tickets": {
            "post": _op("tickets", "Open a ticket and start its process", {
                "201": _json("The ticket was opened", created),
                "409": _error("The command kept conflicting with others; nothing was saved, try again"),
                "422": _error("A field is invalid (`errors` maps field to message, `data.<name>` for "
                              "data), " + STEP_FAILED),
            }, body=_json_body(new_ticket), roles=f"{STAFF_TEXT} (customer_id required), or customer (for "
                                                  "themselves: customer_id optional, no priority)"),
            "get": _op("tickets", "List tickets, newest first", {
                "200": _json("One page of tickets", _list_of("tickets", _ref("Ticket")))},
                parameters=[
                    _query("type", "only tickets of this process key"),
                    _query("status", "only tickets in this status"),
                    _query("customer_id", "only this customer's tickets", {"type": "integer"}),
                    _query("limit", "page size", {"type": "integer", "default": 50, "maximum": 200}),
                    _query("offset", "tickets to skip", {"type": "integer", "default": 0}),
                ], roles=f"{STAFF_TEXT}, or customer (their own tickets only)"),
        },
        "/api/v1/tickets/{ticket_id}": {
            "parameters": [_path_param("ticket_id", "integer", "the ticket id")],
            "get": _op("tickets", "Read a ticket with its instance, tasks, waits and history", {
                "200": _json("The ticket", _ref("TicketDetail")),
                "404": {"$ref": "#/components/responses/NotFound"}},
                roles=f"{STAFF_TEXT}, or customer (their own ticket; without tasks, incidents, actors and "
                      "history data)"),
        },
    }


def _task_action(summary: str, extra: dict | None = None, body: dict | None = None,
                 ok: dict | None = None) -> dict:
    responses = {"200": ok or _json("The task as it is now", _obj({"task": _ref("Task")})),
                 "404": {"$ref": "#/components/responses/NotFound"},
                 "409": _error("The task is claimed by someone else, or no longer open (the message "
                               "says when and why: completed by whom, or escalated or cancelled by "
                               "which element), or the command kept conflicting with others"),
                 **(extra or {})}
    return {"parameters": [_path_param("task_id", "string", "the task id")],
            "post": _op("tasks", summary, responses, body=body)}


def _task_paths() -> dict:
    completed = _obj({"completed": {"type": "string", "description": "the task id"},
                      "opened_tasks": {"type": "array", "items": {"type": "string"},
                                       "description": "ids of the tasks the step opened"}})
    return {
        "/api/v1/tasks": {"get": _op("tasks", "List open tasks with their forms", {
            "200": _json("Tasks by due time, then creation", _list_of("tasks", _ref("Task")))},
            parameters=[
                _query("ticket_id", "only this ticket's tasks", {"type": "integer"}),
                _query("team", "only this team's tasks"),
                _query("assignee", "a username, or `none` for unclaimed tasks"),
                _query("state", "claimed or unclaimed", {"type": "string",
                                                          "enum": ["claimed", "unclaimed"]}),
                _query("limit", "at most this many", {"type": "integer", "default": 100,
                                                       "maximum": 500}),
            ])},
        "/api/v1/tasks/{task_id}/claim": _task_action("Claim an open task for the caller"),
        "/api/v1/tasks/{task_id}/release": _task_action("Give a claimed task back to its team"),
        "/api/v1/tasks/{task_id}/complete": _task_action(
            "Complete a task with data validated against its form, or merged without one",
            extra={"422": _error("The data does not satisfy the form or the formless rules "
                                 "(`errors` maps field to message), " + STEP_FAILED)},
            body=_json_body(_obj({"data": {
                "type": "object", "default": {},
                "description": "With a form (the task's `form`), its JSON Schema decides, "
                               "`additionalProperties` included. " + FORMLESS_DATA}})),
            ok=_json("The task was completed", completed)),
    }


def _event_paths() -> dict:
    keys = {"type": "object", "additionalProperties": {"type": "object"},
            "description": "`{key name: {property id: value}}`, SpiffWorkflow's shape: the "
                           "`bpmn:correlationKey` name and the `bpmn:correlationProperty` id"}
    message = _obj({
        "name": {"type": "string", "description": "the `bpmn:message` name"},
        "ticket_id": {"type": "integer",
                      "description": "the ticket to deliver to; omit it to find the ticket by correlation keys"},
        "correlation_keys": {**keys, "description": keys["description"] + ". Keys the message carries "
                             "besides what its payload gives (e.g. ones a catch event computes from "
                             "process variables); a value the payload gives too must agree"},
        "payload": {"type": "object", "description": "the message's data; its correlation properties "
                                                     "are read from it by their retrieval expressions"},
    }, required=("name",))
    delivered = _obj({"delivered": {"type": "boolean", "const": True},
                      "ticket_id": {"type": ["integer", "null"]}, "element_id": {"type": "string"},
                      "instance_id": {"type": "integer"},
                      "correlations": {**keys, "description": "the message's correlation keys, as matched"}},
                     required=("delivered", "ticket_id", "element_id"))
    ambiguous = _json("Several waiting tickets match the message's correlation keys (no ticket id)", _obj({
        "error": {"type": "string"},
        "matches": {"type": "array", "items": _obj({
            "ticket_id": {"type": ["integer", "null"]}, "instance_id": {"type": "integer"},
            "element_id": {"type": "string"}})}}))
    retried = _obj({"id": {"type": "integer"}, "resolved_at": NULLABLE_TIME,
                    "retrying": {"type": "boolean", "const": True}})
    return {
        "/api/v1/messages": {"post": _op("messages", "Deliver a message to the ticket waiting for it", {
            "200": _json("The message was delivered (`instance_id` and `correlations` when routed "
                         "by correlation keys)", delivered),
            "404": _error("The ticket does not wait for a message of that name (with these correlation "
                          "keys), or no waiting ticket matches the message's correlation keys"),
            "409": ambiguous,
            "422": _error("The name, ticket id, payload or correlation keys are malformed, or a "
                          "correlation property of the message cannot be read from the payload "
                          "(`errors.payload` names the property, its expression and the message)"),
        }, description=(
            "With `ticket_id` the message goes to that ticket. Without it the ticket is found by "
            "the message's correlation keys: each candidate catch event's "
            "`bpmn:correlationProperty` retrieval expressions are evaluated on the payload, "
            "`correlation_keys` are added, and a waiting catch event matches when every key it "
            "expects (from `spiffworkflow:processVariableCorrelation` or earlier messages) is "
            "carried with the same values; one that expects nothing yet matches any message of "
            "its name. Exactly one waiting ticket must match."), body=_json_body(message))},
        "/api/v1/incidents": {"get": _op("incidents", "List incidents, newest first", {
            "200": _json("Open incidents (all of them with all=1)",
                         _list_of("incidents", _ref("Incident")))},
            roles="agent, manager, admin or analyst",
            parameters=[_query("all", "1 to include resolved incidents",
                               {"type": "string", "enum": ["1"]})])},
        "/api/v1/incidents/{incident_id}/retry": {
            "parameters": [_path_param("incident_id", "integer", "the incident id")],
            "post": _op("incidents", "Retry the failed step now", {
                "200": _json("The step is being retried", retried),
                "404": {"$ref": "#/components/responses/NotFound"},
                "409": _error("The incident was already resolved"),
            }, roles="manager or admin"),
        },
    }


@functools.cache
def document() -> dict:
    """Build the OpenAPI 3.1 document of the API (once; callers must not mutate it)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Ticketflow API", "version": "1.0",
                 "description": "Open customer-service tickets, work their tasks and deploy "
                                "the BPMN processes behind them."},
        "servers": [{"url": "/"}],
        "tags": [{"name": name} for name in ("meta", "definitions", "customers", "tickets",
                                             "tasks", "messages", "incidents")],
        "paths": {
            "/api/v1/openapi.json": {"get": _op("meta", "This OpenAPI document", {
                "200": _json("The document", {"type": "object"})}, roles=None)},
            **_definition_paths(), **_ticket_paths(), **_task_paths(), **_event_paths(),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "an API token (`tf_...`)"}},
            "schemas": _schemas(),
            "responses": {
                "Unauthorized": _error("The bearer token is missing or invalid"),
                "Forbidden": _error("The caller's role may not do this"),
                "NotFound": _error("No such resource"),
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    """Answer the OpenAPI document of this API."""
    return jsonify(document())
