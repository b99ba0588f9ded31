"""The inbox at 100,000 open tasks: `python -m bench.inbox_bench [--tasks 100000] [--repeat 15]`.

Seeds teams, agents, customers, tickets and open tasks with bulk inserts on SQLite and on a
throwaway PostgreSQL, then times what an inbox page costs: the counts of every view plus one
page of rows (the SQL the page runs), and the whole page through Flask's test client, for an
agent, a team lead, an admin and the filters. Prints median and 95th percentile in ms.
"""

import argparse
import gc
import random
import statistics
import time
from datetime import timedelta
from uuid import UUID

from argon2 import PasswordHasher
from sqlalchemy import insert, text

from app import create_app
from app.access import scope_of
from app.clock import utcnow
from app.extensions import db
from app.models import (
    Customer,
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
    Team,
    TeamMember,
    Ticket,
    User,
)
from app.models.ticket import priority_rank
from app.sla import at_risk_window
from app.web.inbox.queries import Filters, counts, page_rows
from bench.world import postgres_url, quiet_logging, sqlite_url
from tests.factories import csrf_of

TEAMS = ("returns", "credit", "support", "customer-success", "billing", "logistics", "vip", "b2b")
TYPES = ("return", "credit", "general", "complaint")
STATUSES = ("new", "in_progress", "awaiting_customer", "escalated")
PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")
AGENTS_PER_TEAM = 25
BATCH = 5000
LAST_NAMES = ("Smith", "Berg", "Haddad", "Martin", "Sato", "Novak", "Rossi", "Okafor", "Silva", "Kim")


def seed(n_tasks: int, rng: random.Random, vacuum: bool = False) -> dict:
    """Bulk-insert the world; returns the user names of the personas."""
    now = utcnow()
    db.session.execute(
        insert(Team.__table__), [{"key": k, "name": k.title(), "strategy": "round_robin"} for k in TEAMS]
    )
    team_ids = dict(db.session.execute(db.select(Team.key, Team.id)).all())
    hashed = PasswordHasher(time_cost=1, memory_cost=8192).hash("pw")  # every persona signs in with "pw"
    users, members = [], []
    for key in TEAMS:
        for a in range(AGENTS_PER_TEAM):
            users.append(
                {
                    "username": f"{key}-{a}",
                    "name": f"Agent {a} of {key}",
                    "role": "agent",
                    "password_hash": hashed,
                    "email": f"{key}{a}@example.com",
                }
            )
    users.append(
        {
            "username": "admin",
            "name": "Admin",
            "role": "admin",
            "password_hash": hashed,
            "email": "admin@example.com",
        }
    )
    db.session.execute(insert(User.__table__), users)
    user_ids = dict(db.session.execute(db.select(User.username, User.id)).all())
    for key in TEAMS:
        for a in range(AGENTS_PER_TEAM):
            members.append({"team_id": team_ids[key], "user_id": user_ids[f"{key}-{a}"], "is_lead": a == 0})
    db.session.execute(insert(TeamMember.__table__), members)

    n_customers = max(1, n_tasks // 10)
    for start in range(0, n_customers, BATCH):
        db.session.execute(
            insert(Customer.__table__),
            [
                {
                    "name": f"Customer {i} {LAST_NAMES[i % len(LAST_NAMES)]}",
                    "email": f"c{i}@example.com",
                    "tier": rng.choice(("standard", "silver", "gold")),
                }
                for i in range(start, min(start + BATCH, n_customers))
            ],
        )
    definition = ProcessDefinition(
        key="return", version=1, kind="bpmn", source=b"<x/>", checksum="bench", forms={}
    )
    db.session.add(definition)
    db.session.flush()
    instance = ProcessInstance(definition_id=definition.id, workflow="{}")
    db.session.add(instance)
    db.session.flush()
    first_customer = db.session.execute(db.select(db.func.min(Customer.id))).scalar()
    first_ticket = (db.session.execute(db.select(db.func.max(Ticket.id))).scalar() or 0) + 1
    for start in range(0, n_tasks, BATCH):
        tickets, tasks = [], []
        for i in range(start, min(start + BATCH, n_tasks)):
            team = TEAMS[i % len(TEAMS)]
            priority = rng.choice(PRIORITIES)
            sla_due = now + timedelta(minutes=rng.randint(-3 * 1440, 7 * 1440))
            assigned = rng.random() < 0.7
            tickets.append(
                {
                    "id": first_ticket + i,
                    "type": rng.choice(TYPES),
                    "subject": f"Ticket {i}",
                    "customer_id": first_customer + rng.randrange(n_customers),
                    "priority": priority,
                    "status": rng.choice(STATUSES),
                    "data": {},
                    "sla_due_at": sla_due,
                    "sla_at_risk_at": sla_due - timedelta(seconds=at_risk_window(3 * 8 * 3600)),
                    "sla_target_seconds": 3 * 8 * 3600,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            tasks.append(
                {
                    "id": str(UUID(int=rng.getrandbits(128), version=4)),
                    "instance_id": instance.id,
                    "ticket_id": first_ticket + i,
                    "name": "review",
                    "title": f"Review {i}",
                    "team": team,
                    "priority": priority,
                    "priority_rank": priority_rank(priority),
                    # the ticket's (app.engine.runtime.ticket_copies)
                    "sla_due_at": sla_due,
                    "sla_at_risk_at": tickets[-1]["sla_at_risk_at"],
                    "ticket_type": tickets[-1]["type"],
                    "customer_id": tickets[-1]["customer_id"],
                    "ticket_status": tickets[-1]["status"],
                    "created_at": now,
                    "assignee_id": user_ids[f"{team}-{rng.randrange(AGENTS_PER_TEAM)}"] if assigned else None,
                    "due_at": None
                    if rng.random() < 0.1
                    else now + timedelta(minutes=rng.randint(-2 * 1440, 10 * 1440)),
                }
            )
        db.session.execute(insert(Ticket.__table__), tickets)
        db.session.execute(insert(HumanTask.__table__), tasks)
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    if vacuum and db.engine.dialect.name == "postgresql":
        # What autovacuum does to a table this size soon after: the visibility map set, so counts
        # and deep pages read the indexes alone (index-only scans) instead of the table's pages.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    return {"agent": "returns-3", "lead": "returns-0", "admin": "admin"}


CASES = [  # (label, persona, view, query-string filters)
    ("agent: my tasks", "agent", "mine", {}),
    ("agent: team queue", "agent", "team", {}),
    ("agent: queue, type=credit", "agent", "team", {"type": "credit"}),
    ("agent: queue, sla=at_risk", "agent", "team", {"sla": "at_risk"}),
    ("agent: queue, customer~berg (10%)", "agent", "team", {"customer": "berg"}),
    ("agent: my tasks, customer~4217", "agent", "mine", {"customer": "customer 4217"}),
    ("lead: whole team, by due", "lead", "all", {}),
    ("lead: whole team, by priority", "lead", "all", {"sort": "priority"}),
    ("lead: whole team, by SLA due", "lead", "all", {"sort": "sla"}),
    ("agent: my tasks, by customer", "agent", "mine", {"sort": "customer"}),
    ("lead: urgent + breached", "lead", "all", {"priority": "urgent", "sla": "breached"}),
    ("lead: status=escalated, page 100", "lead", "all", {"status": "escalated", "page": "100"}),
    ("admin: everything, by priority", "admin", "all", {"sort": "priority"}),
    ("admin: everything, page 2000", "admin", "all", {"page": "2000"}),
    ("admin: everything, by SLA due", "admin", "all", {"sort": "sla"}),
]


def timed(fn, repeat: int) -> tuple[float, float]:
    fn()  # warm caches and plans
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def run_backend(backend: str, url: str, n_tasks: int, repeat: int, vacuum: bool = False) -> list[tuple]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": True})
    quiet_logging()
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        personas = seed(n_tasks, random.Random(7), vacuum)
        print(f"{backend}: seeded {n_tasks:,} open tasks in {time.perf_counter() - started:.1f} s")
        db.session.remove()
    # Requests run outside any app context of ours: each gets its own `g` and session.
    clients = {persona: signed_in(app, username) for persona, username in personas.items()}
    # As wsgi.py does in production: what is loaded by now (the app, and here the seed's leftovers) moved
    # out of the collector's generations. Without it, a full collection walked some 170,000 objects
    # every hundred or so pages (about 85 ms each), and those pages were the p95.
    gc.collect()
    gc.freeze()
    rows = []
    for label, persona, view, args in CASES:
        with app.app_context():
            user = db.session.execute(db.select(User).where(User.username == personas[persona])).scalar_one()
            scope, filters, now = scope_of(user), Filters.from_args(args), utcnow()
            page = int(args.get("page", "1"))

            def sql(scope=scope, view=view, filters=filters, page=page, now=now):
                counts(scope, filters, now)
                page_rows(scope, view, filters, now, page)
                db.session.rollback()

            found = counts(scope, filters, now)[view]
            sql_median, sql_p95 = timed(sql, repeat)
            db.session.remove()
        client = clients[persona]
        http_median, http_p95 = timed(
            lambda client=client, view=view, args=args: check(
                client.get("/inbox/", query_string={"view": view, **args})
            ),
            repeat,
        )
        rows.append((backend, label, found, sql_median, sql_p95, http_median, http_p95))
    with app.app_context():
        db.engine.dispose()
    gc.unfreeze()  # the next backend's app starts from a collectable heap
    return rows


def signed_in(app, username: str):
    client = app.test_client()
    token = csrf_of(check(client.get("/login")).get_data(as_text=True))
    answer = client.post("/login", data={"username": username, "password": "pw", "csrf_token": token})
    assert answer.status_code == 302, f"{username} could not sign in"
    return client


def check(response):
    assert response.status_code == 200, response.status
    return response


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inbox_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="open tasks to seed (default 100000)")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per case (default 15)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--vacuum", action="store_true", help="VACUUM ANALYZE PostgreSQL after seeding (as autovacuum would)"
    )
    args = parser.parse_args(argv)
    quiet_logging()
    results = []
    for backend in args.backends.split(","):
        context = sqlite_url() if backend == "sqlite" else postgres_url()
        with context as url:
            if url is not None:
                results += run_backend(backend, url, args.tasks, args.repeat, args.vacuum)
    header = f"{'backend':<10} {'case':<36} {'tasks':>7} {'sql ms':>8} {'p95':>7} {'page ms':>8} {'p95':>7}"
    print("\n" + header + "\n" + "-" * len(header))
    for backend, label, found, sql_median, sql_p95, http_median, http_p95 in results:
        print(
            f"{backend:<10} {label:<36} {found:>7,} {sql_median:>8.1f} {sql_p95:>7.1f} "
            f"{http_median:>8.1f} {http_p95:>7.1f}"
        )
    print(
        "\nsql = the counts of every view + one page of 25 rows; page = GET /inbox/ through the test client."
    )


if __name__ == "__main__":
    main()
