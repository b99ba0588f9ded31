"""Due timers fired several per transaction (`fire_timers`, the worker's `fire_claimed`): each fires
once, a failing one becomes its own incident without holding back the others, an instance with two
due timers is saved once per batch, and the dashboard counters add up as with one timer per command."""

from datetime import timedelta

import pytest

from app.engine import TimerBatchFailed, deploy, fire_timers, register_observer, start_process
from app.extensions import db
from app.models import DailyStat, Incident, ProcessInstance, Ticket, TicketCount
from app.worker import drain
from tests.factories import make_customer
from tests.worker.diagrams import parallel_timers, timer_then_timer, tiny_timer
from tests.worker.rows import fired, fresh, timers


def start_many(key: str, count: int, data: dict | None = None) -> list[ProcessInstance]:
    customer = make_customer()
    return [start_process(key, customer.id, f"Batch {i}", dict(data or {}))[1] for i in range(count)]


def statuses() -> dict[int, str]:
    fresh()
    return dict(db.session.execute(db.select(ProcessInstance.id, ProcessInstance.status)).all())


@pytest.fixture
def commands(app):
    """(name, outcome) of the outermost commands run from now on, in order."""
    seen: list[tuple[str, str]] = []
    register_observer(app, lambda name, _seconds, outcome: seen.append((name, outcome)))
    return seen


def test_a_burst_fires_in_batches_each_timer_once(app, clock, commands):
    deploy(tiny_timer('"PT1H"'))
    instances = start_many("tick", 7)
    clock.shift(timedelta(hours=1))
    app.config.update(TIMER_BATCH=3, TIMER_BATCH_SECONDS=600)
    commands.clear()
    assert drain() == 7
    fires = [c for c in commands if c[0].startswith("fire_timer")]
    assert fires == [("fire_timers", "ok")] * 2 + [("fire_timer", "ok")]  # 3 + 3, and the last alone
    assert len({task_id for _, task_id in fired()}) == len(fired()) == 7 and timers() == []
    assert set(statuses().values()) == {"completed"} and len(statuses()) == len(instances)
    # The dashboard's day row counts every resolved ticket once, as one command per timer would,
    # and the ticket list's counts per status are the tickets' own.
    assert db.session.execute(db.select(db.func.sum(DailyStat.resolved))).scalar() == 7
    counted = db.session.execute(
        db.select(TicketCount.status, db.func.sum(TicketCount.n)).group_by(TicketCount.status)
    ).all()
    actual = db.session.execute(db.select(Ticket.status, db.func.count()).group_by(Ticket.status)).all()
    assert {s: n for s, n in counted if n} == dict(actual) and sum(dict(actual).values()) == 7


def test_the_time_budget_commits_what_the_batch_has_done(app, clock):
    deploy(tiny_timer('"PT1H"'))
    start_many("tick", 3)
    ids = [t.id for t in timers()]
    clock.shift(timedelta(hours=1))
    assert fire_timers(ids, 0) == ids[:1]  # out of time after the first: it commits alone
    assert len(fired()) == 1
    assert fire_timers(ids[1:], 600) == ids[1:]
    assert len(fired()) == 3


def test_a_timer_not_due_or_gone_is_dealt_with_and_not_fired(app, clock):
    deploy(tiny_timer('"PT1H"'))
    deploy(tiny_timer('"PT3H"', process_id="later"))
    start_many("tick", 1)
    start_many("later", 1)
    ids = [t.id for t in timers()]  # by due time: the PT1H one first
    clock.shift(timedelta(hours=1))
    assert fire_timers([*ids, "no-such-timer"], 600) == [*ids, "no-such-timer"]
    assert len(fired()) == 1 and [t.id for t in timers()] == ids[1:]


def test_a_failing_timer_becomes_its_incident_and_the_rest_of_its_batch_fires(app, clock, commands):
    deploy(timer_then_timer("follow_up_after"))  # the second timer's duration is the ticket's own
    good = start_many("twice", 2, {"follow_up_after": "PT1H"})
    [broken] = start_many("twice", 1)  # no follow_up_after: its second timer cannot be set
    more = start_many("twice", 2, {"follow_up_after": "PT1H"})
    clock.shift(timedelta(hours=1))
    app.config.update(TIMER_BATCH=10, TIMER_BATCH_SECONDS=600)
    commands.clear()
    assert drain() == 5
    assert [c for c in commands if c[0] != "claim_due"] == [
        ("fire_timers", "error"),  # all five: failed at the third, nothing saved
        ("fire_timers", "ok"),  # the two before it
        ("fire_timer", "error"),  # the third alone ...
        ("record_incident", "ok"),  # ... becomes its incident
        ("fire_timers", "ok"),  # the last two
    ]
    assert len(fired()) == 4  # each good first timer once; the broken one did not fire
    [incident] = db.session.execute(db.select(Incident)).scalars().all()
    assert (incident.instance_id, incident.element_id, incident.kind) == (broken.id, "second", "timer")
    assert "follow_up_after" in incident.message
    state = statuses()
    assert state[broken.id] == "incident"
    assert all(state[i.id] == "running" for i in (*good, *more))
    assert len(timers()) == 5  # four second timers waiting, and the broken first one, parked


def test_the_batch_raises_naming_the_timer_that_failed_and_saves_nothing(app, clock):
    deploy(timer_then_timer("follow_up_after"))
    start_many("twice", 1, {"follow_up_after": "PT1H"})
    [broken] = start_many("twice", 1)
    ids = [t.id for t in timers()]
    clock.shift(timedelta(hours=1))
    with pytest.raises(TimerBatchFailed) as failed:
        fire_timers(ids, 600)
    assert failed.value.timer_id == next(t.id for t in timers() if t.instance_id == broken.id)
    assert fired() == [] and len(timers()) == 2  # the first one fired, then was rolled back


def test_two_timers_of_one_instance_go_in_separate_batches(app, clock):
    deploy(parallel_timers())
    [instance] = start_many("pair", 1)
    ids = [t.id for t in timers()]
    assert len(ids) == 2
    clock.shift(timedelta(hours=1))
    assert len(fire_timers(ids, 600)) == 1  # the instance was saved once; its second timer waits
    assert len(fired()) == 1
    app.config.update(TIMER_BATCH=10, TIMER_BATCH_SECONDS=600)
    assert drain() == 1
    assert sorted(e for e, _ in fired()) == ["one", "two"]
    assert statuses()[instance.id] == "completed"
