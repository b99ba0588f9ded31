"""Trying parts of a draft without running a process: a decision table on given inputs, the next
due time of a timer expression, a form's errors for sample data, a task's instructions rendered
for sample data. Nothing here is stored.

Everything goes through the same checks as a deployment (the hardened XML parser, the safe
evaluator, the DMN contract checks), so a draft tried here behaves as it will when deployed.
"""

from datetime import datetime

from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from app.engine.diagrams import checks
from app.engine.diagrams.forms import check_plain_data, validate
from app.engine.errors import DiagramRejected, InvalidData, StepFailed
from app.engine.expressions import (
    ExpressionError,
    ExpressionLimitError,
    check_template,
    evaluate_safe,
    render_bounded,
)
from app.engine.rules import dmn

MAX_EXPRESSION = 1000


def try_decision(source: bytes, decision_id: str | None, inputs: dict) -> dict:
    """{decision_id, outputs (None when no rule matches), rule} of the DMN XML `source`.

    Raises:
        DiagramRejected: the DMN does not pass the deploy checks (problems by cell or decision).
        InvalidData: `decision_id` names no decision of it, or `inputs` is not plain data.
        StepFailed: a cell failed on these inputs (names the decision).
    """
    check_plain_data(inputs, "inputs")
    parsed = checks.parse_dmn(source)
    problems = dmn.check_decisions(parsed.dmn_sources)
    if problems:
        raise DiagramRejected(problems)
    chosen = decision_id or parsed.key
    if chosen not in parsed.dmn_sources:
        raise InvalidData(
            {"decision_id": f"no decision '{chosen}'; the file has {', '.join(parsed.dmn_sources)}"}
        )
    table = dmn._parse_table(chosen, parsed.dmn_sources[chosen])
    try:
        decision = dmn._evaluate(chosen, table, dict(inputs))
    except StepFailed as exc:
        raise InvalidData({_failed_input(table, exc.message): exc.message}, exc.message) from None
    if decision is None:
        return {"decision_id": chosen, "outputs": None, "rule": None, "rule_id": None, "row": None}
    return {
        "decision_id": chosen,
        "outputs": decision.outputs,
        "rule": decision.describe(),
        "rule_id": decision.rule_id,
        "row": decision.row,
    }


def _failed_input(table, message: str) -> str:
    """`inputs.<expression>` of the input column whose cell the failure names, else `inputs`."""
    for rule in table.rules:
        for entry in rule.inputEntries:
            if f"(cell {entry.id})" in message:
                return f"inputs.{entry.input.expression or entry.input.label}"
    return "inputs"


def timer_next_due(expression: str, now: datetime) -> datetime:
    """When a timer with this expression, started `now`, is next due (aware UTC).

    The expression is evaluated by the safe evaluator without task data, as the engine would:
    a quoted ISO-8601 duration ("PT1H"), date ("2030-01-01T09:00:00Z") or cycle ("R3/PT1H").

    Raises:
        InvalidData: naming `expression`, saying what is wrong.
    """
    if not isinstance(expression, str) or not expression.strip() or len(expression) > MAX_EXPRESSION:
        raise InvalidData({"expression": f"a timer expression of 1 to {MAX_EXPRESSION} characters"})
    if checks.UNQUOTED_TIMER.fullmatch(expression.strip()):
        raise InvalidData({"expression": f'quote the ISO-8601 value: "{expression.strip()}"'})
    try:
        value = evaluate_safe(expression, {})
    except ExpressionError as exc:
        raise InvalidData({"expression": f"does not evaluate: {exc}"}) from None
    except Exception as exc:  # a name only task data would give, a type error
        raise InvalidData({"expression": f"does not evaluate without task data: {exc}"}) from None
    if not isinstance(value, str):
        raise InvalidData({"expression": f"must give an ISO-8601 text, gives {type(value).__name__}"})
    text = value.strip()
    try:
        if text.upper().startswith("R"):
            cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(text)
            if cycles == 0:
                raise InvalidData({"expression": "a cycle of 0 repetitions is never due"})
            if "/" in text and len(text.replace("--", "/").split("/")) == 2:  # R<n>/<duration>: from now
                start = now + duration
            due = start
        elif text.upper().startswith("P"):
            due = now + TimerEventDefinition.get_timedelta_from_start(
                TimerEventDefinition.parse_iso_duration(text), now
            )
        else:
            due = TimerEventDefinition.parse_time_or_duration(text)
    except InvalidData:
        raise
    except (OverflowError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise InvalidData(
            {"expression": f"'{text[:80]}' is not an ISO-8601 date, duration or cycle: {exc}"}
        ) from None
    except Exception as exc:  # the library's bare Exception('Invalid duration')
        raise InvalidData(
            {"expression": f"'{text[:80]}' is not an ISO-8601 date, duration or cycle: {exc}"}
        ) from None
    if not isinstance(due, datetime):
        raise InvalidData({"expression": f"'{text[:80]}' is not an ISO-8601 date, duration or cycle"})
    return due.astimezone(now.tzinfo) if due.tzinfo else due


def form_errors(schema, data) -> dict:
    """{field: message} that `data` would get from the form `schema` (the agent's and portal's
    validation), empty when it passes.

    Raises:
        InvalidData: naming `schema` when it is not a JSON Schema object.
    """
    if not isinstance(schema, dict):
        raise InvalidData({"schema": "must be a JSON Schema object"})
    try:
        validator_for(schema, default=validator_for({})).check_schema(schema)
    except SchemaError as exc:
        raise InvalidData({"schema": f"not a valid JSON Schema: {exc.message}"}) from None
    if data is None:
        return {}
    try:
        validate(schema, data)
    except InvalidData as exc:
        return dict(exc.errors)
    return {}


def preview_instructions(
    text: str, data: dict | None, markdown_values: bool = True
) -> tuple[str, str | None]:
    """A user task's instructions as an agent would read them for a task with `data`: rendered
    on the template budget, as the inbox does (`runtime/projections.render_instructions`).

    Returns:
        (text, None) when they render; (their own source, why) when they fail for a reason only
        this data gives (a typo in a name, a wrong type): the inbox then shows their source.

    `markdown_values=False` renders plain text (canned replies): values are not Markdown-escaped.

    Raises:
        InvalidData: naming `text` (not text, too long, does not compile, overruns its budget)
            or `data` (not a JSON object of plain data).
    """
    if not isinstance(text, str) or "\x00" in text:
        raise InvalidData({"text": "the instructions are text"}, "the instructions are not text")
    problem = check_template(text)
    if problem:
        raise InvalidData({"text": problem}, f"the instructions do not render: {problem}")
    data = {} if data is None else data
    check_plain_data(data, "data")
    try:
        return render_bounded(text, data, markdown_values=markdown_values), None
    except ExpressionLimitError as exc:
        message = f"rendering stopped: {exc}"
        raise InvalidData({"text": message}, f"the instructions do not render: {message}") from None
    except Exception as exc:  # noqa: BLE001 - the inbox shows the source then; so does the preview
        return text, f"with this data they do not render ({exc}): agents would see their source"
