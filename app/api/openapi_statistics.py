"""The OpenAPI path of per-element process statistics (the heatmap's figures)."""

from app.api.openapi_parts import error, json_response, obj, op, path_param, query, whole

NULLABLE_SECONDS = {"type": ["integer", "null"], "minimum": 0}


def statistics_paths() -> dict:
    element = obj(
        {
            "element_id": {"type": "string"},
            "active": whole(description="tokens waiting there now (open task, timer, job, message catch)"),
            "completed": whole(description="completions in the period"),
            "cancelled": whole(
                description="user tasks cancelled there in the period (a timer, a message...)"
            ),
            "incidents": whole(description="incidents opened there in the period"),
            "median_seconds": {
                **NULLABLE_SECONDS,
                "description": "median wall-clock time spent by the completions (log buckets: within about 10 %)",
            },
            "p90_seconds": {**NULLABLE_SECONDS, "description": "90th percentile of the time spent"},
        }
    )
    day = {"type": "string", "format": "date", "maxLength": 10}
    return {
        "/api/v1/process-definitions/{key}/statistics": {
            "parameters": [path_param("key", "string", "the process key (the ticket type)")],
            "get": op(
                "definitions",
                "Per-element statistics of a process version over a period",
                {
                    "200": json_response(
                        "Every element seen in the period or active now, by element id",
                        obj(
                            {
                                "key": {"type": "string"},
                                "version": {"type": "integer"},
                                "from": day,
                                "to": day,
                                "elements": {"type": "array", "items": element},
                            }
                        ),
                    ),
                    "404": error("No such process (or version)"),
                    "422": error(
                        "A query parameter is out of range: `version`, `from`/`to` not a date, "
                        "`from` after `to`, or more than 366 days (`errors` names it)"
                    ),
                },
                roles="analyst, manager or admin",
                description="Figures are pre-aggregated per UTC day as the engine runs (docs/dashboard.md); "
                "`from`/`to` are inclusive days, the last 30 days by default.",
                parameters=[
                    query("version", "the version (the latest when absent)", whole(minimum=1)),
                    query("from", "first UTC day, YYYY-MM-DD", day),
                    query("to", "last UTC day, YYYY-MM-DD (today when absent)", day),
                ],
            ),
        }
    }
