"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from app import create_app
from app.engine import add_comment, start_process
from app.extensions import db
from app.models import trigrams
from tests.engine.conftest import RETURN_START
from tests.factories import deploy_shipped, make_customer_user, make_user


def _compare(conn) -> list:
    """What the migrated database lacks or has beyond the models."""
    context = MigrationContext.configure(conn, opts={"include_object": trigrams.include_object(conn)})
    return compare_metadata(context, db.metadata)


def _fresh_url(tmp_path, postgres_url):
    if postgres_url is None:
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS migrated"))
        conn.execute(text("CREATE DATABASE migrated"))
    admin.dispose()
    return postgres_url.rsplit("/", 1)[0] + "/migrated"


def test_migrations_match_the_models(tmp_path, postgres_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": _fresh_url(tmp_path, postgres_url)})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = _compare(conn)
        db.engine.dispose()
    assert diff == []


def _expression_indexes(conn) -> set[str]:
    names = ("ix_customer_name_lower", "ix_customer_email_lower", "ix_human_task_due_order")
    names += (
        "ix_human_task_team_due_order",
        "ix_human_task_team_assignee_order",
        "ix_human_task_assignee_order",
        "ix_human_task_priority_order",
        "ix_human_task_team_priority_order",
        "ix_human_task_sla_order",
        "ix_human_task_team_sla_order",
    )
    if conn.dialect.name == "sqlite":
        found = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars()
    else:
        found = conn.execute(text("SELECT indexname FROM pg_indexes")).scalars()
    return set(found) & set(names)


def _a_return_ticket():
    """The migrated database's first ticket (a customer's return): (customer, ticket)."""
    upgrade()
    deploy_shipped("return")
    _, customer = make_customer_user("jane")
    ticket, _ = start_process("return", customer.id, "Shoes", RETURN_START, actor="portal")
    return customer, ticket


def test_a_database_with_tickets_goes_down_past_the_customer_changes_and_up_again(tmp_path, postgres_url):
    """SQLite rebuilds a table to drop a column: done carelessly, that breaks on the rows other
    tables point at, or silently loses the expression indexes autogenerate cannot see."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": _fresh_url(tmp_path, postgres_url)})
    with app.app_context():
        customer, _ = _a_return_ticket()
        db.session.remove()
        with db.engine.connect() as conn:
            assert len(_expression_indexes(conn)) == 10
        downgrade(revision="0011_saved_filters")
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT customer_id FROM ticket")).scalars().all() == [customer.id]
            assert conn.execute(text("SELECT count(*) FROM human_task")).scalar() == 1
            assert len(_expression_indexes(conn)) == 10
            diff = _compare(conn)
        db.engine.dispose()
    assert diff == []


def test_a_database_with_an_answered_ticket_goes_down_before_the_dashboard_stats_and_up_again(
    tmp_path, postgres_url
):
    """0009 replays the history through today's models (app.stats.rebuild), into a schema whose
    tasks do not copy their ticket's first answer yet; 0029 copies it."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": _fresh_url(tmp_path, postgres_url)})
    with app.app_context():
        _, ticket = _a_return_ticket()
        add_comment(ticket.id, make_user("alice", "agent", teams=("returns",)), "We are on it.")
        answered = "SELECT first_response_at FROM ticket_stat"
        with db.engine.connect() as conn:
            first = conn.execute(text(answered)).scalar_one()
            assert first is not None
            assert conn.execute(text("SELECT first_responded_at FROM human_task")).scalars().all() == [first]
        db.session.remove()
        downgrade(revision="0008_ticket_fields")
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text(answered)).scalar_one() == first  # replayed by 0009
            assert conn.execute(text("SELECT first_responded_at FROM human_task")).scalars().all() == [first]
            diff = _compare(conn)
        db.engine.dispose()
    assert diff == []
