"""A scenario's expectations checked against the test ticket: the path, the statuses, the data.

The first expectation not met fails the scenario, naming the element it is about (the element
not passed, the one passed though it should not be, where the process waits instead of ending,
an incident's element) and saying what happened instead.
"""

from app.engine.commands.states import process_data
from app.engine.testing.drive import ScenarioFailed, Ticket, listed
from app.extensions import db
from app.models import HistoryEvent
from app.models import Ticket as TicketRow

STATUS_OPERATOR = "ticket.set_status"

_MISSING = object()


def check_expectations(ticket: Ticket, expect: dict, path: list[str]) -> None:
    """Raise ScenarioFailed at the first expectation the ticket does not meet."""
    status = ticket.status()
    incident = ticket.incident()
    if incident is not None and expect.get("status") != "incident":
        raise ScenarioFailed(
            incident.element_id, f"an incident opened at '{incident.element_id}': {incident.message}"
        )
    _check_path(expect.get("path") or [], path)
    for element_id in expect.get("passes") or []:
        if element_id not in path:
            raise ScenarioFailed(
                element_id, f"the process never passed '{element_id}' (it passed {_tail(path)})"
            )
    for element_id in expect.get("skips") or []:
        if element_id in path:
            raise ScenarioFailed(element_id, f"the process passed '{element_id}', which it should skip")
    waiting = ticket.waiting_at()
    if "waiting_at" in expect and set(expect["waiting_at"]) != set(waiting):
        wanted = [w for w in expect["waiting_at"] if w not in waiting]
        raise ScenarioFailed(
            (wanted or waiting or [None])[0],
            f"the process was to wait at {listed(expect['waiting_at'])}; it waits at {listed(waiting)}",
        )
    if "status" in expect and expect["status"] != status:
        where = waiting[0] if waiting else (path[-1] if path else None)
        detail = f"; it waits at {listed(waiting)}" if status == "running" else ""
        raise ScenarioFailed(where, f"the process was to be {expect['status']}, but it is {status}{detail}")
    row = db.session.get(TicketRow, ticket.ticket_id)
    for name, wanted in (expect.get("ticket") or {}).items():
        actual = getattr(row, name)
        if actual != wanted:
            setter = _status_setter(ticket.instance_id)
            where = f" (set at '{setter}')" if setter else ""
            raise ScenarioFailed(
                setter or (path[-1] if path else None),
                f"the ticket's {name} was to be {wanted!r}, but it is {actual!r}{where}",
            )
    if expect.get("data"):
        data = process_data(ticket.instance_id)
        for name, wanted in expect["data"].items():
            actual = _lookup(data, name)
            if actual is _MISSING:
                raise ScenarioFailed(path[-1] if path else None, f"the process data has no '{name}'")
            if actual != wanted:
                raise ScenarioFailed(
                    path[-1] if path else None,
                    f"the data '{name}' was to be {wanted!r}, but it is {actual!r}",
                )


def _status_setter(instance_id: int) -> str | None:
    """The element that last set the ticket's status (a `ticket.set_status` service task)."""
    rows = db.session.execute(
        db.select(HistoryEvent.element_id, HistoryEvent.data)
        .where(HistoryEvent.instance_id == instance_id, HistoryEvent.kind == "service_completed")
        .order_by(HistoryEvent.id.desc())
    ).all()
    return next(
        (e for e, data in rows if isinstance(data, dict) and data.get("operator") == STATUS_OPERATOR), None
    )


def _check_path(expected: list[str], path: list[str]) -> None:
    """Each expected element passed after the one before it (others may come between)."""
    position, previous = 0, None
    for element_id in expected:
        try:
            position = path.index(element_id, position) + 1
        except ValueError:
            after = f" after '{previous}'" if previous else ""
            went = path[position:] if previous else path
            raise ScenarioFailed(
                element_id,
                f"the path was to pass '{element_id}'{after}, but it went {_tail(went)}",
            ) from None
        previous = element_id


def _tail(ids: list[str], limit: int = 12) -> str:
    if not ids:
        return "nowhere"
    shown = " → ".join(ids[:limit])
    return shown + (" → …" if len(ids) > limit else "")


def _lookup(data, dotted: str):
    """`a.b.0` in nested data (a key with a dot in it is tried whole first)."""
    if isinstance(data, dict) and dotted in data:
        return data[dotted]
    current = data
    for part in dotted.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current
