"""`make scale`: one machine as a model of many (docs/reliability.md "Scale").

    .venv/bin/python -m faults.scale --tickets 2000 --configs 1x1,4x4 [--clients 8] [--window 400]

Each configuration (`<web>x<workers>`: gunicorn worker processes x `flask worker`s) gets a fresh
database on one throwaway PostgreSQL 15 (durable commits) and a stub payment provider, all on
loopback. Clients open `--tickets` tickets of the shipped return flow (processes/return.bpmn)
over the API, at most `--window` of them unfinished at a time, and complete its two user tasks
over the API as they appear; the flow pays the refund through the provider (a job), restocks,
checks the amount, asks for feedback and reminds (inline: in the command that reaches each), and
passes its three feedback timers,
which the environment shortens to PT2S (FEEDBACK_DELAY and friends). Then the fault suite's
checker asserts the invariants. Exits 1 when one fails or the run does not finish in time.
"""

import argparse
import json
import queue
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import psycopg

from app.extensions import db
from faults import checker, measure
from faults.cluster import Cluster, close_run, free_port
from faults.load import Api, Tally
from faults.provider import Provider
from faults.scale_report import table
from faults.world import fresh_postgres_database, prepare

START = {
    "order_number": "SO-16",
    "items": [{"sku": "SHOE-42", "qty": 1}, {"sku": "SOCK-1", "qty": 2}],
    "reason": "damaged",
    "amount": 59.9,
    "preferred_resolution": "refund",
}
ANSWERS = {  # the user tasks on the refund path; the refund is not above the order amount
    "review_request": {"decision": "accept", "resolution": "refund"},
    "receive_item": {"item_received": True, "condition": "as_new", "refund_amount": 59.9},
}
TIMERS = ("wait_feedback_delay", "feedback_reminder_due", "feedback_deadline")
# The refund path's service tasks, each completed once: issue_refund is a job (the provider is called
# over HTTP); the others keep their effect in our database and run inline in the command reaching them.
SERVICES = ("restock_items", "check_refund_approval", "issue_refund", "request_feedback", "remind_feedback")
DELAYS = ("FEEDBACK_DELAY", "FEEDBACK_REMINDER_DELAY", "FEEDBACK_DEADLINE_DELAY")


class Run:
    """One configuration: its processes, clients and poller, and what they saw."""

    def __init__(
        self,
        server_url: str,
        pg_data: str | None,
        workdir: Path,
        web: int,
        workers: int,
        tickets: int,
        clients: int = 8,
        window: int = 400,
        delay: str = "PT2S",
    ):
        self.pg_data, self.workdir = pg_data, workdir  # pg_data: the server's folder (its CPU is read)
        self.web, self.workers, self.tickets, self.clients, self.window = (
            web,
            workers,
            tickets,
            clients,
            window,
        )
        self.world = prepare(fresh_postgres_database(server_url), shipped=("return",))
        self.provider = Provider().start()
        delays = {name: f"return={delay}" for name in DELAYS}
        self.cluster = Cluster(workdir, self.world.url, self.provider.url, lease=60, extra_env=delays)
        self.api = Api(f"http://127.0.0.1:{free_port()}", self.world.token)
        self.tallies = {"open": Tally(), **{name: Tally() for name in ANSWERS}}
        self.tasks: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.next_ticket = 0
        self.finished = 0  # instances completed (the poller's count)
        self.stop = threading.Event()
        self.completion_times: list[float] = []
        self.loads: list[float] = []
        self.poller_backend: int | None = None
        self.commits, self.sampling, self.samples, self.waits = 0, False, 0, Counter()
        self.lock_waits: Counter = Counter()  # statement (its start) -> backends waiting on a lock in it

    # -- clients ------------------------------------------------------------------------------
    def _opener(self) -> None:
        while True:
            with self.lock:
                if self.next_ticket >= self.tickets:
                    return
                self.next_ticket += 1
            while self.next_ticket - self.finished > self.window and not self.stop.is_set():
                time.sleep(0.02)
            body = {
                "type": "return",
                "customer_id": self.world.customer_id,
                "subject": "Return",
                "data": START,
            }
            started = time.monotonic()
            status, answer = self.api.post("/api/v1/tickets", body, timeout=60)
            ack = answer.get("id") if isinstance(answer, dict) else None
            self.tallies["open"].record(status, answer, time.monotonic() - started, ack)
            if self.stop.is_set():
                return

    def _completer(self) -> None:
        while not self.stop.is_set():
            try:
                task_id, name = self.tasks.get(timeout=0.2)
            except queue.Empty:
                continue
            started = time.monotonic()
            status, answer = self.api.post(f"/api/v1/tasks/{task_id}/complete", {"data": ANSWERS[name]}, 60)
            ended = time.monotonic()
            self.tallies[name].record(status, answer, ended - started, task_id)
            with self.lock:
                self.completion_times.append(ended)

    def _poller(self, conninfo: str) -> None:
        """Finds the open tasks (as a client's inbox would), counts finished instances, and once
        a second notes what PostgreSQL's busy backends wait for (none: on CPU) and its commits."""
        seen: set[str] = set()
        with psycopg.connect(conninfo, autocommit=True) as connection:
            self.poller_backend = connection.execute("SELECT pg_backend_pid()").fetchone()[0]
            last_second = last_load = 0.0
            while not self.stop.is_set():
                rows = connection.execute(
                    "SELECT id, name FROM human_task WHERE name = ANY(%s)", (list(ANSWERS),)
                ).fetchall()
                for task_id, name in rows:
                    if task_id not in seen:
                        seen.add(task_id)
                        self.tasks.put((task_id, name))
                if time.monotonic() - last_second >= 1:
                    last_second = time.monotonic()
                    self._second(connection)
                if time.monotonic() - last_load >= 5:
                    self.loads.append(measure.load_average())
                    last_load = time.monotonic()
                time.sleep(0.25)

    def _second(self, connection) -> None:
        self.finished = connection.execute(
            "SELECT count(*) FROM process_instance WHERE status = 'completed'"
        ).fetchone()[0]
        self.commits = connection.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()[0]
        if self.sampling:
            waits = connection.execute(
                "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU'), count(*) FROM pg_stat_activity"
                " WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                " GROUP BY 1"
            ).fetchall()
            self.waits.update(dict(waits))
            self.lock_waits.update(
                dict(
                    connection.execute(
                        "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 70), count(*)"
                        " FROM pg_stat_activity WHERE wait_event_type = 'Lock' GROUP BY 1"
                    ).fetchall()
                )
            )
            self.samples += 1

    # -- the run -------------------------------------------------------------------------------
    def execute(self, timeout: float) -> dict:
        port = int(self.api.base.rsplit(":", 1)[1])
        web = self.cluster.web(port, workers=self.web)
        workers = [self.cluster.worker() for _ in range(self.workers)]
        conninfo = self.world.url.replace("postgresql+psycopg://", "postgresql://")
        poller = threading.Thread(target=self._poller, args=(conninfo,), daemon=True)
        poller.start()
        checker.wait_until(
            lambda: self.poller_backend and all(w.mentions("worker started") for w in workers), 60
        )  # their start-up is not counted
        processes = {"web": (web.pid, True)}
        if self.pg_data:
            processes["postgres"] = (measure.postmaster_pid(self.pg_data), True)
        processes.update({f"worker {n + 1}": (w.pid, True) for n, w in enumerate(workers)})
        watch = measure.CpuWatch(processes)
        watch.start()
        commits_before, self.sampling = self.commits, True
        poller_before = measure.cpu_seconds(self.poller_backend, tree=False)
        load_before, started = measure.load_average(), time.monotonic()
        threads = [threading.Thread(target=self._opener, daemon=True) for _ in range(self.clients)]
        threads += [threading.Thread(target=self._completer, daemon=True) for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        for thread in threads[: self.clients]:
            thread.join(max(1.0, timeout - (time.monotonic() - started)))
        opened_at = time.monotonic()
        acked = self.tallies["open"].acked
        while self.finished < len(acked) and time.monotonic() - started < timeout:
            time.sleep(0.2)
        drained_at = time.monotonic()
        cpu = watch.stop()
        self.sampling, commits = False, self.commits - commits_before
        if self.pg_data:  # the poller's backend is the clients' work, not the server's
            poller_cpu = measure.cpu_seconds(self.poller_backend, False) - poller_before
            cpu["postgres"] = round(cpu["postgres"] - poller_cpu, 1)
        self.stop.set()
        for thread in threads:
            thread.join(70)
        poller.join(5)
        timed_out = self.finished < len(acked)
        self.cluster.stop_all()
        figures = self._figures(started, opened_at, drained_at, cpu, load_before)
        figures["commits_per_s"] = round(commits / (drained_at - started), 1)
        figures["pg_busy_backends"] = {  # mean number of active backends, by what they wait for
            k: round(v / max(1, self.samples), 2) for k, v in self.waits.most_common()
        }
        figures["pg_lock_waits"] = {  # mean number of backends waiting on a row lock, by statement
            k: round(v / max(1, self.samples), 2) for k, v in self.lock_waits.most_common(5)
        }
        if timed_out:
            figures["problems"].insert(0, "did not finish within the timeout")
        return figures

    def _figures(self, started: float, opened_at: float, drained_at: float, cpu: dict, load: float) -> dict:
        app = self.world.app()
        with app.app_context():
            acked = self.tallies["open"].acked
            completions = [t for name in ANSWERS for t in self.tallies[name].acked]
            result = checker.check(self.provider, acked, completions, timer_elements=TIMERS, load_limit=1000)
            lag, jobs = _timer_lags(), _service_times()
            result["problems"] += _path_problems(len(acked), result, len(jobs))
            db.session.remove()
            db.engine.dispose()
        self.provider.stop()
        opening = opened_at - started
        span = (max(self.completion_times) - min(self.completion_times)) if self.completion_times else 0
        job_span = (max(jobs) - min(jobs)).total_seconds() if len(jobs) > 1 else 0
        requests = {
            kind: {
                "n": len(t.latencies),
                "errors": sum(n for s, n in t.statuses.items() if not 200 <= s < 300),
                "p50_ms": measure.ms(t.latencies, 0.5),
                "p99_ms": measure.ms(t.latencies, 0.99),
            }
            for kind, t in self.tallies.items()
        }
        return {
            "config": f"{self.web} web + {self.workers} worker",
            "tickets": len(acked),
            "seconds": round(drained_at - started, 1),
            "tickets_per_s_opened": round(len(acked) / opening, 1) if opening else 0,
            "tickets_per_s_end_to_end": round(len(acked) / (drained_at - started), 1),
            "completions_per_s": round(len(self.completion_times) / span, 1) if span else 0,
            "service_tasks": len(jobs),
            "service_tasks_per_s": round(len(jobs) / job_span, 1) if job_span else 0,
            "timer_lag_p50_s": round(measure.percentile(lag, 0.5), 2),
            "timer_lag_p99_s": round(measure.percentile(lag, 0.99), 2),
            "drain_s": round(drained_at - opened_at, 1),
            "requests": requests,
            "cpu_s": cpu,
            "load_average": {
                "start": load,
                "mean": round(sum(self.loads) / len(self.loads), 2) if self.loads else load,
                "max": max(self.loads, default=load),
            },
            "checker": {k: v for k, v in result.items() if k != "problems"},
            "problems": result["problems"],
        }


def _timer_lags() -> list[float]:
    from app.models import HistoryEvent

    rows = db.session.execute(
        db.select(HistoryEvent.at, HistoryEvent.data).where(HistoryEvent.kind == "timer_fired")
    ).all()
    naive = lambda t: t.replace(tzinfo=None)  # noqa: E731
    return [(naive(at) - naive(datetime.fromisoformat(data["due_at"]))).total_seconds() for at, data in rows]


def _service_times() -> list[datetime]:
    from app.models import HistoryEvent

    return list(
        db.session.execute(
            db.select(HistoryEvent.at).where(
                HistoryEvent.kind == "service_completed", HistoryEvent.element_id.in_(SERVICES)
            )
        ).scalars()
    )


def _path_problems(acked: int, result: dict, jobs: int) -> list[str]:
    """Every ticket went the whole way: each of its service tasks ran and each of its timers fired once."""
    problems = []
    if result["completed"] != result["instances"]:
        problems.append(f"{result['instances'] - result['completed']} instance(s) did not complete")
    if result["timers_fired"] != len(TIMERS) * result["instances"]:
        problems.append(f"{result['timers_fired']} timers fired for {result['instances']} instances")
    if jobs != len(SERVICES) * result["instances"]:
        problems.append(f"{jobs} service tasks completed for {result['instances']} instances")
    if result.get("provider_payments") != acked:
        problems.append(f"{result.get('provider_payments')} refunds paid for {acked} tickets")
    return problems


def main(argv=None) -> int:
    from tests.postgres import TempPostgres

    parser = argparse.ArgumentParser(prog="scale", description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--configs", default="1x1,4x4", help="web x workers, comma-separated")
    parser.add_argument("--web", type=int, help="one configuration: this many web processes ...")
    parser.add_argument("--workers", type=int, help="... and this many workers")
    parser.add_argument("--clients", type=int, default=8, help="client threads opening (as many complete)")
    parser.add_argument("--window", type=int, default=400, help="at most this many unfinished tickets")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per configuration")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (process logs)")
    args = parser.parse_args(argv)
    if args.web or args.workers:
        configs = [(args.web or 1, args.workers or 1)]
    else:
        configs = [tuple(int(n) for n in c.lower().split("x")) for c in args.configs.split(",") if c.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="ticketflow-scale-"))
    server = TempPostgres(durable=True)
    server.url = server.start()
    results = []
    try:
        for web, workers in configs:
            print(f"== {web} web + {workers} worker: {args.tickets} tickets", flush=True)
            run = Run(server.url, server.data, workdir, web, workers, args.tickets, args.clients, args.window)
            results.append(run.execute(args.timeout))
            print(json.dumps(results[-1], indent=1, default=str), flush=True)
    finally:
        server.stop()
        failed = any(r["problems"] for r in results)
        close_run(workdir, args.keep or failed, args.json, results)
    print(table(results))
    print(
        "scale: "
        + ("FAILED: " + "; ".join(p for r in results for p in r["problems"]) if failed else "invariants hold")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
