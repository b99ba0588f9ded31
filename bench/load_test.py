"""A paced load test over HTTP in the production layout: `python -m bench.load_test --rate 200 --minutes 5`.

Everything stays on 127.0.0.1 and ends by itself. A throwaway PostgreSQL (`--backend sqlite`: a
SQLite file) is migrated to head and gets the shipped processes, an agent with an API token and a
customer; then gunicorn with deploy/gunicorn.conf.py (`--web-workers` sync workers) and one `flask
worker` start on it, as docs/operations.md lays out. A warm-up (`--warm-up` seconds at half the
rate, not measured) and an ANALYZE give the database the statistics it has in service; without
them PostgreSQL plans its foreign-key checks on `ticket` as scans of a near-empty table and keeps
those plans while the table grows (bench/world.py `analyze`). Clients open the shipped general
ticket (`POST /api/v1/tickets`, which answers once its first task is assigned) at a fixed rate for
`--minutes`: open loop, request i is due at start + i / rate, and its latency counts from when it
was due, so a server that falls behind shows it in the latencies instead of slowing the clients.

Prints one line per `--window` seconds (answered per second, errors, p50 and p99 in ms) and a
verdict: the rate held (answers per second, to the last answer, within 2 % of the rate), no error, and no growth in p99 (the last
window's p99 at most 1.5 times the first's). Exits 1 when the verdict fails.
"""

import argparse
import itertools
import json
import logging
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from bench.world import (
    START_DATA,
    SUBJECT,
    analyze,
    deploy_shipped_files,
    postgres_url,
    quiet_logging,
    sqlite_url,
)
from faults.cluster import Proc, free_port, wait_ready
from tests.factories import make_customer, make_user, token_for

ROOT = Path(__file__).resolve().parent.parent
SECRET = "load-test-secret-key-not-for-production-0123456789"
GROWTH_LIMIT = 1.5  # the last window's p99 over the first window's
HELD_SHARE = 0.98  # answers per second over the rate


@dataclass
class Window:
    answered: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)

    def p(self, share: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000


def prepare(url: str) -> tuple[str, int]:
    """Migrate, deploy the shipped processes, make an agent and a customer; (token, customer id)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    quiet_logging()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with app.app_context():
        upgrade()
        deploy_shipped_files(Path(app.config["PROCESSES_DIR"]))
        agent = make_user("load_agent", "agent", teams=("returns", "credit", "support", "customer-success"))
        customer = make_customer()
        found = token_for(agent), customer.id
        db.session.remove()
        db.engine.dispose()
    return found


def start_servers(url: str, workdir: Path, web_workers: int) -> tuple[str, list[Proc]]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TICKETFLOW_ENV": "production",
        "SECRET_KEY": SECRET,
        "LOG_LEVEL": "WARNING",
        "MAIL_CATCHER": "0",
        "PYTHONUNBUFFERED": "1",
    }
    port = free_port()
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"]
    web_env = {**env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(web_workers)}
    web = Proc("web", gunicorn, web_env, workdir / "web.log")
    worker = Proc(
        "worker", [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], env, workdir / "worker.log"
    )
    base = f"127.0.0.1:{port}"
    wait_ready(f"http://{base}", web)
    return base, [web, worker]


class Load:
    """Open-loop clients: request i is due at `started + i / rate`; each thread takes the next one."""

    def __init__(self, base: str, token: str, customer_id: int, rate: float, seconds: float, window: float):
        self.host, self.port = base.split(":")
        self.rate, self.seconds, self.window = rate, seconds, window
        self.body = json.dumps(
            {"type": "general", "customer_id": customer_id, "subject": SUBJECT, "data": START_DATA["general"]}
        ).encode()
        self.request = (
            f"POST /api/v1/tickets HTTP/1.1\r\nHost: {base}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(self.body)}\r\nConnection: close\r\n\r\n"
        ).encode() + self.body
        self.windows = [Window() for _ in range(int(seconds // window) + 1)]
        self.slots = itertools.count()
        self.lock = threading.Lock()
        self.first_error: str | None = None

    def run(self, threads: int) -> None:
        self.started = time.monotonic() + 0.5
        workers = [threading.Thread(target=self._client, daemon=True) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        self.elapsed = time.monotonic() - self.started  # until the last answer: a late server stretches it

    def _client(self) -> None:
        while True:
            due = self.started + next(self.slots) / self.rate
            if due - self.started >= self.seconds:
                return
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            status, error = self._send()
            latency = time.monotonic() - due
            window = self.windows[int((due - self.started) // self.window)]
            with self.lock:
                if status == 201:
                    window.answered += 1
                    window.latencies.append(latency)
                else:
                    window.errors += 1
                    self.first_error = self.first_error or error or f"HTTP {status}"

    def _send(self) -> tuple[int, str | None]:
        """One request on a new connection, as raw bytes: the server closes it after its answer
        (gunicorn's sync workers), and http.client's header parsing cost the clients, which share
        the server's two cores, about three times the CPU."""
        try:
            with socket.create_connection((self.host, int(self.port)), timeout=30) as connection:
                connection.sendall(self.request)
                chunks = []
                while chunk := connection.recv(65536):
                    chunks.append(chunk)
        except OSError as error:
            return 0, f"{type(error).__name__}: {error}"
        answer = b"".join(chunks)
        head, _, text = answer.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].split()
        if len(status_line) < 2 or not status_line[1].isdigit():
            return 0, f"not an HTTP answer: {answer[:200]!r}"
        status = int(status_line[1])
        return status, None if status == 201 else f"HTTP {status}: {text[:200]!r}"


def report(load: Load, rate: float) -> bool:
    windows = [w for w in load.windows if w.answered or w.errors]
    print(f"{'window':>8} {'answered/s':>11} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for n, window in enumerate(windows):
        print(
            f"{n * load.window:>7.0f}s {window.answered / load.window:>11.1f} {window.errors:>7} "
            f"{window.p(0.5):>8.1f} {window.p(0.99):>8.1f}"
        )
    answered = sum(w.answered for w in windows)
    errors = sum(w.errors for w in windows)
    every = sorted(x for w in windows for x in w.latencies)
    held = answered / max(load.seconds, load.elapsed)
    first, last = windows[0].p(0.99), windows[-1].p(0.99)
    growth = last / first if first else float("inf")
    print(
        f"\n{answered:,} tickets in {load.elapsed:.0f} s: {held:.1f}/s against {rate:g}/s; {errors} errors; "
        f"p50 {statistics.median(every) * 1000 if every else 0:.1f} ms, "
        f"p99 {every[int(len(every) * 0.99)] * 1000 if every else 0:.1f} ms; "
        f"p99 last window / first window {growth:.2f}"
    )
    if load.first_error:
        print(f"first error: {load.first_error}")
    verdicts = {
        f"rate held (>= {HELD_SHARE:.0%})": held >= HELD_SHARE * rate,
        "no error": errors == 0,
        f"no p99 growth (<= {GROWTH_LIMIT}x)": growth <= GROWTH_LIMIT,
    }
    for name, ok in verdicts.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    return all(verdicts.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_test", description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200, help="ticket starts per second (default 200)")
    parser.add_argument("--minutes", type=float, default=5, help="how long (default 5)")
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--threads", type=int, default=32, help="client threads (default 32)")
    parser.add_argument("--window", type=float, default=30, help="seconds per reported window (default 30)")
    parser.add_argument(
        "--warm-up",
        type=float,
        default=15,
        help="seconds of tickets at half the rate, not measured, then ANALYZE (default 15; 0: a cold database)",
    )
    args = parser.parse_args(argv)
    seconds = args.minutes * 60
    workdir = Path(tempfile.mkdtemp(prefix="ticketflow-load-"))
    os.chdir(ROOT)
    context = sqlite_url() if args.backend == "sqlite" else postgres_url()
    with context as url:
        if url is None:
            return 1
        token, customer_id = prepare(url)
        base, procs = start_servers(url, workdir, args.web_workers)
        print(f"{args.backend}: gunicorn -w {args.web_workers} + 1 worker on {base}; load average {_load()}")
        try:
            if args.warm_up > 0:
                warm_up(base, token, customer_id, args.rate / 2, args.warm_up, url, args.threads)
            load = Load(base, token, customer_id, args.rate, seconds, min(args.window, seconds))
            load.run(args.threads)
        finally:
            for proc in procs:
                proc.term(15)
        print(f"load average at the end {_load()}\n")
        ok = report(load, args.rate)
    if ok:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"server logs kept in {workdir}")
    return 0 if ok else 1


def warm_up(
    base: str, token: str, customer_id: int, rate: float, seconds: float, url: str, threads: int
) -> None:
    """Open tickets for `seconds` at `rate`, not measured, then ANALYZE: the server runs as on a
    database in service, its plans made with statistics (bench/world.py `analyze`)."""
    load = Load(base, token, customer_id, rate, seconds, seconds)
    load.run(threads)
    analyze(url)
    answered = sum(w.answered for w in load.windows)
    errors = sum(w.errors for w in load.windows)
    print(f"warm-up: {answered:,} tickets in {load.elapsed:.0f} s ({errors} errors), then ANALYZE")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
