"""The dashboard bench's database: a few dozen real tickets, then clones of them by the million.

The templates come from the engine itself (`app.demo.seed_history` over a few days: every type,
open, waiting, closed, breached, rated), so every cloned row has the shape the engine writes:
the ticket (its data and SLA columns, and whatever projection columns the branch has), its
process instance, open tasks, timers, message subscriptions, history, survey requests and
answers, incidents, and any other per-ticket table without unique keys (ticket_field, comment,
ticket_agent ...). A clone gets new ids, a new customer and order number, and every timestamp
moved so it opens at a random moment of the past year, at a steady rate (open ones: of the last two
weeks, where 70 % of the tickets are still open).
Rows go in by COPY on PostgreSQL, executemany in batches on SQLite (without fsync while loading).
"""

import random
import time
import uuid
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import Integer, String, event, insert, text

from app.clock import utcnow
from app.demo import seed_history
from app.extensions import db
from app.models import (
    Customer,
    DailyStat,
    DurationStat,
    ElementStat,
    Feedback,
    FeedbackRequest,
    HistoryEvent,
    Incident,
    MessageSubscription,
    ProcessInstance,
    Ticket,
    Timer,
)
from app.models.types import UTCDateTime
from app.sla import STOPPING
from app.stats.counts import rebuild_counts
from bench.bulk_rows import Sink

BATCH = 5000
# Every clone opens at a random moment of the past year, at a steady rate; of those opened in the
# last OPEN_DAYS days, OPEN_CHANCE are still open (a clone of an unfinished template), the rest and
# every older one finished: about 2.7 % of the tickets open, a backlog of ten days' inflow.
OPEN_DAYS = 14
OPEN_CHANCE = 0.7
EXPLICIT = {"ticket", "process_instance", "feedback_request", "feedback", "incident", "history_event"}
SKIPPED = {"attachment", "job", "outbox", "ledger", "stock_movement", "priority_change"}
ALLOWED_TARGETS = {"ticket", "process_instance", "user", "customer", "team"}
LAST_NAMES = ("Smith", "Berg", "Haddad", "Martin", "Sato", "Novak", "Rossi", "Okafor", "Silva", "Kim")
FIRST_NAMES = ("Ada", "Ben", "Chloe", "Dev", "Eva", "Finn", "Gia", "Hugo", "Ines", "Jon", "Kai", "Lea")


def _generic_tables() -> list:
    """Per-ticket tables cloned column for column: keyed by ticket or instance, no unique key but the PK."""
    tables = []
    for table in db.metadata.sorted_tables:
        if table.name in EXPLICIT | SKIPPED:
            continue
        if "ticket_id" not in table.c and "instance_id" not in table.c:
            continue
        targets = {fk.column.table.name for fk in table.foreign_keys}
        uniques = [c for c in table.c if c.unique] + [
            x
            for x in table.constraints
            if getattr(x, "columns", None) and x.__class__.__name__ == "UniqueConstraint"
        ]
        if targets <= ALLOWED_TARGETS and not uniques:
            tables.append(table)
    return tables


def make_templates(days: int = 6, per_day: float = 12.0) -> None:
    """Real tickets through the engine (demo seed and shipped processes must be in place)."""
    seed_history(days, seed=11, per_day=per_day)


def _rows(table, where) -> list[dict]:
    return [dict(r._mapping) for r in db.session.execute(table.select().where(where)).all()]


def _templates() -> list[dict]:
    """Every template ticket with its rows by table."""
    generic = _generic_tables()
    templates = []
    for ticket in db.session.execute(Ticket.__table__.select().order_by(Ticket.id)).all():
        t = dict(ticket._mapping)
        instances = _rows(ProcessInstance.__table__, ProcessInstance.ticket_id == t["id"])
        instance_ids = [i["id"] for i in instances]
        rows = {
            "instances": instances,
            "history": _rows(HistoryEvent.__table__, HistoryEvent.ticket_id == t["id"]),
            "requests": _rows(FeedbackRequest.__table__, FeedbackRequest.ticket_id == t["id"]),
            "feedback": _rows(Feedback.__table__, Feedback.ticket_id == t["id"]),
            "incidents": _rows(Incident.__table__, Incident.ticket_id == t["id"]),
            "generic": {},
        }
        for table in generic:
            key = (
                table.c.ticket_id == t["id"]
                if "ticket_id" in table.c
                else table.c.instance_id.in_(instance_ids)
            )
            found = _rows(table, key)
            if found:
                rows["generic"][table] = found
        templates.append({"ticket": t, **rows})
    return templates


def _shift(table, row: dict, delta: timedelta) -> dict:
    for column in table.c:
        if isinstance(column.type, UTCDateTime) and row.get(column.key) is not None:
            row[column.key] = row[column.key] + delta
    return row


def clone(n_tickets: int, n_history: int, rng: random.Random, progress=print) -> dict:
    """Add `n_tickets` clones of the template tickets with about `n_history` history rows in all."""
    started = time.perf_counter()
    templates = _templates()
    if not templates:
        raise RuntimeError("no template ticket: run make_templates() first")
    now = utcnow()
    dialect = db.engine.dialect.name
    if dialect == "sqlite":  # no fsync while loading: new connections from here on
        event.listen(db.engine, "connect", _no_sync)
        db.session.remove()
        db.engine.dispose()
    customers = max(100, n_tickets // 10)
    first_customer = _customers(customers, rng)
    next_ticket = (db.session.execute(db.select(db.func.max(Ticket.id))).scalar() or 0) + 1
    next_instance = (db.session.execute(db.select(db.func.max(ProcessInstance.id))).scalar() or 0) + 1
    next_request = (db.session.execute(db.select(db.func.max(FeedbackRequest.id))).scalar() or 0) + 1
    history_share = n_history / n_tickets if n_tickets else 0
    generic = _generic_tables()
    order = [Ticket.__table__, ProcessInstance.__table__, FeedbackRequest.__table__, Feedback.__table__]
    order += [Incident.__table__, HistoryEvent.__table__, *generic]
    sink = Sink(db.session, order)
    history_budget = 0.0
    unfinished = [t for t in templates if t["ticket"]["status"] not in STOPPING] or templates
    finished = [t for t in templates if t["ticket"]["status"] in STOPPING] or templates
    for i in range(n_tickets):
        age = rng.uniform(0, 365)
        pool = unfinished if age < OPEN_DAYS and rng.random() < OPEN_CHANCE else finished
        template = pool[rng.randrange(len(pool))]
        source = template["ticket"]
        opened = now - timedelta(days=age)
        delta = opened - source["created_at"]
        ticket = _shift(Ticket.__table__, dict(source), delta)
        ticket_id, order_number = next_ticket + i, f"SO-{i:07d}"
        old_number = (source.get("data") or {}).get("order_number")
        ticket.update(id=ticket_id, customer_id=first_customer + rng.randrange(customers))
        if old_number:
            ticket["data"] = {**ticket["data"], "order_number": order_number}
        sink.add(Ticket.__table__, ticket)
        instance_ids = {}
        for row in template["instances"]:
            instance_ids[row["id"]] = next_instance
            moved = _shift(
                ProcessInstance.__table__,
                {**row, "id": next_instance, "ticket_id": ticket_id, "workflow": "{}"},
                delta,
            )
            if moved["status"] == "running" and _fired(template, delta, now):
                moved.update(status="completed", ended_at=_last_due(template) + delta)
            sink.add(ProcessInstance.__table__, moved)
            next_instance += 1
        request_ids = {}
        for row in template["requests"]:
            request_ids[row["id"]] = next_request
            sink.add(
                FeedbackRequest.__table__,
                _shift(FeedbackRequest.__table__, {**row, "id": next_request, "ticket_id": ticket_id}, delta),
            )
            next_request += 1
        for row in template["feedback"]:
            moved = {
                **row,
                "ticket_id": ticket_id,
                "feedback_request_id": request_ids[row["feedback_request_id"]],
            }
            moved.pop("id")
            sink.add(Feedback.__table__, _shift(Feedback.__table__, moved, delta))
        for row in template["incidents"]:
            moved = {
                **row,
                "ticket_id": ticket_id,
                "instance_id": instance_ids.get(row["instance_id"]),
                "job_id": None,
            }
            moved.pop("id")
            sink.add(Incident.__table__, _shift(Incident.__table__, moved, delta))
        history_budget += history_share
        keep = min(len(template["history"]), int(history_budget))
        history_budget -= keep
        for row in template["history"][:keep]:
            moved = {**row, "ticket_id": ticket_id, "instance_id": instance_ids.get(row["instance_id"])}
            moved.pop("id")
            sink.add(HistoryEvent.__table__, _shift(HistoryEvent.__table__, moved, delta))
        fired = _fired(template, delta, now)
        for table, rows in template["generic"].items():
            if fired and table.name in SETTLED:
                continue  # the worker fired its timers long ago: the instance ended (see settle_waits)
            for row in rows:
                sink.add(
                    table, _generic_row(table, row, ticket_id, instance_ids, delta, old_number, order_number)
                )
        sink.flush()
        if progress and (i + 1) % max(1, n_tickets // 10) == 0:
            progress(f"  {i + 1:,} tickets cloned ({time.perf_counter() - started:.0f} s)")
    sink.flush(force=True)
    if dialect == "postgresql":
        for table in ("ticket", "process_instance", "feedback_request"):
            db.session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
    sink.count["ticket_count"] = rebuild_counts(db.session)  # the clones bypassed the ORM's counting
    for name, count in _year_of_aggregates(now.date()).items():
        sink.count[name] = count
    analyze()
    return {"rows": dict(sink.count), "seconds": time.perf_counter() - started, "templates": len(templates)}


# A finished ticket's instance may still wait for its survey (a message catch, timers) until a
# worker fires the timers. A clone whose timers all fell due over SETTLE_AFTER ago is loaded as the
# worker would have left it: instance completed, no timers or message subscriptions (else a year
# of clones keeps 760,000 unfired timers at a million tickets, which no running system holds).
SETTLE_AFTER = timedelta(days=1)
SETTLED = {"timer", "message_subscription"}


def _last_due(template: dict):
    timers = [rows for table, rows in template["generic"].items() if table.name == "timer"]
    return max((row["due_at"] for rows in timers for row in rows), default=None)


def _fired(template: dict, delta: timedelta, now) -> bool:
    last = _last_due(template)
    return template["ticket"]["status"] in STOPPING and last is not None and last + delta < now - SETTLE_AFTER


def settle_waits() -> int:
    """On a database loaded before clones were settled (`_fired`): end the cloned instances (their
    workflow is '{}') of finished tickets whose timers all fell due more than SETTLE_AFTER ago, and
    delete their timers and message subscriptions. Returns the instances ended."""
    cutoff = utcnow() - SETTLE_AFTER
    late = (
        db.select(Timer.instance_id)
        .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .join(Ticket, Ticket.id == ProcessInstance.ticket_id)
        .where(ProcessInstance.workflow == "{}", Ticket.status.in_(STOPPING))
        .group_by(Timer.instance_id)
        .having(db.func.max(Timer.due_at) < cutoff)
    )
    ids = list(db.session.execute(late).scalars())
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        db.session.execute(db.delete(Timer).where(Timer.instance_id.in_(chunk)))
        db.session.execute(db.delete(MessageSubscription).where(MessageSubscription.instance_id.in_(chunk)))
        ended = db.update(ProcessInstance).where(ProcessInstance.id.in_(chunk))
        db.session.execute(ended.values(status="completed", ended_at=cutoff))
        db.session.commit()
    if ids:
        analyze(compact=("timer", "message_subscription"))  # as a fresh load of settled clones
    return len(ids)


def analyze(compact: tuple = ()) -> None:
    """ANALYZE; on PostgreSQL VACUUM too, as autovacuum would after a bulk load (index-only scans)."""
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in compact:
                conn.execute(text(f"VACUUM FULL {table}"))
            conn.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def finish_interrupted() -> bool:
    """Finish a load that was stopped before its end (its tickets are committed in batches): the
    year of aggregate rows and ANALYZE, unless they are there. Returns whether it did anything."""
    days = db.session.execute(db.select(db.func.count(db.distinct(DailyStat.day)))).scalar() or 0
    if days >= 300:
        return False
    _year_of_aggregates(utcnow().date())
    analyze()
    return True


def _year_of_aggregates(today) -> dict[str, int]:
    """Fill the day-keyed aggregate tables for the past year: every day gets a copy of the rows of
    one of the templates' days. The figures are not the clones' (those come only from a replay of
    the history, `flask stats rebuild`), but the tables hold a year's rows, which is what a query
    over them costs."""
    counts = {}
    for table in (DailyStat.__table__, DurationStat.__table__, ElementStat.__table__):
        rows = [dict(r._mapping) for r in db.session.execute(table.select()).all()]
        by_day = defaultdict(list)
        for row in rows:
            by_day[row["day"]].append(row)
        if not by_day:
            continue
        days = sorted(by_day)
        taken = set(days)
        batch = []
        for back in range(366):
            day = today - timedelta(days=back)
            if day in taken:
                continue
            batch += [{**row, "day": day} for row in by_day[days[back % len(days)]]]
            if len(batch) >= BATCH:
                db.session.execute(insert(table), batch)
                batch = []
        if batch:
            db.session.execute(insert(table), batch)
        db.session.commit()
        counts[table.name] = db.session.execute(db.select(db.func.count()).select_from(table)).scalar()
    return counts


def _no_sync(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=OFF")


def _generic_row(table, row, ticket_id, instance_ids, delta, old_number, order_number) -> dict:
    moved = dict(row)
    if "ticket_id" in moved and moved["ticket_id"] is not None:
        moved["ticket_id"] = ticket_id
    if "instance_id" in moved and moved["instance_id"] is not None:
        moved["instance_id"] = instance_ids.get(moved["instance_id"])
    for column in table.primary_key.columns:
        if column.key == "id":
            if isinstance(column.type, Integer):
                moved.pop("id")
            elif isinstance(column.type, String):
                moved["id"] = str(uuid.uuid4())
    if old_number:
        for key, value in moved.items():
            if isinstance(value, str) and value.lower() == old_number.lower():
                moved[key] = order_number.lower() if value == value.lower() else order_number
    return _shift(table, moved, delta)


def _customers(count: int, rng: random.Random) -> int:
    """Insert `count` customers; returns the first one's id (ids are consecutive)."""
    first = (db.session.execute(db.select(db.func.max(Customer.id))).scalar() or 0) + 1
    for start in range(0, count, BATCH):
        db.session.execute(
            insert(Customer.__table__),
            [
                {
                    "id": first + i,
                    "name": f"{rng.choice(FIRST_NAMES)} {LAST_NAMES[i % len(LAST_NAMES)]} {i}",
                    "email": f"c{i}@example.com",
                    "tier": rng.choice(("standard", "silver", "gold")),
                    "tenure_months": 0,
                    "order_count": 0,
                    "on_time_payment_ratio": 1.0,
                    "open_balance": 0.0,
                    "created_at": utcnow(),
                }
                for i in range(start, min(start + BATCH, count))
            ],
        )
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            text("SELECT setval(pg_get_serial_sequence('customer', 'id'), (SELECT max(id) FROM customer))")
        )
    db.session.commit()
    return first
