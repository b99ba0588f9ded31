"""The same commands through the HTTP API: Flask's test client in-process, and gunicorn.

The test client goes through the whole WSGI stack (routing, JSON, bearer-token lookup, the
engine command, the JSON answer) without a socket; every request gets its own app context
and session, as in a server. The gunicorn run starts `gunicorn -w 2 wsgi:app` on the bench
database and drives it with a pool of http.client connections; the worker's jobs between
the two phases run in this process while the server is idle.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from app.extensions import db
from app.worker import drain
from bench.engine_bench import open_task_ids
from bench.measure import QueryCounter, Sample, timed
from bench.world import ANSWER_LATER, START_DATA, SUBJECT, World, analyze
from tests.factories import csrf_of, login

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_WORKERS = 2
CLIENT_THREADS = 4
QUERY_CALLS = 3


@dataclass
class HttpFigures:
    """Starts and completions over HTTP, and the statements each request sends."""

    starts: Sample
    completions: Sample
    queries: dict[str, str] = field(default_factory=dict)
    form_completions: Sample | None = None  # the inbox's form, signed in (test client only)
    note: str = ""


def ticket_body(world: World) -> dict:
    return {
        "type": "general",
        "customer_id": world.customer_id,
        "subject": SUBJECT,
        "data": START_DATA["general"],
    }


def _drain(world: World) -> None:
    with world.app.app_context():
        drain()
        db.session.remove()


def _task_ids(world: World, ticket_ids: list[int]) -> list[str]:
    with world.app.app_context():
        ids = open_task_ids(ticket_ids)
        db.session.remove()
    return ids


def run_test_client(world: World, n: int) -> HttpFigures:
    """Time n POST /api/v1/tickets and n POST /api/v1/tasks/<id>/complete, one at a time."""
    client = world.app.test_client()
    headers = {"Authorization": f"Bearer {world.token}"}

    def open_ticket(_):
        answer = client.post("/api/v1/tickets", json=ticket_body(world), headers=headers)
        if answer.status_code != 201:
            raise RuntimeError(f"POST /api/v1/tickets answered {answer.status_code}: {answer.text[:300]}")
        return answer.json["id"]

    def complete(task_id):
        answer = client.post(
            f"/api/v1/tasks/{task_id}/complete", json={"data": ANSWER_LATER}, headers=headers
        )
        if answer.status_code != 200:
            raise RuntimeError(f"POST complete answered {answer.status_code}: {answer.text[:300]}")

    open_ticket(None)  # warm up
    with world.app.app_context():
        engine = db.engine
    with QueryCounter(engine) as counter:
        for _ in range(QUERY_CALLS):
            open_ticket(None)
    queries = {"POST /api/v1/tickets": counter.breakdown(QUERY_CALLS)}
    queries["POST /api/v1/tasks/<id>/complete"] = _count_completions(world, engine, open_ticket, complete)
    complete_form = _form_completer(world)
    queries["POST /inbox/tasks/<id> (form)"] = _count_completions(world, engine, open_ticket, complete_form)

    starts, ticket_ids = timed(range(n), open_ticket)
    _drain(world)
    completions, _ = timed(_task_ids(world, ticket_ids), complete)
    form_tickets = [open_ticket(None) for _ in range(n)]
    _drain(world)
    form_completions, _ = timed(_task_ids(world, form_tickets), complete_form)
    return HttpFigures(starts, completions, queries, form_completions)


def _count_completions(world: World, engine, open_ticket, finish) -> str:
    """The statements of QUERY_CALLS completions (`finish`) of new tickets' first tasks."""
    tickets = [open_ticket(None) for _ in range(QUERY_CALLS)]
    _drain(world)
    task_ids = _task_ids(world, tickets)
    with QueryCounter(engine) as counter:
        for task_id in task_ids:
            finish(task_id)
    return counter.breakdown(QUERY_CALLS)


def _form_completer(world: World):
    """A signed-in agent's browser, as a test client: submits the general answer form (the
    information not given yet, so the task comes back), as the inbox's task page posts it."""
    client = world.app.test_client()
    login(client, world.agent_username, world.agent_password)
    csrf = csrf_of(client.get("/inbox/").get_data(as_text=True))  # the session's token
    # Each submit answers with a redirect to the inbox, whose page shows and drops the submit's
    # flash message; the bench follows none, so it sends the session as that page leaves it.
    session = client.get_cookie("session").value

    def complete_form(task_id):
        client.set_cookie("session", session)
        answer = client.post(f"/inbox/tasks/{task_id}", data={"answer": "Later", "csrf_token": csrf})
        if answer.status_code != 302:
            raise RuntimeError(f"POST /inbox/tasks/<id> answered {answer.status_code}: {answer.text[:300]}")

    return complete_form


def _post(port: int, path: str, body: dict, token: str) -> tuple[int, bytes]:
    """One request on its own connection (gunicorn's sync workers close every connection)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "POST",
            path,
            body=json.dumps(body),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def _concurrently(paths_and_bodies: list, port: int, token: str, expected: int) -> tuple[Sample, list]:
    """Send the requests from CLIENT_THREADS threads; latency per request and the wall time."""
    sample, lock = Sample(), threading.Lock()

    def send(item):
        path, body = item
        started = time.perf_counter()
        try:
            status, payload = _post(port, path, body, token)
        except OSError as exc:
            status, payload = 0, f"{type(exc).__name__}: {exc}".encode()
        elapsed = time.perf_counter() - started
        with lock:
            sample.durations.append(elapsed)
            if status != expected:
                sample.errors[f"{status} {_error_text(payload)}"] += 1
        return payload if status == expected else None

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        results = list(pool.map(send, paths_and_bodies))
    sample.wall = time.perf_counter() - started
    return sample, results


def _error_text(payload: bytes) -> str:
    try:
        return str(json.loads(payload).get("error", ""))[:120]
    except (ValueError, AttributeError):
        return payload[:120].decode(errors="replace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(port: int, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited while starting")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer /healthz in time")


def run_gunicorn(world: World, n: int) -> HttpFigures:
    """Start gunicorn on the bench database; time n ticket opens, then n completions."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": world.url, "LOG_LEVEL": "WARNING", "EMBEDDED_WORKER": "0"}
    log = tempfile.NamedTemporaryFile(prefix="ticketflow-gunicorn-", suffix=".log", delete=False)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(GUNICORN_WORKERS),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        _wait_until_up(port, server)
        opens = [("/api/v1/tickets", ticket_body(world))] * n
        # Warm up both workers (imports, spec cache, validators); not timed.
        _, warm = _concurrently(opens[: 4 * GUNICORN_WORKERS], port, world.token, 201)
        _drain(world)
        warm_tasks = _task_ids(world, [json.loads(p)["id"] for p in warm if p])
        _concurrently(
            [(f"/api/v1/tasks/{t}/complete", {"data": ANSWER_LATER}) for t in warm_tasks],
            port,
            world.token,
            200,
        )
        analyze(world.url)  # the statistics of a database in service (bench/world.py)

        starts, created = _concurrently(opens, port, world.token, 201)
        _drain(world)
        tasks = _task_ids(world, [json.loads(p)["id"] for p in created if p])
        completions, _ = _concurrently(
            [(f"/api/v1/tasks/{t}/complete", {"data": ANSWER_LATER}) for t in tasks], port, world.token, 200
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    note = Path(log.name).read_text(errors="replace").strip()
    os.unlink(log.name)
    return HttpFigures(starts, completions, note=note[-2000:])
