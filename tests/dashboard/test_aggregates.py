"""The pre-aggregated figures equal a recomputation from the history after a mixed run.

A seeded random run opens general and complaint tickets, completes, reassigns and cancels them,
answers surveys and lets timers fire (escalations) while the clock moves; then the aggregates the
engine kept command by command must equal `rebuild` (a replay of the whole history into empty
tables), and the simplest figures must equal counts taken straight from the history and tickets.
"""

import random
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.engine import Conflict, cancel_instance, instance_of_ticket, reassign_task, record_feedback
from app.extensions import db
from app.models import (
    DailyStat,
    DurationStat,
    ElementStat,
    Feedback,
    FeedbackRequest,
    HistoryEvent,
    HumanTask,
    Ticket,
    TicketStat,
)
from app.sla import STOPPING
from app.stats.rebuild import rebuild
from app.stats.record import COMPLETIONS
from app.worker import drain
from tests.dashboard.conftest import ANSWER, NOT_YET

FORMS = {
    "answer_question": lambda rng: rng.choice([ANSWER, ANSWER, NOT_YET]),
    "initial_response": lambda rng: {"response": "We are sorry."},
    "lead_initial_response": lambda rng: {"response": "Our apologies."},
    "review_complaint": lambda rng: {"findings": "The courier confirmed it."},
    "resolve_complaint": lambda rng: {
        "resolution_summary": "We changed the courier.",
        "outcome": "satisfactory",
    },
    "follow_up": lambda rng: {"contacted": True, "outcome": "resolved", "notes": "Apologised."},
}
TABLES = (TicketStat, DailyStat, DurationStat, ElementStat)


def snapshot() -> dict:
    db.session.expire_all()
    found = {}
    for model in TABLES:
        columns = list(model.__table__.columns)
        rows = db.session.execute(select(*columns)).all()
        # A row whose counters are all zero equals a missing row (a reopen can take one back).
        found[model.__tablename__] = sorted(
            tuple(r)
            for r in rows
            if model is TicketStat or any(v for c, v in zip(columns, r, strict=True) if not c.primary_key)
        )
    return found


def mixed_run(desk, clock, seed: int, steps: int) -> None:
    rng = random.Random(seed)
    for _ in range(steps):
        action = rng.choice(
            ["open", "open", "complete", "complete", "complete", "reassign", "rate", "cancel", "wait"]
        )
        tasks = (
            db.session.execute(select(HumanTask).order_by(HumanTask.created_at, HumanTask.id)).scalars().all()
        )
        if action == "open":
            desk.open(rng.choice(["general", "general", "complaint"]))
        elif action == "complete" and tasks:
            task = rng.choice(tasks)
            desk.complete(db.session.get(Ticket, task.ticket_id), FORMS[task.name](rng), name=task.name)
        elif action == "reassign" and tasks:
            task = rng.choice(tasks)
            try:
                reassign_task(task.id, desk.manager, rng.choice([desk.agent, desk.other]))
            except Conflict:
                pass  # not in that team
        elif action == "rate":
            request = db.session.execute(
                select(FeedbackRequest).where(FeedbackRequest.used_at.is_(None)).limit(1)
            ).scalar()
            if request is not None:
                record_feedback(request.id, rng.randint(1, 5), rng.choice(["", "fine", "slow"]))
                drain()
        elif action == "cancel":
            open_tickets = (
                db.session.execute(select(Ticket.id).where(Ticket.status.not_in(STOPPING))).scalars().all()
            )
            if open_tickets:
                cancel_instance(instance_of_ticket(rng.choice(open_tickets)).id, actor="max")
        clock.shift(timedelta(hours=rng.choice([0, 1, 3, 7, 20])))
        drain()


@pytest.mark.parametrize("seed", [1, 2])
def test_aggregates_equal_a_replay_of_the_history(desk, clock, seed):
    mixed_run(desk, clock, seed, steps=45)
    kept = snapshot()
    assert kept["daily_stat"] and kept["element_stat"]
    rebuild(db.session)
    db.session.commit()
    assert snapshot() == kept


def test_aggregates_equal_counts_from_the_history(desk, clock):
    mixed_run(desk, clock, 3, steps=60)
    day = func.date(HistoryEvent.at)
    opened = Counter(
        {
            (str(d), t): n
            for d, t, n in db.session.execute(
                select(day, HistoryEvent.element_id, func.count())
                .where(HistoryEvent.kind == "ticket_created")
                .group_by(day, HistoryEvent.element_id)
            ).all()
        }
    )
    kept = Counter()
    for d, t, n in db.session.execute(select(DailyStat.day, DailyStat.type, DailyStat.opened)).all():
        if n:
            kept[(str(d), t)] += n
    assert kept == opened
    count, total = db.session.execute(
        select(func.count(Feedback.id), func.coalesce(func.sum(Feedback.rating), 0))
    ).one()
    assert count > 0
    assert db.session.execute(select(func.sum(DailyStat.feedback), func.sum(DailyStat.rating_sum))).one() == (
        count,
        total,
    )
    open_now = db.session.execute(select(func.count()).where(Ticket.status.not_in(STOPPING))).scalar()
    assert db.session.execute(select(func.count()).where(TicketStat.is_open.is_(True))).scalar() == open_now
    assert (
        db.session.execute(
            select(func.sum(DailyStat.opened - DailyStat.resolved - DailyStat.cancelled))
        ).scalar()
        == open_now
    )
    completions = db.session.execute(
        select(func.count()).where(HistoryEvent.kind.in_(COMPLETIONS), HistoryEvent.instance_id.is_not(None))
    ).scalar()
    assert db.session.execute(select(func.sum(ElementStat.completed))).scalar() == completions


def test_flask_stats_rebuild(desk, week, runner):
    kept = snapshot()
    answered = _answered_tasks()
    assert answered and all(responded is not None for _, responded in answered)
    db.session.execute(update(HumanTask).values(first_responded_at=None))  # a stale copy
    db.session.commit()
    result = runner.invoke(args=["stats", "rebuild"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("replayed ")
    assert snapshot() == kept
    assert _answered_tasks() == answered  # the open tasks copy their tickets' first answers again


def _answered_tasks() -> list[tuple]:
    """(task id, its copy of the first answer) of the open tasks of answered tickets."""
    query = (
        select(HumanTask.id, HumanTask.first_responded_at)
        .join(TicketStat, TicketStat.ticket_id == HumanTask.ticket_id)
        .where(TicketStat.first_response_at.is_not(None))
        .order_by(HumanTask.id)
    )
    return [tuple(row) for row in db.session.execute(query)]


def test_the_migration_backfills_from_the_history(desk, week, app):
    """Down to 0008 (the tables and history_event.seconds go) and up again: 0009 rebuilds the same
    figures from the history, the elements' completions without their times (those are gone)."""
    from flask_migrate import downgrade, stamp, upgrade

    kept = snapshot()
    completions = _completions()
    db.session.commit()
    db.session.remove()
    stamp(revision="0009_dashboard_stats")
    downgrade(revision="0008_ticket_fields")
    upgrade(revision="0009_dashboard_stats")
    again = snapshot()
    for table in ("ticket_stat", "daily_stat", "duration_stat"):
        assert again[table] == kept[table]
    assert _completions() == completions
    assert {r[4] for r in again["element_stat"]} <= {-2, -1}  # untimed completions; cancellations


def _completions() -> dict:
    rows = db.session.execute(
        select(
            ElementStat.element_id, func.sum(ElementStat.completed), func.sum(ElementStat.cancelled)
        ).group_by(ElementStat.element_id)
    ).all()
    return {e: (int(c), int(x)) for e, c, x in rows}
