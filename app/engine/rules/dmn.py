"""Business rules that analysts edit as DMN decision tables (deployed like diagrams).

`decide(decision_id, inputs)` evaluates the latest deployed version of a decision with
SpiffWorkflow's DMN engine; every cell runs through our safe script engine. The parsed table is
cached per definition id and checksum, so a redeploy is picked up by the next transaction. Which
version is the latest is read once per transaction, for every decision at once (a ticket's start
asks the priority and the assignment rules), and read again after the transaction adds a version.
`decide_rule` does the same and also says which rule matched, for the ticket history.
`check_decisions` is the deploy-time check of a DMN upload.

Hit policies: FIRST (the first matching row wins), UNIQUE (at most one row may match) and ANY
(every matching row must give the same outputs). Output names are plain (no dot notation).
"""

from dataclasses import dataclass
from functools import cache
from threading import Lock
from types import SimpleNamespace

from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from sqlalchemy import String, cast, event, func
from sqlalchemy.orm import Session

from app.engine.diagrams.xmlsafety import parse_xml
from app.engine.errors import Problem, StepFailed
from app.engine.expressions import compile_safe, evaluate_safe, lint_specs
from app.engine.spiff.parser import TicketflowParser
from app.engine.spiff.script_engine import SCRIPT_ENGINE
from app.extensions import db
from app.models import PRIORITIES, ProcessDefinition

HIT_POLICIES = ("FIRST", "UNIQUE", "ANY")
# Decisions the engine itself calls: the outputs they must and may have.
CONTRACTS = {
    "priority": {"required": {"priority"}, "allowed": {"priority"}},
    "assignment": {"required": set(), "allowed": {"team", "skill"}},
    "mail_type": {"required": {"type"}, "allowed": {"type"}},  # the type of a ticket opened by e-mail
}

_tables: dict[tuple[int, str], object] = {}
_lock = Lock()
_LATEST = "ticketflow_latest_decisions"  # session.info: decision id -> (definition id, checksum)


@dataclass(frozen=True)
class Decision:
    """The outputs of the rule that matched, and which rule it was."""

    decision_id: str
    outputs: dict
    rule_id: str
    row: int
    annotation: str | None = None

    @property
    def label(self) -> str:
        """'priority#3': the decision and the row number analysts see in the table."""
        return f"{self.decision_id}#{self.row}"

    def describe(self) -> str:
        """'priority#3 (critical complaint)': the label with the rule's annotation."""
        return f"{self.label} ({self.annotation})" if self.annotation else self.label


def decide(decision_id: str, inputs: dict) -> dict | None:
    """The outputs of the matching rule, or None when nothing matches or none is deployed.

    Args:
        decision_id: the id of a deployed DMN decision (its definition key).
        inputs: the names the table's input expressions and cells may use.

    Returns:
        {output name: value} of the matching rule, or None.

    Raises:
        StepFailed: a cell failed to evaluate, or the hit policy was violated; names the decision.
    """
    decision = decide_rule(decision_id, inputs)
    return decision.outputs if decision is not None else None


def decide_rule(decision_id: str, inputs: dict) -> Decision | None:
    """Like `decide`, but also tells which rule matched (id, row number, annotation).

    Raises:
        StepFailed: a cell failed to evaluate, or the hit policy was violated.
    """
    latest = db.session.info.get(_LATEST)
    if latest is None:
        latest = {key: (id_, checksum) for key, id_, checksum in db.session.execute(_latest_query())}
        db.session.info[_LATEST] = latest
    if decision_id not in latest:
        return None
    table = _table(*latest[decision_id], decision_id)
    return _evaluate(decision_id, table, dict(inputs))


@cache
def _latest_query():
    """The latest version of every deployed decision: (key, definition id, checksum); built once."""
    newest = (
        db.select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
        .where(ProcessDefinition.kind == "dmn")
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    return db.select(ProcessDefinition.key, ProcessDefinition.id, ProcessDefinition.checksum).join(
        newest,
        (ProcessDefinition.key == newest.c.key)
        & (ProcessDefinition.version == newest.c.version)
        & (ProcessDefinition.kind == "dmn"),
    )


# Between the fields of one decision and between decisions in `latest_decisions_column`: neither
# can be in a decision id (an XML attribute cannot hold these characters) nor in an id or checksum.
_FIELD, _ENTRY = "\x1f", "\x1e"


@cache
def latest_decisions_column():
    """`_latest_query` folded into one text column (a scalar subquery), for a command's first
    read to carry, so that its rules need no statement of their own (`note_latest_decisions`)."""
    latest = _latest_query().subquery()
    entry = latest.c.key + _FIELD + cast(latest.c.id, String) + _FIELD + latest.c.checksum
    return db.select(func.aggregate_strings(entry, _ENTRY)).scalar_subquery().label("latest_decisions")


def note_latest_decisions(session, folded: str | None) -> None:
    """Take the latest decisions a command's first read carried (`latest_decisions_column`) as
    this transaction's, unless it has read them already."""
    if _LATEST in session.info:
        return
    latest = {}
    for entry in folded.split(_ENTRY) if folded else ():
        fields = entry.rsplit(_FIELD, 2)
        if len(fields) != 3 or not fields[1].isdigit():
            return  # not as folded (a key with a separator after all): `decide_rule` reads them itself
        latest[fields[0]] = (int(fields[1]), fields[2])
    session.info[_LATEST] = latest


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:  # the next transaction may see a version deployed meanwhile
        session.info.pop(_LATEST, None)


@event.listens_for(Session, "transient_to_pending")
def _deploying(session, instance) -> None:
    if isinstance(instance, ProcessDefinition):  # this transaction deploys: read the latest again
        session.info.pop(_LATEST, None)


def check_decisions(dmn_sources: dict[str, str]) -> list[Problem]:
    """Deploy-time check of DMN decisions: every cell through the safe compiler, contracts.

    Args:
        dmn_sources: decision id -> DMN XML (what `parse_dmn` returns as `dmn_sources`).

    Returns:
        Problems naming the cell (input/output entry id) or the decision; empty when fine.
    """
    problems = []
    for decision_id, source in dmn_sources.items():
        table = _parse_table(decision_id, source)
        holder = SimpleNamespace(
            task_specs={
                decision_id: SimpleNamespace(
                    bpmn_id=decision_id, name=decision_id, dmnEngine=DMNEngine(table)
                )
            }
        )
        # lint_specs walks process specs; a holder with one task carrying the table looks alike.
        problems.extend(Problem(eid, msg) for eid, msg in lint_specs(holder, {}))
        problems.extend(_check_contract(decision_id, table))
    return problems


def _check_contract(decision_id: str, table) -> list[Problem]:
    contract = CONTRACTS.get(decision_id)
    if contract is None:
        return []
    problems = []
    if table.hit_policy not in HIT_POLICIES:
        problems.append(
            Problem(
                table.id,
                f"hit policy {table.hit_policy} is not supported for the "
                f"'{decision_id}' rules; use {', '.join(HIT_POLICIES)}",
            )
        )
    names = {output.name or output.label for output in table.outputs}
    for missing in sorted(contract["required"] - names):
        problems.append(Problem(table.id, f"the '{decision_id}' decision needs an output named '{missing}'"))
    for extra in sorted(names - contract["allowed"]):
        problems.append(
            Problem(
                table.id,
                f"output '{extra}' is not used; the '{decision_id}' decision "
                f"may have: {', '.join(sorted(contract['allowed']))}",
            )
        )
    if decision_id == "priority":
        problems.extend(_check_priority_values(table))
    return problems


def _check_priority_values(table) -> list[Problem]:
    problems = []
    for rule in table.rules:
        for entry in rule.outputEntries:
            if not entry.text or (entry.output.name or entry.output.label) != "priority":
                continue
            try:
                if not compile_safe(entry.text, "eval").is_constant:
                    continue
                value = evaluate_safe(entry.text, {})
            except Exception:  # noqa: BLE001 - the cell lint above reports it
                continue
            if value not in PRIORITIES:
                problems.append(
                    Problem(
                        entry.id,
                        f"row {rule.row_number} gives priority {value!r}; "
                        f"expected one of {', '.join(PRIORITIES)}",
                    )
                )
    return problems


def _table(definition_id: int, checksum: str, decision_id: str):
    key = (definition_id, checksum)
    table = _tables.get(key)
    if table is not None:
        return table
    definition = db.session.get(ProcessDefinition, definition_id)
    source = (definition.dependencies or {}).get("dmn", {}).get(decision_id)
    table = _parse_table(decision_id, source or definition.source.decode())
    with _lock:
        _tables[key] = table
    return table


def _parse_table(decision_id: str, source: str):
    parser = TicketflowParser()  # the XML was checked when it was deployed
    parser.add_dmn_xml(parse_xml(source.encode()).getroot(), filename=f"{decision_id}.dmn")
    dmn_parser = parser.dmn_parsers[decision_id]
    dmn_parser.parse()
    return dmn_parser.decision.decisionTables[0]


class _DecisionTask:
    """What DMNEngine and the script engine need of a task: data, a spec and a workflow."""

    def __init__(self, decision_id: str, data: dict):
        self.data = data
        self.task_spec = SimpleNamespace(
            bpmn_id=decision_id, bpmn_name=decision_id, name=decision_id, event_definition=None
        )
        self.workflow = SimpleNamespace(
            script_engine=SCRIPT_ENGINE, spec=SimpleNamespace(file=f"{decision_id}.dmn")
        )
        self.workflow.top_workflow = self.workflow


def _evaluate(decision_id: str, table, data: dict) -> Decision | None:
    policy = table.hit_policy
    if policy not in HIT_POLICIES:
        raise StepFailed(
            decision_id,
            f"{decision_id}: hit policy {policy} is not supported here; use {', '.join(HIT_POLICIES)}",
        )
    task = _DecisionTask(decision_id, data)
    engine = DMNEngine(table)
    matched = []
    for rule in table.rules:
        if _matches(decision_id, engine, rule, task):
            matched.append(rule)
            if policy == "FIRST":
                break
    if not matched:
        return None
    if policy == "UNIQUE" and len(matched) > 1:
        rows = ", ".join(str(rule.row_number) for rule in matched)
        raise StepFailed(decision_id, f"{decision_id}: hit policy UNIQUE, but rows {rows} all match")
    outputs = [_outputs(decision_id, rule, task) for rule in matched]
    if policy == "ANY" and any(other != outputs[0] for other in outputs[1:]):
        rows = ", ".join(str(rule.row_number) for rule in matched)
        raise StepFailed(
            decision_id, f"{decision_id}: hit policy ANY, but rows {rows} give different outputs"
        )
    rule = matched[0]
    return Decision(
        decision_id, outputs[0], rule.id, rule.row_number, (rule.description or "").strip() or None
    )


def _matches(decision_id: str, engine: DMNEngine, rule, task: _DecisionTask) -> bool:
    for entry in rule.inputEntries:
        for cell in entry.lhs:
            if cell is None:
                continue
            expression = entry.input.expression or repr(task.data.get(entry.input.label))
            try:
                if not engine.evaluate(expression, cell, task):
                    return False
            except Exception as exc:  # noqa: BLE001 - library, safe-evaluator and Python errors alike
                raise _failed(decision_id, rule, entry.id, exc) from exc
    return True


def _outputs(decision_id: str, rule, task: _DecisionTask) -> dict:
    outputs = {}
    for entry in rule.outputEntries:
        name = entry.output.name or entry.output.label
        try:
            outputs[name] = SCRIPT_ENGINE.evaluate(task, entry.text) if entry.text else ""
        except Exception as exc:  # noqa: BLE001 - reported as the rule's failure
            raise _failed(decision_id, rule, entry.id, exc) from exc
    return outputs


def _failed(decision_id: str, rule, cell_id: str, exc: Exception) -> StepFailed:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return StepFailed(decision_id, f"{decision_id}: row {rule.row_number} (cell {cell_id}) failed: {message}")
