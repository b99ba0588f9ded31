"""What the dashboard's indexes rely on: the statuses of the partial index of unfinished tickets are
the SLA clock's stopping statuses, and the planners read the list's derived states and priority
sort from their indexes (the expressions of the query and of the index are the same)."""

import pytest
from werkzeug.datastructures import MultiDict

from app import sla
from app.clock import utcnow
from app.extensions import db
from app.models import FINISHED_STATUSES
from app.ticket_list import parse_filters
from app.ticket_list.listing import _base, _order


def test_the_unfinished_index_names_the_stopping_statuses():
    assert set(FINISHED_STATUSES) == set(sla.STOPPING)


def _plan(query) -> str:
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
    rows = db.session.execute(db.text(prefix + str(compiled))).all()
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
    filters = parse_filters(MultiDict(query))
    ids = _base(db.true(), filters, utcnow(), [db.literal_column("ticket.id")])
    if db.engine.dialect.name == "postgresql":
        db.session.execute(db.text("SET LOCAL enable_seqscan = off"))  # an empty table: no seq scan
    assert index in _plan(ids.order_by(*_order(filters)).limit(50))
