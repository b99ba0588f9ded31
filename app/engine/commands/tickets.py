"""Commands that start and stop tickets (start_process, cancel_instance); what an instance waits for."""

from functools import cache

from flask import current_app
from sqlalchemy import Integer, bindparam

from app import sla
from app.assignment import ticket_opened
from app.clock import utcnow
from app.engine.diagrams.forms import validate
from app.engine.errors import Conflict, Forbidden, InvalidData, NotFound
from app.engine.rules.assignment import initial_priority, record_priority
from app.engine.rules.dmn import latest_decisions_column, note_latest_decisions
from app.engine.runtime.checks import check
from app.engine.runtime.history import history, in_command, pending
from app.engine.runtime.instance_writes import instance_id_column, next_instance_id, write_first, write_held
from app.engine.runtime.projections import Snapshot
from app.engine.runtime.rows import insert_at_commit
from app.engine.runtime.runner import run_command
from app.engine.runtime.steps import engine_step, run_engine
from app.engine.runtime.store import Loaded, close_ticket, load, save
from app.engine.spiff import specs
from app.engine.spiff.serializer import new_workflow
from app.extensions import db
from app.models import (
    FIELD_NAME_MAX,
    PRIORITIES,
    Customer,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
    ProcessType,
    Ticket,
    TicketField,
    Timer,
    User,
    field_value,
)
from app.stats.list_counts import note_fields
from app.stats.record import remember_process

DEFAULT_FEEDBACK_DELAY = "P1D"
MAX_REASON = 500  # characters of a cancellation's reason


def start_process(
    ticket_type: str,
    customer_id: int,
    subject: str,
    data: dict,
    actor: str | None = None,
    priority: str | None = None,
) -> tuple[Ticket, ProcessInstance]:
    """Open a ticket of a type and start the latest version of its process.

    Args:
        ticket_type: a deployed process key (return, credit, general, complaint ...).
        customer_id: the customer the ticket is for.
        subject: one line saying what the ticket is about.
        data: the start form's fields; for a type without a start form, any JSON object that
            follows the formless rules (app/engine/forms.py check_formless_data).
        actor: who opened it, for history.
        priority: low | normal | high | urgent; the rules decide when None.

    Returns:
        The new ticket and its process instance.

    Raises:
        InvalidData: unknown type or customer, or data that does not satisfy the start form
            (or the formless rules).
        StepFailed: the process failed on its first steps (a condition reading a missing name).
    """

    def body():
        wanted = customer_id if isinstance(customer_id, int) and not isinstance(customer_id, bool) else None
        definition, retired, customer, new_instance_id = (
            _startable(ticket_type, wanted) if isinstance(ticket_type, str) else (None, False, None, None)
        )
        if definition is None:
            raise InvalidData({"type": f"unknown ticket type '{ticket_type}'"})
        if retired:
            raise InvalidData(
                {"type": f"the ticket type '{ticket_type}' is retired: it opens no new tickets"}
            )
        if customer is None:
            raise InvalidData({"customer_id": f"no customer with id {customer_id!r}"})
        if not isinstance(subject, str) or not subject.strip():
            raise InvalidData({"subject": "a subject is required"})
        form = (definition.forms or {}).get(definition.start_form) if definition.start_form else None
        try:
            validate(form, data)  # without a start form: the formless rules (forms.check_formless_data)
        except InvalidData as exc:
            raise InvalidData(
                {
                    k if k == "data" or k.startswith(("data.", "data[")) else f"data.{k}": v
                    for k, v in exc.errors.items()
                },
                exc.message,
            ) from None
        if priority is not None and priority not in PRIORITIES:
            raise InvalidData({"priority": f"must be one of {', '.join(PRIORITIES)}"})
        now = utcnow()
        profile = customer.profile()
        chosen, source = (
            (priority, f"{actor or 'the caller'} when opening the ticket")
            if priority
            else initial_priority(ticket_type, profile, data)
        )
        ticket = Ticket(
            type=ticket_type,
            subject=subject.strip()[:300],
            customer_id=customer.id,
            priority=chosen,
            status="new",
            data=data,
            definition_id=definition.id,
            created_at=now,
            updated_at=now,
        )
        sla.start_clock(ticket, now)  # before the INSERT, so it carries the clock (no UPDATE after)
        db.session.add(ticket)
        db.session.flush()
        ticket_opened(ticket.id)
        record_fields(ticket.id, data)
        spec, subprocess_specs = specs.for_instance(definition)
        wf = new_workflow(spec, subprocess_specs, {**data, **engine_data(ticket, profile)})
        # The instance's id comes with the first read; its row is written by the first flush after
        # the engine has run (or any before it), in one INSERT with its workflow (`write_first`).
        row = ProcessInstance(
            id=new_instance_id,
            definition_id=definition.id,
            ticket_id=ticket.id,
            status="running",
            workflow="",
            version=1,
            created_at=now,
            updated_at=now,
        )
        write_first(db.session, row)
        remember_process(db.session, row.id, definition.key, definition.version)
        loaded = Loaded(row, definition, ticket, wf, Snapshot(), set())
        run_engine(loaded)
        history(
            "ticket_created",
            ticket_id=ticket.id,
            instance_id=row.id,
            actor=actor,
            element_id=definition.key,
            element_name=f"{definition.key} v{definition.version}",
            data={"subject": ticket.subject, "priority": chosen, "team": ticket.sla_team_key, "data": data},
            at=now,
        )
        record_priority(ticket, row.id, chosen, source, actor)
        save(loaded, actor)
        if goes_on:  # a command that goes on may read it; else the history's write sends it
            write_held(db.session)
        return ticket, row

    goes_on = in_command(db.session)  # started from inside another command
    return run_command(body)


def _startable(
    ticket_type: str, customer_id: int | None
) -> tuple[ProcessDefinition | None, bool, Customer | None, int | None]:
    """The latest BPMN definition of a type, whether the type is retired, the customer, and the id
    of the new instance (one query; the customer is None when there is no such customer or no
    such type)."""
    query = _startable_query(db.session.get_bind().dialect.name)
    row = db.session.execute(query, {"key": ticket_type, "customer_id": customer_id}).first()
    if row is None:
        return None, False, None, None
    note_latest_decisions(db.session, row[3])  # the priority and assignment rules read them
    sla.note_policies(db.session, ticket_type, row[4])  # the clock's targets, once the priority is chosen
    return row[0], row[1] is not None, row[2], next_instance_id(db.session, row[5])


@cache
def _startable_query(dialect: str):
    """`latest_definition(key, "bpmn")` with the type's retirement (`is_retired`), the
    customer the ticket is for, joined on the bound id, the latest decisions, the type's SLA
    targets and the new instance's id; built once per dialect."""
    return (
        db.select(
            ProcessDefinition,
            ProcessType.retired_at,
            Customer,
            latest_decisions_column(),
            sla.policies_column(ProcessDefinition.key),
            instance_id_column(dialect),
        )
        .outerjoin(ProcessType, ProcessType.key == ProcessDefinition.key)
        .outerjoin(Customer, Customer.id == bindparam("customer_id", type_=Integer))
        .where(ProcessDefinition.key == bindparam("key"), ProcessDefinition.kind == "bpmn")
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )


def record_fields(ticket_id: int, data: dict) -> None:
    """Project the start data's scalar fields into `ticket_field` (one INSERT, no commit)."""
    rows = [
        {"ticket_id": ticket_id, "name": name, "value": value}
        for name, raw in data.items()
        if len(name) <= FIELD_NAME_MAX and (value := field_value(raw)) is not None
    ]
    # the table's own INSERT (the ORM's bulk path costs more than the rows), on PostgreSQL with
    # the commit's statement: nothing reads them before (`note_fields` tells the list counts)
    insert_at_commit(db.session, TicketField.__table__, rows)
    note_fields(db.session, ticket_id, [(r["name"], r["value"]) for r in rows])  # for ticket_field_count


def engine_data(ticket: Ticket, profile: dict) -> dict:
    """What the engine puts into a new instance's data next to the start data (forms.ENGINE_NAMES)."""
    return {
        "ticket_id": ticket.id,
        "ticket_type": ticket.type,
        "subject": ticket.subject,
        "priority": ticket.priority,
        "customer": profile,
        "feedback_delay": feedback_delay(ticket.type),
        "feedback_reminder_delay": _configured_delay("FEEDBACK_REMINDER_DELAY", ticket.type, "P3D"),
        "feedback_deadline_delay": _configured_delay("FEEDBACK_DEADLINE_DELAY", ticket.type, "P7D"),
    }


def cancel_instance(
    instance_id: int, actor: str | None = None, user: User | None = None, reason: str | None = None
) -> None:
    """Cancel a running instance: every open task, timer, job and subscription goes away; its
    ticket becomes 'cancelled'.

    Args:
        instance_id: the instance.
        actor: who cancelled it, for history (defaults to `user`'s username).
        user: the person cancelling it, asked about by the command checker (`may_cancel`); None
            for the system (not checked).
        reason: why, in the person's words (at most MAX_REASON characters): kept on the
            `instance_cancelled` history row.

    Raises:
        Forbidden: the checker refused `user` (403).
        Conflict: the instance has already ended (409).
        InvalidData: the reason is not text or too long (422, naming `reason`).
    """
    actor = actor if actor is not None or user is None else user.username
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
        raise InvalidData({"reason": f"must be text of at most {MAX_REASON} characters"})
    reason = reason.strip() if reason else None

    def body():
        loaded = load(instance_id)
        check("may_cancel", Forbidden, user, loaded.ticket)
        if loaded.row.status not in ("running", "incident"):
            what = f"ticket {loaded.row.ticket_id}" if loaded.row.ticket_id else f"instance {instance_id}"
            raise Conflict(f"{what} has already ended (its process is {loaded.row.status})")
        engine_step(loaded, loaded.wf.cancel)
        save(loaded, actor)  # a cancelled workflow is complete: save marks the instance and the ticket
        if loaded.row.status != "cancelled":
            now = utcnow()
            loaded.row.status, loaded.row.ended_at = "cancelled", now
            history(
                "instance_cancelled",
                ticket_id=loaded.row.ticket_id,
                instance_id=instance_id,
                actor=actor,
                at=now,
            )
            close_ticket(loaded.ticket, loaded.row, actor, now)
        if reason:
            row = next(r for r in reversed(pending()) if r["kind"] == "instance_cancelled")
            row["data"] = {**(row["data"] or {}), "reason": reason}

    run_command(body)


def feedback_delay(ticket_type: str) -> str:
    """How long after a ticket closes its satisfaction survey goes out (ISO duration, config FEEDBACK_DELAY)."""
    return _configured_delay("FEEDBACK_DELAY", ticket_type, DEFAULT_FEEDBACK_DELAY)


def _configured_delay(setting: str, ticket_type: str, default: str) -> str:
    """An ISO-8601 duration per ticket type from config `setting` ({type: duration}), else `default`."""
    return (current_app.config.get(setting) or {}).get(ticket_type, default)


def instance_of_ticket(ticket_id: int) -> ProcessInstance:
    row = db.session.execute(
        db.select(ProcessInstance)
        .where(ProcessInstance.ticket_id == ticket_id)
        .order_by(ProcessInstance.id.desc())
        .limit(1)
    ).scalar()
    if row is None:
        raise NotFound(f"ticket {ticket_id} has no process instance")
    return row


def waiting_of(instance_id: int) -> dict:
    """What an instance waits for: message names and timers with due times."""
    messages = db.session.execute(
        db.select(MessageSubscription.name, MessageSubscription.element_id).where(
            MessageSubscription.instance_id == instance_id
        )
    ).all()
    timers = db.session.execute(
        db.select(Timer.element_id, Timer.due_at).where(Timer.instance_id == instance_id)
    ).all()
    return {
        "messages": [{"name": n, "element_id": e} for n, e in messages],
        "timers": [{"element_id": e, "due_at": d.isoformat() if d else None} for e, d in timers],
    }
