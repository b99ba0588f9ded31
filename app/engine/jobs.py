"""Service-task jobs: claim with a lease, complete into the process, fail with backoff,
become an incident when retries run out, and retry from an incident."""

from dataclasses import dataclass
from datetime import timedelta

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import or_

from app.clock import utcnow
from app.engine.errors import Conflict, NotFound
from app.engine.runner import engine_step, find_task, history, load, run_command, save
from app.extensions import db
from app.models import Incident, Job, ProcessInstance, Timer

MAX_BACKOFF_SECONDS = 3600


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    instance_id: int
    ticket_id: int | None
    element_id: str
    operator: str
    params: dict
    idempotency_key: str
    attempt: int


def _skip_locked(query):
    if db.engine.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def claim_jobs(limit: int, lease_seconds: int) -> list[ClaimedJob]:
    """Claim due jobs (and jobs whose worker's lease ran out) for this worker."""

    def body():
        now = utcnow()
        due = or_(
            (Job.status == "pending") & (Job.next_run_at <= now),
            (Job.status == "running") & (Job.lease_until < now),
        )
        jobs = db.session.execute(_skip_locked(db.select(Job).where(due).order_by(Job.next_run_at)
                                               .limit(limit))).scalars().all()
        claimed = []
        for job in jobs:
            job.status = "running"
            job.attempts += 1
            job.lease_until = now + timedelta(seconds=lease_seconds)
            claimed.append(ClaimedJob(job.id, job.instance_id, job.ticket_id, job.element_id,
                                      job.operator, dict(job.params or {}), job.idempotency_key,
                                      job.attempts))
        return claimed

    return run_command(body)


def complete_job(job_id: int, result: dict) -> bool:
    """Write a handler's result into its service task and run the process on.

    Returns:
        False when the job is gone (its task was cancelled meanwhile).

    Raises:
        StepFailed: the process failed after the task; the caller records an incident.
    """

    def body():
        job = db.session.get(Job, job_id)
        if job is None:
            return False
        loaded = load(job.instance_id)
        task = find_task(loaded, job.task_id)
        if task is None or task.state != TaskState.STARTED:
            db.session.delete(job)
            return False
        task.data[task.task_spec.result_variable] = result
        engine_step(loaded, task.complete)
        engine_step(loaded, loaded.wf.do_engine_steps)
        history("service_completed", ticket_id=job.ticket_id, instance_id=job.instance_id,
                actor="worker", element_id=job.element_id, element_name=task.task_spec.bpmn_name,
                task_id=job.task_id, data={"operator": job.operator, "result": result})
        save(loaded, "worker", skip_task=job.task_id)
        return True

    return run_command(body)


def fail_job(job_id: int, error: str, *, final: bool = False) -> bool:
    """Record a failed attempt: retry with backoff, or open an incident when retries ran out.

    Returns:
        True when an incident was opened.
    """

    def body():
        job = db.session.get(Job, job_id)
        if job is None:
            return False
        now = utcnow()
        job.last_error = error[:4000]
        job.lease_until = None
        if final or job.attempts >= job.max_attempts:
            job.status = "incident"
            _open_incident(job.instance_id, job.ticket_id, job.element_id, "job",
                           f"{job.operator} failed after {job.attempts} attempt(s): {error}", job.id)
            return True
        job.status = "pending"
        delay = min(MAX_BACKOFF_SECONDS, job.backoff_base ** job.attempts)
        job.next_run_at = now + timedelta(seconds=delay)
        history("job_failed", ticket_id=job.ticket_id, instance_id=job.instance_id, actor="worker",
                element_id=job.element_id, task_id=job.task_id,
                data={"attempt": job.attempts, "error": error[:500], "retry_at": job.next_run_at.isoformat()})
        return False

    return run_command(body)


def record_incident(instance_id: int, element_id: str | None, kind: str, message: str,
                    timer_id: str | None = None) -> None:
    """Open an incident for a step that failed outside a job (a timer, an engine step)."""

    def body():
        instance = db.session.get(ProcessInstance, instance_id)
        if instance is None:
            return
        if timer_id:  # park the timer so the sweep does not fire it again and again;
            # without the worker's lease, so that retry_incident's re-arm is claimable at once
            db.session.execute(db.update(Timer).where(Timer.id == timer_id)
                               .values(due_at=None, lease_until=None))
        _open_incident(instance_id, instance.ticket_id, element_id, kind, message, None, timer_id)

    run_command(body)


def _open_incident(instance_id, ticket_id, element_id, kind, message, job_id, timer_id=None):
    incident = Incident(instance_id=instance_id, ticket_id=ticket_id, element_id=element_id,
                        kind=kind, message=message[:4000], job_id=job_id, timer_id=timer_id,
                        created_at=utcnow())
    db.session.add(incident)
    db.session.execute(db.update(ProcessInstance).where(ProcessInstance.id == instance_id)
                       .values(status="incident", version=ProcessInstance.version + 1))
    history("incident_opened", ticket_id=ticket_id, instance_id=instance_id, element_id=element_id,
            data={"kind": kind, "message": message[:500]})


def retry_incident(incident_id: int, actor: str | None = None) -> Incident:
    """Resolve an incident by trying its step again now.

    Raises:
        NotFound: no such incident.
        Conflict: it was already resolved.
    """

    def body():
        incident = db.session.get(Incident, incident_id)
        if incident is None:
            raise NotFound(f"incident {incident_id} not found")
        if incident.resolved_at is not None:
            raise Conflict(f"incident {incident_id} was already resolved")
        now = utcnow()
        incident.resolved_at = now
        if incident.job_id is not None:
            job = db.session.get(Job, incident.job_id)
            if job is not None:
                job.status, job.attempts, job.next_run_at, job.lease_until = "pending", 0, now, None
        if incident.timer_id is not None:
            db.session.execute(db.update(Timer).where(Timer.id == incident.timer_id).values(due_at=now))
        still_open = db.session.execute(db.select(Incident.id).where(
            Incident.instance_id == incident.instance_id, Incident.resolved_at.is_(None),
            Incident.id != incident.id).limit(1)).scalar()
        if still_open is None:
            db.session.execute(db.update(ProcessInstance)
                               .where(ProcessInstance.id == incident.instance_id,
                                      ProcessInstance.status == "incident")
                               .values(status="running", version=ProcessInstance.version + 1))
        history("incident_retried", ticket_id=incident.ticket_id, instance_id=incident.instance_id,
                actor=actor, element_id=incident.element_id, data={"incident_id": incident.id})
        return incident

    return run_command(body)


