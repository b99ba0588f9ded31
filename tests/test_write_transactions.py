"""On SQLite every transaction that writes began with `BEGIN IMMEDIATE`: a deferred one that read
first could not upgrade to a write while another connection writes ("database is locked")."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.engine import InvalidData, start_process
from app.extensions import db
from app.models import Customer, HumanTask
from app.transactions import only_read
from tests.factories import csrf_of, deploy_shipped, login, make_customer, make_user

WRITES = ("INSERT", "UPDATE", "DELETE")


@contextmanager
def transactions():
    """The statements sent inside the block, grouped by transaction (each list starts at its BEGIN)."""
    groups: list[list[str]] = []

    def record(_conn, _cursor, statement, *_args):
        words = statement.split()
        verb = " ".join(words[:2]) if words[:2] == ["BEGIN", "IMMEDIATE"] else words[0].upper()
        if verb.startswith("BEGIN") or not groups:
            groups.append([])
        groups[-1].append(verb)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield groups
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _deferred_writes(groups):
    return [g for g in groups if any(v in WRITES for v in g) and g[0] != "BEGIN IMMEDIATE"]


@pytest.fixture
def sqlite_only(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("BEGIN IMMEDIATE is SQLite's; PostgreSQL writes wait for row locks")


def test_sign_in_sign_out_and_the_admin_pages_write_in_immediate_transactions(sqlite_only, client):
    make_user("root", "admin", password="pw")
    with transactions() as groups:
        login(client, "root", "wrong")
        login(client, "root")
        token = csrf_of(client.get("/admin/users").get_data(as_text=True))
        client.post(
            "/admin/teams", data={"key": "vip", "name": "VIP", "strategy": "skills", "csrf_token": token}
        )
        client.post("/logout", data={"csrf_token": token})
    assert sum(1 for g in groups if any(v in WRITES for v in g)) >= 4
    assert _deferred_writes(groups) == []


def test_the_cli_and_the_api_token_bookkeeping_write_in_immediate_transactions(sqlite_only, runner, client):
    with transactions() as groups:
        assert runner.invoke(args=["seed"]).exit_code == 0
        token = runner.invoke(args=["users", "create-token", "admin", "--name", "ci"]).output.strip()
        client.get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})  # writes last use
        assert runner.invoke(args=["users", "revoke", "admin", "ci"]).exit_code == 0
    assert sum(1 for g in groups if any(v in WRITES for v in g)) >= 4
    assert _deferred_writes(groups) == []


@pytest.mark.parametrize("flushed", [True, False], ids=["flushed", "pending"])
def test_a_command_commits_first_what_its_caller_wrote_after_noting_a_read(app, flushed):
    """`only_read` lets a PostgreSQL command go on in its caller's transaction; a write after the
    note (flushed or still pending) makes it commit that transaction first, as before, so the
    command's failure cannot take the write back."""
    db.session.execute(db.select(Customer.id)).all()  # the caller's read (an API token check)
    only_read()
    db.session.add(Customer(name="Written before the command", email="w@example.com"))
    if flushed:
        db.session.flush()
    with pytest.raises(InvalidData):
        start_process("no-such-type", 1, "subject", {})
    db.session.rollback()
    assert db.session.scalar(db.select(Customer.name)) == "Written before the command"


def _general_task_form(client) -> tuple[str, str]:
    """A general ticket's open task and the CSRF token of its page, signed in as its agent; the
    test's transaction ended, so that the request begins its own, as behind a server."""
    deploy_shipped("general")
    make_user("dave", "agent", teams=("support",), password="pw")
    ticket, _ = start_process(
        "general", make_customer().id, "Parcel", {"question": "Where?", "category": "delivery"}
    )
    task = db.session.execute(db.select(HumanTask.id).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    login(client, "dave")
    token = csrf_of(client.get(f"/inbox/tasks/{task}").get_data(as_text=True))
    db.session.rollback()
    return task, token


def _submit_noting(client, task: str, token: str, name: str) -> list[tuple]:
    """Submit the task's answer form (it must complete); the arguments of each of the engine's
    `name` events meanwhile."""
    noted = []

    def note(*args):
        noted.append(args)

    event.listen(db.engine, name, note)
    try:
        answer = client.post(f"/inbox/tasks/{task}", data={"answer": "Soon", "csrf_token": token})
    finally:
        event.remove(db.engine, name, note)
    assert answer.status_code == 302
    return noted


def test_an_inbox_form_without_uploads_completes_in_the_requests_own_transaction(app, client):
    """The signed-in person's read notes `only_read`, and a submit without a file stores nothing
    before the command: on PostgreSQL the whole request is one transaction; SQLite ends the read
    one and begins the command's with BEGIN IMMEDIATE."""
    task, token = _general_task_form(client)
    began = _submit_noting(client, task, token, "begin")
    assert len(began) == (1 if db.engine.dialect.name == "postgresql" else 2)
    assert db.session.execute(db.select(HumanTask.id).where(HumanTask.id == task)).first() is None


def test_an_inbox_form_reads_its_task_once_where_the_command_goes_on_in_its_transaction(app, client):
    """The submit reads the task, its instance (locked) and its form as the completion reads them:
    on PostgreSQL the completion, in the same transaction, takes that read; SQLite's command, in a
    transaction of its own, reads again."""
    task, token = _general_task_form(client)
    sent = [noted[2] for noted in _submit_noting(client, task, token, "before_cursor_execute")]
    task_reads = [s for s in sent if s.lstrip().startswith("SELECT human_task.id")]
    assert len(task_reads) == (1 if db.engine.dialect.name == "postgresql" else 2)
    assert db.session.execute(db.select(HumanTask.id).where(HumanTask.id == task)).first() is None
