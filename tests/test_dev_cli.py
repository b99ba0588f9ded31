"""`flask dev advance-ticket`: a ticket's clock moves on command (development and test only), so a
new user sees the survey and its reminder without waiting; delays come from the environment."""

import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from app.clock import utcnow
from app.config import ConfigError, env_durations, env_int
from app.engine import complete_task, start_process, waiting_of
from app.extensions import db
from app.models import FeedbackRequest, HumanTask, OutboxMessage
from app.worker import drain
from tests.factories import ROOT, deploy_shipped, make_customer, make_user

GENERAL = {"question": "Where is my parcel?", "category": "delivery"}


@pytest.fixture
def answered(app, clock):
    """A general question answered and closed: it waits a day to send the survey."""
    deploy_shipped("general")
    dave = make_user("dave", teams=("support",))
    ticket, _ = start_process("general", make_customer().id, "Parcel", GENERAL)
    drain()
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    complete_task(task.id, {"information_given": True, "answer": "It ships today."}, dave)
    drain()
    return ticket


def _surveys(ticket) -> int:
    return db.session.execute(
        db.select(db.func.count(FeedbackRequest.id)).where(FeedbackRequest.ticket_id == ticket.id)
    ).scalar_one()


def _mails(ticket) -> int:
    return db.session.execute(
        db.select(db.func.count(OutboxMessage.id)).where(OutboxMessage.ticket_id == ticket.id)
    ).scalar_one()


def test_advance_ticket_sends_the_survey_then_its_reminder_without_waiting(answered, runner):
    assert _surveys(answered) == 0
    result = runner.invoke(args=["dev", "advance-ticket", str(answered.id), "--by", "1d"])
    assert result.exit_code == 0, result.output
    assert "1 timer(s) moved 1d closer" in result.output
    assert "now waiting: timer feedback_reminder_due" in result.output
    assert _surveys(answered) == 1
    mails = _mails(answered)
    result = runner.invoke(args=["dev", "advance-ticket", str(answered.id), "--by", "3d"])
    assert result.exit_code == 0, result.output
    assert _mails(answered) == mails + 1  # the reminder


def test_advance_ticket_is_refused_outside_development(answered, runner, app):
    app.config["TICKETFLOW_ENV"] = "production"
    result = runner.invoke(args=["dev", "advance-ticket", str(answered.id), "--by", "1d"])
    assert result.exit_code != 0 and "only in development" in result.output
    assert _surveys(answered) == 0


@pytest.mark.parametrize("shift", ["tomorrow", "2y", "0m"])
def test_advance_ticket_names_a_bad_time(answered, runner, shift):
    result = runner.invoke(args=["dev", "advance-ticket", str(answered.id), "--by", shift])
    assert result.exit_code != 0 and "--by" in result.output


def test_advance_ticket_names_an_unknown_ticket(app, runner):
    result = runner.invoke(args=["dev", "advance-ticket", "4711", "--by", "1d"])
    assert result.exit_code != 0 and "ticket 4711 has no process instance" in result.output


# --- delays from the environment -------------------------------------------------------------


def test_feedback_delay_comes_from_the_environment_for_every_type_or_per_type(monkeypatch):
    default = {"return": "P1D", "general": "P1D"}
    monkeypatch.setenv("FEEDBACK_DELAY", "PT5M")
    assert env_durations("FEEDBACK_DELAY", default) == {"return": "PT5M", "general": "PT5M"}
    monkeypatch.setenv("FEEDBACK_DELAY", "general=pt1m")
    assert env_durations("FEEDBACK_DELAY", default) == {"return": "P1D", "general": "PT1M"}


@pytest.mark.parametrize("value", ["1 day", "P", "general=soon", "PT5M,P1D"])
def test_a_bad_feedback_delay_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("FEEDBACK_DELAY", value)
    with pytest.raises(ConfigError, match="FEEDBACK_DELAY"):
        env_durations("FEEDBACK_DELAY", {"general": "P1D"})


def test_a_bad_number_names_the_variable(monkeypatch):
    monkeypatch.setenv("JOB_LEASE_SECONDS", "a minute")
    with pytest.raises(ConfigError, match="JOB_LEASE_SECONDS='a minute': must be a whole number, at least 1"):
        env_int("JOB_LEASE_SECONDS", 60, 1)


def test_the_app_does_not_start_with_a_bad_delay_and_says_which():
    env = {**os.environ, "FEEDBACK_DELAY": "tomorrow", "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", "import app.config"], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert run.returncode != 0 and "ConfigError: FEEDBACK_DELAY='tomorrow'" in run.stderr


def test_the_engine_gives_a_new_ticket_the_configured_feedback_delay(app):
    app.config["FEEDBACK_DELAY"] = {**app.config["FEEDBACK_DELAY"], "general": "PT1M"}
    deploy_shipped("general")
    ticket, instance = start_process("general", make_customer().id, "Parcel", GENERAL)
    from app.engine import process_data

    assert process_data(instance.id)["feedback_delay"] == "PT1M"


def test_the_survey_reminder_waits_the_configured_delay(app, clock, runner):
    app.config["FEEDBACK_REMINDER_DELAY"] = {**app.config["FEEDBACK_REMINDER_DELAY"], "general": "PT10M"}
    deploy_shipped("general")
    dave = make_user("dave", teams=("support",))
    ticket, instance = start_process("general", make_customer().id, "Parcel", GENERAL)
    drain()
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    complete_task(task.id, {"information_given": True, "answer": "It ships today."}, dave)
    drain()
    runner.invoke(args=["dev", "advance-ticket", str(ticket.id), "--by", "1d"])  # the survey goes out
    [timer] = waiting_of(instance.id)["timers"]
    assert timer["element_id"] == "feedback_reminder_due"
    assert datetime.fromisoformat(timer["due_at"]) == utcnow() + timedelta(minutes=10)
