"""`flask seed --history`: tickets of every type through the real engine on a moved clock, with
closed, breached, rated and escalated ones, which the staff pages then show without an error."""

from datetime import timedelta

import pytest

from app.clock import utcnow
from app.demo import parse_period
from app.extensions import db
from app.models import Feedback, HistoryEvent, PriorityChange, Ticket
from app.sla import STOPPING
from tests.factories import login


@pytest.fixture
def week(app, runner, clock):
    result = runner.invoke(args=["seed", "--history", "7d", "--seed", "3", "--per-day", "10"])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_week_of_history_has_every_type_and_closed_breached_rated_and_escalated_tickets(week):
    types = dict(db.session.execute(db.select(Ticket.type, db.func.count()).group_by(Ticket.type)).all())
    closed = db.session.execute(db.select(db.func.count()).where(Ticket.status.in_(STOPPING))).scalar()
    still_open = db.session.execute(db.select(db.func.count()).where(Ticket.status.not_in(STOPPING))).scalar()
    breached = db.session.execute(db.select(db.func.count()).where(Ticket.sla_met.is_(False))).scalar()
    rated = db.session.execute(db.select(db.func.count()).select_from(Feedback)).scalar()
    escalated = db.session.execute(db.select(db.func.count()).select_from(PriorityChange)).scalar()
    first, last = db.session.execute(
        db.select(db.func.min(Ticket.created_at), db.func.max(Ticket.created_at))
    ).one()
    kinds = set(db.session.execute(db.select(HistoryEvent.kind).distinct()).scalars())

    assert set(types) == {"return", "credit", "general", "complaint", "order", "onboarding"}
    assert sum(types.values()) > 40
    assert closed > 0 and still_open > 0 and breached > 0 and rated > 0 and escalated > 0
    assert "history generated" in week and "tickets: complaint" in week
    assert utcnow() - timedelta(days=7, hours=1) <= first < last <= utcnow()
    assert {"ticket_created", "task_completed", "timer_fired", "feedback_recorded"} <= kinds


def test_the_staff_pages_show_the_history(week, client):
    login(client, "max", "ticketflow")

    for url in ("/dashboard/", "/dashboard/alerts", "/inbox/?view=all", "/metrics"):
        assert client.get(url).status_code == 200, url


def test_a_bad_period_is_refused_naming_the_option(runner, app):
    result = runner.invoke(args=["seed", "--history", "6x"])

    assert result.exit_code == 2
    assert "--history" in result.output and "6m" in result.output
    assert db.session.execute(db.select(Ticket.id)).first() is None


@pytest.mark.parametrize(("text", "days"), [("6m", 180), ("3m", 90), ("30d", 30), ("2w", 14), ("1y", 365)])
def test_periods_are_read_in_days(text, days):
    assert parse_period(text) == days
