"""The counters' upserts of one command go in one statement on PostgreSQL (`app.stats.upsert`):
what they add is the same as one statement per upsert, on both databases: the same key twice is
summed, many rows still go, and a rollback forgets what was kept."""

import re
from datetime import date

import pytest
from sqlalchemy import event, select, text

from app.engine import complete_task, start_process
from app.extensions import db
from app.models import (
    DailyStat,
    HistoryEvent,
    HumanTask,
    TicketAgent,
    TicketCount,
    TicketDayCount,
    TicketField,
    TicketFieldCount,
    TicketStat,
    User,
)
from app.stats.record import DAILY_COUNTERS
from app.stats.upsert import add_counts, batched, keep_counts, keep_insert
from tests.factories import deploy_shipped, make_customer, make_user

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


NOTE = "INSERT INTO cte_order (name) SELECT * FROM unnest(%(c0)s::TEXT[])"


@pytest.fixture
def noted(app):
    """PostgreSQL: a temporary table for a kept INSERT to write, and the statements sent."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("an INSERT is kept for the counters' statement on PostgreSQL only")
    db.session.execute(text("CREATE TEMPORARY TABLE cte_order (n SERIAL, name TEXT)"))
    sent = []

    def seen(conn, cursor, statement, *args):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    yield sent
    event.remove(db.engine, "before_cursor_execute", seen)


def _noted() -> list[str]:
    return db.session.execute(text("SELECT name FROM cte_order ORDER BY n")).scalars().all()


def test_kept_inserts_go_in_the_counters_statement(noted):
    keep_counts(db.session)
    assert keep_insert(db.session, NOTE, {"c0": ["history"]})
    assert keep_insert(db.session, NOTE, {"c0": ["fields", "more"]})  # the same parameter name
    add_daily([daily(DAY, 1)])
    with batched(db.session):
        add_count([count("new", 1)])
    assert [s.split()[0] for s in noted] == ["WITH"] and noted[0].count("INSERT INTO cte_order") == 2
    assert sorted(_noted()) == ["fields", "history", "more"]
    assert figures() == ({DAY: (1, 0)}, {"new": 1})


def test_nothing_kept_before_keep_counts(noted):
    assert not keep_insert(db.session, NOTE, {"c0": ["history"]})  # the caller sends it itself
    with batched(db.session):
        add_count([count("new", 1)])
    assert _noted() == [] and figures() == ({}, {"new": 1})


def test_a_kept_insert_goes_first_and_alone_before_a_table_sent_on_its_own(noted):
    keep_counts(db.session)
    keep_insert(db.session, NOTE, {"c0": ["history"]})
    days = [date(2026, 1, 1 + i) for i in range(25)]  # daily_stat, locked first, too many for one statement
    with batched(db.session):
        add_daily([daily(d, 1) for d in days])
        add_count([count("new", 1)])
    assert noted[0] == NOTE and len(noted) == 3
    assert _noted() == ["history"]
    assert figures() == ({d: (1, 0) for d in days}, {"new": 1})


def test_a_kept_insert_alone_when_no_counter_changed(noted):
    keep_counts(db.session)
    keep_insert(db.session, NOTE, {"c0": ["history"]})
    with batched(db.session):
        pass
    assert noted == [NOTE] and _noted() == ["history"]


def test_kept_inserts_in_one_statement_when_no_counter_changed(noted):
    keep_counts(db.session)
    keep_insert(db.session, NOTE, {"c0": ["history"]})
    keep_insert(db.session, NOTE, {"c0": ["fields"]})
    with batched(db.session):
        pass
    assert len(noted) == 1 and noted[0].startswith("WITH") and sorted(_noted()) == ["fields", "history"]


def test_kept_inserts_go_first_and_together_before_a_table_sent_on_its_own(noted):
    keep_counts(db.session)
    keep_insert(db.session, NOTE, {"c0": ["history"]})
    keep_insert(db.session, NOTE, {"c0": ["fields"]})
    days = [date(2026, 1, 1 + i) for i in range(25)]
    with batched(db.session):
        add_daily([daily(d, 1) for d in days])
        add_count([count("new", 1)])
    assert noted[0].startswith("WITH") and "daily_stat" not in noted[0] and len(noted) == 3
    assert sorted(_noted()) == ["fields", "history"]
    assert figures() == ({d: (1, 0) for d in days}, {"new": 1})


def test_a_rollback_forgets_a_kept_insert(noted):
    keep_counts(db.session)
    keep_insert(db.session, NOTE, {"c0": ["lost"]})
    db.session.rollback()
    db.session.execute(text("CREATE TEMPORARY TABLE cte_order (n SERIAL, name TEXT)"))
    with batched(db.session):
        add_count([count("new", 1)])
    assert _noted() == [] and figures() == ({}, {"new": 1})


def test_a_commands_history_goes_in_its_counters_statement(noted):
    deploy_shipped("general")
    noted.clear()
    ticket, _ = start_process(
        "general", make_customer().id, "Parcel", {"question": "Where?", "category": "delivery"}
    )
    history = [s for s in noted if "INSERT INTO history_event" in s]
    assert history == [noted[-1]] and history[0].startswith(
        "WITH"
    )  # the command's last statement, with the counters
    kinds = db.session.execute(select(HistoryEvent.kind).where(HistoryEvent.ticket_id == ticket.id)).scalars()
    assert "ticket_created" in set(kinds)


def test_a_starts_new_rows_go_in_its_counters_statement(noted):
    """A new ticket's fields, stat and agent are read by nobody before the commit: they go in the
    start's last statement, with its history, and nothing reads them back."""
    deploy_shipped("general")
    make_user("dave", "agent", teams=("support",))
    noted.clear()
    ticket, _ = start_process(
        "general", make_customer().id, "Parcel", {"question": "Where?", "category": "delivery"}
    )
    last = noted[-1]
    for table in ("ticket_field", "ticket_stat", "ticket_agent", "history_event"):
        assert f"INSERT INTO {table} " in last
        assert not any(re.search(rf"\b{table}\b", statement) for statement in noted[:-1]), table
    db.session.expunge_all()
    assert db.session.get(TicketStat, ticket.id).type == "general"
    assert db.session.get(TicketAgent, (ticket.id, "support")).user_id is not None
    fields = db.session.execute(
        select(TicketField.name, TicketField.value).where(TicketField.ticket_id == ticket.id)
    )
    assert set(fields) >= {("question", "where?"), ("category", "delivery")}
    task = db.session.execute(select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    assert task.assignee_id is not None and task.first_responded_at is None


def test_a_first_answers_stat_changes_go_in_its_counters_statement(noted):
    """A completion's changes to its ticket's stat (the first response, a touch) are read by nobody
    before the commit: they go in its last statement, with the history."""
    deploy_shipped("general")
    agent = make_user("dave", "agent", teams=("support",))
    ticket, _ = start_process(
        "general", make_customer().id, "Parcel", {"question": "Where?", "category": "delivery"}
    )
    task_id = db.session.execute(select(HumanTask.id).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    db.session.commit()
    db.session.expunge_all()  # as a new request's session: the command reads the ticket
    agent = db.session.get(User, agent.id)
    noted.clear()
    complete_task(task_id, {"information_given": False}, agent)  # back to a new task, still open
    assert "UPDATE ticket_stat " in noted[-1] and "INSERT INTO history_event " in noted[-1]
    assert not any(re.search(r"\bticket_stat\b", s) and not s.startswith("SELECT") for s in noted[:-1])
    assert not any(s.startswith("SELECT ticket_stat.") for s in noted)  # read with the ticket
    assert "touches=(ticket_stat.touches + " in noted[-1]  # an increment: a comment's meanwhile is kept
    assert not any("count(human_task.id)" in s for s in noted[:-1] if not s.startswith("SELECT team.id"))
    assert sum(s.startswith("SELECT team.id") for s in noted) == 1  # the roster, with dave's open tasks
    db.session.expunge_all()
    stat = db.session.get(TicketStat, ticket.id)
    assert stat.first_response_at is not None and stat.touches == 1


def test_psycopg_caches_the_conversion_of_a_starts_commit_statement(app):
    """The start's last statement (its counters and kept rows) is within the size for which
    psycopg caches its placeholders' conversion, instead of parsing it at every command."""
    if db.engine.dialect.driver != "psycopg":
        pytest.skip("psycopg's statement cache")
    from psycopg import _queries

    deploy_shipped("general")
    make_user("dave", "agent", teams=("support",))
    sent = []

    def seen(conn, cursor, statement, parameters, *args):
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        start_process("general", make_customer().id, "Parcel", {"question": "Where?", "category": "delivery"})
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    statement, parameters = sent[-1]
    assert statement.startswith("WITH") and len(parameters) > 50  # beyond psycopg's own limits
    assert len(statement.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH
    assert len(parameters) <= _queries.MAX_CACHED_STATEMENT_PARAMS
