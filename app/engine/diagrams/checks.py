"""Reading one diagram file: hardened parse, DMN parsing, and the deploy-time checks of tasks.

`app.engine.bundle` puts these together for a whole bundle. Nothing of a rejected diagram is
ever executed: expressions are only compiled by the safe checker, never evaluated with data.
"""

import re
from dataclasses import dataclass, field

from flask import current_app
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from app.engine.diagrams.xmlsafety import UnsafeXml, document_kind, parse_xml
from app.engine.errors import DiagramRejected, Problem
from app.engine.expressions import ExpressionError, check_template, compile_safe, evaluate_safe
from app.engine.spiff.parser import ParkedServiceTask, TicketflowParser
from app.engine.spiff.retry import RETRY_EXTRAS, policy_of

FORM_PROPERTY = "formJsonSchemaFilename"
UI_FORM_PROPERTY = "formUiSchemaFilename"
MAX_TEXT_NODE = 20_000
# An ISO-8601 date, duration or cycle written without quotes (timer values are expressions).
UNQUOTED_TIMER = re.compile(r"R?\d*/?P[0-9YMWDTHS.,]+|\d{4}-\d{2}-\d{2}T[0-9:.+\-Z]+")


@dataclass
class ParsedDiagram:
    kind: str  # bpmn | dmn
    key: str
    name: str | None
    spec: object = None
    subprocess_specs: dict = field(default_factory=dict)
    forms: dict = field(default_factory=dict)
    start_form: str | None = None
    dmn_sources: dict = field(default_factory=dict)  # decision id -> DMN XML it was parsed with


def problem_from_validation(exc: ValidationException) -> Problem:
    where = f" (line {exc.line_number})" if getattr(exc, "line_number", "") else ""
    message = f"{exc}".rstrip(". ")
    hint = next((h for words, h in _LIBRARY_HINTS if words in message), None)
    if hint:
        message += f"; {hint}"
    return Problem(getattr(exc, "id", None) or None, f"{message}{where}")


# What to do about the library's own refusals, by words in its message.
_LIBRARY_HINTS = (
    ("is not executable", 'set isExecutable="true" on that process'),
    ('"calledElement"', "name the id of the process to call in the call activity's calledElement"),
    (
        "Unknown Time Specification",
        'write the timer as a quoted ISO-8601 value, e.g. "PT1H" or "2030-01-01T09:00:00Z"',
    ),
    (
        "Element '{",
        "correct that element or attribute as the BPMN 2.0 XML Schema says (a modeler such as "
        "bpmn.io shows it)",
    ),
)


def _oversized_text(tree) -> list[Problem]:
    problems = []
    for element in tree.getroot().iter():
        if element.text and len(element.text) > MAX_TEXT_NODE:
            named = (
                next((e for e in element.iterancestors() if e.get("id")), None)
                if not element.get("id")
                else element
            )
            element_id = named.get("id") if named is not None else None
            problems.append(Problem(element_id, f"text longer than {MAX_TEXT_NODE} characters"))
    return problems


def parse_dmn(source: bytes) -> ParsedDiagram:
    """Parse and validate a DMN upload; its key is the id of its (first) decision."""
    tree = safe_tree(source, "dmn")
    parser = TicketflowParser(validator=VALIDATOR)
    try:
        parser.add_dmn_xml(tree.getroot(), filename="upload.dmn")
        decisions = list(parser.dmn_parsers.items())
        for _, dmn_parser in decisions:
            dmn_parser.parse()
    except ValidationException as exc:
        raise DiagramRejected([problem_from_validation(exc)]) from None
    except (SpiffWorkflowException, SyntaxError, ValueError) as exc:
        raise DiagramRejected([Problem(None, f"invalid decision table: {exc}")]) from None
    if not decisions:
        raise DiagramRejected([Problem(None, "the DMN file contains no decision")])
    key = decisions[0][0]
    return ParsedDiagram(
        kind="dmn",
        key=key,
        name=decisions[0][1].get_name(),
        dmn_sources={d: source.decode() for d, _ in decisions},
    )


def safe_tree(source: bytes, expected: str | None = None):
    try:
        tree = parse_xml(source)
    except UnsafeXml as exc:
        raise DiagramRejected([Problem(None, str(exc))]) from None
    kind = document_kind(tree)
    if kind is None:
        raise DiagramRejected([Problem(None, "not a BPMN 2.0 or DMN definitions document")])
    if expected and kind != expected:
        raise DiagramRejected([Problem(None, f"expected a {expected.upper()} document")])
    problems = _oversized_text(tree)
    if problems:
        raise DiagramRejected(problems)
    return tree


def detect_kind(source: bytes) -> str:
    """'bpmn' or 'dmn' for an upload (raises DiagramRejected for anything else)."""
    return document_kind(safe_tree(source))


MAX_SCHEMA_PROBLEMS = 20


def schema_problems(tree) -> list[Problem]:
    """Every BPMN 2.0 XML Schema violation of a document (at most 20), each on its element."""
    schema = VALIDATOR.validator
    VALIDATOR.preprocess(tree)
    if schema.validate(tree):
        return []
    by_line = {}
    for element in tree.getroot().iter():
        if element.get("id") and element.sourceline not in by_line:
            by_line[element.sourceline] = element.get("id")
    return [
        Problem(by_line.get(error.line), _schema_words(error.message, error.line))
        for error in list(schema.error_log)[:MAX_SCHEMA_PROBLEMS]
    ]


_OUR_RETRY_ATTRIBUTE = re.compile(
    r"Element '\{http://spiffworkflow\.org/bpmn/schema/1\.0/core\}retry', "
    r"attribute '(" + "|".join(RETRY_EXTRAS) + r")': The attribute '\1' is not allowed\."
)


def _schema_words(message: str, line: int) -> str:
    ours = _OUR_RETRY_ATTRIBUTE.match(message)
    if ours:  # documented (spiff/retry.py): nothing to correct, but other tools may refuse it
        return (
            f"spiffworkflow:retry attribute '{ours.group(1)}' (line {line}) is Ticketflow's own; "
            "SpiffWorkflow's schema does not define it"
        )
    return f"{message} (line {line}); correct that element or attribute as the BPMN 2.0 XML Schema says"


def flow_ids(tree) -> dict[str, str]:
    """'<source>-><target>' -> sequenceFlow id, so a condition's problem names its flow."""
    return {
        f"{flow.get('sourceRef')}->{flow.get('targetRef')}": flow.get("id")
        for flow in tree.getroot().iter("{*}sequenceFlow")
    }


def check_tasks(process_specs, main_specs, known_operators, load_form, process) -> list[Problem]:
    """Deploy checks of every task of a process and what it calls.

    Records the forms the tasks name in `process.forms` and the main process's start form in
    `process.start_form`.
    """
    problems = []
    seen = set()
    for process_spec in process_specs:
        if id(process_spec) in seen:
            continue
        seen.add(id(process_spec))
        problems.extend(
            _check_spec_tasks(process_spec, process_spec in main_specs, known_operators, load_form, process)
        )
    return problems


def _check_spec_tasks(process_spec, is_main, known_operators, load_form, process) -> list[Problem]:
    problems = []
    for task_spec in process_spec.task_specs.values():
        element_id = getattr(task_spec, "bpmn_id", None)
        if element_id is None:
            continue
        if isinstance(task_spec, ParkedServiceTask) and task_spec.operation_name not in known_operators:
            problems.append(
                Problem(
                    element_id,
                    f"unknown service operator '{task_spec.operation_name}' in "
                    "spiffworkflow:serviceTaskOperator; this server has: "
                    f"{', '.join(sorted(known_operators))}",
                )
            )
        if isinstance(task_spec, ParkedServiceTask):
            try:
                policy_of(task_spec)
            except ValueError as exc:
                problems.append(Problem(element_id, f"spiffworkflow:retry: {exc}"))
        properties = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
        for prop in (FORM_PROPERTY, UI_FORM_PROPERTY):
            name = properties.get(prop)
            if not name:
                continue
            problem = _load_checked_form(name, load_form, process.forms, ui=prop == UI_FORM_PROPERTY)
            if problem is MISSING_FORM:
                # Not fatal (SpiffWorkflow runs without forms): the task works without a form
                # until a deployment brings one; the deploy answer says so.
                process.warnings.append(
                    Problem(
                        element_id,
                        f"form file '{name}' is neither in the bundle "
                        "nor deployed: the task takes data without a "
                        "form; add the file to the bundle",
                    )
                )
            elif problem:
                problems.append(Problem(element_id, problem))
            elif prop == FORM_PROPERTY and isinstance(task_spec, StartEvent) and is_main:
                process.start_form = process.start_form or name
        problems.extend(_bounds_problems(task_spec, element_id))
        definition = getattr(task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition) and UNQUOTED_TIMER.fullmatch(
            definition.expression.strip()
        ):
            problems.append(
                Problem(
                    element_id,
                    f"timer value {definition.expression.strip()} is read as an "
                    f'expression; quote it: "{definition.expression.strip()}"',
                )
            )
    return problems


def _bounds_problems(task_spec, element_id: str) -> list[Problem]:
    """What can be seen to overrun a bound before anything runs: instructions that do not
    compile or overrun their budget without data, a constant loop cardinality over the cap."""
    problems = []
    instructions = (getattr(task_spec, "extensions", None) or {}).get("instructionsForEndUser")
    if instructions:
        problem = check_template(instructions)
        if problem:
            problems.append(Problem(element_id, f"instructionsForEndUser: {problem}"))
    cardinality = (
        getattr(task_spec, "cardinality", None) if isinstance(task_spec, MultiInstanceTask) else None
    )
    if cardinality:
        cap = current_app.config.get("MAX_MULTI_INSTANCE", 1000)
        try:
            value = evaluate_safe(cardinality, {}) if compile_safe(cardinality, "eval").is_constant else None
        except (ExpressionError, ArithmeticError, TypeError, ValueError):
            value = None  # the expression linter reports what does not compile
        if isinstance(value, int) and value > cap:
            problems.append(
                Problem(element_id, f"loopCardinality {value} exceeds {cap} instances (MAX_MULTI_INSTANCE)")
            )
    return problems


MISSING_FORM = "missing"


def _load_checked_form(name: str, load_form, forms: dict, ui: bool) -> str | None:
    if name in forms:
        return None
    try:
        schema = load_form(name)
    except ValueError as exc:
        return str(exc)
    if schema is None:
        return MISSING_FORM
    if not ui:
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            return f"form '{name}' is not a valid JSON Schema: {exc.message}"
    forms[name] = schema
    return None
