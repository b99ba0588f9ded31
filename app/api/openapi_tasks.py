"""The OpenAPI description shared by the task actions (claim, release, complete, reassign)."""

from app.api.openapi_parts import error, json_response, obj, op, path_param, ref


def task_action(
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
