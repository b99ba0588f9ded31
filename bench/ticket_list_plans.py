"""The dashboard's ticket list: the query plan and time of each filter with the default sort, on
bulk-inserted tickets: `python -m bench.ticket_list_plans [--tickets 200000] [--backends sqlite,postgresql]`.

For each filter it prints the page query's plan (EXPLAIN QUERY PLAN / EXPLAIN) in one line and the
median time of the three statements a page sends (counts per status, the page's ids, its rows).
bench/dashboard_bench.py times the same list through HTTP at 1,000,000 tickets.
"""

import argparse
import random
import statistics
import time
from datetime import timedelta

from sqlalchemy import insert, text

from app import create_app
from app.clock import utcnow
from app.extensions import db
from app.models import Customer, HumanTask, ProcessDefinition, ProcessInstance, Ticket, TicketField, User
from app.sla import at_risk_window
from app.ticket_list import list_page, parse_filters, status_counts
from app.ticket_list.conditions import filter_conditions
from app.ticket_list.listing import _base, _order
from bench.world import postgres_url, quiet_logging, sqlite_url

TYPES = ("return", "credit", "general", "complaint")
STATUSES = ("new", "in_progress", "awaiting_customer", "closed", "closed", "closed", "cancelled")
PRIORITIES = ("low", "normal", "normal", "high", "urgent")
TEAMS = ("returns", "credit", "support", "customer-success")
BATCH = 5000
FILTERS = {
    "none": {},
    "type": {"type": "complaint"},
    "type+version": {"type": "complaint", "version": "1"},
    "status": {"status": "in_progress"},
    "state=incident": {"state": "incident"},
    "state=waiting_customer": {"state": "waiting_customer"},
    "team": {"team": "credit"},
    "assignee": {"assignee_id": "2"},
    "sla=breached": {"sla": "breached"},
    "sla=at_risk": {"sla": "at_risk"},
    "priority": {"priority": "urgent"},
    "customer (prefix)": {"customer": "customer 12"},
    "customer_id": {"customer_id": "7"},
    "created range": {"created_from": "2026-01-01", "created_to": "2026-01-07"},
    "closed range": {"closed_from": "2026-01-01", "closed_to": "2026-01-07"},
    "order_number": {"order_number": "SO-4242"},
    "field": {"field": "severity:critical"},
    "type+sla+sort=-priority": {"type": "complaint", "sla": "breached", "sort": "-priority"},
}


def seed(n: int, rng: random.Random) -> None:
    """Bulk-insert `n` tickets shaped like the engine's, with start fields and open tasks."""
    now = utcnow()
    db.session.execute(insert(User.__table__), [{"username": "agent", "name": "Agent", "role": "agent"}] * 1)
    n_customers = max(1, n // 10)
    for start in range(0, n_customers, BATCH):
        db.session.execute(
            insert(Customer.__table__),
            [
                {"name": f"Customer {i}", "email": f"c{i}@example.com"}
                for i in range(start, min(start + BATCH, n_customers))
            ],
        )
    definitions = {}
    for key in TYPES:
        definitions[key] = ProcessDefinition(key=key, version=1, kind="bpmn", source=b"<x/>", checksum=key)
        db.session.add(definitions[key])
    db.session.flush()
    for start in range(0, n, BATCH):
        tickets, fields, instances, tasks = [], [], [], []
        for i in range(start + 1, min(start + BATCH, n) + 1):
            kind, status = rng.choice(TYPES), rng.choice(STATUSES)
            created = now - timedelta(minutes=rng.randint(0, 365 * 1440))
            due = created + timedelta(days=rng.randint(1, 10))
            closed = status in ("closed", "cancelled")
            tickets.append(
                {
                    "id": i,
                    "type": kind,
                    "subject": f"Ticket {i}",
                    "customer_id": rng.randint(1, n_customers),
                    "priority": rng.choice(PRIORITIES),
                    "status": status,
                    "data": {},
                    "sla_team_key": rng.choice(TEAMS),
                    "sla_target_seconds": 8 * 3600,
                    "sla_consumed_seconds": 0,
                    "sla_paused": status == "awaiting_customer",
                    "sla_running_since": None if closed else created,
                    "sla_met": (rng.random() < 0.8) if closed else None,
                    "sla_due_at": due,
                    "sla_at_risk_at": due - timedelta(seconds=at_risk_window(8 * 3600)),
                    "created_at": created,
                    "updated_at": created,
                    "closed_at": created + timedelta(days=2) if closed else None,
                }
            )
            fields.append({"ticket_id": i, "name": "order_number", "value": f"so-{i}"})
            if kind == "complaint":
                fields.append(
                    {"ticket_id": i, "name": "severity", "value": rng.choice(("low", "high", "critical"))}
                )
            instances.append(
                {
                    "id": i,
                    "definition_id": definitions[kind].id,
                    "ticket_id": i,
                    "workflow": "{}",
                    "status": "incident" if rng.random() < 0.01 else ("completed" if closed else "running"),
                    "version": 1,
                }
            )
            if not closed and rng.random() < 0.7:
                tasks.append(
                    {
                        "id": f"t{i}",
                        "instance_id": i,
                        "ticket_id": i,
                        "name": "review",
                        "title": "Review",
                        "team": rng.choice(TEAMS),
                        "assignee_id": 1 if rng.random() < 0.3 else None,
                        "priority": "normal",
                    }
                )
        db.session.execute(insert(Ticket.__table__), tickets)
        db.session.execute(insert(TicketField.__table__), fields)
        db.session.execute(insert(ProcessInstance.__table__), instances)
        if tasks:
            db.session.execute(insert(HumanTask.__table__), tasks)
        db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def plan(query) -> str:
    """The database's plan of `query`, on one line."""
    compiled = query.compile(db.engine, compile_kwargs={"render_postcompile": True})
    sql = str(compiled)
    if db.engine.dialect.name == "sqlite":
        params = tuple(compiled.params[name] for name in compiled.positiontup)
        rows = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
        return " | ".join(row[-1] for row in rows)
    rows = db.session.connection().exec_driver_sql("EXPLAIN " + sql, compiled.params).all()
    return " | ".join(
        row[0].strip() for row in rows if "Index" in row[0] or "Scan" in row[0] or "Sort" in row[0]
    )


def timed(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    return statistics.median(times)


def run(backend: str, url: str, n: int) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    quiet_logging()
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        seed(n, random.Random(7))
        print(f"\n{backend}: {n:,} tickets seeded in {time.perf_counter() - started:.0f} s")
        now = utcnow()
        for name, args in FILTERS.items():
            from werkzeug.datastructures import MultiDict

            filters = parse_filters(MultiDict(args))
            ids = _base(True, filters, now, [Ticket.id]).order_by(*_order(filters)).limit(50)
            counts_ms = timed(lambda f=filters: status_counts(True, f, now))
            page_ms = timed(lambda f=filters: list_page(True, f, now))
            status = db.func.coalesce(Ticket.status, "")
            counts = (
                db.select(status, db.func.count()).where(*filter_conditions(filters, now)).group_by(status)
            )
            print(f"{name:26} counts {counts_ms:7.1f} ms  page {page_ms:7.1f} ms")
            print(f"{'':26} page plan: {plan(ids)}")
            print(f"{'':26} counts plan: {plan(counts)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ticket_list_plans", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    for backend in args.backends.split(","):
        with sqlite_url() if backend == "sqlite" else postgres_url() as url:
            if url:
                run(backend, url, args.tickets)


if __name__ == "__main__":
    main()
