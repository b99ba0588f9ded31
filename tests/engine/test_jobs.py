"""Service tasks as jobs: leases, incidents, retry, and never paying twice (policies: test_retry.py)."""

from datetime import timedelta

from app.engine import claim_jobs, complete_job, deploy, retry_incident, start_process
from app.extensions import db
from app.handlers import HANDLERS, HandlerContext
from app.models import Incident, Job, LedgerEntry, ProcessInstance
from app.worker import drain, run_job
from tests.diagrams import service_task_process
from tests.factories import make_customer


def test_crashed_worker_retry_never_pays_twice(app, clock):
    deploy(service_task_process("refund.issue", '<spiffworkflow:parameter id="amount" type="float" value="42.5"/>'))
    ticket, instance = start_process("svc", make_customer().id, "Refund", {})
    [job] = claim_jobs(10, lease_seconds=30)
    # The worker runs the handler and commits the payment, then dies before complete_job.
    HANDLERS["refund.issue"](job.params, HandlerContext(job.ticket_id, job.instance_id, job.idempotency_key, 1))
    db.session.commit()
    assert claim_jobs(10, lease_seconds=30) == []  # still leased
    clock.shift(timedelta(seconds=31))
    [again] = claim_jobs(10, lease_seconds=30)
    assert again.id == job.id and again.attempt == 2
    assert run_job(again) is True
    payments = db.session.execute(db.select(LedgerEntry)).scalars().all()
    assert [(p.kind, float(p.amount)) for p in payments] == [("refund", 42.5)]
    assert db.session.execute(db.select(Job)).first() is None


def test_job_completed_twice_is_ignored_the_second_time(app):
    deploy(service_task_process("refund.issue", '<spiffworkflow:parameter id="amount" type="float" value="10"/>'))
    start_process("svc", make_customer().id, "Refund", {})
    [job] = claim_jobs(10, 30)
    assert run_job(job) is True
    assert complete_job(job.id, {"ledger_id": 1, "amount": 10}) is False
    assert db.session.execute(db.select(db.func.count(LedgerEntry.id))).scalar() == 1


def test_retrying_an_incident_runs_the_step_again(app, clock):
    deploy(service_task_process("ticket.set_status", '<spiffworkflow:parameter id="status" type="str" value="&quot;bogus&quot;"/>', retries=1))
    ticket, instance = start_process("svc", make_customer().id, "Status", {})
    drain()
    incident = db.session.execute(db.select(Incident)).scalar_one()
    assert "unknown status 'bogus'" in incident.message
    # The analyst cannot fix data here, so the retry fails again into a new incident: still no crash.
    retry_incident(incident.id, actor="max")
    assert db.session.get(ProcessInstance, instance.id).status == "running"
    drain()
    assert db.session.execute(db.select(db.func.count(Incident.id))).scalar() == 2
