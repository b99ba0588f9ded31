"""Commands for incidents: open one for a step that failed for good, and retry it from there."""

from app.clock import utcnow
from app.engine.errors import Conflict, NotFound
from app.engine.runtime.history import history
from app.engine.runtime.runner import run_command
from app.extensions import db
from app.models import Incident, Job, ProcessInstance, Timer


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
        open_incident(instance_id, instance.ticket_id, element_id, kind, message, None, timer_id)

    run_command(body)


def open_incident(instance_id, ticket_id, element_id, kind, message, job_id, timer_id=None):
    """Open an incident and put its instance in status `incident`, inside the current command."""
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


