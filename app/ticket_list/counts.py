"""The ticket list's counts per status from `ticket_count` (app/stats/counts.py) where it can answer.

For a caller who sees every ticket and filters on nothing but type (and version), status, priority,
team and SLA breached, the counts come from the few hundred rows of `ticket_count` plus, where a filter is not
a column of it, a count of the small rest read live:

- `team`: ticket_count holds the SLA team; tickets with an open task of the team but another SLA
  team are counted live (open tasks only);
- `sla=breached`: ticket_count holds the recorded misses (`sla_met` false); open tickets whose
  running clock is past due now are counted live (ix_ticket_sla_running_due: running clocks only).

One start field (`field=name:value` or `order_number`), alone or with a type or a status, is
counted from `ticket_field_count` (app/stats/list_counts.py): a few rows, not a look-up of the
status of every ticket that has the value. A creation range of whole UTC days (the dates the
filter form sends), alone or with a type or a status, is counted from `ticket_day_count`: a few
rows per day, not every ticket opened in the range.

Anything else (another filter, a scope limited to some teams) returns None: the caller counts
the filtered list with one GROUP BY (app/ticket_list/listing.py).
"""

from collections import Counter
from dataclasses import fields
from datetime import UTC, datetime, time

from sqlalchemy import and_, func, or_, true
from sqlalchemy.sql.elements import True_

from app.extensions import db
from app.models import HumanTask, Ticket, TicketCount, TicketDayCount, TicketFieldCount, field_value
from app.ticket_list.conditions import definition_of, sla_condition
from app.ticket_list.filters import TicketFilters

ANSWERED = {"type", "version", "status", "priority", "team", "sla"}
# One start field (ticket_field_count), with these.
FIELD_ANSWERED = {"type", "status", "fields", "order_number"}
# Whole days of creation (ticket_day_count), with these.
DAY_ANSWERED = {"type", "status", "created_from", "created_to"}
START_OF_DAY, END_OF_DAY = time(0, 0), time(23, 59, 59, 999999)


def _used(filters: TicketFilters) -> set[str]:
    return {
        f.name for f in fields(filters) if f.name != "sort" and getattr(filters, f.name) not in ("", None, ())
    }


def aggregated_counts(scope_condition, filters: TicketFilters, now: datetime) -> dict[str, int] | None:
    """Counts per status of the filtered list, or None when ticket_count cannot answer."""
    if not isinstance(scope_condition, True_):
        return None
    if _used(filters) & {"fields", "order_number"}:
        return _field_counts(filters)
    if _used(filters) & {"created_from", "created_to"}:
        return _day_counts(filters)
    if not _used(filters) <= ANSWERED:
        return None
    if filters.sla and filters.sla != "breached":
        return None
    breached = filters.sla == "breached"
    stored = [
        getattr(TicketCount, name) == getattr(filters, name)
        for name in ("type", "status", "priority")
        if getattr(filters, name)
    ]
    live = [
        getattr(Ticket, name) == getattr(filters, name)
        for name in ("type", "status", "priority")
        if getattr(filters, name)
    ]
    if filters.version is not None:
        stored.append(TicketCount.definition_id == definition_of(filters.type, filters.version))
        live.append(Ticket.definition_id == definition_of(filters.type, filters.version))
    if filters.team:
        stored.append(TicketCount.team == filters.team)
    if breached:
        stored.append(TicketCount.missed.is_(True))
    counts = Counter(
        dict(
            db.session.execute(
                db.select(TicketCount.status, func.sum(TicketCount.n))
                .where(*stored)
                .group_by(TicketCount.status)
            ).all()
        )
    )
    status = func.coalesce(Ticket.status, "")

    def add(*where) -> None:
        counts.update(
            dict(
                db.session.execute(
                    db.select(status, func.count()).where(*live, *where).group_by(status)
                ).all()
            )
        )

    # Past due now, not recorded as a miss (those are in ticket_count): running clocks only.
    past_due = and_(
        Ticket.sla_running_since.is_not(None),
        Ticket.sla_due_at < now,
        or_(Ticket.sla_met.is_(None), Ticket.sla_met == true()),
    )
    if filters.team:
        other_team = func.coalesce(Ticket.sla_team_key, "") != filters.team
        with_task = Ticket.id.in_(db.select(HumanTask.ticket_id).where(HumanTask.team == filters.team))
        if breached:
            add(Ticket.sla_team_key == filters.team, past_due)
            add(with_task, other_team, sla_condition("breached", now))
        else:
            add(with_task, other_team)
    elif breached:
        add(past_due)
    return {key: int(n) for key, n in sorted(counts.items()) if n}


def _field_counts(filters: TicketFilters) -> dict[str, int] | None:
    """Counts per status of one start field's value (with a type or a status, or neither) from
    `ticket_field_count` (app/stats/list_counts.py), or None for any other combination."""
    pairs = [("order_number", filters.order_number)] if filters.order_number else []
    pairs += list(filters.fields)
    if len(pairs) != 1 or not _used(filters) <= FIELD_ANSWERED:
        return None
    name, value = pairs[0]
    where = [TicketFieldCount.name == name, TicketFieldCount.value == (field_value(value) or "")]
    where += [
        getattr(TicketFieldCount, k) == getattr(filters, k) for k in ("type", "status") if getattr(filters, k)
    ]
    rows = db.session.execute(
        db.select(TicketFieldCount.status, func.sum(TicketFieldCount.n))
        .where(*where)
        .group_by(TicketFieldCount.status)
    ).all()
    return {status: int(n) for status, n in sorted(rows) if n}


def _day_counts(filters: TicketFilters) -> dict[str, int] | None:
    """Counts per status of the tickets created from the start of `created_from`'s UTC day to the
    end of `created_to`'s (either may be open), with a type or a status or neither, from
    `ticket_day_count`; None for bounds within a day or any other filter."""
    if not _used(filters) <= DAY_ANSWERED:
        return None
    start, end = filters.created_from, filters.created_to
    if start is not None and start.astimezone(UTC).time() != START_OF_DAY:
        return None
    if end is not None and end.astimezone(UTC).time() != END_OF_DAY:
        return None
    where = [
        getattr(TicketDayCount, k) == getattr(filters, k) for k in ("type", "status") if getattr(filters, k)
    ]
    if start is not None:
        where.append(TicketDayCount.day >= start.astimezone(UTC).date())
    if end is not None:
        where.append(TicketDayCount.day <= end.astimezone(UTC).date())
    rows = db.session.execute(
        db.select(TicketDayCount.status, func.sum(TicketDayCount.n))
        .where(*where)
        .group_by(TicketDayCount.status)
    ).all()
    return {status: int(n) for status, n in sorted(rows) if n}
