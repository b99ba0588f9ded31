"""Incidents: the one path by which a job or a timer that failed for good stops, and its retry.

`open_incident` (inside a command) and `record_incident` (a command of its own) park the job or
the timer, so no worker runs it again, open the `incident` row (kind, element, message), put the
instance in status `incident` and write `incident_opened`. `retry_incident` re-arms whichever it
parked: claimable at once, tried afresh; given edited process data (`data_edit`), it writes the
data into the incident's task first, in the same transaction.

An incident is resolved only when its retry succeeded: `resolve_incidents` runs in the command
that completes the job (`complete_job`) or fires the timer (`fire_timer`); a retry that fails
again parks the job or timer again and keeps the same incident open with the new message (one
incident per failing job or timer, however often it is retried). While a retry is under way the
incident stays open and a second retry is refused. An incident with nothing left to re-arm (its
job or timer is gone) is resolved by its retry. An `engine` incident (a bound the engine ran
into, `runtime/halts.py`) is retried by running the engine's steps again at once, in the retry's
own command: it is resolved then, and a bound reached again opens a new one.
"""

from app.clock import utcnow
from app.engine.commands.data_edit import apply_data, changed_keys, open_incident_row
from app.engine.errors import Conflict
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
    incident = _open_of(job.id if job is not None else None, timer_id)
    if incident is not None:  # its retry failed: the same incident, with what went wrong now
        incident.message = message[:4000]
    else:
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


def _open_of(job_id: int | None, timer_id: str | None) -> Incident | None:
    """The open incident of a job or a timer (one being retried), or None."""
    if job_id is None and timer_id is None:
        return None
    column, value = (Incident.job_id, job_id) if job_id is not None else (Incident.timer_id, timer_id)
    return db.session.execute(
        db.select(Incident).where(column == value, Incident.resolved_at.is_(None)).limit(1)
    ).scalar()


def resolve_incidents(*, job_id: int | None = None, timer_id: str | None = None) -> None:
    """Inside the command in which a job completed or a timer fired: its retried incident is resolved."""
    incident = _open_of(job_id, timer_id)
    if incident is None:
        return
    incident.resolved_at = utcnow()
    others = db.session.execute(
        db.select(Incident.id)
        .where(
            Incident.instance_id == incident.instance_id,
            Incident.resolved_at.is_(None),
            Incident.id != incident.id,
        )
        .limit(1)
    ).scalar()
    row = db.session.get(ProcessInstance, incident.instance_id)  # the command's loaded row
    if others is None and row is not None and row.status == "incident":
        row.status = "running"
    history(
        "incident_resolved",
        ticket_id=incident.ticket_id,
        instance_id=incident.instance_id,
        element_id=incident.element_id,
        data={"incident_id": incident.id},
    )


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


def rearm(incident: Incident, now) -> bool:
    """Put back the job or timer an incident parked, due now (a job with a fresh count of tries).

    Returns:
        False when there was nothing left to re-arm (its job or timer is gone).

    Raises:
        Conflict: the job or timer is not parked: a retry of it is under way.
    """
    job = db.session.get(Job, incident.job_id) if incident.job_id is not None else None
    timer = db.session.get(Timer, incident.timer_id) if incident.timer_id is not None else None
    if (job is not None and job.status != "incident") or (timer is not None and timer.due_at is not None):
        raise Conflict(
            f"incident {incident.id} is being retried already; it is resolved when the retry succeeds"
        )
    if job is not None:
        job.status, job.attempts, job.next_run_at, job.lease_until = "pending", 0, now, None
    if timer is not None:
        timer.due_at, timer.lease_until = now, None
    return job is not None or timer is not None


def retry_incident(
    incident_id: int, actor: str | None = None, *, data: dict | None = None, seen: str | None = None
) -> Incident:
    """Try an incident's job or timer again now, optionally on edited data; the incident is
    resolved when that succeeds (`resolve_incidents`).

    Args:
        data: the edited process data of the incident's task (`data_edit.incident_data` is what
            it was): written into the task, in the same transaction as the retry; the keys it
            changed go into the `incident_retried` history row.
        seen: the fingerprint (`data_edit.fingerprint`) of the data the person saw; the retry is
            refused when the data is no longer that.

    Raises:
        NotFound: no such incident.
        Conflict: it was already resolved, a retry of it is under way, or the data changed
            since `seen`.
        InvalidData: the edited data is refused (the message names the field); nothing applied.
        StepFailed: a service task's parameters do not evaluate on the edited data.
    """

    def body():
        incident = open_incident_row(incident_id)
        now = utcnow()
        loaded = load(incident.instance_id) if data is not None else None
        changes = apply_data(loaded, incident, data, seen) if loaded is not None else None
        if not rearm(incident, now) or incident.kind == HALT_KIND:
            incident.resolved_at = now  # nothing to wait for: resolved by this retry
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
