"""Run every benchmark and print the figures: `python -m bench.run [--n 300] [--profile] [--dashboard]`.

For SQLite (a WAL file in a temporary folder) and PostgreSQL (a throwaway cluster; skipped
with a note when its binaries are missing): engine commands, the HTTP API through Flask's
test client and behind gunicorn, and the bare SpiffWorkflow cost of the same steps, with
the SQL statements each command sends. With `--dashboard` also every dashboard query on bulk-loaded
tickets and history (bench/dashboard_bench.py; `--tickets`, `--history-rows`; `--dashboard-only`
skips the rest). docs/performance.md describes and reads the output.
"""

import argparse
import os
import platform
import sqlite3
import sys
import time
from importlib.metadata import version

from bench import bare_spiff, dashboard_bench
from bench.engine_bench import run_engine
from bench.http_bench import run_gunicorn, run_test_client
from bench.profiling import profile_commands
from bench.report import TIMING_HEADERS, table, timing_row
from bench.world import postgres_url, prepare, quiet_logging, sqlite_url


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n",
        type=int,
        default=int(os.environ.get("BENCH_N", "300")),
        help="calls per timed operation (default: $BENCH_N or 300)",
    )
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql (default: both)"
    )
    parser.add_argument("--no-gunicorn", action="store_true", help="skip the gunicorn run")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile breakdown of start_process and complete_task",
    )
    parser.add_argument(
        "--dashboard", action="store_true", help="also time every dashboard query on bulk-loaded tickets"
    )
    parser.add_argument(
        "--dashboard-only", action="store_true", help="only the dashboard queries (implies --dashboard)"
    )
    dashboard_bench.add_arguments(parser)
    return parser.parse_args(argv)


def machine() -> str:
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, SpiffWorkflow {version('SpiffWorkflow')}, "
        f"SQLAlchemy {version('SQLAlchemy')}, Flask {version('Flask')}, SQLite {sqlite3.sqlite_version}, "
        f"load average {load}"
    )


def bench_backend(backend: str, url: str, n: int, gunicorn: bool, profile: bool) -> dict:
    """Every Ticketflow measurement on one database."""
    started = time.perf_counter()
    world = prepare(backend, url)
    figures = {"world": world, "engine": run_engine(world, n), "http": run_test_client(world, n)}
    if gunicorn:
        try:
            figures["gunicorn"] = run_gunicorn(world, n)
        except Exception as exc:  # report, keep the other figures
            figures["gunicorn_error"] = f"{type(exc).__name__}: {exc}"
    if profile:
        figures["profile"] = profile_commands(world)
    with world.app.app_context():
        from app.extensions import db

        if backend == "postgresql":
            figures["server"] = db.session.execute(db.text("SHOW server_version")).scalar()
        db.session.remove()
        db.engine.dispose()
    figures["seconds"] = time.perf_counter() - started
    return figures


def timing_rows(backend: str, f: dict, bare: dict, n: int) -> list[list]:
    engine, http = f["engine"], f["http"]
    general_jobs = engine.jobs["general"]
    rows = [
        timing_row(
            "engine start_process(general)", backend, engine.starts["general"], bare["start(general)"]
        ),
        timing_row("engine start_process(return)", backend, engine.starts["return"], bare["start(return)"]),
        timing_row("worker jobs left by the general starts", backend, general_jobs),
        timing_row(
            "engine open to first user task (general, start + worker round)",
            backend,
            engine.opens,
            bare["start(general)"],
        ),
        timing_row("engine complete_task", backend, engine.completions, bare["complete_task"]),
        timing_row("HTTP test client POST /tickets", backend, http.starts, bare["start(general)"]),
        timing_row(
            "HTTP test client POST /tasks/<id>/complete", backend, http.completions, bare["complete_task"]
        ),
        timing_row(
            "HTTP test client POST /inbox/tasks/<id> (form)",
            backend,
            http.form_completions,
            bare["complete_task"],
        ),
    ]
    if "gunicorn" in f:
        g = f["gunicorn"]
        rows.append(timing_row("gunicorn -w 2, 4 clients: POST /tickets", backend, g.starts))
        rows.append(timing_row("gunicorn -w 2, 4 clients: POST complete", backend, g.completions))
    return rows


HTTP_HEADERS = [
    "operation",
    "backend",
    "gunicorn per s",
    "p99 ms",
    "test client per s",
    "bare per s",
    "ratio",
]


def http_rows(results: dict, bare: dict) -> list[list]:
    """Per backend: a ticket opened and a task completed over HTTP, next to the bare engine's step."""
    rows = []
    for backend, f in results.items():
        served = f.get("gunicorn")
        for operation, bare_key, pick in (
            ("POST /api/v1/tickets (start)", "start(general)", lambda h: h.starts),
            ("POST /api/v1/tasks/<id>/complete", "complete_task", lambda h: h.completions),
        ):
            sample = pick(served) if served is not None else None
            per_s = sample.per_second if sample is not None else None
            bare_per_s = bare[bare_key].per_second
            rows.append(
                [
                    operation,
                    backend,
                    per_s,
                    sample.p99_ms if sample is not None else None,
                    pick(f["http"]).per_second,
                    bare_per_s,
                    f"{bare_per_s / per_s:.1f}x" if per_s else None,
                ]
            )
    return rows


def _dashboard_table(args: argparse.Namespace, wanted: list[str]) -> str:
    return dashboard_bench.run(
        wanted, args.tickets, args.history_rows, args.repeat, args.database, args.csv_export, args.only
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    quiet_logging()
    started = time.perf_counter()
    wanted = [b.strip() for b in args.backends.split(",") if b.strip()]
    if args.dashboard_only:
        print(f"Ticketflow dashboard queries; machine: {machine()}\n")
        print(_dashboard_table(args, wanted))
        print(f"\ntotal {time.perf_counter() - started:.0f} s")
        return 0
    print(f"Ticketflow benchmarks, n = {args.n} calls per operation")
    print(f"machine: {machine()}")
    if os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        print("note: the machine is busy with other work; wall times will be inflated (see cpu ms)")
    print()

    profile = {
        "id": 1,
        "name": "Jane Doe",
        "email": "jane@example.com",
        "tier": "gold",
        "tenure_months": 40,
        "order_count": 85,
        "on_time_payment_ratio": 0.98,
        "open_balance": 0.0,
    }
    bare_spiff.check(profile)
    bare = bare_spiff.run_bare(args.n, profile)

    results = {}
    if "sqlite" in wanted:
        with sqlite_url() as url:
            results["sqlite"] = bench_backend("sqlite", url, args.n, not args.no_gunicorn, args.profile)
    if "postgresql" in wanted:
        with postgres_url() as url:
            if url is not None:
                results["postgresql"] = bench_backend(
                    "postgresql", url, args.n, not args.no_gunicorn, args.profile
                )

    rows = [
        timing_row(f"bare SpiffWorkflow {op}", "-", sample)
        for op, sample in bare.items()
        if op != "stored_bytes"
    ]
    for backend, f in results.items():
        rows += timing_rows(backend, f, bare, args.n)
    print("Time per call (serial calls unless marked; 'per s' = 1 / mean, or count / wall time for gunicorn)")
    print(table(TIMING_HEADERS, rows))

    print("\nOver HTTP against the bare engine (requests per s; ratio = bare per s / HTTP per s)")
    print(table(HTTP_HEADERS, http_rows(results, bare)))

    print("\nSQL statements per call (fresh session per command, as behind a request)")
    query_rows = []
    for backend, f in results.items():
        for op, text in {**f["engine"].queries, **f["http"].queries}.items():
            query_rows.append([op, backend, text])
    print(table(["operation", "backend", "statements per call"], query_rows, align_left=3))

    print("\nStored workflow per instance (characters of JSON)")
    size_rows = [[moment, "bare (spec embedded)", size] for moment, size in bare["stored_bytes"].items()]
    for backend, f in results.items():
        size_rows += [
            [moment, f"Ticketflow ({backend})", size] for moment, size in f["engine"].stored_bytes.items()
        ]
    print(table(["moment", "stored by", "chars"], size_rows))

    for backend, f in results.items():
        notes = [f"{backend}: {f['seconds']:.0f} s"]
        if "server" in f:
            notes.append(f"PostgreSQL {f['server']} (TempPostgres: fsync=off, synchronous_commit=off)")
        if "gunicorn_error" in f:
            notes.append(f"gunicorn run failed: {f['gunicorn_error']}")
        elif "gunicorn" in f:
            for phase, sample in (("open", f["gunicorn"].starts), ("complete", f["gunicorn"].completions)):
                for error, count in sample.errors.most_common():
                    notes.append(f"gunicorn {phase}: {count} x {error}")
            if f["gunicorn"].note:
                notes.append("gunicorn log:\n" + f["gunicorn"].note)
        print("\n" + "; ".join(notes[:2]) + "".join(f"\n  {n}" for n in notes[2:]))
        if "profile" in f:
            print("\n" + f["profile"])

    if args.dashboard:
        print(f"\nDashboard queries ({args.tickets:,} tickets, about {args.history_rows:,} history rows)")
        print(_dashboard_table(args, wanted))

    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\ntotal {time.perf_counter() - started:.0f} s; load average at the end {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
