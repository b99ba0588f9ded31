"""Every kind of waiting timer is a `timer` row with its exact due time, fired when the clock says."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

from app.clock import utcnow
from app.engine import NotFound, complete_task, deliver_message, deploy, start_process
from app.extensions import db
from app.models import HumanTask
from app.worker import drain
from tests.factories import make_customer
from tests.worker.diagrams import boundary_timer, intermediate_timer, race_of_reply_and_timeout
from tests.worker.rows import fired, open_tasks, subscriptions, timers


def start(key: str):
    ticket, _ = start_process(key, make_customer().id, "Timers", {})
    return ticket


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_duration_timer_is_due_exactly_its_duration_after_it_starts_waiting(app, clock):
    deploy(intermediate_timer("timeDuration", '"PT90M"'))
    start("wait")
    [row] = timers()
    assert (row.element_id, row.due_at) == ("pause", utcnow() + timedelta(minutes=90))
    clock.shift(timedelta(minutes=90) - timedelta(seconds=1))
    assert drain() == 0
    clock.shift(timedelta(seconds=1))
    assert drain() == 1
    assert open_tasks() == ["after"]
    assert timers() == []


def test_date_timer_with_an_offset_is_due_at_that_instant(app, clock):
    deploy(intermediate_timer("timeDate", '"2026-11-23T12:00:00+01:00"'))
    start("wait")
    assert [t.due_at for t in timers()] == [at("2026-11-23T11:00:00+00:00")]
    clock.move_to("2026-11-23T10:59:59+00:00")
    assert drain() == 0
    clock.move_to("2026-11-23T11:00:00+00:00")
    assert drain() == 1
    assert open_tasks() == ["after"]


# SpiffWorkflow reads a naive date in LOCALTZ, the machine's zone as it was when the library was
# imported. Setting it is how these tests stand on a machine in Tokyo or New York.
@pytest.mark.parametrize(
    "machine_zone", [timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))], ids=["tokyo", "new_york"]
)
@pytest.mark.parametrize(
    "value", ['"2026-11-23T12:00:00"', '"2026-W48-1T12:00:00"'], ids=["calendar_date", "week_date"]
)
def test_naive_date_timer_is_read_as_utc_whatever_the_machine_zone(
    app, clock, monkeypatch, machine_zone, value
):
    monkeypatch.setattr(spiff_timer, "LOCALTZ", machine_zone)
    deploy(intermediate_timer("timeDate", value))
    start("wait")
    assert [t.due_at for t in timers()] == [at("2026-11-23T12:00:00+00:00")]
    assert open_tasks() == []  # Tokyo would have read 03:00 UTC: already past, fired at once
    clock.move_to("2026-11-23T11:59:59+00:00")
    assert drain() == 0
    clock.move_to("2026-11-23T12:00:00+00:00")
    assert drain() == 1
    assert open_tasks() == ["after"]


def test_cycle_with_a_naive_start_is_read_as_utc_whatever_the_machine_zone(app, clock, monkeypatch):
    monkeypatch.setattr(spiff_timer, "LOCALTZ", timezone(timedelta(hours=9)))
    deploy(boundary_timer("timeCycle", '"R2/2026-11-23T12:00:00/PT1H"', interrupting=False))
    start("bound")
    assert [t.due_at for t in timers()] == [at("2026-11-23T12:00:00+00:00")]


def test_cycle_fires_each_repetition_advancing_its_due_time_then_its_row_disappears(app, clock):
    deploy(boundary_timer("timeCycle", '"R3/PT1H"', interrupting=False))
    start("bound")
    started = utcnow()
    for repetition in (1, 2, 3):
        [row] = timers()
        assert row.due_at == started + timedelta(hours=repetition)
        clock.move_to(row.due_at)
        assert drain() == 1
        assert open_tasks() == ["chase"] * repetition + ["work"]
    assert timers() == []
    clock.shift(timedelta(days=1))
    assert drain() == 0
    assert [element for element, _ in fired()] == ["nudge"] * 3
    assert len({task_id for _, task_id in fired()}) == 1


def test_completing_the_task_stops_its_cycle(app, clock):
    deploy(boundary_timer("timeCycle", '"R3/PT1H"', interrupting=False))
    start("bound")
    clock.shift(timedelta(hours=1))
    assert drain() == 1
    work = db.session.execute(db.select(HumanTask.id).where(HumanTask.name == "work")).scalar_one()
    complete_task(work, {}, None)
    assert timers() == []
    clock.shift(timedelta(days=1))
    assert drain() == 0
    assert len(fired()) == 1


@pytest.mark.xfail(
    strict=True,
    reason="SpiffWorkflow 3.2's BoundaryEventJoin cancels a waiting cycle "
    "boundary event with the branches it spawned when its task completes",
)
def test_paths_a_cycle_opened_outlive_the_task_it_is_attached_to(app, clock):
    deploy(boundary_timer("timeCycle", '"R3/PT1H"', interrupting=False))
    start("bound")
    clock.shift(timedelta(hours=1))
    drain()
    work = db.session.execute(db.select(HumanTask.id).where(HumanTask.name == "work")).scalar_one()
    complete_task(work, {}, None)
    assert open_tasks() == ["chase"]


def test_interrupting_boundary_timer_closes_the_task_and_takes_the_timeout_path(app, clock):
    deploy(boundary_timer("timeDuration", '"PT4H"', interrupting=True))
    start("bound")
    [row] = timers()
    assert (row.element_id, row.due_at) == ("nudge", utcnow() + timedelta(hours=4))
    clock.shift(timedelta(hours=4))
    assert drain() == 1
    assert open_tasks() == ["chase"]
    assert timers() == []


def test_non_interrupting_boundary_timer_keeps_the_task_open_and_opens_a_second_path(app, clock):
    deploy(boundary_timer("timeDuration", '"PT4H"', interrupting=False))
    start("bound")
    clock.shift(timedelta(hours=4))
    assert drain() == 1
    assert open_tasks() == ["chase", "work"]
    assert timers() == []
    work = db.session.execute(db.select(HumanTask.id).where(HumanTask.name == "work")).scalar_one()
    complete_task(work, {}, None)
    assert open_tasks() == ["chase"]


def test_gateway_waits_for_the_message_and_the_timer_at_once(app, clock):
    deploy(race_of_reply_and_timeout('"PT2H"'))
    start("race")
    assert [(t.element_id, t.due_at) for t in timers()] == [("timeout", utcnow() + timedelta(hours=2))]
    assert subscriptions() == [("customer_reply", "reply")]


def test_reply_before_the_timeout_wins_and_the_timer_row_disappears(app, clock):
    deploy(race_of_reply_and_timeout('"PT2H"'))
    ticket = start("race")
    clock.shift(timedelta(hours=1))
    assert deliver_message(ticket.id, "customer_reply", {"text": "here you are"}) == "reply"
    assert open_tasks() == ["answered"]
    assert timers() == [] and subscriptions() == []
    clock.shift(timedelta(hours=2))
    assert drain() == 0
    assert open_tasks() == ["answered"]


def test_timeout_before_the_reply_wins_and_the_subscription_disappears(app, clock):
    deploy(race_of_reply_and_timeout('"PT2H"'))
    ticket = start("race")
    clock.shift(timedelta(hours=2))
    assert drain() == 1
    assert open_tasks() == ["give_up"]
    assert timers() == [] and subscriptions() == []
    with pytest.raises(NotFound):
        deliver_message(ticket.id, "customer_reply", {"text": "too late"})
    assert open_tasks() == ["give_up"]


def test_due_times_are_stored_as_utc(app, clock):
    deploy(intermediate_timer("timeDate", '"2026-11-24T08:30:00-05:00"'))
    start("wait")
    [row] = timers()
    assert row.due_at.utcoffset() == timedelta(0) and row.due_at == datetime(2026, 11, 24, 13, 30, tzinfo=UTC)
