"""The studio's helpers beside the editor: the catalog for the properties panel, the diff of two
versions, the form preview with our own renderer, a task's instructions as an agent reads them,
trying a decision table, a timer's next due time."""

import re

from flask import current_app, jsonify, render_template_string, request
from flask_login import current_user
from jinja2 import TemplateError

from app.access import roles_required
from app.clock import utcnow
from app.engine import (
    DiagramRejected,
    InvalidData,
    StepFailed,
    diff_bundles,
    form_errors,
    preview_instructions,
    retry_defaults,
    timer_next_due,
    try_decision,
    version_files,
)
from app.extensions import db
from app.handlers import HANDLERS, PARAMETERS
from app.handlers.tickets import STATUSES
from app.models import FormDefinition, ProcessDefinition, StudioDraft, Team
from app.web.forms import initial_values
from app.web.markdown import MarkdownRefused, markdown_html
from app.web.studio.blueprint import bp
from app.web.studio.common import ANALYSTS, BadInput, body, json_error, my_draft, type_key

PREVIEW = '{% from "forms/macros.html" import form_fields %}{{ form_fields(schema, values, errors) }}'
INSTRUCTIONS = '{% from "inbox/_instructions.html" import instructions %}{{ instructions(text) }}'
MAX_DECISION_ID = 128
DECISION_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,127}")


@bp.get("/api/catalog")
@roles_required(*ANALYSTS)
def catalog():
    """What the properties panel offers: operators with their parameters, teams, forms (deployed
    and in the caller's drafts), decisions, and the retry policy's defaults."""
    forms = set(db.session.execute(db.select(FormDefinition.name).distinct()).scalars())
    for frozen in db.session.execute(
        db.select(ProcessDefinition.forms).where(ProcessDefinition.kind == "bpmn")
    ).scalars():
        forms.update(frozen or {})
    for files in db.session.execute(
        db.select(StudioDraft.files).where(StudioDraft.user_id == current_user.id)
    ).scalars():
        forms.update(name for name in (files or {}) if name.endswith(".json"))
    decisions = set()
    for deps in db.session.execute(
        db.select(ProcessDefinition.dependencies).where(ProcessDefinition.kind == "dmn")
    ).scalars():
        decisions.update((deps or {}).get("dmn", {}))
    teams = db.session.execute(db.select(Team.key, Team.name).order_by(Team.key)).all()
    return jsonify(
        {
            "operators": [
                {
                    "name": name,
                    "parameters": [
                        {"name": p, "type": t, "required": r} for p, t, r in PARAMETERS.get(name, ())
                    ],
                }
                for name in sorted(HANDLERS)
            ],
            "teams": [{"key": key, "name": name} for key, name in teams],
            "forms": sorted(forms),
            "decisions": sorted(decisions),
            "retry_defaults": retry_defaults(),
            "statuses": sorted(STATUSES),
        }
    )


def _side(key: str, name: str, value: str | None) -> dict[str, str]:
    if value is None or value == "":
        raise BadInput(name, f"say which version to compare: ?{name}=<version> or ?{name}=draft")
    if value == "draft":
        draft = my_draft(key)
        if draft is None:
            raise BadInput(name, "you have no saved draft of this type")
        return draft.files or {}
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise BadInput(name, "a version number or 'draft'")
    files = version_files(key, int(value))
    if files is None:
        raise BadInput(name, f"no version {value} of '{key}'")
    return files


@bp.get("/api/types/<key>/diff")
@roles_required(*ANALYSTS)
def diff(key: str):
    """Elements added, removed and changed from `from` to `to` (SpiffWorkflow's SpecDiff, by
    BPMN id), and each form that differs as a unified text diff."""
    key = type_key(key)
    old = _side(key, "from", request.args.get("from"))
    new = _side(key, "to", request.args.get("to"))
    try:
        return jsonify(diff_bundles(key, old, new))
    except DiagramRejected as exc:
        problems = [{"severity": "error", **p.as_dict()} for p in exc.problems]
        return json_error(422, "a side does not pass the deploy checks", problems=problems)


@bp.post("/api/forms/preview")
@roles_required(*ANALYSTS)
def preview_form():
    """The HTML an agent or customer sees for `schema` (filled with `data`), and the errors
    `data` would get."""
    data = body()
    schema, sample = data.get("schema"), data.get("data")
    if sample is not None and not isinstance(sample, dict):
        raise BadInput("data", "sample data is a JSON object")
    try:
        errors = form_errors(schema, sample)
    except InvalidData as exc:
        return json_error(422, exc.message, errors=exc.errors)
    try:
        html = render_template_string(
            PREVIEW, schema=schema, values=initial_values(schema, sample or {}), errors=errors
        )
    except (TemplateError, TypeError, ValueError, AttributeError, KeyError, RecursionError) as exc:
        current_app.logger.info("form preview failed: %s", exc)
        raise BadInput("schema", f"our form renderer cannot show this schema: {exc}") from None
    return jsonify({"html": html, "errors": errors})


@bp.post("/api/instructions/preview")
@roles_required(*ANALYSTS)
def preview_instructions_html():
    """The HTML an agent sees above the form for these instructions (`text`, rendered with the
    sample `data` and then as Markdown, as the inbox renders them); `warning` when they would show
    their source. Instructions too long or too slow to render as Markdown are 422 naming `text`."""
    data = body()
    try:
        text, warning = preview_instructions(data.get("text"), data.get("data"))
    except InvalidData as exc:
        return json_error(422, exc.message, errors=exc.errors)
    try:
        markdown_html(text)
    except MarkdownRefused as exc:
        raise BadInput("text", f"the instructions cannot be shown: {exc}") from None
    return jsonify({"html": render_template_string(INSTRUCTIONS, text=text), "warning": warning})


@bp.post("/api/decisions/evaluate")
@roles_required(*ANALYSTS)
def evaluate_decision():
    """Evaluate a decision table (DMN XML text, checked as a deployment would) on `inputs`."""
    data = body()
    source, decision_id, inputs = data.get("dmn"), data.get("decision_id"), data.get("inputs", {})
    if not isinstance(source, str) or not source.strip():
        raise BadInput("dmn", "send the decision table's DMN XML as text")
    if len(source.encode()) > current_app.config["MAX_DIAGRAM_BYTES"]:
        raise BadInput("dmn", f"larger than {current_app.config['MAX_DIAGRAM_BYTES']} bytes")
    if decision_id is not None and (
        not isinstance(decision_id, str) or not DECISION_ID.fullmatch(decision_id)
    ):
        raise BadInput("decision_id", f"a decision id (at most {MAX_DECISION_ID} characters)")
    if not isinstance(inputs, dict):
        raise BadInput("inputs", "a JSON object of input name to value")
    try:
        return jsonify(try_decision(source.encode(), decision_id, inputs))
    except DiagramRejected as exc:
        problems = [{"severity": "error", **p.as_dict()} for p in exc.problems]
        return json_error(422, "the decision table does not pass the deploy checks", problems=problems)
    except InvalidData as exc:
        return json_error(422, exc.message, errors=exc.errors)
    except StepFailed as exc:
        return json_error(422, exc.message, errors={"inputs": exc.message})


@bp.post("/api/timers/preview")
@roles_required(*ANALYSTS)
def preview_timer():
    """When a timer with this expression, started now, would be due."""
    expression = body().get("expression")
    try:
        due = timer_next_due(expression, utcnow())
    except InvalidData as exc:
        return json_error(422, exc.message, errors=exc.errors)
    return jsonify({"next_due": due.isoformat()})
