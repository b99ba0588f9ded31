"""Retry policies and incidents: the policy from `spiffworkflow:retry`, backoff capped by the
maximum interval, refusals at once, transient failures retried, and one retry for jobs and timers."""

from datetime import timedelta

import pytest
from lxml import etree

from app.clock import utcnow
from app.engine import DiagramRejected, check_files, deploy, record_incident, retry_incident, start_process
from app.engine.spiff.parser import TicketflowParser
from app.engine.spiff.retry import RetryPolicy, policy_of
from app.extensions import db
from app.handlers import HANDLERS, HandlerError
from app.models import HistoryEvent, HumanTask, Incident, Job, ProcessInstance, Timer
from app.worker import drain
from tests.diagrams import service_task_process
from tests.factories import make_customer
from tests.worker.diagrams import timer_then_timer

EXPLICIT = (
    '<spiffworkflow:retry retries="5" backoff_base="3" initial_interval="10" '
    'max_interval="PT1M" non_retryable="TimeoutError, KeyError"/>'
)


def parsed_policy(retry: str) -> RetryPolicy:
    parser = TicketflowParser()
    parser.add_bpmn_xml(
        etree.fromstring(service_task_process("refund.issue", retry=retry)), filename="svc.bpmn"
    )
    return policy_of(parser.get_spec("svc").task_specs["call"])


def fresh_job() -> Job:
    db.session.commit()
    return db.session.execute(db.select(Job)).scalar_one()


def incidents() -> list[Incident]:
    db.session.commit()
    return list(db.session.execute(db.select(Incident).order_by(Incident.id)).scalars())


def history_kinds(instance_id: int) -> list[str]:
    return list(
        db.session.execute(
            db.select(HistoryEvent.kind)
            .where(HistoryEvent.instance_id == instance_id)
            .order_by(HistoryEvent.id)
        ).scalars()
    )


@pytest.fixture
def flaky(monkeypatch):
    """Operator `test.flaky`: raises the exceptions in `errors` one per call, then succeeds."""
    errors: list[Exception] = []

    def handler(params, ctx):
        if errors:
            raise errors.pop(0)
        return {"ok": True, "attempt": ctx.attempt}

    monkeypatch.setitem(HANDLERS, "test.flaky", handler)
    return errors


# The policy read from the diagram


@pytest.mark.parametrize(
    ("retry", "expected"),
    [
        ("", RetryPolicy(3, 2.0, 2.0, 3600.0, frozenset())),
        ('<spiffworkflow:retry retries="1"/>', RetryPolicy(max_attempts=1)),
        (EXPLICIT, RetryPolicy(5, 3.0, 10.0, 60.0, frozenset({"TimeoutError", "KeyError"}))),
        (
            '<spiffworkflow:retry initial_interval="PT2H"/>',
            RetryPolicy(initial_interval=7200.0, max_interval=7200.0),
        ),
        (
            '<spiffworkflow:retry max_interval="P1DT30S" non_retryable="LookupError"/>',
            RetryPolicy(max_interval=86430.0, non_retryable=frozenset({"LookupError"})),
        ),
    ],
    ids=["absent", "retries only", "explicit", "initial beyond the default cap", "duration and one kind"],
)
def test_policy_is_read_from_the_diagram(retry, expected):
    assert parsed_policy(retry) == expected


def test_the_job_row_carries_the_policy(app):
    deploy(
        service_task_process(
            "refund.issue", '<spiffworkflow:parameter id="amount" type="float" value="1"/>', retry=EXPLICIT
        )
    )
    start_process("svc", make_customer().id, "Refund", {})
    job = fresh_job()
    assert (
        job.max_attempts,
        job.backoff_base,
        job.initial_interval,
        job.max_interval,
        sorted(job.non_retryable),
    ) == (5, 3.0, 10.0, 60.0, ["KeyError", "TimeoutError"])
    assert RetryPolicy.of_row(job) == parsed_policy(EXPLICIT)


@pytest.mark.parametrize(
    ("retry", "words"),
    [
        ('<spiffworkflow:retry retries="0"/>', "retries must be from 1"),
        (
            '<spiffworkflow:retry max_interval="soon"/>',
            "max_interval must be seconds or an ISO-8601 duration",
        ),
        ('<spiffworkflow:retry initial_interval="-1"/>', "initial_interval must be 0 seconds or more"),
        ('<spiffworkflow:retry initial_interval="60" max_interval="10"/>', "max_interval must be at least"),
        ('<spiffworkflow:retry non_retryable="Key-Error"/>', "non_retryable names error kinds"),
        ('<spiffworkflow:retry max_interval="inf"/>', "max_interval must be at least"),
    ],
)
def test_deploy_refuses_a_policy_that_does_not_read(app, retry, words):
    with pytest.raises(DiagramRejected) as caught:
        deploy(service_task_process("refund.issue", retry=retry))
    [(element_id, message)] = [(p.element_id, p.message) for p in caught.value.problems]
    assert element_id == "call"
    assert message.startswith("spiffworkflow:retry: ") and words in message


# Backoff


def test_backoff_grows_by_the_base_and_stops_at_the_maximum_interval():
    policy = RetryPolicy(max_attempts=50, backoff_base=2, initial_interval=10, max_interval=60)
    assert [policy.delay(n) for n in range(1, 7)] == [10, 20, 40, 60, 60, 60]
    assert policy.delay(10_000) == 60  # no overflow on the way to the cap
    assert RetryPolicy(backoff_base=1, initial_interval=5).delay(30) == 5
    assert RetryPolicy(initial_interval=0).delay(3) == 0


def test_a_transient_failure_waits_by_the_policy_capped_by_max_interval(app, clock, flaky):
    flaky.extend(HandlerError("provider unreachable") for _ in range(4))
    deploy(
        service_task_process(
            "test.flaky",
            retry='<spiffworkflow:retry retries="6" backoff_base="2" '
            'initial_interval="10" max_interval="30"/>',
        )
    )
    _, instance = start_process("svc", make_customer().id, "Flaky", {})
    waits = []
    for _ in range(4):
        drain()
        job = fresh_job()
        waits.append((job.next_run_at - utcnow()).total_seconds())
        assert job.status == "pending"
        clock.shift(timedelta(seconds=waits[-1] - 1))
        assert drain() == 0  # a second early: nothing runs
        clock.shift(timedelta(seconds=1))
    assert waits == [10, 20, 30, 30]
    assert drain() == 1  # the fifth try succeeds
    assert db.session.execute(db.select(Job)).first() is None
    assert [t.name for t in db.session.execute(db.select(HumanTask)).scalars()] == ["after"]
    assert incidents() == []
    assert history_kinds(instance.id).count("job_failed") == 4


# Refusals and failures


def test_a_refusal_is_an_incident_at_once_with_its_reason(app, clock):
    bad = '<spiffworkflow:parameter id="amount" type="float" value="-5"/>'
    deploy(service_task_process("refund.issue", bad, retries=5))
    _, instance = start_process("svc", make_customer().id, "Refund", {})
    assert drain() == 1
    job = fresh_job()
    assert (job.status, job.attempts, job.lease_until) == ("incident", 1, None)
    [incident] = incidents()
    assert (incident.kind, incident.element_id, incident.job_id) == ("job", "call", job.id)
    assert (
        incident.message == "refund.issue refused its input: parameter 'amount' must be positive, got -5.00"
    )
    assert db.session.get(ProcessInstance, instance.id).status == "incident"
    assert "job_failed" not in history_kinds(instance.id)  # never scheduled again
    clock.shift(timedelta(days=1))
    assert drain() == 0


def test_a_transient_failure_is_retried_then_becomes_an_incident(app, clock, flaky):
    flaky.extend(HandlerError("provider unreachable") for _ in range(3))
    deploy(service_task_process("test.flaky", retries=3))
    _, instance = start_process("svc", make_customer().id, "Flaky", {})
    for wait in (2, 4):  # the defaults: 2 s, then 4 s
        drain()
        assert fresh_job().status == "pending"
        clock.shift(timedelta(seconds=wait))
    drain()
    job = fresh_job()
    assert (job.status, job.attempts) == ("incident", 3)
    [incident] = incidents()
    assert incident.message == "test.flaky failed after 3 attempt(s): HandlerError: provider unreachable"
    assert history_kinds(instance.id).count("job_failed") == 2
    assert db.session.get(ProcessInstance, instance.id).status == "incident"


def test_an_error_kind_the_policy_lists_is_not_retried(app, flaky):
    flaky.append(TimeoutError("the provider took too long"))
    deploy(service_task_process("test.flaky", retry=EXPLICIT))
    start_process("svc", make_customer().id, "Flaky", {})
    drain()
    assert (fresh_job().status, fresh_job().attempts) == ("incident", 1)
    [incident] = incidents()
    assert "TimeoutError, which its retry policy does not retry" in incident.message


# One incident path, one retry


def test_job_and_timer_incidents_are_retried_by_the_same_command(app, clock, flaky):
    flaky.append(ValueError("bad luck"))
    deploy(service_task_process("test.flaky", retries=1))
    deploy(timer_then_timer("follow_up_after"))  # the second timer reads a variable never set
    _, job_instance = start_process("svc", make_customer().id, "Flaky", {})
    _, timer_instance = start_process("twice", make_customer().id, "Timer", {})
    clock.shift(timedelta(hours=1))
    drain()
    job_incident, timer_incident = sorted(incidents(), key=lambda i: i.kind)
    assert (job_incident.kind, timer_incident.kind) == ("job", "timer")
    timer = db.session.get(Timer, timer_incident.timer_id)
    assert (timer.due_at, timer.lease_until) == (None, None)
    assert fresh_job().status == "incident"

    clock.shift(timedelta(minutes=5))
    for incident in (job_incident, timer_incident):
        retry_incident(incident.id, actor="manager")
    job = fresh_job()
    assert (job.status, job.attempts, job.next_run_at, job.lease_until) == ("pending", 0, utcnow(), None)
    assert db.session.get(Timer, timer_incident.timer_id).due_at == utcnow()
    assert {db.session.get(ProcessInstance, i).status for i in (job_instance.id, timer_instance.id)} == {
        "running"
    }

    drain()  # the job's cause is gone: it completes; the timer's is not: a new incident
    assert db.session.execute(db.select(Job)).first() is None
    assert db.session.get(ProcessInstance, job_instance.id).status == "running"
    [again] = [i for i in incidents() if i.resolved_at is None]
    assert (again.kind, again.timer_id) == ("timer", timer_incident.timer_id)


def test_record_incident_parks_a_job_like_a_timer(app, clock):
    deploy(
        service_task_process("refund.issue", '<spiffworkflow:parameter id="amount" type="float" value="3"/>')
    )
    _, instance = start_process("svc", make_customer().id, "Refund", {})
    job = fresh_job()
    record_incident(instance.id, "call", "engine", "stopped by hand", job_id=job.id)
    job = fresh_job()
    assert (job.status, job.lease_until) == ("incident", None)
    assert drain() == 0
    [incident] = incidents()
    assert (incident.kind, incident.job_id, incident.message) == ("engine", job.id, "stopped by hand")
    retry_incident(incident.id)
    assert drain() == 1
    assert db.session.execute(db.select(Job)).first() is None
    assert db.session.get(ProcessInstance, instance.id).status == "running"


def test_our_retry_attributes_deploy_with_a_warning_that_names_them(app):
    checked = check_files([("svc.bpmn", service_task_process("refund.issue", retry=EXPLICIT))])
    messages = [w.message for w in checked.warnings]
    assert len(messages) == 3
    for name in ("initial_interval", "max_interval", "non_retryable"):
        assert any(
            f"spiffworkflow:retry attribute '{name}'" in m and "Ticketflow's own" in m for m in messages
        )
    assert not any("correct that element" in m for m in messages)
