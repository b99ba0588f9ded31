"""Claiming due rows (timers, jobs) for one worker with a lease, written once for both dialects.

PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent workers take different rows.
SQLite: the command's `BEGIN IMMEDIATE` (see runner.py) makes claims one at a time. A claimed
row carries `lease_until`; a worker that dies lets its lease run out and the row is claimed again.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select

from app.clock import utcnow
from app.engine.runtime.runner import run_command
from app.extensions import db

T = TypeVar("T")


def claim_due(due: Callable[[datetime], Select], lease: Callable[[Any, datetime], T]) -> list[T]:
    """Claim the rows `due(now)` selects, in one command, and lease each with `lease(row, now)`.

    Args:
        due: builds the SELECT of claimable rows (due, not leased or lease run out), with its
            order and limit.
        lease: marks one row as this worker's (sets its `lease_until` ...) and returns what the
            worker needs of it.

    Returns:
        What `lease` returned for each claimed row, in the query's order.
    """

    def body():
        now = utcnow()
        query = due(now)
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return [lease(row, now) for row in db.session.execute(query).scalars().all()]

    return run_command(body)
