"""The benchmark's database and app: a SQLite file or a throwaway PostgreSQL, schema, deploys.

Every backend gets a fresh database with `db.create_all()`, the shipped processes and decisions
deployed (as `flask processes deploy` does), one agent with an API token and one customer. The start data is the same for the
engine, the HTTP API and the bare SpiffWorkflow runs, so their figures compare.
"""

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine

from app import create_app
from app.engine import deploy
from app.extensions import db
from tests.factories import make_customer, make_user, token_for
from tests.postgres import TempPostgres

START_DATA = {
    "general": {"question": "Where is my parcel?", "category": "delivery"},
    "return": {
        "order_number": "SO-1001",
        "items": [{"sku": "SHOE-42", "qty": 1}, {"sku": "SOCK-1", "qty": 2}],
        "reason": "damaged",
        "amount": 89.9,
        "preferred_resolution": "refund",
    },
}
AGENT_PASSWORD = "bench-agent-password"
ANSWER_LATER = {"information_given": False}  # general: back to the same user task, ticket stays open
SUBJECT = "Benchmark ticket"


def quiet_logging() -> None:
    """Keep the bench output to figures: WARNING and above only (gunicorn reads LOG_LEVEL)."""
    os.environ["LOG_LEVEL"] = "WARNING"
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("app").setLevel(logging.WARNING)


@dataclass
class World:
    """A prepared backend: the app bound to its database and the rows every benchmark uses."""

    backend: str
    url: str
    app: Flask
    agent_id: int
    customer_id: int
    customer_profile: dict
    token: str
    agent_username: str = "bench_agent"
    agent_password: str = AGENT_PASSWORD  # signs in for the inbox's form


@contextmanager
def sqlite_url() -> Iterator[str]:
    """A SQLite file in a temporary folder (the engine switches it to WAL on connect)."""
    folder = tempfile.mkdtemp(prefix="ticketflow-bench-")
    try:
        yield f"sqlite:///{os.path.join(folder, 'bench.db')}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def postgres_url() -> Iterator[str | None]:
    """A throwaway PostgreSQL cluster, or None when its binaries are not installed."""
    server = TempPostgres()
    try:
        url = server.start()
    except RuntimeError as exc:  # binaries missing: the caller prints a note and skips
        shutil.rmtree(server.dir, ignore_errors=True)
        print(f"note: PostgreSQL skipped: {exc}")
        yield None
        return
    try:
        yield url
    finally:
        server.stop()


def analyze(url: str) -> None:
    """Give the planner the statistics a database in service has (autovacuum's ANALYZE).

    A fresh database has none: PostgreSQL plans the foreign-key checks on `ticket` while the
    table holds a few rows, as a sequential scan, and keeps that plan in each connection until an
    ANALYZE invalidates it (autovacuum's first comes a minute or more later). Under load every
    check then reads the whole table: a cold database, not the code, would be measured.
    """
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


def deploy_shipped_files(folder: Path) -> None:
    """Deploy what `flask processes deploy` deploys: every .dmn, then every .bpmn of the folder."""
    for path in sorted(folder.glob("*.dmn")) + sorted(folder.glob("*.bpmn")):
        deploy(path.read_bytes(), actor="bench")


def prepare(backend: str, url: str) -> World:
    """Create the schema, deploy the shipped processes, and make an agent and a customer."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    quiet_logging()  # create_app configures logging from LOG_LEVEL; keep it at WARNING
    with app.app_context():
        db.create_all()
        deploy_shipped_files(Path(app.config["PROCESSES_DIR"]))
        agent = make_user(
            "bench_agent",
            "agent",
            teams=("returns", "credit", "support", "customer-success"),
            password=AGENT_PASSWORD,
        )
        customer = make_customer()
        world = World(backend, url, app, agent.id, customer.id, customer.profile(), token_for(agent))
        db.session.remove()
    return world
