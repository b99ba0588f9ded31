"""Timer benchmark: lag from due to fired with 10,000 timers waiting, and 1,000 timers due at once.

    python -m bench.timer_bench [--waiting 10000] [--lagged 300] [--burst 1000]
                                [--backends sqlite,postgresql]

For each database (a SQLite file; a throwaway PostgreSQL cluster, skipped with a note when its
binaries are missing):

1. `--waiting` instances of a tiny diagram (start -> timer PT24H -> end) are started with
   `start_process`, one command each: the timer table holds that many waiting rows.
2. Lag: the real APScheduler `Worker` runs (sweep every WORKER_SWEEP_SECONDS, default 2 s) while
   `--lagged` instances of a PT30S timer are started, spread over `--spread` seconds of real time,
   so they come due one after another once every one has started. Lag of one timer = when its
   `timer_fired` history row was written minus its due time.
3. Burst: `--burst` instances of a PT1H timer are started with the clock frozen, then 1 or 2
   worker processes (multiprocessing 'spawn', each its own app) see the clock an hour later and
   run `work_once()` until nothing is due. Time = from their common start to the last one done.

docs/timers.md records the figures and says what each one means.
"""

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timedelta

import time_machine
from flask import Flask

from app import create_app
from app.clock import utcnow
from app.engine import deploy, start_process
from app.extensions import db
from app.models import HistoryEvent, ProcessInstance, Ticket, Timer
from app.worker import Worker
from bench.world import postgres_url, quiet_logging, sqlite_url
from tests.factories import make_customer
from tests.worker.diagrams import tiny_timer
from tests.worker.spawned import work_until_idle

# Longer than starting them all takes: their firing is measured, not SQLite's one writer at a time
# shared between the starting thread and the worker (a standalone worker learns of new timers by
# sweeping, so this is also longer than the sweep).
LEAD_SECONDS = 30


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.timer_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=10_000, help="timers waiting meanwhile (10000)")
    parser.add_argument("--lagged", type=int, default=100, help="PT30S timers whose lag is measured (100)")
    parser.add_argument("--spread", type=float, default=10.0, help="seconds over which they start (10)")
    parser.add_argument("--burst", type=int, default=1000, help="timers due at once (1000)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite, postgresql (both)")
    return parser.parse_args(argv)


def build(url: str) -> tuple[Flask, int]:
    """A fresh schema with the three tiny diagrams deployed and one customer."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    quiet_logging()
    with app.app_context():
        db.create_all()
        deploy(tiny_timer('"PT24H"', process_id="far"))
        deploy(tiny_timer(f'"PT{LEAD_SECONDS}S"', process_id="soon"))
        deploy(tiny_timer('"PT1H"', process_id="burst"))
        customer_id = make_customer().id
        db.session.remove()
    return app, customer_id


def start_many(app: Flask, key: str, count: int, customer_id: int, spread: float = 0.0) -> float:
    """Start `count` instances of `key`, optionally paced over `spread` seconds; returns seconds."""
    started = time.perf_counter()
    with app.app_context():
        for i in range(count):
            if spread:
                ahead = started + spread * i / count - time.perf_counter()
                if ahead > 0:
                    time.sleep(ahead)
            start_process(key, customer_id, f"{key} {i}", {})
        db.session.remove()
    return time.perf_counter() - started


def fired_of(key: str) -> list[tuple[datetime, str]]:
    """(written at, due_at text) of the timer_fired rows of instances of `key`."""
    return [
        tuple(row)
        for row in db.session.execute(
            db.select(HistoryEvent.at, HistoryEvent.data)
            .join(Ticket, Ticket.id == HistoryEvent.ticket_id)
            .where(HistoryEvent.kind == "timer_fired", Ticket.type == key)
        )
    ]


def measure_lag(app: Flask, customer_id: int, lagged: int, spread: float) -> dict:
    """Run the real Worker while PT30S timers start; lag statistics of their firing in ms."""
    worker = Worker(app)
    worker.start()
    try:
        starting = start_many(app, "soon", lagged, customer_id, spread)
        deadline = time.monotonic() + LEAD_SECONDS + 120
        with app.app_context():
            while True:
                db.session.commit()  # a fresh read each round
                rows = fired_of("soon")
                if len(rows) >= lagged or time.monotonic() > deadline:
                    break
                time.sleep(0.25)
            db.session.remove()
    finally:
        worker.shutdown()
    lags = sorted((at - datetime.fromisoformat(data["due_at"])).total_seconds() * 1000 for at, data in rows)
    if not lags:
        return {"fired": 0, "expected": lagged}
    return {
        "fired": len(lags),
        "expected": lagged,
        "starting": starting,
        "median": statistics.median(lags),
        "p95": lags[max(0, round(0.95 * len(lags)) - 1)],
        "max": lags[-1],
        "min": lags[0],
    }


def measure_burst(app: Flask, url: str, customer_id: int, burst: int, workers: int) -> dict:
    """Start `burst` PT1H timers, then let `workers` processes fire them an hour later."""
    frozen_at = utcnow()
    with time_machine.travel(frozen_at, tick=False):
        created = start_many(app, "burst", burst, customer_id)
    context = multiprocessing.get_context("spawn")
    ready, results = context.Barrier(workers + 1), context.Queue()
    later = (frozen_at + timedelta(hours=1, seconds=1)).isoformat()
    processes = [
        context.Process(target=work_until_idle, args=(url, later, ready, results)) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    ready.wait(timeout=300)  # every worker has built its app: the clock starts now
    started = time.perf_counter()
    outcomes = [results.get(timeout=900) for _ in processes]
    seconds = time.perf_counter() - started
    for process in processes:
        process.join(timeout=30)
    with app.app_context():
        left = db.session.execute(
            db.select(db.func.count(Timer.id))
            .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
            .join(Ticket, Ticket.id == ProcessInstance.ticket_id)
            .where(Ticket.type == "burst")
        ).scalar()
        fired = len(fired_of("burst"))
        db.session.remove()
    return {
        "workers": workers,
        "seconds": seconds,
        "created_seconds": created,
        "left": left,
        "fired": fired,
        "per_worker": [handled for _, handled, _ in outcomes],
    }


def bench_backend(backend: str, url: str, args: argparse.Namespace) -> dict:
    app, customer_id = build(url)
    figures = {"backend": backend}
    figures["create_seconds"] = start_many(app, "far", args.waiting, customer_id)
    figures["lag"] = measure_lag(app, customer_id, args.lagged, args.spread)
    total = 0
    figures["bursts"] = []
    for workers in (1, 2):
        result = measure_burst(app, url, customer_id, args.burst, workers)
        total += args.burst
        result["fired"] -= total - args.burst  # the earlier burst's rows are in the history too
        figures["bursts"].append(result)
    with app.app_context():
        figures["waiting"] = db.session.execute(db.select(db.func.count(Timer.id))).scalar()
        db.session.remove()
        db.engine.dispose()
    return figures


def report(f: dict, args: argparse.Namespace) -> None:
    lag = f["lag"]
    print(f"\n== {f['backend']} ==")
    print(
        f"  {args.waiting:,} waiting timers started in {f['create_seconds']:.1f} s "
        f"({1000 * f['create_seconds'] / max(1, args.waiting):.1f} ms per start_process); "
        f"{f['waiting']:,} still waiting at the end"
    )
    if lag.get("fired"):
        late = (
            " (starting them took longer than the lead: lags include that)"
            if lag["starting"] > LEAD_SECONDS
            else ""
        )
        print(
            f"  lag due -> fired, {lag['fired']}/{lag['expected']} PT{LEAD_SECONDS}S timers started over "
            f"{lag['starting']:.1f} s, real Worker: median {lag['median']:.0f} ms, p95 {lag['p95']:.0f} ms, "
            f"max {lag['max']:.0f} ms, min {lag['min']:.0f} ms{late}"
        )
    else:
        print(f"  lag: none of {lag['expected']} timers fired in time")
    for burst in f["bursts"]:
        print(
            f"  {args.burst:,} due at once, {burst['workers']} worker process(es): fired in "
            f"{burst['seconds']:.1f} s ({args.burst / burst['seconds']:.0f} timers/s); "
            f"claims per worker {burst['per_worker']}; fired {burst['fired']}, left {burst['left']}"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    quiet_logging()
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"Timer benchmark: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average before {load}"
    )
    for backend in args.backends.split(","):
        opener = sqlite_url if backend == "sqlite" else postgres_url
        with opener() as url:
            if url is None:
                continue
            report(bench_backend(backend, url, args), args)
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average after {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
