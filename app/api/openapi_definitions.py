"""The OpenAPI paths of deployments, process definitions, versions and forms."""

from app.api.openapi_parts import (
    NULLABLE_STRING,
    STAFF_TEXT,
    TIME,
    error,
    json_response,
    list_of,
    obj,
    op,
    path_param,
    query,
    ref,
    whole,
)


def definition_paths() -> dict:
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
                "Deploy a bundle: BPMN, DMN and JSON form files (and `<key>.tests.json` process "
                "tests, docs/process-tests.md), all or nothing",
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
                parameters=[query("version", "that version (default: the latest)", whole())],
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
