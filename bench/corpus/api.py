"""Ticketflow through its HTTP API: deploy a bundle to a fresh app, drive one ticket to its end.

The app runs on a temporary SQLite database with the Flask test client; tasks are completed and
messages delivered through the API only, the clock is moved with time-machine past each timer's
due time and the worker drained.
"""

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from io import BytesIO

from lxml import etree

from bench.corpus.dataset import BPMN, Bundle, read_tree
from bench.corpus.driving import MAX_ROUNDS, Recipe, form_data


class CapturedLog(logging.Handler):
    """Keeps the app's warnings and errors so a 5xx row can say what broke."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
        self.records.append(text)


class Api:
    """The Flask test client with the token, answering (status, JSON)."""

    def __init__(self, client, token: str, log: CapturedLog):
        self.client, self.headers, self.log = client, {"Authorization": f"Bearer {token}"}, log

    def call(self, method: str, url: str, **kwargs) -> tuple[int, dict]:
        mark = len(self.log.records)
        response = self.client.open(url, method=method, headers=self.headers, **kwargs)
        body = response.get_json(silent=True)
        body = body if isinstance(body, dict) else {"text": response.get_data(as_text=True)[:300]}
        if response.status_code >= 500:
            body["logged"] = self.log.records[mark:][-1:] or ["(nothing logged)"]
        return response.status_code, body


def run_ticketflow(bundle: Bundle, bare_process: str | None, folder: str) -> dict:
    """Deploy the bundle to a fresh Ticketflow (SQLite in `folder`) and drive one ticket through the API."""
    import time_machine

    log = CapturedLog()
    root = logging.getLogger()
    root.handlers[:] = [log]
    root.setLevel(logging.WARNING)
    os.environ["LOG_LEVEL"] = "WARNING"
    traveller = time_machine.travel(datetime.now(UTC), tick=True)
    clock = traveller.start()
    try:
        from app import create_app
        from app.extensions import db
        from tests.factories import TEAMS, make_customer, make_user, token_for

        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/corpus.db"})
        logging.getLogger("app").setLevel(logging.WARNING)
        with app.app_context():
            db.create_all()
            admin = make_user("corpus", "admin", teams=TEAMS)
            customer_id, token = make_customer().id, token_for(admin)
            db.session.remove()
        from app.handlers import HANDLERS

        api = Api(app.test_client(), token, log)
        row = {"accepted": False, "known_operators": sorted(HANDLERS)}
        key, errors = deploy_bundle(api, bundle, bare_process)
        if errors:
            return {**row, "errors": errors}
        row["accepted"] = True
        row.update(drive_ticket(app, api, bundle, key, customer_id, clock))
        return row
    finally:
        traveller.stop()


def deploy_bundle(api: Api, bundle: Bundle, bare_process: str | None) -> tuple[str | None, list[dict]]:
    """(process key to start, refusal errors) for the bundle, deployed in one POST /deployments."""
    files = [(BytesIO(p.read_bytes()), p.name) for p in bundle.files()]
    status, body = api.call(
        "POST", "/api/v1/deployments", data={"file": files}, content_type="multipart/form-data"
    )
    if status in (200, 201):
        keys = [p.get("key") for p in body.get("processes", [])]
        return pick_key(keys, bundle, bare_process), []
    return None, refusal_errors(status, body)


def pick_key(keys: list[str], bundle: Bundle, bare_process: str | None) -> str | None:
    """The process to open the ticket with: the bundle's top-level process among the deployed keys.

    A collaboration deploys each participant as its own key; the ticket starts the first one in
    the diagram that a person can start (a start event without a message, signal or timer).
    """
    if bare_process in keys:
        return bare_process
    trees = [
        t
        for t in (read_tree(p) for p in (bundle.diagram, *([bundle.companion] if bundle.companion else [])))
        if t is not None
    ]
    called = {el.get("calledElement") for t in trees for el in t.getroot().iter(f"{BPMN}callActivity")}
    processes = [
        p
        for t in trees
        for p in t.getroot().iter(f"{BPMN}process")
        if p.get("id") in keys and p.get("id") not in called
    ]

    def plain_start(process) -> bool:
        starts = process.findall(f"{BPMN}startEvent")
        return any(not any(etree.QName(c).localname.endswith("EventDefinition") for c in s) for s in starts)

    ranked = [p for p in processes if plain_start(p)] or processes
    return ranked[0].get("id") if ranked else (keys[0] if keys else None)


def refusal_errors(status: int, body: dict) -> list[dict]:
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        return [
            {"file": e.get("file"), "element_id": e.get("element_id"), "message": str(e.get("message"))}
            for e in errors
            if isinstance(e, dict)
        ]
    message = body.get("error") or body.get("text") or "no answer"
    if body.get("logged"):
        message += " — " + "; ".join(body["logged"])
    return [{"file": None, "element_id": None, "message": f"HTTP {status}: {message}"}]


def drive_ticket(app, api: Api, bundle: Bundle, key: str | None, customer_id: int, clock) -> dict:
    """Open one ticket and drive it to its end. Returns {ran_to_end, where, notes}."""
    from app.worker import drain

    recipe = Recipe(bundle.id)
    notes: list[str] = []

    def work() -> None:
        with app.app_context():
            try:
                drain()
            except Exception as exc:
                notes.append(f"drain: {type(exc).__name__}: {exc}")

    status, body = api.call(
        "POST",
        "/api/v1/tickets",
        json={
            "type": key,
            "customer_id": customer_id,
            "subject": f"Corpus {bundle.id}",
            "data": recipe.start,
        },
    )
    if status == 422 and recipe.start and "data" in json.dumps(body.get("errors", "")):
        notes.append(f"start data refused ({short(body)}); opened without it")
        status, body = api.call(
            "POST",
            "/api/v1/tickets",
            json={"type": key, "customer_id": customer_id, "subject": f"Corpus {bundle.id}", "data": {}},
        )
    if status != 201:
        return {"ran_to_end": False, "where": f"start: HTTP {status} {short(body)}", "notes": notes}
    ticket_id = body["id"]
    work()
    still, last = 0, None
    for _ in range(MAX_ROUNDS):
        status, ticket = api.call("GET", f"/api/v1/tickets/{ticket_id}")
        if status != 200:
            return {
                "ran_to_end": False,
                "where": f"GET ticket: HTTP {status} {short(ticket)}",
                "notes": notes,
            }
        instance = ticket.get("instance") or {}
        if instance.get("status") == "completed":
            return {"ran_to_end": True, "where": "", "notes": notes}
        if instance.get("status") not in ("running", "incident"):
            return {"ran_to_end": False, "where": f"instance {instance.get('status')}", "notes": notes}
        if ticket.get("incidents"):
            return {
                "ran_to_end": False,
                "where": "incident "
                + "; ".join(f"{i.get('element_id')}: {i.get('message')}" for i in ticket["incidents"]),
                "notes": notes,
            }
        _, listing = api.call("GET", f"/api/v1/tasks?ticket_id={ticket_id}")
        tasks = listing.get("tasks", [])
        waiting = ticket.get("waiting") or {}
        fingerprint = json.dumps(
            [instance, [t["id"] for t in tasks], waiting, len(ticket.get("history", []))], sort_keys=True
        )
        still = still + 1 if fingerprint == last else 0
        if still >= 2:
            return {"ran_to_end": False, "where": ticketflow_open(tasks, waiting, notes), "notes": notes}
        last = fingerprint
        # One thing per round: completing a task may cancel another, a message may end other waits.
        for kind in recipe.order:
            if kind == "task" and tasks:
                any(complete(api, task, recipe, notes) for task in tasks)
                break
            if kind == "message" and waiting.get("messages"):
                any(
                    deliver(api, ticket_id, name, recipe, notes)
                    for name in dict.fromkeys(m["name"] for m in waiting["messages"])
                )
                break
            if kind == "timer" and any(t.get("due_at") for t in waiting.get("timers", [])):
                due = min(datetime.fromisoformat(t["due_at"]) for t in waiting["timers"] if t.get("due_at"))
                if due.tzinfo is None:
                    due = due.replace(tzinfo=UTC)
                if due + timedelta(seconds=1) > datetime.now(UTC):
                    clock.move_to(due + timedelta(seconds=1))
                break
        work()
    return {"ran_to_end": False, "where": f"still running after {MAX_ROUNDS} rounds", "notes": notes}


def complete(api: Api, task: dict, recipe: Recipe, notes: list[str]) -> bool:
    """Complete a task with its form's data and the recipe's; False (and a note) when refused."""
    data = (
        form_data(task["form"], recipe.task(task["name"])) if task.get("form") else recipe.task(task["name"])
    )
    status, body = api.call("POST", f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    if status == 422 and data and not task.get("form") and "no form" in json.dumps(body):
        notes.append(f"{task['name']}: data for a task without a form refused; sent {{}}")
        status, body = api.call("POST", f"/api/v1/tasks/{task['id']}/complete", json={"data": {}})
    if status != 200:
        notes.append(f"complete {task['name']}: HTTP {status} {short(body)}")
    return status == 200


def deliver(api: Api, ticket_id: int, name: str, recipe: Recipe, notes: list[str]) -> bool:
    """Deliver a message the ticket waits for with the recipe's payload; False (and a note) when refused."""
    status, body = api.call(
        "POST",
        "/api/v1/messages",
        json={"name": name, "ticket_id": ticket_id, "payload": recipe.message(name)},
    )
    if status != 200:
        notes.append(f"message {name}: HTTP {status} {short(body)}")
    return status == 200


def ticketflow_open(tasks: list[dict], waiting: dict, notes: list[str]) -> str:
    parts = [f"task {t['name']} open" for t in tasks]
    parts += [f"waits message {m['name']} at {m['element_id']}" for m in waiting.get("messages", [])]
    parts += [f"waits timer {t['element_id']} (due {t.get('due_at')})" for t in waiting.get("timers", [])]
    where = "; ".join(parts) or "nothing open, not completed"
    return f"{where} [{notes[-1]}]" if notes else where


def short(body: dict) -> str:
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        return "; ".join(f"{e.get('element_id') or ''}: {e.get('message')}".strip(": ") for e in errors[:3])
    if isinstance(errors, dict):
        return "; ".join(f"{k}: {v}" for k, v in list(errors.items())[:3])
    text = body.get("error") or body.get("text") or ""
    return text + (" — " + "; ".join(body["logged"]) if body.get("logged") else "")
