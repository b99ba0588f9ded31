"""Giving claims back: a worker that stops (SIGTERM) releases the jobs and timers it claimed but
did not start, so another worker takes them at once instead of after their lease runs out."""

from sqlalchemy import update

from app.engine.runtime.runner import run_command
from app.extensions import db
from app.models import Job, Timer


def release_claims(job_ids: list[int] = (), timer_ids: list[str] = ()) -> int:
    """Release claimed jobs (back to `pending`, the attempt their claim counted taken back, lease
    cleared) and timers (lease cleared). Only rows still claimed are touched: a job another
    worker already re-claimed after a lapsed lease keeps that claim. Returns the rows released."""
    job_ids, timer_ids = list(job_ids), list(timer_ids)
    if not job_ids and not timer_ids:
        return 0

    def body():
        released = 0
        if job_ids:
            released += db.session.execute(
                update(Job)
                .where(Job.id.in_(job_ids), Job.status == "running", Job.lease_until.is_not(None))
                .values(status="pending", attempts=Job.attempts - 1, lease_until=None)
                .execution_options(synchronize_session=False)
            ).rowcount
        if timer_ids:
            released += db.session.execute(
                update(Timer)
                .where(Timer.id.in_(timer_ids), Timer.lease_until.is_not(None))
                .values(lease_until=None)
                .execution_options(synchronize_session=False)
            ).rowcount
        return released

    return run_command(body)
