"""Incidents: the one path by which a job or a timer that failed for good stops, and its retry.

`open_incident` (inside a command) and `record_incident` (a command of its own) park the job or
the timer, so no worker runs it again, open the `incident` row (kind, element, message), put the
instance in status `incident` and write `incident_opened`. `retry_incident` resolves it and
re-arms whichever it parked: claimable at once, tried afresh; given edited process data
(`data_edit`), it writes the data into the incident's task first, in the same transaction. An `engine` incident (a bound the
engine ran into, `runtime/halts.py`) is retried by running the engine's steps again at once.
"""

from app.clock import utcnow
from app.engine.commands.data_edit import apply_data, changed_keys, open_incident_row
from app.engine.runtime.halts import HALT_KIND
from app.engine.runtime.history import history
from app.engine.runtime.runner import run_command
from app.engine.runtime.steps import run_engine
from app.engine.runtime.store import Loaded, load, save
from app.extensions import db
from app.models import Incident, Job, ProcessInstance, Timer


def open_incident(
    instance_id: int,
    element_id: str | None,
    kind: str,
    message: str,
    *,
    ticket_id: int | None = None,
    job: Job | None = None,
    timer_id: str | None = None,
) -> Incident:
    """Inside the current command: park the job or timer, open the incident, mark the instance.

    A parked job has status `incident` and no lease; a parked timer has no due time and no
    lease (the worker's lease is cleared so that the retry's re-arm is claimable at once).
    """
    if job is not None:
        job.status, job.lease_until = "incident", None
    if timer_id is not None:
        db.session.execute(db.update(Timer).where(Timer.id == timer_id).values(due_at=None, lease_until=None))
    incident = Incident(
        instance_id=instance_id,
        ticket_id=ticket_id,
        element_id=element_id,
        kind=kind,
        message=message[:4000],
        job_id=job.id if job is not None else None,
        timer_id=timer_id,
        created_at=utcnow(),
    )
    db.session.add(incident)
    db.session.execute(
        db.update(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .values(status="incident", version=ProcessInstance.version + 1)
    )
    history(
        "incident_opened",
        ticket_id=ticket_id,
        instance_id=instance_id,
        element_id=element_id,
        data={"kind": kind, "message": message[:500]},
    )
    return incident


def record_incident(
    instance_id: int,
    element_id: str | None,
    kind: str,
    message: str,
    *,
    job_id: int | None = None,
    timer_id: str | None = None,
) -> None:
    """Open an incident in a command of its own (a timer that could not fire, a job, an engine
    step); nothing happens when the instance is gone."""

    def body():
        instance = db.session.get(ProcessInstance, instance_id)
        if instance is None:
            return
        job = db.session.get(Job, job_id) if job_id is not None else None
        open_incident(
            instance_id, element_id, kind, message, ticket_id=instance.ticket_id, job=job, timer_id=timer_id
        )

    run_command(body)


def rearm(incident: Incident, now) -> None:
    """Put back the job or timer an incident parked, due now (a job with a fresh count of tries)."""
    if incident.job_id is not None:
        job = db.session.get(Job, incident.job_id)
        if job is not None:
            job.status, job.attempts, job.next_run_at, job.lease_until = "pending", 0, now, None
    if incident.timer_id is not None:
        db.session.execute(
            db.update(Timer).where(Timer.id == incident.timer_id).values(due_at=now, lease_until=None)
        )


def retry_incident(
    incident_id: int, actor: str | None = None, *, data: dict | None = None, seen: str | None = None
) -> Incident:
    """Resolve an incident by trying its job or timer again now, optionally on edited data.

    Args:
        data: the edited process data of the incident's task (`data_edit.incident_data` is what
            it was): written into the task, in the same transaction as the retry; the keys it
            changed go into the `incident_retried` history row.
        seen: the fingerprint (`data_edit.fingerprint`) of the data the person saw; the retry is
            refused when the data is no longer that.

    Raises:
        NotFound: no such incident.
        Conflict: it was already resolved, or the data changed since `seen`.
        InvalidData: the edited data is refused (the message names the field); nothing applied.
        StepFailed: a service task's parameters do not evaluate on the edited data.
    """

    def body():
        incident = open_incident_row(incident_id)
        now = utcnow()
        loaded = load(incident.instance_id) if data is not None else None
        changes = apply_data(loaded, incident, data, seen) if loaded is not None else None
        incident.resolved_at = now
        rearm(incident, now)
        still_open = db.session.execute(
            db.select(Incident.id)
            .where(
                Incident.instance_id == incident.instance_id,
                Incident.resolved_at.is_(None),
                Incident.id != incident.id,
            )
            .limit(1)
        ).scalar()
        if incident.kind == HALT_KIND:
            _run_on(incident, still_open is None, actor, loaded)
        elif loaded is not None:
            if still_open is None and loaded.row.status == "incident":
                loaded.row.status = "running"
            save(loaded, actor)
        elif still_open is None:
            db.session.execute(
                db.update(ProcessInstance)
                .where(ProcessInstance.id == incident.instance_id, ProcessInstance.status == "incident")
                .values(status="running", version=ProcessInstance.version + 1)
            )
        history(
            "incident_retried",
            ticket_id=incident.ticket_id,
            instance_id=incident.instance_id,
            actor=actor,
            element_id=incident.element_id,
            data={"incident_id": incident.id, **({"changed": changed_keys(changes)} if changes else {})},
        )
        return incident

    return run_command(body)


def _run_on(incident: Incident, last_open: bool, actor: str | None, loaded: Loaded | None) -> None:
    """Run a halted instance's engine steps again (within the bounds again: a new halt opens a
    new incident)."""
    loaded = loaded or load(incident.instance_id)
    if last_open and loaded.row.status == "incident":
        loaded.row.status = "running"
    run_engine(loaded, rerun_failed=True)
    save(loaded, actor)
