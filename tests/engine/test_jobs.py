"""Service tasks as jobs: leases, incidents, retry, and never paying twice (policies: test_retry.py)."""

from datetime import timedelta

import pytest
from sqlalchemy import event

from app.engine import Conflict, StepFailed, claim_jobs, complete_job, deploy, retry_incident, start_process
from app.extensions import db
from app.handlers import HANDLERS, HandlerContext, HandlerError
from app.models import HistoryEvent, Incident, Job, LedgerEntry, ProcessInstance, Ticket
from app.worker import drain, run_job
from tests.diagrams import service_task_process
from tests.factories import make_customer


def _failing(message: str):
    def handler(_params, _ctx):
        raise HandlerError(message)

    return handler


def test_crashed_worker_retry_never_pays_twice(app, clock):
    deploy(
        service_task_process(
            "refund.issue", '<spiffworkflow:parameter id="amount" type="float" value="42.5"/>'
        )
    )
    ticket, instance = start_process("svc", make_customer().id, "Refund", {})
    [job] = claim_jobs(10, lease_seconds=30)
    # The worker runs the handler and commits the payment, then dies before complete_job.
    HANDLERS["refund.issue"](
        job.params, HandlerContext(job.ticket_id, job.instance_id, job.idempotency_key, 1)
    )
    db.session.commit()
    assert claim_jobs(10, lease_seconds=30) == []  # still leased
    clock.shift(timedelta(seconds=31))
    [again] = claim_jobs(10, lease_seconds=30)
    assert again.id == job.id and again.attempt == 2
    assert run_job(again) is True
    payments = db.session.execute(db.select(LedgerEntry)).scalars().all()
    assert [(p.kind, float(p.amount)) for p in payments] == [("refund", 42.5)]
    assert db.session.execute(db.select(Job)).first() is None


def test_crashed_worker_rerun_raises_the_priority_once_and_the_engine_records_it_once(
    app, clock, monkeypatch
):
    deploy(
        service_task_process(
            "ticket.raise_priority",
            '<spiffworkflow:parameter id="reason" type="str" value="&quot;late&quot;"/>',
        )
    )
    raise_priority = HANDLERS["ticket.raise_priority"]  # inline; failing there leaves it to a job
    monkeypatch.setitem(HANDLERS, "ticket.raise_priority", _failing("the priorities are being edited"))
    ticket, instance = start_process("svc", make_customer().id, "Slow", {})
    monkeypatch.setitem(HANDLERS, "ticket.raise_priority", raise_priority)
    db.session.get(Ticket, ticket.id).priority = "low"
    db.session.commit()
    [job] = claim_jobs(10, lease_seconds=30)
    # The worker runs the handler and commits the raise, then dies before complete_job.
    raise_priority(job.params, HandlerContext(job.ticket_id, job.instance_id, job.idempotency_key, 1))
    db.session.commit()
    raised_by_escalation = db.select(HistoryEvent).where(HistoryEvent.actor == "escalation")
    assert db.session.execute(raised_by_escalation).first() is None  # handlers write no history
    clock.shift(timedelta(seconds=31))
    [again] = claim_jobs(10, lease_seconds=30)
    assert run_job(again) is True
    assert db.session.get(Ticket, ticket.id).priority == "normal"
    rows = (
        db.session.execute(
            db.select(HistoryEvent).where(HistoryEvent.ticket_id == ticket.id).order_by(HistoryEvent.id)
        )
        .scalars()
        .all()
    )
    [raised] = [row for row in rows if row.actor == "escalation"]
    assert (raised.actor, raised.element_id, raised.task_id, raised.instance_id) == (
        "escalation",
        "priority",
        job.idempotency_key.split(":", 1)[1],
        instance.id,
    )
    assert raised.data["message"] == "priority raised from low to normal: late"
    [done] = [row for row in rows if row.kind == "service_completed"]
    assert done.id > raised.id
    assert done.data["result"] == {"priority": "normal", "previous": "low", "changed": True}


def test_a_handler_history_entry_is_recorded_and_kept_out_of_the_process_data(app):
    deploy(
        service_task_process("refund.issue", '<spiffworkflow:parameter id="amount" type="float" value="10"/>')
    )
    ticket, instance = start_process("svc", make_customer().id, "Refund", {})
    [job] = claim_jobs(10, 30)
    assert complete_job(job.id, {"ok": 1, "history": [{"kind": "refund_noted", "data": {"n": 1}}]}) is True
    noted = db.session.execute(
        db.select(HistoryEvent).where(HistoryEvent.kind == "refund_noted")
    ).scalar_one()
    assert (noted.actor, noted.element_id, noted.data, noted.ticket_id) == (
        "worker",
        "call",
        {"n": 1},
        ticket.id,
    )
    done = db.session.execute(
        db.select(HistoryEvent).where(HistoryEvent.kind == "service_completed")
    ).scalar_one()
    assert done.data["result"] == {"ok": 1}


def test_a_malformed_handler_history_entry_becomes_an_incident(app):
    deploy(
        service_task_process("refund.issue", '<spiffworkflow:parameter id="amount" type="float" value="10"/>')
    )
    start_process("svc", make_customer().id, "Refund", {})
    [job] = claim_jobs(10, 30)
    with pytest.raises(StepFailed, match="malformed history entry") as failed:
        complete_job(job.id, {"history": {"data": {}}})
    assert failed.value.element_id == "call"
    assert (
        db.session.execute(db.select(HistoryEvent).where(HistoryEvent.kind == "service_completed")).first()
        is None
    )


def test_job_completed_twice_is_ignored_the_second_time(app):
    deploy(
        service_task_process("refund.issue", '<spiffworkflow:parameter id="amount" type="float" value="10"/>')
    )
    start_process("svc", make_customer().id, "Refund", {})
    [job] = claim_jobs(10, 30)
    assert run_job(job) is True
    assert complete_job(job.id, {"ledger_id": 1, "amount": 10}) is False
    assert db.session.execute(db.select(db.func.count(LedgerEntry.id))).scalar() == 1


def test_retrying_an_incident_runs_the_step_again(app, clock):
    deploy(
        service_task_process(
            "ticket.set_status",
            '<spiffworkflow:parameter id="status" type="str" value="&quot;bogus&quot;"/>',
            retries=1,
        )
    )
    ticket, instance = start_process("svc", make_customer().id, "Status", {})
    drain()
    incident = db.session.execute(db.select(Incident)).scalar_one()
    assert "unknown status 'bogus'" in incident.message
    # The analyst cannot fix data here, so the retry fails again: the same incident stays open
    # (it is resolved only by a retry that succeeds), and no crash.
    retry_incident(incident.id, actor="max")
    assert db.session.get(ProcessInstance, instance.id).status == "running"
    with pytest.raises(Conflict, match="being retried already"):
        retry_incident(incident.id, actor="max")
    drain()
    [again] = db.session.execute(db.select(Incident)).scalars().all()
    assert (again.id, again.resolved_at) == (incident.id, None)
    assert db.session.get(ProcessInstance, instance.id).status == "incident"


def test_a_job_whose_last_attempt_never_reported_back_becomes_an_incident_not_a_rerun(app, clock):
    deploy(
        service_task_process(
            "refund.issue", '<spiffworkflow:parameter id="amount" type="float" value="5"/>', retries=1
        )
    )
    ticket, instance = start_process("svc", make_customer().id, "Refund", {})
    [job] = claim_jobs(10, lease_seconds=30)  # the attempt counts now, before the handler runs
    assert job.attempt == 1
    # The worker froze (or was killed) in the handler: it never reports back.
    clock.shift(timedelta(seconds=31))

    assert claim_jobs(10, lease_seconds=30) == []

    row = db.session.get(Job, job.id)
    assert (row.status, row.attempts, row.lease_until) == ("incident", 1, None)
    incident = db.session.execute(db.select(Incident)).scalar_one()
    assert incident.element_id == "call" and "never reported back" in incident.message
    assert db.session.get(ProcessInstance, instance.id).status == "incident"
    clock.shift(timedelta(hours=1))
    assert claim_jobs(10, lease_seconds=30) == []
    assert db.session.execute(db.select(db.func.count(LedgerEntry.id))).scalar() == 0


AMOUNT_5 = '<spiffworkflow:parameter id="amount" type="float" value="5"/>'


@pytest.fixture
def database_refusing_service_results():
    """The database refuses to store a service task's outcome (as PostgreSQL refuses a lone
    surrogate in text): what complete_job writes fails, whatever the handler returned."""

    def refuse(_conn, _cursor, statement, parameters, _context, _many):
        if "history_event" in statement and "service_completed" in repr(parameters):
            raise UnicodeEncodeError("utf-8", "x\ud800y", 1, 2, "surrogates not allowed")

    event.listen(db.engine, "before_cursor_execute", refuse)
    yield
    event.remove(db.engine, "before_cursor_execute", refuse)


def test_a_result_that_cannot_be_recorded_counts_as_a_failed_attempt_until_the_limit(
    app, clock, database_refusing_service_results
):
    deploy(service_task_process("refund.issue", AMOUNT_5, retries=2))
    ticket, instance = start_process("svc", make_customer().id, "Bad text", {})

    drain()  # attempt 1: the handler ran, but its result cannot be stored
    clock.shift(timedelta(minutes=5))
    drain()  # attempt 2, the last
    clock.shift(timedelta(hours=2))
    assert drain() == 0  # never claimed again

    job = db.session.execute(db.select(Job)).scalar_one()
    assert (job.status, job.attempts) == ("incident", 2)
    incident = db.session.execute(db.select(Incident)).scalar_one()
    assert incident.element_id == "call" and "could not be recorded" in incident.message
