"""Reading a diagram upload: hardened parse, XSD validation, and every deploy-time check.

`parse_diagram` either returns a `ParsedDiagram` or raises `DiagramRejected` listing every
problem by BPMN element id. Nothing of a rejected diagram is ever executed: expressions are
only compiled by the safe checker, never evaluated with data.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from app.engine.errors import DiagramRejected, Problem
from app.engine.expressions import lint_specs
from app.engine.spiff import ParkedServiceTask, TicketflowParser
from app.engine.xmlsafety import UnsafeXml, document_kind, parse_xml, unsupported_elements

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


def _problem_from_validation(exc: ValidationException) -> Problem:
    where = f" (line {exc.line_number})" if getattr(exc, "line_number", "") else ""
    return Problem(getattr(exc, "id", None) or None, f"{exc}{where}")


def _oversized_text(tree) -> list[Problem]:
    problems = []
    for element in tree.getroot().iter():
        if element.text and len(element.text) > MAX_TEXT_NODE:
            problems.append(Problem(element.get("id"), f"text longer than {MAX_TEXT_NODE} characters"))
    return problems


def parse_dmn(source: bytes) -> ParsedDiagram:
    """Parse and validate a DMN upload; its key is the id of its (first) decision."""
    tree = _safe_tree(source, "dmn")
    parser = TicketflowParser(validator=VALIDATOR)
    try:
        parser.add_dmn_xml(tree.getroot(), filename="upload.dmn")
        decisions = list(parser.dmn_parsers.items())
        for _, dmn_parser in decisions:
            dmn_parser.parse()
    except ValidationException as exc:
        raise DiagramRejected([_problem_from_validation(exc)]) from None
    except (SpiffWorkflowException, SyntaxError, ValueError) as exc:
        raise DiagramRejected([Problem(None, f"invalid decision table: {exc}")]) from None
    if not decisions:
        raise DiagramRejected([Problem(None, "the DMN file contains no decision")])
    key = decisions[0][0]
    return ParsedDiagram(kind="dmn", key=key, name=decisions[0][1].get_name(),
                         dmn_sources={d: source.decode() for d, _ in decisions})


def _safe_tree(source: bytes, expected: str | None = None):
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
    return document_kind(_safe_tree(source))


def parse_bpmn(
    source: bytes,
    *,
    known_operators: set[str],
    load_form: Callable[[str], dict | None],
    dmn_sources: dict[str, str],
) -> ParsedDiagram:
    """Parse, validate and check a BPMN upload.

    Args:
        source: the uploaded bytes.
        known_operators: service-task operator names that have a handler.
        load_form: returns the JSON Schema of a form file, None when it does not exist;
            raises ValueError when it is unreadable.
        dmn_sources: deployed decisions (id -> DMN XML) that business-rule tasks may call.

    Returns:
        The parsed diagram with its spec, the forms it names and the DMN it depends on.

    Raises:
        DiagramRejected: with every problem found, each naming its element.
    """
    tree = _safe_tree(source, "bpmn")
    problems = [Problem(eid, msg) for eid, msg in unsupported_elements(tree)]
    if problems:
        raise DiagramRejected(problems)

    parser = TicketflowParser(validator=VALIDATOR)
    try:
        for dmn in dmn_sources.values():
            parser.add_dmn_xml(etree.fromstring(dmn.encode()), filename="deployed.dmn")
        parser.add_bpmn_xml(tree, filename="upload.bpmn")
    except ValidationException as exc:
        raise DiagramRejected([_problem_from_validation(exc)]) from None

    key = _main_process_id(parser, tree)
    try:
        spec = parser.get_spec(key)
        subprocess_specs = parser.get_subprocess_specs(key)
    except ValidationException as exc:
        raise DiagramRejected([_problem_from_validation(exc)]) from None
    except SpiffWorkflowException as exc:
        raise DiagramRejected([Problem(None, str(exc))]) from None

    parsed = ParsedDiagram(kind="bpmn", key=key, name=spec.description or key,
                           spec=spec, subprocess_specs=subprocess_specs)
    all_specs = [spec, *subprocess_specs.values()]
    for process_spec in all_specs:
        problems.extend(_check_tasks(process_spec, known_operators, load_form, parsed))
    flow_ids = _flow_ids(tree)
    problems.extend(Problem(flow_ids.get(eid, eid), msg) for eid, msg in lint_specs(spec, subprocess_specs))
    if problems:
        raise DiagramRejected(problems)
    used = parser.get_dependencies()
    parsed.dmn_sources = {d: s for d, s in dmn_sources.items() if d in used}
    return parsed


def _flow_ids(tree) -> dict[str, str]:
    """'<source>-><target>' -> sequenceFlow id, so a condition's problem names its flow."""
    return {f"{flow.get('sourceRef')}->{flow.get('targetRef')}": flow.get("id")
            for flow in tree.getroot().iter("{*}sequenceFlow")}


def _main_process_id(parser, tree) -> str:
    ids = parser.get_process_ids()
    called = {el.get("calledElement") for el in tree.getroot().iter("{*}callActivity")}
    candidates = [pid for pid in ids if pid not in called]
    if not ids:
        raise DiagramRejected([Problem(None, "the file has no executable process "
                                             '(set isExecutable="true" on the process)')])
    if len(candidates) != 1:
        raise DiagramRejected([Problem(None, "the file must hold exactly one top-level executable "
                                             f"process; found: {', '.join(candidates or ids)}")])
    return candidates[0]


def _check_tasks(process_spec, known_operators, load_form, parsed: ParsedDiagram) -> list[Problem]:
    problems = []
    for task_spec in process_spec.task_specs.values():
        element_id = getattr(task_spec, "bpmn_id", None)
        if element_id is None:
            continue
        if isinstance(task_spec, ParkedServiceTask) and task_spec.operation_name not in known_operators:
            problems.append(Problem(element_id, f"unknown service operator '{task_spec.operation_name}'; "
                                                f"known: {', '.join(sorted(known_operators))}"))
        properties = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
        for prop in (FORM_PROPERTY, UI_FORM_PROPERTY):
            name = properties.get(prop)
            if not name:
                continue
            problem = _load_checked_form(name, load_form, parsed, ui=prop == UI_FORM_PROPERTY)
            if problem:
                problems.append(Problem(element_id, problem))
            elif prop == FORM_PROPERTY and isinstance(task_spec, StartEvent) and process_spec is parsed.spec:
                parsed.start_form = name
        definition = getattr(task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition) and UNQUOTED_TIMER.fullmatch(definition.expression.strip()):
            problems.append(Problem(element_id, f"timer value {definition.expression.strip()} is read as an "
                                                f'expression; quote it: "{definition.expression.strip()}"'))
        if isinstance(task_spec, StartEvent) and isinstance(definition, TimerEventDefinition) \
                and process_spec is parsed.spec:
            problems.append(Problem(element_id, "timer start events are not supported; "
                                                "start tickets through the API or portal"))
    return problems


def _load_checked_form(name: str, load_form, parsed: ParsedDiagram, ui: bool) -> str | None:
    if name in parsed.forms:
        return None
    try:
        schema = load_form(name)
    except ValueError as exc:
        return str(exc)
    if schema is None:
        return f"form file '{name}' not found in forms/"
    if not ui:
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            return f"form '{name}' is not a valid JSON Schema: {exc.message}"
    parsed.forms[name] = schema
    return None
