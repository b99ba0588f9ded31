"""Several rows in one INSERT (app/engine/runtime/rows.py): what goes in comes back, in order; a
value too long for its column is refused as a single row's would be."""

from datetime import timedelta

import pytest
from sqlalchemy.exc import DataError

from app.clock import utcnow
from app.engine.runtime.rows import insert_rows
from app.extensions import db
from app.models import HistoryEvent

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
