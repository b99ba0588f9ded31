"""The pieces of the OpenAPI document: shared schemas, parameters and the helpers that write operations."""

from app.inputs import INT_MAX, MAX_JSON_DEPTH, MAX_PATH_SEGMENT
from app.models import STAFF

STAFF_TEXT = f"{', '.join(STAFF[:-1])} or {STAFF[-1]}"  # agent, analyst, manager or admin
NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
TIME = {"type": "string", "format": "date-time"}


QUERY_TEXT = "^[^\\u0000-\\u001f\\u007f]*$"  # query parameters and path parts: no control characters
BODY_TEXT = "^[^\\u0000]*$"  # JSON strings: no NUL (and valid Unicode: no lone surrogates)


JSON_OBJECT = {"$ref": "#/components/schemas/JsonObject"}
JSON_VALUE = {"$ref": "#/components/schemas/JsonValue"}


def text(max_length: int, pattern: str = BODY_TEXT, **extra) -> dict:
    """A string of at most `max_length` characters."""
    return {"type": "string", "maxLength": max_length, "pattern": pattern, **extra}


def whole(maximum: int = INT_MAX, minimum: int = 0, **extra) -> dict:
    """An integer within bounds (ids are PostgreSQL `integer`s: at most 2147483647)."""
    return {"type": "integer", "minimum": minimum, "maximum": maximum, **extra}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, required: tuple[str, ...] | None = None, **extra) -> dict:
    """An object schema; every property is required unless `required` says otherwise."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
        **extra,
    }


def list_of(key: str, item: dict) -> dict:
    return obj({key: {"type": "array", "items": item}})


def json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error(description: str) -> dict:
    return json_response(description, ref("Error"))


def query(name: str, description: str, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or text(64, QUERY_TEXT),
    }


def path_param(name: str, kind: str, description: str) -> dict:
    schema = whole() if kind == "integer" else text(MAX_PATH_SEGMENT, QUERY_TEXT, minLength=1)
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


def op(
    tag: str,
    summary: str,
    responses: dict,
    *,
    roles: str | None = STAFF_TEXT,
    description: str | None = None,
    parameters: list | None = None,
    body: dict | None = None,
) -> dict:
    """One operation; `roles` adds the bearer requirement and its 401/403 answers."""
    op: dict = {"tags": [tag], "summary": summary, "responses": {"400": UNREADABLE, **responses}}
    if any(p["in"] == "query" for p in parameters or ()):
        op["responses"].setdefault("422", error("A query parameter is out of range (`errors` names it)"))
    if body and "application/json" in body["content"]:
        op["responses"]["413"] = error("The JSON body is larger than 1 MiB (config MAX_JSON_BYTES)")
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


def json_body(schema: dict) -> dict:
    """A JSON request body; fields it does not name are ignored, but are JSON text like the rest."""
    schema = {"propertyNames": text(1000), "additionalProperties": JSON_VALUE, **schema}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def schemas() -> dict:
    problem_list = {"type": "array", "items": ref("DiagramProblem")}
    field_errors = {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "field name (or `data.<field>`, `body`) to message",
    }
    ticket = obj(
        {
            "id": {"type": "integer"},
            "type": {"type": "string", "description": "process key"},
            "subject": {"type": "string"},
            "customer_id": {"type": "integer"},
            "priority": NULLABLE_STRING,
            "status": {"type": "string"},
            "resolution": NULLABLE_STRING,
            "created_at": NULLABLE_TIME,
            "updated_at": NULLABLE_TIME,
        }
    )
    # What the customer's view and the staff's view of one ticket both show.
    ticket_shared = {
        "customer": ref("Customer"),
        "data": {"type": "object", "description": "the process data of the ticket"},
        "sla": obj({"due_at": NULLABLE_TIME, "state": NULLABLE_STRING}),
    }
    return {
        "JsonObject": {
            "type": "object",
            "propertyNames": text(1000),
            "additionalProperties": JSON_VALUE,
            "description": f"a JSON object: at most {MAX_JSON_DEPTH} levels deep, no NUL and only valid "
            "Unicode in its text (keys too)",
        },
        "JsonValue": {
            "anyOf": [
                {"type": ["null", "boolean", "number"]},
                text(100_000),
                {"type": "array", "items": JSON_VALUE},
                JSON_OBJECT,
            ]
        },
        "Error": obj(
            {
                "error": {"type": "string", "description": "what went wrong, for people"},
                "errors": {
                    "oneOf": [problem_list, field_errors],
                    "description": "diagram or step problems (list), or form field errors (map)",
                },
            },
            required=("error",),
        ),
        "DiagramProblem": obj(
            {
                "file": {**NULLABLE_STRING, "description": "the bundle file it is in"},
                "element_id": NULLABLE_STRING,
                "message": {"type": "string"},
            },
            required=("element_id", "message"),
        ),
        "Deployment": obj(
            {
                "deployment_id": {"type": ["integer", "null"]},
                "processes": {
                    "type": "array",
                    "items": obj(
                        {
                            "key": {"type": "string"},
                            "version": {"type": "integer"},
                            "created": {"type": "boolean"},
                            "new_type": {
                                "type": "boolean",
                                "description": "the first version of a new ticket type",
                            },
                            "name": NULLABLE_STRING,
                            "file": {"type": "string"},
                        }
                    ),
                },
                "decisions": {
                    "type": "array",
                    "items": obj(
                        {
                            "key": {"type": "string"},
                            "version": {"type": "integer"},
                            "created": {"type": "boolean"},
                            "decisions": {"type": "array", "items": {"type": "string"}},
                        }
                    ),
                },
                "forms": {
                    "type": "array",
                    "items": obj(
                        {
                            "name": {"type": "string"},
                            "version": {"type": "integer"},
                            "created": {"type": "boolean"},
                        }
                    ),
                },
                "warnings": {
                    "type": "array",
                    "items": ref("DiagramProblem"),
                    "description": "e.g. lanes that name no team (their tasks go to DEFAULT_TEAM)",
                },
            }
        ),
        "Customer": obj(
            {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "email": {"type": "string"},
                "tier": {"type": "string"},
                "tenure_months": {"type": "integer"},
                "order_count": {"type": "integer"},
                "on_time_payment_ratio": {"type": "number"},
                "open_balance": {"type": "number"},
                "currency": {"type": "string", "description": "ISO 4217 code of the customer's amounts"},
                "engagement": {
                    "type": "string",
                    "enum": ["", "engaged", "not_engaged"],
                    "description": "the onboarding's verdict (processes/onboarding.bpmn); empty before it",
                },
            }
        ),
        "Ticket": ticket,
        "CustomerTicket": {
            "allOf": [
                ref("Ticket"),
                obj(
                    {
                        **ticket_shared,
                        "status_label": {
                            "type": "string",
                            "description": "the status in the customer's words; never an internal outcome",
                        },
                        "feedback": {"type": ["object", "null"]},
                        "waiting": obj(
                            {"messages": {"type": "array", "items": {"type": "string"}}},
                        ),
                        "history": {"type": "array", "items": obj({"at": TIME, "kind": {"type": "string"}})},
                    }
                ),
            ],
            "description": "a ticket as its customer sees it: no tasks, incidents, actors or history data",
        },
        "TicketDetail": {
            "allOf": [
                ref("Ticket"),
                obj(
                    {
                        **ticket_shared,
                        "feedback": {
                            "oneOf": [
                                obj(
                                    {
                                        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
                                        "comment": NULLABLE_STRING,
                                        "created_at": TIME,
                                    }
                                ),
                                {"type": "null"},
                            ],
                            "description": "the customer's latest survey answer",
                        },
                        "instance": {
                            "oneOf": [
                                obj({"id": {"type": "integer"}, "status": {"type": "string"}}),
                                {"type": "null"},
                            ]
                        },
                        "tasks": {"type": "array", "items": ref("Task")},
                        "waiting": obj(
                            {
                                "messages": {
                                    "type": "array",
                                    "items": obj(
                                        {"name": {"type": "string"}, "element_id": {"type": "string"}}
                                    ),
                                },
                                "timers": {
                                    "type": "array",
                                    "items": obj({"element_id": {"type": "string"}, "due_at": NULLABLE_TIME}),
                                },
                            }
                        ),
                        "incidents": {
                            "type": "array",
                            "items": obj(
                                {
                                    "id": {"type": "integer"},
                                    "element_id": NULLABLE_STRING,
                                    "message": {"type": "string"},
                                }
                            ),
                        },
                        "history": {
                            "type": "array",
                            "items": obj(
                                {
                                    "at": TIME,
                                    "actor": NULLABLE_STRING,
                                    "kind": {"type": "string"},
                                    "element_id": NULLABLE_STRING,
                                    "element_name": NULLABLE_STRING,
                                    "data": {"type": ["object", "null"]},
                                }
                            ),
                        },
                    }
                ),
            ]
        },
        "Task": obj(
            {
                "id": {"type": "string"},
                "ticket_id": {"type": ["integer", "null"]},
                "instance_id": {"type": "integer"},
                "name": {"type": "string", "description": "BPMN id"},
                "title": {"type": "string"},
                "team": NULLABLE_STRING,
                "assignee": {**NULLABLE_STRING, "description": "username, null when unclaimed"},
                "priority": NULLABLE_STRING,
                "form": {"type": ["object", "null"], "description": "the JSON Schema of the task's form"},
                "instructions": NULLABLE_STRING,
                "due_at": NULLABLE_TIME,
                "created_at": NULLABLE_TIME,
            }
        ),
        "Definition": obj(
            {
                "key": {"type": "string"},
                "kind": {"type": "string", "enum": ["bpmn", "dmn"]},
                "name": NULLABLE_STRING,
                "latest_version": {"type": "integer"},
                "retired": {
                    "type": "boolean",
                    "description": "retired in the studio: POST /tickets refuses the type; running tickets finish",
                },
                "start_form": {
                    "type": ["object", "null"],
                    "description": "the JSON Schema of the latest version's start form",
                },
                "versions": {
                    "type": "array",
                    "items": obj({"version": {"type": "integer"}, "deployed_at": TIME}),
                },
            }
        ),
        "Incident": obj(
            {
                "id": {"type": "integer"},
                "instance_id": {"type": "integer"},
                "ticket_id": {"type": ["integer", "null"]},
                "kind": {"type": "string", "enum": ["job", "timer", "engine"]},
                "element_id": NULLABLE_STRING,
                "operator": NULLABLE_STRING,
                "message": {"type": "string"},
                "created_at": TIME,
                "resolved_at": NULLABLE_TIME,
                "attempts": {"type": ["integer", "null"], "description": "a job's tries so far"},
                "max_attempts": {"type": ["integer", "null"], "description": "its retry policy's limit"},
                "last_error": NULLABLE_STRING,
                "next_retry_at": {**NULLABLE_TIME, "description": "when a re-armed job runs next"},
            }
        ),
        "DeployedDefinition": obj(
            {
                "key": {"type": "string"},
                "version": {"type": "integer"},
                "kind": {"type": "string"},
                "id": {"type": "integer"},
            }
        ),
    }


# Sentences several operations share.
UNREADABLE = error(
    "The request could not be read (`errors` names the field or parameter): JSON that is not valid, "
    f"holds `NaN` or `Infinity`, nests deeper than {MAX_JSON_DEPTH} levels (config MAX_JSON_DEPTH) or "
    "holds text that is not valid Unicode or a NUL (in values and keys); a query parameter that is "
    "not UTF-8 or holds a control character"
)
