"""What the dashboard's indexes rely on: the statuses of the partial index of unfinished tickets are
the SLA clock's stopping statuses, and the planners read the list's derived states and priority
sort from their indexes (the expressions of the query and of the index are the same)."""

import pytest
from werkzeug.datastructures import MultiDict

from app import sla
from app.clock import utcnow
from app.extensions import db
from app.models import FINISHED_STATUSES, Ticket, TicketCount
from app.ticket_list import list_page, parse_filters
from app.ticket_list.listing import _base, _order
from tests.dashboard.ticket_rows import people_fixture, tickets_fixture  # noqa: F401


def test_the_unfinished_index_names_the_stopping_statuses():
    assert set(FINISHED_STATUSES) == set(sla.STOPPING)


def _plan(query) -> str:
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    rows = db.session.execute(db.text("EXPLAIN QUERY PLAN " + str(compiled))).all()
    return " | ".join(str(r[-1]) for r in rows)


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ({"state": "waiting_customer"}, "ix_ticket_unfinished"),
        ({"state": "incident"}, "ix_ticket_unfinished"),
        ({"sort": "-priority"}, "ix_ticket_priority_rank"),
    ],
)
def test_the_list_reads_its_index(app, query, index):
    """SQLite's plan (its choice does not depend on statistics); PostgreSQL's, which does, on a
    loaded database: `python -m bench.dashboard_plans`."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans by the table's statistics: see bench.dashboard_plans")
    filters = parse_filters(MultiDict(query))
    ids = _base(db.true(), filters, utcnow(), [db.literal_column("ticket.id")])
    assert index in _plan(ids.order_by(*_order(filters)).limit(50))


def test_the_migration_backfills_the_definition_and_the_counts(app, tickets):
    """Down to 0021 (ticket.definition_id, priority_rank and the counts' definition go) and up
    again: 0022 fills each ticket's definition from its instance, its priority's rank, and counts
    the tickets again."""
    from flask_migrate import downgrade, stamp, upgrade

    for i in range(6):
        tickets(
            ticket_type=("complaint", "return")[i % 2],
            version=1 + i % 3,
            status=("new", "closed")[i % 2],
            priority=("low", "urgent", "high")[i % 3],
        )
    db.session.commit()
    kept_definitions = _definitions()
    kept_counts = _counts()
    assert {r for _, r in kept_definitions.values()} == {0, 2, 3}
    assert None not in {d for d, _ in kept_definitions.values()}
    db.session.remove()
    stamp(revision="0022_dashboard_speed")
    downgrade(revision="0021_process_tests")
    upgrade(revision="0022_dashboard_speed")
    db.session.remove()
    assert _definitions() == kept_definitions
    assert _counts() == kept_counts


def _definitions() -> dict:
    return {
        i: (d, r)
        for i, d, r in db.session.execute(db.select(Ticket.id, Ticket.definition_id, Ticket.priority_rank))
    }


def _counts() -> set:
    return {tuple(r) for r in db.session.execute(db.select(TicketCount.__table__)).all()}


def test_a_common_field_value_gives_the_same_page(app, tickets):
    """A start-field value shared by many tickets is tested row by row in the list's order; the
    page is the same as when every match is looked up and sorted."""
    for i in range(8):
        tickets(fields={"colour": "red" if i % 3 else "blue", "order_number": f"SO-{i}"}, status="new")
    db.session.commit()
    now = utcnow()
    for query in ({"field": "colour:red"}, {"field": "colour:Blue", "sort": "id"}, {"order_number": "so-4"}):
        filters = parse_filters(MultiDict(query))
        rare = [r.ticket.id for r in list_page(db.true(), filters, now)]
        common = [r.ticket.id for r in list_page(db.true(), filters, now, matches=10**6)]
        assert common == rare and rare, query


def test_a_common_customer_prefix_gives_the_same_page(app, tickets):
    """A customer prefix matching many tickets is tested row by row in the list's order (the
    ticket's customer in the matching customers); the page is the same as when every match is
    read from the customer index and sorted."""
    for i in range(9):
        tickets(customer=("Ada Byron", "Adam Smith", "Bob Ross")[i % 3], status=("new", "closed")[i % 2])
    db.session.commit()
    now = utcnow()
    for query in (
        {"customer": "ada"},
        {"customer": "ADAM", "sort": "customer"},
        {"customer": "bob", "sort": "id"},
    ):
        filters = parse_filters(MultiDict(query))
        rare = [r.ticket.id for r in list_page(db.true(), filters, now)]
        common = [r.ticket.id for r in list_page(db.true(), filters, now, matches=10**6)]
        assert common == rare and rare, query
