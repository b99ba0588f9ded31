"""The scenarios F1-F7: each builds its world, runs real processes, injects its fault, waits for
the backlog to settle and returns its figures with the checker's problems (none when green)."""

import random
import sqlite3
import time
from pathlib import Path

from app.extensions import db
from faults import checker
from faults.cluster import Cluster, free_port
from faults.load import Api, Steady, complete_tasks, open_tickets
from faults.provider import Provider
from faults.world import World, fresh_postgres_database, prepare

POINTS = ("after_provider_call", "before_complete_job", "mid_timer_fire")


class Context:
    """What every scenario gets: the PostgreSQL server's URL, a work folder, the knobs."""

    def __init__(self, pg_server, workdir: Path, n: int, scale: int, seconds: float):
        self.pg_server, self.workdir, self.n, self.scale, self.seconds = pg_server, workdir, n, scale, seconds
        self.random = random.Random(16)

    def world(self, sqlite: bool = False) -> World:
        if sqlite:
            path = self.workdir / f"sqlite-{time.monotonic_ns()}.db"
            return prepare(f"sqlite:///{path}")
        return prepare(fresh_postgres_database(self.pg_server.url))


class Stage:
    """A world with its provider, cluster and API, and an app context for the checker."""

    def __init__(self, ctx: Context, sqlite: bool = False, lease: int = 3):
        self.ctx = ctx
        self.world = ctx.world(sqlite)
        self.provider = Provider().start()
        self.cluster = Cluster(ctx.workdir, self.world.url, self.provider.url, lease=lease)
        self.port = free_port()
        self.api = Api(f"http://127.0.0.1:{self.port}", self.world.token)
        self.app = self.world.app()
        self.context = self.app.app_context()
        self.context.push()

    def close(self) -> None:
        self.cluster.stop_all()
        self.provider.stop()
        db.session.remove()
        db.engine.dispose()
        self.context.pop()

    def finish_tickets(self, timeout: float = 120) -> list[str]:
        """Settle, complete every `confirm` task over HTTP, settle again; acknowledged completions."""
        acked = []
        for _ in range(5):
            checker.settle(timeout)
            if checker.backlog()["incidents"]:
                checker.retry_job_incidents()
                checker.settle(timeout)
            tasks = checker.confirm_tasks()
            if not tasks:
                break
            acked += complete_tasks(self.api, tasks).acked
        checker.settle(timeout)
        return acked


def f1_crash_points(ctx: Context) -> dict:
    """kill -9 of the worker at each named point, N times, restarted each time; and of a web
    process in the middle of a task completion."""
    figures = {}
    for point in POINTS:
        stage = Stage(ctx)
        try:
            web = stage.cluster.web(stage.port)
            acked = open_tickets(stage.api, stage.world.customer_id, max(12, 4 * ctx.n)).acked
            kills = restarts = 0
            started = time.monotonic()
            while kills < ctx.n and time.monotonic() - started < 60 + 20 * ctx.n:
                worker = stage.cluster.worker(f"{point}:kill:{ctx.random.randint(1, 3)}")
                restarts += 1
                try:
                    code = worker.wait(30)
                except Exception:  # noqa: BLE001 (no work reached the point in time)
                    worker.term()
                    acked += open_tickets(stage.api, stage.world.customer_id, 8).acked
                    continue
                kills += code == -9
            stage.cluster.worker()  # a worker without faults finishes the rest
            completions = stage.finish_tickets()
            result = checker.check(stage.provider, acked, completions)
            result.update(kills=kills, worker_starts=restarts + 1)
            figures[point] = result
            web.term()
        finally:
            stage.close()
    figures["mid_task_completion"] = _f1_web(ctx)
    return figures


def _f1_web(ctx: Context) -> dict:
    stage = Stage(ctx)
    try:
        stage.cluster.worker()
        nth = ctx.random.randint(1, 3)
        web = stage.cluster.web(stage.port, fault=f"mid_task_completion:kill:{nth}")
        acked = open_tickets(stage.api, stage.world.customer_id, max(12, 4 * ctx.n)).acked
        checker.settle(60)
        completions, failed = [], 0
        while web.mentions("fault point mid_task_completion reached") < ctx.n and checker.confirm_tasks():
            tally = complete_tasks(stage.api, checker.confirm_tasks()[: nth * 2], threads=1)
            completions += tally.acked
            failed += sum(n for status, n in tally.statuses.items() if not 200 <= status < 300)
            time.sleep(0.5)  # gunicorn starts a new worker for the one that died
        kills = web.mentions("fault point mid_task_completion reached")
        web.term()
        stage.cluster.web(stage.port)
        completions += stage.finish_tickets()
        result = checker.check(stage.provider, acked, completions)
        result.update(kills=kills, unacknowledged_completions=failed)
        return result
    finally:
        stage.close()


def f2_provider_flaky(ctx: Context) -> dict:
    """The provider pays, then times out or answers 500, on 30 % of calls: every refund paid once."""
    stage = Stage(ctx)
    try:
        stage.provider.set_mode("flaky", rate=0.3, delay=1.5)
        web = stage.cluster.web(stage.port)
        workers = [stage.cluster.worker(), stage.cluster.worker()]
        count = 20 * ctx.scale
        started = time.monotonic()
        acked = open_tickets(stage.api, stage.world.customer_id, count).acked
        incidents = 0
        checker.settle(180)
        if checker.backlog()["incidents"]:  # four failures in a row: an incident an operator retries
            incidents = checker.retry_job_incidents()
            checker.settle(120)
        seconds = time.monotonic() - started
        memory = {"web_2_workers_mb": web.rss_mb(), "worker_mb": max(w.rss_mb() for w in workers)}
        completions = stage.finish_tickets()
        result = checker.check(stage.provider, acked, completions)
        result.update(
            refunds=count, incidents_retried=incidents, seconds_to_pay_all=round(seconds, 1), **memory
        )
        if result["provider_payments"] != count:
            result["problems"].append(f"{result['provider_payments']} provider payments for {count} refunds")
        return result
    finally:
        stage.close()


def f3_provider_down(ctx: Context) -> dict:
    """The provider down: retries with backoff, then incidents and no payment; after it is back,
    one retry of each incident pays once."""
    stage = Stage(ctx)
    try:
        stage.provider.set_mode("down")
        stage.cluster.web(stage.port)
        stage.cluster.worker()
        count = 2 * ctx.scale + 8
        acked = open_tickets(stage.api, stage.world.customer_id, count).acked
        seconds = checker.wait_until(lambda: checker.backlog()["incidents"] == count, 60)
        during = dict(calls=stage.provider.ledger()["calls"], paid=stage.provider.ledger()["applied"])
        problems = (
            [] if seconds is not None else [f"not every refund became an incident: {checker.backlog()}"]
        )
        if during["paid"]:
            problems.append(f"the provider paid {during['paid']} while down")
        stage.provider.set_mode("ok")
        retried = checker.retry_job_incidents()
        checker.settle(60)
        completions = stage.finish_tickets()
        result = checker.check(stage.provider, acked, completions)
        result["problems"] += problems
        result.update(
            refunds=count,
            calls_while_down=during["calls"],
            seconds_to_incidents=round(seconds or -1, 1),
            incidents_retried=retried,
        )
        return result
    finally:
        stage.close()


def f4_database_restart(ctx: Context) -> dict:
    """PostgreSQL restarted three times under load: 503 with a readable body during the outage,
    service back within 10 s of the database, every acknowledged write present."""
    stage = Stage(ctx)
    try:
        stage.cluster.web(stage.port)
        stage.cluster.worker()
        load = Steady(stage.api, stage.world.customer_id, threads=4).start()
        load_started = time.monotonic()
        recoveries, outages = [], []
        for round_ in range(3):
            time.sleep(6 if round_ == 0 else 3)
            down = time.monotonic()
            if round_ == 0:  # the load before any fault: the layout's pace on this machine
                before = [t for t, s in list(load.timeline) if 200 <= s < 300 and t > load_started + 0.5]
                baseline = round(len(before) / max(0.1, down - load_started - 0.5), 1)
            ctx.pg_server.stop_server("fast")
            time.sleep(3)
            ctx.pg_server.start_server()
            up = time.monotonic()
            outages.append(round(up - down, 1))
            ok = checker.wait_until(
                lambda up=up: any(t > up and 200 <= s < 300 for t, s in list(load.timeline)), 30, 0.05
            )
            recoveries.append(round(ok, 2) if ok is not None else None)
        time.sleep(2)
        tally = load.finish()
        db.session.remove()
        db.engine.dispose()  # the checker's own connections died with the server too
        completions = stage.finish_tickets()
        result = checker.check(stage.provider, tally.acked, completions)
        bad = {s: n for s, n in tally.statuses.items() if s not in (201, 503)}
        if bad:
            result["problems"].append(f"answers other than 201 or 503: {bad}")
        if any(r is None or r > 10 for r in recoveries):
            result["problems"].append(f"recovery over 10 s: {recoveries}")
        result.update(
            requests=sum(tally.statuses.values()),
            opens_per_s_before_faults=baseline,
            p99_ms=round(tally.p99_ms(), 1),
            statuses=dict(tally.statuses),
            outage_bodies=dict(tally.unavailable_bodies),
            outages_s=outages,
            recovery_after_database_s=recoveries,
        )
        return result
    finally:
        stage.close()


def f5_sqlite_kill(ctx: Context) -> dict:
    """SQLite: kill -9 of every process during write load, N times: integrity_check ok and every
    acknowledged write present."""
    stage = Stage(ctx, sqlite=True)
    try:
        path = stage.world.url.removeprefix("sqlite:///")
        acked, checks = [], []
        for _ in range(ctx.n):
            web = stage.cluster.web(stage.port)
            worker = stage.cluster.worker()
            load = Steady(stage.api, stage.world.customer_id, threads=4, pause=0.0).start()
            time.sleep(1 + ctx.random.random())
            web.kill9()
            worker.kill9()
            acked += load.finish().acked
            with sqlite3.connect(path) as connection:
                checks.append(connection.execute("PRAGMA integrity_check").fetchone()[0])
        stage.cluster.web(stage.port)
        stage.cluster.worker()
        completions = stage.finish_tickets()
        result = checker.check(stage.provider, acked, completions)
        not_ok = [c for c in checks if c != "ok"]
        if not_ok:
            result["problems"].append(f"integrity_check: {not_ok[:3]}")
        result.update(kills=len(checks), integrity_ok=len(checks) - len(not_ok))
        return result
    finally:
        stage.close()


def f6_downtime(ctx: Context) -> dict:
    """Workers stopped while timers come due; then one worker, then two started at once: every
    timer fires exactly once, soon after."""
    stage = Stage(ctx)
    try:
        stage.cluster.web(stage.port)
        count, downtime = 10 * ctx.scale, max(5, int(ctx.seconds))
        figures = {}
        acked = []
        for workers in (1, 2):
            delay = f"PT{downtime // 2}S"
            acked += open_tickets(
                stage.api, stage.world.customer_id, count, kind="timerflow", delay=delay
            ).acked
            time.sleep(downtime)
            procs = [stage.cluster.worker() for _ in range(workers)]
            seconds = checker.wait_until(lambda: checker.backlog()["timers"] == 0, 60, 0.1)
            figures[f"{workers}_worker_s"] = round(seconds or -1, 2)  # from the workers' start
            for proc in procs:
                proc.term()
        stage.cluster.worker()
        completions = stage.finish_tickets()
        result = checker.check(stage.provider, acked, completions, provider_paid=False)
        result.update(timers_per_phase=count, downtime_s=downtime, **figures)
        if any(v == -1 or v > 30 for k, v in figures.items() if k.endswith("worker_s")):
            result["problems"].append(f"timers not all fired within 30 s: {figures}")
        return result
    finally:
        stage.close()


def f7_churn(ctx: Context) -> dict:
    """One of two workers restarted (alternately SIGTERM and kill -9) every 30 s under load (a short
    run: every sixth of it): the invariants hold and the backlog drains within 60 s of the last restart."""
    stage = Stage(ctx)
    try:
        stage.cluster.web(stage.port)
        workers = [stage.cluster.worker(), stage.cluster.worker()]
        load = Steady(stage.api, stage.world.customer_id, threads=2, pause=0.1).start()
        # The churn: every 30 s for 10 minutes (FAULTS_SECONDS=200); a short run restarts 6 times.
        duration = max(10.0, ctx.seconds * 3)
        period = min(30.0, duration / 6)
        started, restarts = time.monotonic(), 0
        while time.monotonic() - started < duration:
            time.sleep(period)
            victim = workers.pop(0)
            victim.term() if restarts % 2 == 0 else victim.kill9()
            workers.append(stage.cluster.worker())
            restarts += 1
        tally = load.finish()
        drain = checker.settle(60)
        completions = stage.finish_tickets()
        result = checker.check(stage.provider, tally.acked, completions)
        result.update(
            restarts=restarts, churn_s=round(duration), drained_after_last_restart_s=round(drain or -1, 1)
        )
        if drain is None:
            result["problems"].append("the backlog did not drain within 60 s of the last restart")
        return result
    finally:
        stage.close()


SCENARIOS = {
    "F1": f1_crash_points,
    "F2": f2_provider_flaky,
    "F3": f3_provider_down,
    "F4": f4_database_restart,
    "F5": f5_sqlite_kill,
    "F6": f6_downtime,
    "F7": f7_churn,
}
