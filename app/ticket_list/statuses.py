"""The statuses a ticket type sets, with their labels for staff.

A type's statuses are the literal `status` parameters of the `ticket.set_status` service tasks
in its deployed diagrams (every version), plus `closed` and `cancelled`, which the engine sets
when a process ends without a final status. Versions never change once deployed, so each
version is read once per process (`_CACHE`, by the checksum of its source).
"""

import ast

from lxml import etree

from app.extensions import db
from app.models import ProcessDefinition

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
ENGINE_STATUSES = ("closed", "cancelled")
# Staff-facing names (customers see app.web.portal's wording); other statuses are capitalised.
STATUS_LABELS = {
    "new": "New",
    "in_progress": "In progress",
    "awaiting_customer": "Awaiting customer",
    "missing_data": "Missing data",
    "awaiting_return": "Awaiting return",
    "awaiting_payment": "Awaiting payment",
    "dispatched": "Dispatched",
    "accepted": "Accepted",
    "approved": "Approved",
    "rejected": "Rejected",
    "denied": "Denied",
    "escalated": "Escalated",
    "resolved": "Resolved",
    "no_response": "No response",
    "closed": "Closed",
    "cancelled": "Cancelled",
}
_CACHE: dict[str, tuple[str, ...]] = {}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def status_label(status: str | None) -> str:
    if not status:
        return ""
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def statuses_in(source: bytes) -> tuple[str, ...]:
    """The literal statuses a BPMN document's `ticket.set_status` tasks set, in document order."""
    found: list[str] = []
    try:
        root = etree.fromstring(source, _PARSER)
    except etree.XMLSyntaxError:
        return ()
    for operator in root.iter(f"{{{SPIFF_NS}}}serviceTaskOperator"):
        if operator.get("id") != "ticket.set_status":
            continue
        for parameter in operator.iter(f"{{{SPIFF_NS}}}parameter"):
            if parameter.get("id") != "status":
                continue
            try:
                value = ast.literal_eval(parameter.get("value") or "")
            except (ValueError, SyntaxError):
                continue  # an expression: known only when it runs
            if isinstance(value, str) and value not in found:
                found.append(value)
    return tuple(found)


def statuses_of(ticket_type: str) -> list[str]:
    """Every status tickets of `ticket_type` can have (empty for an unknown type)."""
    versions = db.session.execute(
        db.select(ProcessDefinition.id, ProcessDefinition.checksum)
        .where(ProcessDefinition.key == ticket_type, ProcessDefinition.kind == "bpmn")
        .order_by(ProcessDefinition.version)
    ).all()
    if not versions:
        return []
    missing = {definition_id for definition_id, checksum in versions if checksum not in _CACHE}
    if missing:
        for checksum, source in db.session.execute(
            db.select(ProcessDefinition.checksum, ProcessDefinition.source).where(
                ProcessDefinition.id.in_(missing)
            )
        ):
            _CACHE[checksum] = statuses_in(source)
    found: list[str] = []
    for _, checksum in versions:
        found += [s for s in _CACHE[checksum] if s not in found]
    return found + [s for s in ENGINE_STATUSES if s not in found]


def all_statuses() -> list[str]:
    """The statuses the handler knows and the engine sets, for the list without a type."""
    return list(STATUS_LABELS)
