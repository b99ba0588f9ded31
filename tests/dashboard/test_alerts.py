"""Alerts: rules per type and team, evaluated by the worker, fired once while firing, resolved when
the figure recovers, managers told by e-mail (outbox) and by a banner; the page that edits them."""

from datetime import timedelta

import pytest

from app.dashboard.alerts import evaluate_alerts
from app.engine import complete_task, record_feedback, start_process
from app.extensions import db
from app.models import AlertEvent, AlertRule, FeedbackRequest, HumanTask, OutboxMessage
from app.sla.demo import seed_sla_demo
from app.worker import Worker, drain
from tests.factories import csrf_of, deploy_shipped, login, make_customer, make_user

GENERAL_START = {"question": "Do you ship to Norway?", "category": "delivery"}
ANSWERED = {"answer": "Yes.", "information_given": True}


@pytest.fixture
def people(app):
    deploy_shipped()
    agent = make_user(
        "alice", "agent", teams=("returns", "credit", "support", "customer-success"), password="pw"
    )
    make_user("max", "manager", password="pw")
    make_user("root", "admin", password="pw")
    make_user("dave", "agent", teams=("support",), lead=True, password="pw")
    seed_sla_demo()
    db.session.commit()
    return agent, make_customer()


def open_general(customer):
    ticket, _ = start_process("general", customer.id, "Question", GENERAL_START, actor="test")
    drain()
    return ticket


def answer(ticket, agent):
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    complete_task(task.id, ANSWERED, agent)
    drain()


def add_rule(metric, threshold, ticket_type=None, team_key=None, window_days=7):
    rule = AlertRule(
        metric=metric,
        threshold=threshold,
        ticket_type=ticket_type,
        team_key=team_key,
        window_days=window_days,
    )
    db.session.add(rule)
    db.session.commit()
    return rule


def events():
    return db.session.execute(db.select(AlertEvent).order_by(AlertEvent.id)).scalars().all()


def alert_mails():
    rows = db.session.execute(db.select(OutboxMessage).where(OutboxMessage.subject.like("Ticketflow alert%")))
    return sorted(m.recipient for m in rows.scalars())


def test_sla_attainment_below_threshold_fires_once_and_emails_managers_and_admins(clock, people):
    _, customer = people
    add_rule("sla_attainment", 90, ticket_type="general")
    open_general(customer)
    open_general(customer)
    assert evaluate_alerts().fired == []  # nothing decided yet: no data, no alert

    clock.shift(timedelta(days=6))  # both run past their 2-business-day target
    first = evaluate_alerts()
    clock.shift(timedelta(minutes=5))
    again = evaluate_alerts()

    assert [e.value for e in first.fired] == [0.0]
    assert again.fired == [] and again.resolved == []
    [event] = events()
    assert event.threshold == 90 and event.resolved_at is None
    assert event.fired_at == first.fired[0].fired_at
    assert "SLA attainment (%) below 90 · general" in event.description
    assert alert_mails() == ["max@example.com", "root@example.com"]


def test_backlog_alert_resolves_when_the_backlog_falls_and_fires_again_later(clock, people):
    agent, customer = people
    add_rule("backlog", 1, ticket_type="general", team_key="support")
    add_rule("backlog", 0, team_key="returns")  # general tickets count on support's calendar, not returns'
    first = open_general(customer)
    open_general(customer)
    assert [e.value for e in evaluate_alerts().fired] == [2.0]

    answer(first, agent)
    clock.shift(timedelta(hours=1))
    resolved = evaluate_alerts().resolved
    open_general(customer)
    clock.shift(timedelta(hours=1))
    fired_again = evaluate_alerts().fired

    assert [e.value for e in resolved] == [2.0] and resolved[0].resolved_at is not None
    assert [e.value for e in fired_again] == [2.0]
    assert [e.resolved_at is None for e in events()] == [False, True]


def test_csat_below_threshold_fires_on_the_ratings_of_the_period(clock, people):
    agent, customer = people
    add_rule("csat", 4, ticket_type="general", window_days=7)
    ticket = open_general(customer)
    answer(ticket, agent)
    clock.shift(timedelta(days=1, minutes=1))  # the survey goes out a day after closing
    drain()
    request = db.session.execute(
        db.select(FeedbackRequest).where(FeedbackRequest.ticket_id == ticket.id)
    ).scalar_one()
    record_feedback(request.id, 2, "It took long.")

    fired = evaluate_alerts().fired
    clock.shift(timedelta(days=8))  # the rating leaves the period: no data, the alert resolves
    resolved = evaluate_alerts().resolved

    assert [e.value for e in fired] == [2.0]
    assert [e.id for e in resolved] == [fired[0].id]


def test_a_disabled_rule_resolves_its_alert_and_fires_nothing(clock, people):
    _, customer = people
    rule = add_rule("backlog", 0)
    open_general(customer)
    assert len(evaluate_alerts().fired) == 1
    rule.enabled = False
    db.session.commit()

    result = evaluate_alerts()

    assert result.fired == [] and len(result.resolved) == 1


def test_the_worker_evaluates_alerts_on_its_own_schedule(app, clock, people):
    _, customer = people
    app.config["ALERT_EVALUATE_SECONDS"] = 30
    add_rule("backlog", 0)
    open_general(customer)
    worker = Worker(app)
    worker.start(paused=True)
    try:
        job = worker.scheduler.get_job("alerts")
        assert job.trigger.interval == timedelta(seconds=30)
        worker.evaluate_alerts()
    finally:
        worker.shutdown()
    db.session.expire_all()
    assert [e.value for e in events()] == [1.0]


# ---------------------------------------------------------------------------- the page
def test_manager_adds_a_rule_and_sees_every_alert_with_when_it_fired(client, clock, people):
    _, customer = people
    login(client, "max")
    page = client.get("/dashboard/alerts")
    assert page.status_code == 200
    answer_ = client.post(
        "/dashboard/alerts",
        data={
            "csrf_token": csrf_of(page.get_data(as_text=True)),
            "metric": "backlog",
            "ticket_type": "general",
            "team_key": "",
            "threshold": "0",
            "window_days": "7",
        },
    )
    assert answer_.status_code == 303
    open_general(customer)
    evaluate_alerts()

    html = client.get("/dashboard/alerts").get_data(as_text=True)

    assert "backlog (open tickets) above 0 · general · every team" in html
    assert "23 Nov 2026 10:00 CET" in html  # when it fired, in the viewer's zone
    assert "firing" in html


def test_a_rule_with_a_bad_threshold_is_refused_naming_the_field(client, people):
    login(client, "max")
    token = csrf_of(client.get("/dashboard/alerts").get_data(as_text=True))

    answer = client.post(
        "/dashboard/alerts",
        data={"csrf_token": token, "metric": "sla_attainment", "threshold": "150", "window_days": "7"},
    )

    assert answer.status_code == 422
    assert 'id="threshold-error"' in answer.get_data(as_text=True)
    assert "a percentage" in answer.get_data(as_text=True)
    assert db.session.execute(db.select(AlertRule)).first() is None


def test_manager_changes_and_deletes_a_rule_and_its_alerts_stay_listed(client, people):
    _, customer = people
    rule = add_rule("backlog", 0)
    open_general(customer)
    evaluate_alerts()
    login(client, "max")
    token = csrf_of(client.get("/dashboard/alerts").get_data(as_text=True))

    saved = client.post(
        "/dashboard/alerts/rules",
        data={
            "csrf_token": token,
            "rule_id": rule.id,
            "action": "save",
            "threshold": "5",
            "window_days": "7",
        },
    )
    db.session.expire_all()
    assert saved.status_code == 303
    assert (rule.threshold, rule.enabled) == (5, False)
    deleted = client.post(
        "/dashboard/alerts/rules", data={"csrf_token": token, "rule_id": rule.id, "action": "delete"}
    )

    assert deleted.status_code == 303
    assert db.session.execute(db.select(AlertRule)).first() is None
    [event] = events()
    assert event.rule_id is None
    assert "backlog (open tickets) above 0" in client.get("/dashboard/alerts").get_data(as_text=True)


def test_team_leads_and_agents_get_a_404(client, people):
    login(client, "dave")  # leads support: the dashboard yes, alerts no
    assert client.get("/dashboard/alerts").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/inbox/").get_data(as_text=True))})
    login(client, "alice")
    assert client.get("/dashboard/alerts").status_code == 404


def test_managers_see_a_banner_on_staff_pages_until_they_dismiss_it(client, people):
    _, customer = people
    add_rule("backlog", 0)
    open_general(customer)
    evaluate_alerts()
    login(client, "max")

    inbox = client.get("/inbox/").get_data(as_text=True)
    assert "1 alert firing" in inbox
    dismissed = client.post(
        "/dashboard/alerts/dismiss",
        data={
            "csrf_token": csrf_of(inbox),
            "through": inbox.split('name="through" value="')[1].split('"')[0],
            "next": "/inbox/",
        },
    )

    assert dismissed.status_code == 303 and dismissed.headers["Location"].endswith("/inbox/")
    assert "alert firing" not in client.get("/inbox/").get_data(as_text=True)


def test_agents_never_see_the_banner(client, people):
    _, customer = people
    add_rule("backlog", 0)
    open_general(customer)
    evaluate_alerts()
    login(client, "alice")

    assert "alert firing" not in client.get("/inbox/").get_data(as_text=True)
