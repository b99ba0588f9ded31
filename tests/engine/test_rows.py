"""Several rows in one INSERT (app/engine/runtime/rows.py): what goes in comes back, in order; a
value too long for its column is refused as a single row's would be. New ORM rows kept for the
commit's statement (`keep_new`, PostgreSQL) are written by it with their defaults, and forgotten by
a rollback."""

from datetime import timedelta

import pytest
from sqlalchemy.exc import DataError

from app.clock import utcnow
from app.engine.runtime.rows import insert_rows, keep_changed, keep_new
from app.extensions import db
from app.models import HistoryEvent, Ticket, TicketAgent, TicketStat
from tests.factories import make_customer, make_user

TABLE = HistoryEvent.__table__


def _stored():
    return db.session.execute(db.select(HistoryEvent).order_by(HistoryEvent.id)).scalars().all()


def test_rows_come_back_as_given_in_their_order(app, clock):
    now = utcnow()
    given = [
        {"kind": "note", "actor": "zoë", "task_id": None, "data": {"a": [1, "ü"]}, "at": now, "seconds": 3},
        {
            "kind": "note",
            "actor": None,
            "task_id": None,
            "data": None,
            "at": now + timedelta(seconds=1),
            "seconds": None,
        },
        {
            "kind": "note",
            "actor": "bob",
            "task_id": None,
            "data": ["x"],
            "at": now - timedelta(days=1),
            "seconds": 0,
        },
    ]
    insert_rows(db.session.connection(), TABLE, given)
    insert_rows(db.session.connection(), TABLE, [])  # nothing to do
    db.session.commit()
    assert [(r.kind, r.actor, r.task_id, r.data, r.at, r.seconds) for r in _stored()] == [
        (g["kind"], g["actor"], g["task_id"], g["data"], g["at"], g["seconds"]) for g in given
    ]
    # None in a JSON column is JSON null, as SQLAlchemy's own INSERT writes it, not SQL NULL
    sql_nulls = db.session.scalar(db.select(db.func.count()).where(HistoryEvent.data.is_(None)))
    assert sql_nulls == 0


def test_rows_naming_different_columns_are_refused(app, clock):
    # A Core executemany would have dropped the values the first row does not name
    now = utcnow()
    given = [{"kind": "a", "at": now}, {"kind": "b", "at": now, "actor": "ann"}]
    with pytest.raises(ValueError, match="name different columns"):
        insert_rows(db.session.connection(), TABLE, given)
    db.session.rollback()
    assert _stored() == []


@pytest.mark.parametrize("rows", [1, 3])
def test_a_value_too_long_for_its_column_is_refused_whatever_the_number_of_rows(app, clock, rows):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite does not enforce a VARCHAR's length")
    given = [{"kind": "note", "actor": "x" * 81, "at": utcnow()}] * rows  # actor is VARCHAR(80)
    with pytest.raises(DataError):
        insert_rows(db.session.connection(), TABLE, given)
    db.session.rollback()
    assert _stored() == []


def _ticket_and_agent():
    customer = make_customer()
    agent = make_user("dave", "agent")
    ticket = Ticket(type="general", subject="Parcel", customer_id=customer.id, status="open")
    db.session.add(ticket)
    db.session.flush()
    return ticket, agent


def test_new_rows_kept_for_the_commit_are_written_by_it(app, clock):
    ticket, agent = _ticket_and_agent()
    stat = TicketStat(ticket_id=ticket.id, type="general", opened_at=utcnow())  # the rest: defaults
    who = TicketAgent(ticket_id=ticket.id, team_key="support", user_id=agent.id, updated_at=utcnow())
    db.session.add_all([stat, who])
    keep_new(db.session, [stat, who])
    postgresql = db.engine.dialect.name == "postgresql"
    assert (stat in db.session, who in db.session) == (not postgresql, not postgresql)
    db.session.flush()
    stored_now = db.session.execute(db.select(db.func.count()).select_from(TicketStat)).scalar_one()
    assert stored_now == (0 if postgresql else 1)  # PostgreSQL: at the commit
    db.session.commit()
    db.session.expunge_all()
    stored = db.session.get(TicketStat, ticket.id)
    assert (stored.team, stored.is_open, stored.touches, stored.escalated, stored.first_response_at) == (
        "",
        True,
        0,
        False,
        None,
    )
    assert db.session.get(TicketAgent, (ticket.id, "support")).user_id == agent.id


def test_a_row_with_a_value_computed_in_python_is_left_to_the_orm(app, clock):
    ticket, agent = _ticket_and_agent()
    who = TicketAgent(ticket_id=ticket.id, team_key="support", user_id=agent.id)  # updated_at: utcnow()
    db.session.add(who)
    keep_new(db.session, [who])
    assert who in db.session
    db.session.commit()
    db.session.expunge_all()
    assert db.session.get(TicketAgent, (ticket.id, "support")).updated_at == utcnow()


def test_a_rollback_forgets_the_kept_rows(app, clock):
    ticket, agent = _ticket_and_agent()
    db.session.commit()
    who = TicketAgent(ticket_id=ticket.id, team_key="support", user_id=agent.id, updated_at=utcnow())
    db.session.add(who)
    keep_new(db.session, [who])
    db.session.rollback()
    db.session.add(
        TicketAgent(ticket_id=ticket.id, team_key="support", user_id=agent.id, updated_at=utcnow())
    )
    db.session.commit()  # the same key again: nothing of the first is left
    assert db.session.scalar(db.select(db.func.count()).select_from(TicketAgent)) == 1


def test_changed_columns_kept_for_the_commit_are_written_by_it(app, clock):
    ticket, _ = _ticket_and_agent()
    stat = TicketStat(ticket_id=ticket.id, type="general", opened_at=utcnow())
    db.session.add(stat)
    db.session.commit()
    stat.touches, stat.escalated = 2, True
    keep_changed(db.session, [stat])
    db.session.flush()
    stored_now = db.session.execute(db.select(TicketStat.__table__.c.touches)).scalar_one()
    assert stored_now == (0 if db.engine.dialect.name == "postgresql" else 2)  # PostgreSQL: at the commit
    db.session.commit()
    db.session.expunge_all()
    stored = db.session.get(TicketStat, ticket.id)
    assert (stored.touches, stored.escalated, stored.type, stored.is_open) == (2, True, "general", True)


def test_a_rollback_forgets_the_kept_changes(app, clock):
    ticket, _ = _ticket_and_agent()
    ticket_id = ticket.id
    db.session.add(TicketStat(ticket_id=ticket_id, type="general", opened_at=utcnow()))
    db.session.commit()
    stat = db.session.get(TicketStat, ticket_id)
    stat.touches = 5
    keep_changed(db.session, [stat])
    db.session.rollback()
    db.session.commit()
    db.session.expunge_all()
    assert db.session.get(TicketStat, ticket_id).touches == 0


def test_a_counter_kept_for_the_commit_keeps_what_another_transaction_added(app, clock):
    """PostgreSQL: a counter is written as what this transaction added to what it read, so an
    increment committed meanwhile by another transaction (a comment's touch) is not lost."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: nothing commits between the read and the write")
    ticket, _ = _ticket_and_agent()
    ticket_id = ticket.id
    db.session.add(TicketStat(ticket_id=ticket_id, type="general", opened_at=utcnow(), touches=1))
    db.session.commit()
    stat = db.session.get(TicketStat, ticket_id)
    stat.touches += 1  # read 1, this command adds 1
    stat.escalated = True
    with db.engine.begin() as other:  # meanwhile another command adds 3
        other.execute(TicketStat.__table__.update().values(touches=TicketStat.__table__.c.touches + 3))
    keep_changed(db.session, [stat], counters=("touches",))
    db.session.commit()
    db.session.expunge_all()
    stored = db.session.get(TicketStat, ticket_id)
    assert (stored.touches, stored.escalated) == (5, True)
