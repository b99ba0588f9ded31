"""A real `flask worker` killed (SIGKILL, by its crash point) after the payment provider paid and
before the refund was recorded: the job runs again once its lease has run out and the customer
is paid once (the provider's ledger says so). `make faults` (F1) does this N times per point."""

from datetime import timedelta

from app.engine import deploy, start_process
from app.extensions import db
from app.models import Job, LedgerEntry
from app.worker import drain
from faults.provider import Provider
from tests.diagrams import service_task_process
from tests.factories import make_customer
from tests.worker.test_graceful_stop import _wait_for_line, _worker

AMOUNT = '<spiffworkflow:parameter id="amount" type="float" value="42.5"/>'


def test_a_worker_killed_after_the_provider_paid_never_pays_twice(app, clock):
    provider = Provider().start()
    try:
        app.config.update(PAYMENT_PROVIDER_URL=provider.url, PAYMENT_PROVIDER_TIMEOUT=5)
        deploy(service_task_process("refund.issue", AMOUNT))
        ticket = start_process("svc", make_customer().id, "Refund", {})[0]
        db.session.remove()
        worker = _worker(
            app.config["SQLALCHEMY_DATABASE_URI"],
            "after_provider_call:kill",
            PAYMENT_PROVIDER_URL=provider.url,
        )
        try:
            _wait_for_line(worker, "fault point after_provider_call reached")
            assert worker.wait(30) == -9  # killed, as by kill -9
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        assert provider.ledger()["applied"] == 1  # paid there ...
        assert db.session.execute(db.select(LedgerEntry)).first() is None  # ... not recorded here
        job = db.session.execute(db.select(Job)).scalar_one()
        assert job.status == "running" and job.attempts == 1
        assert drain() == 0  # its lease still holds
        clock.move_to(job.lease_until + timedelta(seconds=1))
        assert drain() == 1
        entries = db.session.execute(db.select(LedgerEntry)).scalars().all()
        assert [(e.ticket_id, float(e.amount)) for e in entries] == [(ticket.id, 42.5)]
        ledger = provider.ledger()
        assert (ledger["applied"], ledger["calls"], provider.duplicates()) == (1, 2, [])
    finally:
        provider.stop()
