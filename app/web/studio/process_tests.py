"""The studio's process tests: run the draft's `<key>.tests.json` (the Tests tab's "Run tests"), and
the gate a studio deploy passes first: a failing test refuses the deploy (422 with the results)
unless the analyst overrides it, which the deployment records (`deployment.tests`, history
`tests_overridden`)."""

from flask import jsonify

from app.access import roles_required
from app.engine import definition_files, run_process_tests, tests_file_of
from app.errors import json_error
from app.web.studio.blueprint import bp
from app.web.studio.common import ANALYSTS, KEY, body, checked_files, latest, my_draft


@bp.post("/api/types/<key>/tests")
@roles_required(*ANALYSTS)
def run_tests(key: str):
    """Run the process tests of the files sent (else of the caller's draft, else the newest version)."""
    if not KEY.fullmatch(key):
        return json_error(404, f"no ticket type '{key[:80]}'")
    sent = body().get("files")
    files = checked_files(sent) if sent is not None else _current_files(key)
    if files is None:
        return json_error(404, f"no ticket type '{key[:80]}'")
    if tests_file_of(key) not in files:
        return jsonify({"result": None, "message": f"the draft has no test file '{tests_file_of(key)}'"})
    [result] = run_process_tests(files, [key])
    return jsonify({"result": result.as_dict()})


def _current_files(key: str) -> dict[str, str] | None:
    draft = my_draft(key)
    if draft is not None:
        return dict(draft.files or {})
    row = latest(key)
    return definition_files(row) if row is not None else None


def deploy_gate(key: str, files: dict[str, str], override) -> tuple[dict | None, dict | None, object]:
    """Run the draft's tests before its deploy.

    Returns:
        (summary for the deployment or None when it has no tests, the full result, a refusal
        answer or None). A failing test refuses unless `override` is true.
    """
    if override is not None and not isinstance(override, bool):
        return (
            None,
            None,
            json_error(
                422, "override_tests is true or false", errors={"override_tests": "must be true or false"}
            ),
        )
    if tests_file_of(key) not in files:
        return None, None, None
    [result] = run_process_tests(files, [key])
    outcome = result.as_dict()
    failing = [s["name"] for s in outcome["scenarios"] if not s["passed"]]
    summary = {
        "passed": outcome["counts"]["passed"],
        "failed": outcome["counts"]["failed"] + len(outcome["problems"]),
        "failing": failing[:20] + (["the test file"] if outcome["problems"] else []),
        "overridden": False,
    }
    if result.passed:
        return summary, outcome, None
    if not override:
        count = summary["failed"]
        return (
            None,
            outcome,
            json_error(
                422,
                f"{count} process test(s) fail: fix them, or deploy anyway (the override is recorded)",
                errors={"tests": f"{count} failing: {', '.join(summary['failing'])}"},
                tests=outcome,
            ),
        )
    summary["overridden"] = True
    return summary, outcome, None
