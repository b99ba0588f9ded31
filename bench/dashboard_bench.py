"""Every dashboard query at scale: `python -m bench.dashboard_bench [--tickets N] [--history-rows M]`.

On SQLite and a throwaway PostgreSQL: the schema by the migrations, the demo teams and agents,
the shipped processes, template tickets through the engine and their clones by bulk insert
(bench/dashboard_world.py), then each query through Flask's test client as the demo manager:
`GET /api/v1/tickets` with every filter, the ticket list page, the KPI page, the alerts page,
a diagram's statistics, the inbox and `/metrics`. A route or filter the branch does not have
yet is listed with its answer code and not timed again. Prints p50 and p95 per query.
`python -m bench.run --dashboard` runs it too. The issue's target: p95 under 200 ms at
1,000,000 tickets and 10,000,000 history rows.
"""

import argparse
import gc
import logging
import os
import random
import statistics
import time
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.accounts import new_token
from app.clock import utcnow
from app.engine import deploy_bundle
from app.extensions import db
from app.models import AlertRule, Customer, Ticket, TicketField, User
from app.seed import DEMO_PASSWORD, seed_demo
from bench.dashboard_world import clone, finish_interrupted, make_templates, settle_waits
from bench.report import table
from bench.world import postgres_url, quiet_logging, sqlite_url
from tests.factories import csrf_of

DEFAULT_TICKETS = 20_000
DEFAULT_HISTORY = 200_000
BUNDLE_SUFFIXES = (".bpmn", ".dmn", ".json")
CSV_ROWS = 1000  # a CSV download is timed to its first rows: it streams, the rest is the client's pace


def prepare(url: str, n_tickets: int, n_history: int, progress=print):
    """The app on a fresh database at `url`, loaded; returns (app, what was loaded).

    A database that already holds tickets (`--database`, loaded by an earlier run) is only
    upgraded to the latest migration and kept as it is."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": True})
    quiet_logging()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with app.app_context():
        upgrade()  # the migrations' schema: their hand-written indexes included
        if db.session.execute(db.select(Ticket.id).limit(1)).first() is not None:
            if finish_interrupted():
                progress("  an interrupted load: aggregate rows for the year and ANALYZE added")
            settled = settle_waits()
            if settled:
                progress(f"  {settled:,} cloned instances ended whose timers fell due long ago")
            rows = {
                name: db.session.execute(text(f"SELECT count(*) FROM {name}")).scalar()
                for name in ("ticket", "history_event")
            }
            db.session.remove()
            return app, {"rows": rows, "seconds": 0.0, "templates": "(already loaded)"}
        seed_demo()
        files = [
            (p.name, p.read_bytes())
            for folder in (app.config["PROCESSES_DIR"], app.config["FORMS_DIR"])
            for p in sorted(Path(folder).iterdir())
            if p.suffix in BUNDLE_SUFFIXES
        ]
        deploy_bundle(files, actor="bench")
        started = time.perf_counter()
        make_templates()
        progress(f"  template tickets through the engine: {time.perf_counter() - started:.0f} s")
        loaded = clone(n_tickets, n_history, random.Random(5), progress=progress)
        for metric, threshold in (("sla_attainment", 90), ("backlog", 500), ("csat", 4)):
            db.session.add(AlertRule(metric=metric, threshold=threshold, window_days=7))
        db.session.commit()
        db.session.remove()
    return app, loaded


def cases(app) -> list[tuple[str, str, dict]]:
    """(label, path, query) of every timed request, with values that exist in the data."""
    with app.app_context():
        alice = db.session.execute(db.select(User.id).where(User.username == "alice")).scalar()
        customer = db.session.execute(db.select(Customer).order_by(Customer.id.desc())).scalars().first()
        numbers = db.session.execute(
            db.select(Ticket.data).where(Ticket.type == "return").order_by(Ticket.id.desc()).limit(1)
        ).scalar()
        order_number = (numbers or {}).get("order_number", "SO-0000001")
        business = db.session.execute(
            db.select(Ticket.type, TicketField.name, TicketField.value)
            .join(TicketField, TicketField.ticket_id == Ticket.id)
            .where(TicketField.name != "order_number", Ticket.type == "complaint")
            .order_by(Ticket.id.desc())
            .limit(1)
        ).first() or ("complaint", "order_number", order_number)
        latest = db.session.execute(db.select(db.func.max(Ticket.id))).scalar()
        db.session.remove()
    today = utcnow().date()
    month_ago = (utcnow() - timedelta(days=30)).date()
    api = "/api/v1/tickets"
    return [
        ("api: no filter", api, {}),
        ("api: type=complaint", api, {"type": "complaint"}),
        ("api: status=closed", api, {"status": "closed"}),
        ("api: state=waiting_customer", api, {"state": "waiting_customer"}),
        ("api: team=support", api, {"team": "support"}),
        ("api: assignee_id=alice", api, {"assignee_id": alice}),
        ("api: sla=breached", api, {"sla": "breached"}),
        ("api: sla=at_risk", api, {"sla": "at_risk"}),
        ("api: sla=on_track", api, {"sla": "on_track"}),
        ("api: priority=urgent", api, {"priority": "urgent"}),
        ("api: type=complaint&sla=breached", api, {"type": "complaint", "sla": "breached"}),
        ("api: customer=<name prefix>", api, {"customer": customer.name.split()[0].lower()}),
        ("api: customer_id", api, {"customer_id": customer.id}),
        (
            "api: created in the last 30 days",
            api,
            {"created_from": month_ago.isoformat(), "created_to": today.isoformat()},
        ),
        (
            "api: closed in the last 30 days",
            api,
            {"closed_from": month_ago.isoformat(), "closed_to": today.isoformat()},
        ),
        ("api: order_number", api, {"order_number": order_number}),
        (f"api: field={business[1]}:<value>", api, {"field": f"{business[1]}:{business[2]}"}),
        ("api: type=return&version=1", api, {"type": "return", "version": 1}),
        ("api: sort=priority", api, {"sort": "priority"}),
        ("api: offset=5000", api, {"offset": 5000}),
        ("page: /dashboard/tickets", "/dashboard/tickets", {}),
        ("page: tickets, team=support", "/dashboard/tickets", {"team": "support"}),
        ("page: tickets, state=incident", "/dashboard/tickets", {"state": "incident"}),
        (
            f"page: tickets, complaint + {business[1]}",
            "/dashboard/tickets",
            {"type": "complaint", "field": f"{business[1]}:{business[2]}"},
        ),
        (
            "page: tickets, breached complaints",
            "/dashboard/tickets",
            {"type": "complaint", "sla": "breached"},
        ),
        ("page: tickets, order number", "/dashboard/tickets", {"order_number": order_number}),
        ("page: /dashboard (KPIs, 30 days)", "/dashboard/", {"period": "30d"}),
        (
            "page: /dashboard (KPIs, return, team returns)",
            "/dashboard/",
            {"type": "return", "team": "returns"},
        ),
        ("fragment: /dashboard/kpis (7 days)", "/dashboard/kpis", {}),
        ("page: /dashboard/alerts", "/dashboard/alerts", {}),
        ("api: statistics complaint", "/api/v1/process-definitions/complaint/statistics", {}),
        ("page: /dashboard/heatmap (return, 30 days)", "/dashboard/heatmap", {"type": "return"}),
        ("page: heatmap, duration", "/dashboard/heatmap", {"type": "complaint", "view": "duration"}),
        ("page: /dashboard/incidents", "/dashboard/incidents", {}),
        ("search: ticket number", "/search", {"q": f"#{latest}"}),
        ("search: customer name prefix", "/search", {"q": customer.name.split()[0].lower()}),
        ("search: e-mail prefix", "/search", {"q": customer.email[:6]}),
        ("search: order number", "/search", {"q": order_number.lower()}),
        ("csv: first 1,000 rows, no filter", "/dashboard/tickets.csv", {}),
        (
            "csv: breached complaints (first 1,000)",
            "/dashboard/tickets.csv",
            {"type": "complaint", "sla": "breached"},
        ),
        ("page: /inbox (everything)", "/inbox/", {"view": "all"}),
        ("/metrics", "/metrics", {}),
    ]


def run_backend(
    backend: str, url: str, n_tickets: int, n_history: int, repeat: int, csv_export: bool = False, only=()
) -> tuple[list, dict]:
    print(f"{backend}: loading {n_tickets:,} tickets and about {n_history:,} history rows (unless loaded)")
    app, loaded = prepare(url, n_tickets, n_history)
    print(
        f"{backend}: loaded in {loaded['seconds']:.0f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(loaded["rows"].items()))
    )
    client, token = signed_in(app)
    gc.freeze()  # as wsgi.py does in a server process: the long-lived heap out of the collections
    rows = []
    for label, path, query in cases(app):
        if only and not any(word in label for word in only):
            continue
        headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {}
        code, found = _fetch(client, path, query, headers)  # warms caches and plans
        if code not in (200, 302):
            rows.append([backend, label, code, found, None, None, None])
            continue
        samples, cpu = [], []
        servers = _server_pids(app)
        for _ in range(repeat):
            started, started_cpu = time.perf_counter(), time.process_time() + _cpu_of(servers)
            _fetch(client, path, query, headers)
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() + _cpu_of(servers) - started_cpu) * 1000)
        rows.append([backend, label, code, found, statistics.median(samples), _p95(samples), _p95(cpu)])
    if csv_export:
        loaded["csv"] = full_csv(app)
        print(f"{backend}: {loaded['csv']}")
    with app.app_context():
        db.engine.dispose()
    return rows, loaded


def signed_in(app):
    """A test client signed in as the demo manager, and an API token of theirs."""
    client = app.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"username": "max", "password": DEMO_PASSWORD, "csrf_token": token})
    assert answer.status_code == 302, "the manager could not sign in"
    with app.app_context():
        manager = db.session.execute(db.select(User).where(User.username == "max")).scalar_one()
        api_token = new_token(manager)
        db.session.commit()
        db.session.remove()
    return client, api_token


def _server_pids(app) -> list[int]:
    """PostgreSQL's backend processes serving the app's connections (none on SQLite)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return []
        pids = db.session.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend'"
            )
        ).scalars()
        found = [p for p in pids if os.path.exists(f"/proc/{p}/schedstat")]
        db.session.remove()
    return found


def _cpu_of(pids: list[int]) -> float:
    """Seconds of CPU the processes have used (/proc/<pid>/schedstat: nanoseconds on a CPU)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError):
            pass
    return total / 1e9


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def full_csv(app) -> str:
    """Stream the whole unfiltered CSV export: rows, time, and how far this process's resident
    memory grew above where it started (sampled after each batch)."""
    client, _ = signed_in(app)
    started, rss, peak, rows = time.perf_counter(), _rss_mb(), 0.0, 0
    response = client.get("/dashboard/tickets.csv", buffered=False)
    try:
        for chunk in response.response:
            rows += (chunk if isinstance(chunk, str) else chunk.decode()).count("\n")
            peak = max(peak, _rss_mb() - rss)
    finally:
        response.close()
    seconds = time.perf_counter() - started
    return (
        f"full CSV export: {rows - 1:,} rows in {seconds:.0f} s "
        f"({(rows - 1) / seconds:,.0f} rows/s), resident memory grew at most {peak:.0f} MB"
    )


def _p95(samples: list[float]) -> float:
    samples = sorted(samples)
    return statistics.quantiles(samples, n=20, method="inclusive")[18] if len(samples) > 1 else samples[0]


def _fetch(client, path: str, query: dict, headers: dict) -> tuple[int, str | None]:
    """One request, read to its end; a CSV download only to its first CSV_ROWS rows (it streams)."""
    if not path.endswith(".csv"):
        response = client.get(path, query_string=query, headers=headers)
        return response.status_code, _found(response)
    response = client.get(path, query_string=query, headers=headers, buffered=False)
    lines = 0
    try:
        for chunk in response.response:
            lines += (chunk if isinstance(chunk, str) else chunk.decode()).count("\n")
            if lines > CSV_ROWS:
                break
    finally:
        response.close()
    return response.status_code, f"{min(lines - 1, CSV_ROWS):,} rows read"


def _found(response) -> str | None:
    """How many rows the answer reports (the API's total, or its page's length), when it says."""
    if response.status_code != 200 or not response.is_json:
        return None
    body = response.get_json()
    if isinstance(body, dict):
        if isinstance(body.get("total"), int):
            return f"{body['total']:,}"
        if isinstance(body.get("tickets"), list):
            return f"page {len(body['tickets'])}"
    return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tickets", type=int, default=DEFAULT_TICKETS, help=f"tickets to load (default {DEFAULT_TICKETS:,})"
    )
    parser.add_argument(
        "--history-rows",
        type=int,
        default=DEFAULT_HISTORY,
        help=f"history rows to load (default {DEFAULT_HISTORY:,})",
    )
    parser.add_argument("--repeat", type=int, default=10, help="timed requests per query (default 10)")
    parser.add_argument(
        "--csv-export", action="store_true", help="also stream the whole unfiltered CSV export (time, memory)"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="time only the queries whose label contains TEXT (repeatable; e.g. 'KPIs', 'field=')",
    )
    parser.add_argument(
        "--database",
        action="append",
        default=[],
        metavar="BACKEND=URL",
        help="use this database instead of a throwaway one (loaded if empty, else only upgraded and timed)",
    )


def run(
    backends: list[str],
    n_tickets: int,
    n_history: int,
    repeat: int,
    databases=(),
    csv_export: bool = False,
    only=(),
) -> str:
    """Load and time every backend; returns the table. `databases`: "backend=url" to keep."""
    results, notes = [], []
    given = dict(d.split("=", 1) for d in databases)
    for backend in backends:
        if backend in given:
            context = nullcontext(given[backend])
        else:
            context = sqlite_url() if backend == "sqlite" else postgres_url()
        with context as url:
            if url is not None:
                rows, loaded = run_backend(backend, url, n_tickets, n_history, repeat, csv_export, only)
                results += rows
                notes.append(
                    f"{backend}: {loaded['rows'].get('ticket', 0):,} tickets, {loaded['rows'].get('history_event', 0):,} history rows cloned from {loaded['templates']} engine tickets"
                )
    # cpu: CPU time of this process and of PostgreSQL's backends (/proc/<pid>/schedstat) per request:
    # what a request costs whatever else the machine runs (wall times count the wait for a CPU)
    headers = ["backend", "query", "code", "rows", "p50 ms", "p95 ms", "p95 cpu ms"]
    return table(headers, results) + "\n" + "\n".join(notes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dashboard_bench", description=__doc__.splitlines()[0]
    )
    add_arguments(parser)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    quiet_logging()
    print("load average at the start: " + " / ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(
        run(
            [b.strip() for b in args.backends.split(",") if b.strip()],
            args.tickets,
            args.history_rows,
            args.repeat,
            args.database,
            args.csv_export,
            args.only,
        )
    )
    print("load average at the end: " + " / ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
