"""Bulk migration: a batch of running tickets moved by the worker, chunk by chunk, resumable.

`start_migration_batch` writes the batch and one item per ticket (the item claims its ticket
while the batch is open: a unique column, so two open batches on one ticket are refused by the
database as well as by the check that names the ticket). The worker calls `run_migration_chunk`:
it leases the oldest open batch, moves its next pending items, each in its own command
(`migrate_instance` and the item's outcome in one transaction), then recounts the batch from its
items. A crash loses at most the item in flight: done items stay done, the lease lapses, the next
round goes on. `migration_batch` reads the progress and the failures.
"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.engine.commands.migration import _definition, check_mapping, migrate_instance
from app.engine.errors import Conflict, EngineError, InvalidData, NotFound
from app.engine.runtime.runner import run_command
from app.extensions import db
from app.models import MigrationBatch, MigrationBatchItem, ProcessDefinition, ProcessInstance, Ticket

log = logging.getLogger(__name__)
OPEN = ("queued", "running")
MAX_FAILURES_SHOWN = 500
TICKET_FILTERS = {"status": Ticket.status, "priority": Ticket.priority, "team": Ticket.sla_team_key}


def _selected(source: ProcessDefinition, ticket_ids, ticket_filter) -> list[int]:
    """The tickets running on `source` that the caller picked (ids and/or filter), by id."""
    query = (
        db.select(ProcessInstance.ticket_id)
        .join(Ticket, Ticket.id == ProcessInstance.ticket_id)
        .where(ProcessInstance.definition_id == source.id, ProcessInstance.status == "running")
    )
    if ticket_ids is not None:
        query = query.where(ProcessInstance.ticket_id.in_(ticket_ids))
    for name, value in (ticket_filter or {}).items():
        query = query.where(TICKET_FILTERS[name] == value)
    return sorted({row[0] for row in db.session.execute(query)})


def check_ticket_filter(ticket_filter) -> dict:
    """The filter as {field: value}, or InvalidData naming the field."""
    if ticket_filter is None:
        return {}
    if not isinstance(ticket_filter, dict):
        raise InvalidData({"filter": "an object"}, "filter: not an object")
    for name, value in ticket_filter.items():
        if name not in TICKET_FILTERS:
            allowed = ", ".join(TICKET_FILTERS)
            raise InvalidData({f"filter.{name}": f"unknown; use {allowed}"}, f"filter.{name}: unknown")
        if not isinstance(value, str) or not 0 < len(value) <= 64:
            raise InvalidData({f"filter.{name}": "text of 1 to 64 characters"}, f"filter.{name}: bad value")
    return dict(ticket_filter)


def start_migration_batch(
    process_key: str,
    source_version: int,
    target_version: int,
    mapping=None,
    *,
    ticket_ids: list[int] | None = None,
    ticket_filter: dict | None = None,
    actor: str | None = None,
) -> dict:
    """Queue a batch moving running tickets of `source_version` to `target_version` (the worker runs it).

    Every running ticket of the source version, or those in `ticket_ids` and/or matching
    `ticket_filter` (status, priority, team). Explicit ids no longer running on the source version
    are recorded as skipped. Returns the batch as `migration_batch` does.

    Raises:
        NotFound: no such version. InvalidData: bad mapping or filter, no ticket, or more than
        MIGRATION_BATCH_MAX. Conflict: a ticket is in another open batch (the message names it).
    """
    mapping, ticket_filter = check_mapping(mapping), check_ticket_filter(ticket_filter)
    limit = current_app.config["MIGRATION_BATCH_MAX"]
    if ticket_ids is not None and len(ticket_ids) > limit:
        raise InvalidData({"ticket_ids": f"at most {limit} tickets"}, f"ticket_ids: at most {limit} tickets")

    def body():
        source = _definition(process_key, source_version, "source_version")
        target = _definition(process_key, target_version, "target_version")
        if source.id == target.id:
            message = "the same as source_version"
            raise InvalidData({"target_version": message}, f"target_version: {message}")
        chosen = _selected(source, ticket_ids, ticket_filter)
        stale = sorted(set(ticket_ids or ()) - set(chosen))
        _check_tickets_exist(stale)
        if not chosen and not stale:
            message = "no running ticket of that version matches"
            raise InvalidData({"ticket_ids": message}, f"ticket_ids: {message}")
        if len(chosen) > limit:
            message = f"{len(chosen)} tickets match, at most {limit} per batch: pick ticket_ids or a filter"
            raise InvalidData({"filter": message}, f"filter: {message}")
        _refuse_claimed(chosen + stale)
        now = utcnow()
        batch = MigrationBatch(
            process_key=process_key,
            source_version=source_version,
            target_version=target_version,
            mapping=mapping,
            state="queued",
            total=len(chosen) + len(stale),
            skipped=len(stale),
            moved=0,
            failed=0,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        db.session.add(batch)
        db.session.flush()
        items = [{"batch_id": batch.id, "ticket_id": t, "state": "pending", "claim": t} for t in chosen]
        reason = f"not running on version {source_version}"
        items += [
            {"batch_id": batch.id, "ticket_id": t, "state": "skipped", "reason": reason, "done_at": now}
            for t in stale
        ]
        try:
            db.session.execute(db.insert(MigrationBatchItem), items)
        except IntegrityError:  # another batch claimed one of them since the check: refuse cleanly
            raise Conflict(
                "another migration batch took some of these tickets at the same time; try again"
            ) from None
        return batch.id

    batch_id = run_command(body)
    return migration_batch(batch_id)


def _check_tickets_exist(ids: list[int]) -> None:
    if not ids:
        return
    found = set(db.session.execute(db.select(Ticket.id).where(Ticket.id.in_(ids))).scalars())
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidData({"ticket_ids": f"no ticket {missing[0]}"}, f"ticket_ids: no ticket {missing[0]}")


def _refuse_claimed(ids: list[int]) -> None:
    for start in range(0, len(ids), 500):  # bounded IN lists
        row = db.session.execute(
            db.select(MigrationBatchItem.claim, MigrationBatchItem.batch_id)
            .where(MigrationBatchItem.claim.in_(ids[start : start + 500]))
            .order_by(MigrationBatchItem.claim)
            .limit(1)
        ).first()
        if row is not None:
            raise Conflict(f"ticket {row[0]} is already in open migration batch {row[1]}")


def migration_batch(batch_id: int) -> dict:
    """A batch's state, counts and failures (ticket and reason, the first MAX_FAILURES_SHOWN). Reads only.

    Raises:
        NotFound: no such batch.
    """
    batch = db.session.get(MigrationBatch, batch_id)
    if batch is None:
        raise NotFound(f"no migration batch {batch_id}")
    failures = db.session.execute(
        db.select(MigrationBatchItem.ticket_id, MigrationBatchItem.reason)
        .where(MigrationBatchItem.batch_id == batch_id, MigrationBatchItem.state == "failed")
        .order_by(MigrationBatchItem.id)
        .limit(MAX_FAILURES_SHOWN)
    ).all()
    return {
        "id": batch.id,
        "process_key": batch.process_key,
        "source_version": batch.source_version,
        "target_version": batch.target_version,
        "mapping": batch.mapping or {},
        "state": batch.state,
        "counts": {
            "total": batch.total,
            "moved": batch.moved,
            "failed": batch.failed,
            "skipped": batch.skipped,
            "pending": batch.total - batch.moved - batch.failed - batch.skipped,
        },
        "failures": [{"ticket_id": t, "reason": r} for t, r in failures],
        "created_by": batch.created_by,
        "created_at": _iso(batch.created_at),
        "finished_at": _iso(batch.finished_at),
    }


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def run_migration_chunk(size: int | None = None, lease_seconds: int = 60) -> int:
    """Move the next `size` pending tickets (MIGRATION_CHUNK) of the oldest open batch. Returns how many.

    Each ticket is its own command; the batch's counts are recounted from its items at the end.
    """
    size = size or current_app.config["MIGRATION_CHUNK"]
    batch_id = _lease_batch(lease_seconds)
    if batch_id is None:
        return 0
    batch = db.session.get(MigrationBatch, batch_id)
    source, target, mapping, actor = (
        batch.source_version,
        batch.target_version,
        batch.mapping,
        batch.created_by,
    )
    items = db.session.execute(
        db.select(MigrationBatchItem.id, MigrationBatchItem.ticket_id)
        .where(MigrationBatchItem.batch_id == batch_id, MigrationBatchItem.state == "pending")
        .order_by(MigrationBatchItem.id)
        .limit(size)
    ).all()
    db.session.commit()  # end the read before the commands
    for item_id, ticket_id in items:
        _move_item(batch_id, item_id, ticket_id, source, target, mapping or {}, actor)
    run_command(lambda: _recount(batch_id))
    return max(len(items), 1)


def _lease_batch(lease_seconds: int) -> int | None:
    def free(now):
        return MigrationBatch.state.in_(OPEN) & (
            MigrationBatch.lease_until.is_(None) | (MigrationBatch.lease_until < now)
        )

    def oldest(now):
        query = db.select(MigrationBatch.id).where(free(now))
        return db.session.execute(
            query.order_by(MigrationBatch.created_at, MigrationBatch.id).limit(1)
        ).scalar()

    if oldest(utcnow()) is None:  # the usual case: a read, no write lock
        db.session.commit()
        return None

    def body():
        now = utcnow()
        batch_id = oldest(now)
        if batch_id is None:
            return None
        # Conditional: of two workers that saw the batch free, one takes it.
        taken = db.session.execute(
            db.update(MigrationBatch)
            .where(MigrationBatch.id == batch_id, free(now))
            .values(state="running", lease_until=now + timedelta(seconds=lease_seconds))
        ).rowcount
        return batch_id if taken == 1 else None

    return run_command(body)


def _move_item(batch_id, item_id, ticket_id, source, target, mapping, actor) -> None:
    """One ticket: moved (with its item, one transaction), else its item failed or skipped with why."""

    def body():
        item = db.session.get(MigrationBatchItem, item_id)
        if item.state != "pending":  # done by an earlier round that crashed before recounting
            return None
        version = db.session.execute(
            db.select(ProcessDefinition.version)
            .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
            .where(ProcessInstance.ticket_id == ticket_id, ProcessInstance.status == "running")
        ).scalar()
        if version != source:
            return "not running" if version is None else f"now on version {version}"
        migrate_instance(ticket_id, target, mapping, actor=actor, batch_id=batch_id)
        item.state, item.done_at = "moved", utcnow()
        return None

    try:
        skipped = run_command(body)
        if skipped is not None:
            _finish_item(item_id, "skipped", f"{skipped}, not on version {source}")
    except EngineError as exc:
        _finish_item(item_id, "failed", exc.message)
    except Exception as exc:  # one ticket's fault never stops the batch; its reason is listed
        db.session.rollback()
        log.exception("migration batch %s: ticket %s could not move", batch_id, ticket_id)
        _finish_item(item_id, "failed", f"{type(exc).__name__}: {exc}")


def _finish_item(item_id: int, state: str, reason: str) -> None:
    def body():
        item = db.session.get(MigrationBatchItem, item_id)
        if item.state == "pending":
            item.state, item.reason, item.done_at = state, reason[:2000], utcnow()

    run_command(body)


def _recount(batch_id: int) -> None:
    """Progress from the items; a batch with nothing pending is done and lets go of its tickets."""
    counts = dict(
        db.session.execute(
            db.select(MigrationBatchItem.state, db.func.count())
            .where(MigrationBatchItem.batch_id == batch_id)
            .group_by(MigrationBatchItem.state)
        ).all()
    )
    batch = db.session.get(MigrationBatch, batch_id)
    now = utcnow()
    batch.moved, batch.failed, batch.skipped = (counts.get(s, 0) for s in ("moved", "failed", "skipped"))
    batch.updated_at, batch.lease_until = now, None
    if not counts.get("pending"):
        batch.state, batch.finished_at = "done", now
        db.session.execute(
            db.update(MigrationBatchItem).where(MigrationBatchItem.batch_id == batch_id).values(claim=None)
        )
