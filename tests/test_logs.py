"""Structured logs: a line per request and per engine command, in JSON when LOG_FORMAT=json."""

import json
import logging

import pytest

from app.engine import cancel_instance, start_process
from app.logs import JsonFormatter, log_context
from tests.engine.conftest import RETURN_START
from tests.factories import deploy_shipped, make_customer, make_user, token_for


def _records(caplog, name):
    return [r for r in caplog.records if r.name == name]


def test_json_formatter_writes_one_object_with_the_extra_fields():
    record = logging.makeLogRecord(
        {"name": "ticketflow.command", "levelname": "INFO", "msg": "command %s", "args": ("x",)}
    )
    record.command, record.ticket_id, record.duration_ms = "fire_timer", 7, 1.25
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert (
        entry["msg"] == "command x" and entry["level"] == "INFO" and entry["logger"] == "ticketflow.command"
    )
    assert (entry["command"], entry["ticket_id"], entry["duration_ms"]) == ("fire_timer", 7, 1.25)
    assert entry["ts"].endswith("+00:00")


def test_a_request_logs_method_path_status_duration_user_and_request_id(app, client, caplog):
    deploy_shipped("return")
    admin = make_user("boss", "admin")
    token = token_for(admin)
    customer = make_customer()
    caplog.set_level(logging.INFO)
    answer = client.post(
        "/api/v1/tickets?secret=q",
        json={"type": "return", "customer_id": customer.id, "subject": "Parcel", "data": RETURN_START},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-42"},
    )
    assert answer.status_code == 201
    assert answer.headers["X-Request-ID"] == "req-42"
    (line,) = _records(caplog, "ticketflow.request")
    assert (line.method, line.path, line.status, line.user_id, line.request_id) == (
        "POST",
        "/api/v1/tickets",
        201,
        admin.id,
        "req-42",
    )
    assert line.duration_ms > 0
    text = JsonFormatter().format(line)
    assert "Parcel" not in text and "secret" not in text and token not in text  # no body, query, token
    commands = [r for r in _records(caplog, "ticketflow.command") if r.command == "start_process"]
    assert commands and commands[0].request_id == "req-42" and commands[0].outcome == "ok"


def test_a_made_up_request_id_and_a_masked_survey_token(client, caplog):
    caplog.set_level(logging.INFO)
    answer = client.get("/survey/not-a-real-token-value", headers={"X-Request-ID": "bad id with spaces"})
    assert answer.status_code in (400, 404)  # a link that is not one
    (line,) = _records(caplog, "ticketflow.request")
    assert line.path == "/survey/***" and "not-a-real-token-value" not in JsonFormatter().format(line)
    assert len(line.request_id) == 32 and line.request_id == answer.headers["X-Request-ID"]
    assert line.user_id is None


def test_a_command_line_names_its_ticket_and_element(app, caplog):
    deploy_shipped("return")
    customer = make_customer()
    agent = make_user("admin1", "admin")
    ticket, instance = start_process("return", customer.id, "Parcel", RETURN_START)
    caplog.set_level(logging.INFO)
    with log_context(ticket_id=ticket.id, element="review"):
        cancel_instance(instance.id, user=agent)
    (line,) = [r for r in _records(caplog, "ticketflow.command") if r.command == "cancel_instance"]
    assert (line.ticket_id, line.element, line.outcome) == (ticket.id, "review", "ok")
    assert f"ticket={ticket.id} element=review" in line.getMessage()


@pytest.mark.parametrize("value", ["xml", "JSONL"])
def test_a_bad_log_format_stops_the_app_naming_the_variable(monkeypatch, value):
    from app.config import ConfigError, env_choice

    monkeypatch.setenv("LOG_FORMAT", value)
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        env_choice("LOG_FORMAT", "text", ("json", "text"))
