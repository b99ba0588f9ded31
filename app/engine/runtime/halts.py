"""Halts: a bound a command ran into (engine steps, a budget, a multi-instance cap), kept as an incident.

A diagram that loops without waiting, or content that overruns its budget, must not hold the
command (and the database's write lock) nor vanish as an error answer nobody can act on: the
engine stops where it is, the command saves what it did, and `open_halts` opens one incident
(kind `engine`) per halt, naming the element, in the same transaction.
"""

from dataclasses import dataclass

from app.clock import utcnow
from app.engine.runtime.history import history
from app.extensions import db
from app.models import Incident, ProcessInstance

HALT_KIND = "engine"


@dataclass(frozen=True)
class Halt:
    element_id: str | None
    message: str


def open_halts(row: ProcessInstance, ticket_id: int | None, halts: list[Halt]) -> None:
    """Open an incident for each halt and put the instance (loaded in this command) in `incident`."""
    now = utcnow()
    for halt in halts:
        db.session.add(
            Incident(
                instance_id=row.id,
                ticket_id=ticket_id,
                element_id=halt.element_id,
                kind=HALT_KIND,
                message=halt.message[:4000],
                created_at=now,
            )
        )
        history(
            "incident_opened",
            ticket_id=ticket_id,
            instance_id=row.id,
            element_id=halt.element_id,
            data={"kind": HALT_KIND, "message": halt.message[:500]},
            at=now,
        )
    if halts and row.status == "running":
        row.status = "incident"
