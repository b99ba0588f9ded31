"""Several rows in one INSERT (app/engine/runtime/rows.py): what goes in comes back, in order."""

from datetime import timedelta

from app.clock import utcnow
from app.engine.runtime.rows import insert_rows
from app.extensions import db
from app.models import HistoryEvent


def test_rows_come_back_as_given_in_their_order(app, clock):
    now = utcnow()
    given = [
        {"kind": "note", "actor": "zoë", "data": {"a": [1, "ü"]}, "at": now, "seconds": 3},
        {"kind": "note", "actor": None, "data": None, "at": now + timedelta(seconds=1), "seconds": None},
        {"kind": "note", "actor": "bob", "data": ["x"], "at": now - timedelta(days=1), "seconds": 0},
    ]
    insert_rows(db.session.connection(), HistoryEvent.__table__, given)
    insert_rows(db.session.connection(), HistoryEvent.__table__, [])  # nothing to do
    db.session.commit()
    rows = db.session.execute(db.select(HistoryEvent).order_by(HistoryEvent.id)).scalars().all()
    assert [(r.kind, r.actor, r.data, r.at, r.seconds) for r in rows] == [
        (g["kind"], g["actor"], g["data"], g["at"], g["seconds"]) for g in given
    ]
