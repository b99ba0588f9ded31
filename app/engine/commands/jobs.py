"""Commands for service-task jobs: claim with a lease, complete into the process, fail by policy.

A failed job waits and is tried again as its `RetryPolicy` (`spiff/retry.py`, copied onto the
row) says; a refusal, a non-retryable error or the last attempt opens an incident
(`incidents.open_incident`, the same path as a timer's).
Handlers return data and never write history: what a handler wants remembered on the ticket's
timeline it returns under `history` (`runtime/inline.HANDLER_HISTORY`), and `complete_job` records it in the
same transaction.
"""

from dataclasses import dataclass
from datetime import timedelta

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import or_

from app.clock import utcnow
from app.engine.commands.incidents import open_incident, resolve_incidents
from app.engine.runtime.history import history
from app.engine.runtime.inline import split_history
from app.engine.runtime.leases import claim_due
from app.engine.runtime.runner import run_command
from app.engine.runtime.steps import run_engine
from app.engine.runtime.store import find_task, load, save
from app.engine.spiff.retry import RetryPolicy
from app.extensions import db
from app.models import Job


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


def claim_jobs(limit: int, lease_seconds: int) -> list[ClaimedJob]:
    """Claim due jobs (and jobs whose worker's lease ran out) for this worker.

    An attempt counts when it is claimed, before the handler runs. A job whose lease ran out
    had its attempt counted but never reported back (its worker froze, died, or could not write
    the outcome): when that was its last attempt it is not run again but becomes an incident,
    so no failure, however it happens, runs a job past its retry policy.
    """

    def due(now):
        return (
            db.select(Job)
            .where(
                or_(
                    (Job.status == "pending") & (Job.next_run_at <= now),
                    (Job.status == "running") & (Job.lease_until < now),
                )
            )
            .order_by(Job.next_run_at)
            .limit(limit)
        )

    def lease(job: Job, now) -> ClaimedJob | None:
        if job.attempts >= max(1, job.max_attempts):
            lapsed = job.status == "running"
            job.last_error = job.last_error if not lapsed else "the worker did not report back"
            open_incident(
                job.instance_id,
                job.element_id,
                "job",
                f"{job.operator} was tried {job.attempts} time(s), its retry policy's limit; "
                + (
                    "the last attempt never reported back (the worker stopped or could not record "
                    "its outcome), so it is not run again"
                    if lapsed
                    else "it is not run again"
                ),
                ticket_id=job.ticket_id,
                job=job,
            )
            return None
        job.status = "running"
        job.attempts += 1
        job.lease_until = now + timedelta(seconds=lease_seconds)
        return ClaimedJob(
            job.id,
            job.instance_id,
            job.ticket_id,
            job.element_id,
            job.operator,
            dict(job.params or {}),
            job.idempotency_key,
            job.attempts,
        )

    return [claimed for claimed in claim_due(due, lease) if claimed is not None]


def complete_job(job_id: int, result: dict) -> bool:
    """Write a handler's result into its service task and run the process on.

    The result's `history` entries (`{kind, data, actor, element_id}`, written by the handler
    instead of history rows) are recorded on the ticket with the job's task, before the
    `service_completed` row; the rest of the result goes into the task's result variable.

    Returns:
        False when the job is gone (its task was cancelled meanwhile).

    Raises:
        StepFailed: the process failed after the task, or the result's `history` is malformed;
            the caller records an incident.
    """

    def body():
        job = db.session.get(Job, job_id)
        if job is None:
            return False
        entries, data = split_history(result, job.element_id, job.operator)
        loaded = load(job.instance_id)
        resolve_incidents(job_id=job.id)  # a retried job that succeeded (or has nothing left to do)
        task = find_task(loaded, job.task_id)
        if task is None or task.state != TaskState.STARTED:
            db.session.delete(job)
            return False
        task.data[task.task_spec.result_variable] = data
        run_engine(loaded, task.complete)
        for entry in entries:
            history(
                entry["kind"],
                ticket_id=job.ticket_id,
                instance_id=job.instance_id,
                actor=entry.get("actor") or "worker",
                element_id=entry.get("element_id") or job.element_id,
                task_id=job.task_id,
                data=entry.get("data"),
            )
        history(
            "service_completed",
            ticket_id=job.ticket_id,
            instance_id=job.instance_id,
            actor="worker",
            element_id=job.element_id,
            element_name=task.task_spec.bpmn_name,
            task_id=job.task_id,
            data={"operator": job.operator, "result": data},
        )
        save(loaded, "worker", skip_task=job.task_id)
        return True

    return run_command(body)


def fail_job(
    job_id: int, error: str, *, kind: str = "Exception", refused: bool = False, final: bool = False
) -> bool:
    """Record a failed attempt: retry by the job's retry policy, or open an incident.

    Args:
        error: what went wrong, for people (the incident's message, the history).
        kind: the error's kind, the class name of what the handler raised; a kind the policy
            lists as non-retryable is not retried.
        refused: the handler refused its input (`HandlerRefused`): an incident at once.
        final: the process failed after the handler's result (StepFailed): an incident at once.

    Returns:
        True when an incident was opened.
    """

    def body():
        job = db.session.get(Job, job_id)
        if job is None:
            return False
        policy = RetryPolicy.of_row(job)
        job.last_error = _storable(error)[:4000]
        job.lease_until = None
        if refused:
            message = f"{job.operator} refused its input: {_storable(error)}"
        elif final:
            message = f"the process could not go on after {job.operator}: {_storable(error)}"
        elif kind in policy.non_retryable:
            message = f"{job.operator} failed with {kind}, which its retry policy does not retry: {_storable(error)}"
        elif job.attempts >= policy.max_attempts:
            message = f"{job.operator} failed after {job.attempts} attempt(s): {_storable(error)}"
        else:
            job.status = "pending"
            job.next_run_at = utcnow() + timedelta(seconds=policy.delay(job.attempts))
            history(
                "job_failed",
                ticket_id=job.ticket_id,
                instance_id=job.instance_id,
                actor="worker",
                element_id=job.element_id,
                task_id=job.task_id,
                data={
                    "attempt": job.attempts,
                    "error": _storable(error)[:500],
                    "kind": kind,
                    "retry_at": job.next_run_at.isoformat(),
                },
            )
            return False
        open_incident(job.instance_id, job.element_id, "job", message, ticket_id=job.ticket_id, job=job)
        return True

    return run_command(body)


def _storable(text: str) -> str:
    """Text any database stores: lone surrogates (from a handler's error) become U+FFFD."""
    return text.encode("utf-8", "replace").decode("utf-8")
