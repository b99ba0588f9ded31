"""The counters' upserts of one command go in one statement on PostgreSQL (`app.stats.upsert`):
what they add is the same as one statement per upsert, on both databases: the same key twice is
summed, many rows still go, and a rollback forgets what was kept."""

from datetime import date

import pytest
from sqlalchemy import event, select, text

from app.extensions import db
from app.models import DailyStat, TicketCount, TicketDayCount, TicketFieldCount
from app.stats.record import DAILY_COUNTERS
from app.stats.upsert import add_counts, batched, keep_counts

DAY = date(2026, 12, 4)
DAILY_KEY = ("day", "type", "team")
COUNT_KEY = ("type", "team", "priority", "status", "missed", "definition_id")


def daily(day: date, opened: int, resolved: int = 0) -> dict:
    return {"day": day, "type": "general", "team": "support", **dict.fromkeys(DAILY_COUNTERS, 0)} | {
        "opened": opened,
        "resolved": resolved,
    }


def count(status: str, n: int) -> dict:
    return {
        "type": "general",
        "team": "support",
        "priority": "normal",
        "status": status,
        "missed": False,
        "definition_id": 1,
        "n": n,
    }


def add_daily(rows: list[dict]) -> None:
    add_counts(db.session, DailyStat.__table__, DAILY_KEY, DAILY_COUNTERS, rows)


def add_count(rows: list[dict]) -> None:
    add_counts(db.session, TicketCount.__table__, COUNT_KEY, ("n",), rows)


def figures() -> tuple[dict, dict]:
    days = {r.day: (r.opened, r.resolved) for r in db.session.execute(select(DailyStat)).scalars()}
    counts = {r.status: r.n for r in db.session.execute(select(TicketCount)).scalars()}
    return days, counts


def test_kept_upserts_add_up_as_separate_ones_would(app):
    add_daily([daily(DAY, 1)])  # an existing row to add to
    db.session.commit()
    keep_counts(db.session)
    add_daily([daily(DAY, 2, 1)])
    add_daily([daily(DAY, 3)])  # the same key again in the same command
    with batched(db.session):
        add_count([count("new", 1), count("open", 2)])
        add_count([count("new", 4)])
    db.session.commit()
    assert figures() == ({DAY: (6, 1)}, {"new": 5, "open": 2})


def test_many_rows_of_a_table_still_go(app):
    days = [date(2026, 1, 1 + i) for i in range(25)]
    with batched(db.session):
        add_daily([daily(d, i + 1) for i, d in enumerate(days)])
        add_count([count("new", 7)])
    db.session.commit()
    assert figures() == ({d: (i + 1, 0) for i, d in enumerate(days)}, {"new": 7})


def test_a_rollback_forgets_what_was_kept(app):
    keep_counts(db.session)
    add_daily([daily(DAY, 9)])
    db.session.rollback()
    with batched(db.session):
        add_count([count("new", 1)])
    db.session.commit()
    assert figures() == ({}, {"new": 1})


def test_one_statement_for_every_table_on_postgresql(app):
    """SQLite has no data-modifying CTEs: there each table's upsert is its own statement."""
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement.split()[0])

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        keep_counts(db.session)
        add_daily([daily(DAY, 1), daily(date(2026, 12, 5), 1)])
        with batched(db.session):
            add_count([count("new", 1)])
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    db.session.commit()
    expected = ["WITH"] if db.engine.dialect.name == "postgresql" else ["INSERT", "INSERT"]
    assert [s for s in statements if s != "BEGIN"] == expected
    assert figures() == ({DAY: (1, 0), date(2026, 12, 5): (1, 0)}, {"new": 1})


def test_a_table_of_many_rows_goes_on_its_own_in_the_tables_order(app):
    """The tables keep their lock order (the shared dashboard counters, then the list counts) when
    one of them has too many rows for the combined statement."""
    sent = []

    def seen(conn, cursor, statement, *args):
        if statement.split()[0] in ("WITH", "INSERT"):
            sent.append(" ".join(t for t in TABLES if f"INSERT INTO {t} " in statement))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        keep_counts(db.session)
        add_daily([daily(DAY, 1)])
        with batched(db.session):
            add_count([count("new", 1)])
            add_counts(
                db.session,
                TicketFieldCount.__table__,
                ("name", "value", "type", "status"),
                ("n",),
                [
                    {"name": "order", "value": f"SO-{i}", "type": "general", "status": "new", "n": 1}
                    for i in range(20)
                ],
            )
            add_counts(
                db.session,
                TicketDayCount.__table__,
                ("day", "type", "status"),
                ("n",),
                [{"day": DAY, "type": "general", "status": "new", "n": 1}],
            )
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        assert sent == ["daily_stat ticket_count", "ticket_field_count", "ticket_day_count"]
    else:
        assert sent == ["daily_stat", "ticket_count", "ticket_field_count", "ticket_day_count"]
    assert db.session.execute(select(db.func.sum(TicketFieldCount.n))).scalar() == 20


TABLES = ("daily_stat", "ticket_count", "ticket_field_count", "ticket_day_count")


def test_postgresql_runs_unread_ctes_last_to_first(app):
    """What the combined statement's lock order rests on (`upsert._combined` lists the tables in
    reverse): checked here so that a PostgreSQL that runs them otherwise fails the suite."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("data-modifying CTEs are PostgreSQL's")
    db.session.execute(text("CREATE TEMPORARY TABLE cte_order (n SERIAL, name TEXT)"))
    db.session.execute(
        text(
            "WITH a AS (INSERT INTO cte_order (name) VALUES ('a')), "
            "b AS (INSERT INTO cte_order (name) VALUES ('b')), "
            "c AS (INSERT INTO cte_order (name) VALUES ('c')) SELECT 1"
        )
    )
    assert db.session.execute(text("SELECT name FROM cte_order ORDER BY n")).scalars().all() == [
        "c",
        "b",
        "a",
    ]
    db.session.rollback()
