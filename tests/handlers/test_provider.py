"""Refunds through a payment provider over HTTP (PAYMENT_PROVIDER_URL): the job's idempotency key
makes a retried job pay once, whatever the provider answered the first time."""

from datetime import timedelta

import pytest

from app.engine import claim_jobs, deploy, start_process
from app.extensions import db
from app.models import Incident, Job, LedgerEntry
from app.worker import drain
from faults.provider import Provider
from tests.diagrams import service_task_process
from tests.factories import make_customer

AMOUNT = '<spiffworkflow:parameter id="amount" type="float" value="42.5"/>'


@pytest.fixture
def provider(app):
    stub = Provider().start()
    app.config.update(PAYMENT_PROVIDER_URL=stub.url, PAYMENT_PROVIDER_TIMEOUT=0.5)
    yield stub
    stub.stop()


def _refund_ticket():
    deploy(service_task_process("refund.issue", AMOUNT))
    return start_process("svc", make_customer().id, "Refund", {})[0]


def _ledger():
    db.session.commit()
    return [(e.kind, float(e.amount)) for e in db.session.execute(db.select(LedgerEntry)).scalars()]


@pytest.mark.parametrize("fault", ["error", "timeout"])
def test_a_payment_made_but_answered_with_a_failure_is_paid_once_on_retry(app, clock, provider, fault):
    ticket = _refund_ticket()
    provider.set_mode(fault, rate=1.0, delay=1.0)
    drain()
    job = db.session.execute(db.select(Job)).scalar()
    assert job.status == "pending" and "payment provider" in job.last_error  # retried later
    assert _ledger() == [] and provider.ledger()["applied"] == 1  # paid there, not recorded here
    provider.set_mode("ok")
    clock.shift(timedelta(minutes=5))
    drain()
    assert _ledger() == [("refund", 42.5)]
    ledger = provider.ledger()
    assert ledger["applied"] == 1 and ledger["calls"] == 2 and provider.duplicates() == []
    assert ledger["payments"][0]["ticket_id"] == ticket.id


def test_the_provider_down_becomes_an_incident_and_a_retry_after_it_recovers_pays_once(app, clock, provider):
    from app.engine import retry_incident

    _refund_ticket()
    provider.set_mode("down")
    for _ in range(5):
        drain()
        clock.shift(timedelta(minutes=10))
    incident = db.session.execute(db.select(Incident)).scalar()
    assert incident is not None and "503" in incident.message
    assert _ledger() == [] and provider.ledger()["applied"] == 0
    provider.set_mode("ok")
    retry_incident(incident.id, actor="admin")
    drain()
    assert _ledger() == [("refund", 42.5)] and provider.ledger()["applied"] == 1


def test_without_a_provider_url_the_ledger_row_is_the_payment(app, provider):
    app.config["PAYMENT_PROVIDER_URL"] = None
    _refund_ticket()
    drain()
    assert _ledger() == [("refund", 42.5)] and provider.ledger()["calls"] == 0
    assert claim_jobs(10, 30) == []
