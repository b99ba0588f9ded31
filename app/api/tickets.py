"""Tickets: open one (starts its process), read one with its instance, tasks, waits and history;
cancel one."""

from flask import g, jsonify, request

from app import sla
from app.access import scope_of, ticket_condition, ticket_visible
from app.api.auth import token_customer, token_required
from app.api.blueprint import bp
from app.api.serialize import iso, json_body, tasks_json
from app.clock import utcnow
from app.customer_facing import STAFF_ONLY_KINDS, customer_status, resolution_label
from app.engine import InvalidData, cancel_instance, instance_of_ticket, start_process, waiting_of
from app.errors import json_error
from app.extensions import db
from app.inputs import body_int, body_text, query_int
from app.models import STAFF, Feedback, HistoryEvent, HumanTask, Incident, ProcessInstance, Ticket
from app.ticket_list import TicketRow, list_page, parse_filters, status_counts

MAX_TYPE = 128  # characters of a ticket type (a process key), status or priority
MAX_SUBJECT = 300
MAX_REASON = 500  # characters of a cancellation's reason
MAX_PAGE = 200
MAX_OFFSET = 1_000_000


@bp.post("/tickets")
@token_required(*STAFF, "customer")
def open_ticket():
    """Open a ticket of a deployed type for a customer (a customer's token: for themselves); 201."""
    body = json_body()
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise InvalidData({"data": "must be a JSON object"})
    customer_id, me = body_int(body, "customer_id"), token_customer()
    ticket_type = body_text(body, "type", MAX_TYPE)
    subject = body_text(body, "subject", MAX_SUBJECT)
    priority = body_text(body, "priority", MAX_TYPE)
    if me is not None:
        if customer_id is not None and customer_id != me.id:
            return json_error(404, f"no customer with id {customer_id!r}")
        if priority is not None:
            raise InvalidData({"priority": "the rules set the priority of tickets customers open"})
        customer_id = me.id
    ticket, instance = start_process(
        ticket_type, customer_id, subject, data, actor=g.api_user.username, priority=priority
    )
    return jsonify(
        {
            "id": ticket.id,
            "type": ticket.type,
            "status": ticket.status,
            "priority": ticket.priority,
            "instance_id": instance.id,
        }
    ), 201


@bp.get("/tickets")
@token_required(*STAFF, "customer")
def list_tickets():
    """Tickets in the caller's scope (a customer's token: theirs only), with the dashboard list's
    filters and sort (app.ticket_list), newest first; pages of `limit` from `offset`, the total
    and the counts per status of the whole filtered list."""
    me = token_customer()
    filters = parse_filters(request.args, staff=me is None, strict=True)
    if me is not None:
        condition = Ticket.customer_id == me.id
    else:
        condition = ticket_condition(scope_of(g.api_user), g.api_user.username)
    limit = query_int("limit", 50, minimum=1, maximum=MAX_PAGE)
    offset = query_int("offset", 0, maximum=MAX_OFFSET)
    now = utcnow()
    counts = status_counts(condition, filters, now)
    total = sum(counts.values())
    rows = (
        list_page(condition, filters, now, limit=limit, offset=offset, matches=total)
        if offset < total
        else []
    )
    return jsonify(
        {
            "tickets": [_list_row(row, staff=me is None) for row in rows],
            "total": total,
            "counts": counts,
            "limit": limit,
            "offset": offset,
            "next_offset": offset + limit if offset + limit < total else None,
        }
    )


def _list_row(row: TicketRow, staff: bool) -> dict:
    found = {
        **_ticket_summary(row.ticket),
        "version": row.version,
        "state": row.state,
        "sla": {"state": row.sla, "due_at": iso(row.ticket.sla_due_at)},
        "closed_at": iso(row.ticket.closed_at),
    }
    if staff:
        found.update(customer_name=row.customer_name, teams=row.teams, assignees=row.assignees)
    elif not resolution_label(row.ticket.resolution):
        found["resolution"] = None  # an internal outcome is not the customer's to read
    return found


def _feedback_json(ticket_id: int) -> dict | None:
    """The customer's latest survey answer on the ticket, or None."""
    row = db.session.execute(
        db.select(Feedback).where(Feedback.ticket_id == ticket_id).order_by(Feedback.id.desc()).limit(1)
    ).scalar()
    return {"rating": row.rating, "comment": row.comment, "created_at": iso(row.created_at)} if row else None


def _sla_json(ticket: Ticket) -> dict:
    state = sla.sla_state(ticket, utcnow())
    return {"due_at": iso(state["due_at"]), "state": state["state"]}


def _ticket_summary(t: Ticket) -> dict:
    return {
        "id": t.id,
        "type": t.type,
        "subject": t.subject,
        "customer_id": t.customer_id,
        "priority": t.priority,
        "status": t.status,
        "resolution": t.resolution,
        "created_at": iso(t.created_at),
        "updated_at": iso(t.updated_at),
    }


@bp.get("/tickets/<int:ticket_id>")
@token_required(*STAFF, "customer")
def get_ticket(ticket_id: int):
    """One ticket: status, instance, open tasks, what it waits for, incidents and history."""
    ticket = db.session.get(Ticket, ticket_id)
    me = token_customer()
    if ticket is None or (me is not None and ticket.customer_id != me.id):
        return json_error(404, f"ticket {ticket_id} not found")
    if me is not None:
        return jsonify(_customer_view(ticket))
    if not ticket_visible(scope_of(g.api_user), ticket.id, g.api_user.username):
        return json_error(404, f"ticket {ticket_id} not found")
    return jsonify(_ticket_detail(ticket))


@bp.post("/tickets/<int:ticket_id>/cancel")
@token_required(*STAFF)
def cancel_ticket(ticket_id: int):
    """Cancel a ticket (optionally with a JSON body {"reason"}): its process stops, its open tasks
    close, it becomes 'cancelled'; 200 with the ticket. Who may is the policy's answer (403); 404 outside the caller's scope, 409 once ended."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not ticket_visible(scope_of(g.api_user), ticket.id, g.api_user.username):
        return json_error(404, f"ticket {ticket_id} not found")
    body = request.get_json() if request.is_json and request.content_length else None
    reason = body_text(body, "reason", MAX_REASON) if isinstance(body, dict) else None
    cancel_instance(instance_of_ticket(ticket.id).id, user=g.api_user, reason=reason)
    db.session.refresh(ticket)
    return jsonify(_ticket_detail(ticket))


def _ticket_detail(ticket: Ticket) -> dict:
    """A ticket as staff see it: with its instance, tasks, waits, incidents and history."""
    ticket_id = ticket.id
    instance = db.session.execute(
        db.select(ProcessInstance)
        .where(ProcessInstance.ticket_id == ticket_id)
        .order_by(ProcessInstance.id.desc())
        .limit(1)
    ).scalar()
    tasks = (
        db.session.execute(
            db.select(HumanTask).where(HumanTask.ticket_id == ticket_id).order_by(HumanTask.created_at)
        )
        .scalars()
        .all()
    )
    events = db.session.execute(
        db.select(HistoryEvent)
        .where(HistoryEvent.ticket_id == ticket_id)
        .order_by(HistoryEvent.at, HistoryEvent.id)
    ).scalars()
    incidents = db.session.execute(
        db.select(Incident).where(Incident.ticket_id == ticket_id, Incident.resolved_at.is_(None))
    ).scalars()
    return {
        **_ticket_summary(ticket),
        "customer": ticket.customer.profile(),
        "data": ticket.data,
        "sla": _sla_json(ticket),
        "feedback": _feedback_json(ticket.id),
        "instance": {"id": instance.id, "status": instance.status} if instance else None,
        "tasks": tasks_json(tasks),
        "waiting": waiting_of(instance.id) if instance else {"messages": [], "timers": []},
        "incidents": [{"id": i.id, "element_id": i.element_id, "message": i.message} for i in incidents],
        "history": [
            {
                "at": iso(e.at),
                "actor": e.actor,
                "kind": e.kind,
                "element_id": e.element_id,
                "element_name": e.element_name,
                "data": e.data,
            }
            for e in events
        ],
    }


def _customer_view(ticket: Ticket) -> dict:
    """A ticket as its customer sees it: no tasks, incidents, actors or internal history data."""
    instance = db.session.execute(
        db.select(ProcessInstance.id)
        .where(ProcessInstance.ticket_id == ticket.id)
        .order_by(ProcessInstance.id.desc())
        .limit(1)
    ).scalar()
    waiting = waiting_of(instance)["messages"] if instance else []
    events = db.session.execute(
        db.select(HistoryEvent.at, HistoryEvent.kind)
        .where(HistoryEvent.ticket_id == ticket.id)
        .order_by(HistoryEvent.at, HistoryEvent.id)
    ).all()
    return {
        **_ticket_summary(ticket),
        # An internal outcome (a complaint's "satisfactory") is never the customer's to read.
        "resolution": ticket.resolution if resolution_label(ticket.resolution) else None,
        "status_label": customer_status(ticket.status, ticket.resolution),
        "customer": ticket.customer.profile(),
        "data": ticket.data,
        "sla": _sla_json(ticket),
        "feedback": _feedback_json(ticket.id),
        "waiting": {"messages": [m["name"] for m in waiting]},
        "history": [{"at": iso(at), "kind": kind} for at, kind in events if kind not in STAFF_ONLY_KINDS],
    }
