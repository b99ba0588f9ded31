"""`/metrics`: the Prometheus text format, read back with prometheus_client's own parser, with
figures that follow the tickets driven through the engine."""

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.engine import InvalidData, complete_task, start_process
from app.extensions import db
from app.models import HumanTask
from app.worker import drain
from tests.engine.conftest import RETURN_START
from tests.factories import deploy_shipped, make_customer, make_user

GENERAL_START = {"question": "Do you ship to Norway?", "category": "delivery"}


def scrape(client, **headers) -> dict:
    """{(sample name, frozenset(labels)): value} of one scrape."""
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.content_type.startswith("text/plain; version=")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.get_data(as_text=True))
        for s in family.samples
    }


def value(figures: dict, name: str, **labels) -> float:
    return figures.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def people(app):
    deploy_shipped()
    agent = make_user("alice", "agent", teams=("returns", "credit", "support", "customer-success"))
    return agent, make_customer()


def open_ticket(customer, ticket_type, data):
    ticket, _ = start_process(ticket_type, customer.id, "Help", data, actor="test")
    drain()
    return ticket


def test_metrics_are_scraped_without_a_session_and_count_tickets_and_tasks(client, people):
    agent, customer = people
    general = open_ticket(customer, "general", GENERAL_START)
    open_ticket(customer, "general", GENERAL_START)
    open_ticket(customer, "return", RETURN_START)
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == general.id)).scalar_one()
    complete_task(task.id, {"answer": "Yes.", "information_given": True}, agent)
    drain()

    figures = scrape(client)

    assert value(figures, "ticketflow_tickets_opened_total", type="general") == 2
    assert value(figures, "ticketflow_tickets_opened_total", type="return") == 1
    assert value(figures, "ticketflow_tickets_closed_total", type="general") == 1
    assert value(figures, "ticketflow_tickets_open", type="general") == 1
    assert value(figures, "ticketflow_open_tasks", team="support") == 1
    assert value(figures, "ticketflow_open_tasks", team="returns") == 1
    assert value(figures, "ticketflow_jobs", status="pending") == 0
    assert value(figures, "ticketflow_open_incidents", kind="job") == 0
    assert value(figures, "ticketflow_timers_waiting") == 1  # the closed ticket's survey delay


def test_sla_breaches_and_timer_lag_follow_the_clock(client, clock, people):
    agent, customer = people
    answered = open_ticket(customer, "general", GENERAL_START)
    open_ticket(customer, "general", GENERAL_START)
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == answered.id)).scalar_one()
    complete_task(task.id, {"answer": "Yes.", "information_given": True}, agent)
    drain()
    before = scrape(client)
    assert value(before, "ticketflow_sla_breaches_total", type="general") == 0
    assert value(before, "ticketflow_timer_lag_seconds") == 0

    clock.shift(timedelta(days=30))  # the open ticket runs past its SLA, the survey timer is due
    figures = scrape(client)

    assert value(figures, "ticketflow_sla_breaches_total", type="general") == 1
    assert value(figures, "ticketflow_sla_breached_open", type="general") == 1
    assert value(figures, "ticketflow_timers_due") == 1
    assert value(figures, "ticketflow_timer_lag_seconds") == timedelta(days=29).total_seconds()


def test_command_latency_histogram_counts_commands_by_name_and_outcome(client, people):
    _, customer = people
    open_ticket(customer, "general", GENERAL_START)
    with pytest.raises(InvalidData):
        start_process("no-such-type", customer.id, "Help", {}, actor="test")

    figures = scrape(client)

    assert (
        value(figures, "ticketflow_command_duration_seconds_count", command="start_process", outcome="ok")
        == 1
    )
    assert (
        value(figures, "ticketflow_command_duration_seconds_count", command="start_process", outcome="error")
        == 1
    )
    # the general ticket's status changes run inline in start_process: no job to complete
    assert (
        value(figures, "ticketflow_command_duration_seconds_count", command="complete_job", outcome="ok") == 0
    )
    bucket = value(
        figures,
        "ticketflow_command_duration_seconds_bucket",
        command="start_process",
        outcome="ok",
        le="+Inf",
    )
    assert bucket == 1


def test_metrics_token_is_required_when_set(app, client):
    app.config["METRICS_TOKEN"] = "s3cret-scraper"

    refused = client.get("/metrics")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})

    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert wrong.status_code == 401
    assert "ticketflow_tickets_opened" not in refused.get_data(as_text=True)
    figures = scrape(client, Authorization="Bearer s3cret-scraper")
    assert value(figures, "ticketflow_timers_waiting") == 0
