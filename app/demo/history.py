"""Play months of demo tickets through the engine, moving the clock from event to event.

Every ticket is opened with `start_process`, worked with `complete_task`, answered with
`deliver_message` and rated with `record_feedback`, exactly as the pages and the API do; the
worker's `drain()` runs the service-task jobs and fires each timer at its due time (the clock
stops there first), so reminders, escalations, no-response closings and surveys happen as they
would have. The clock is moved with time-machine (a test dependency in requirements.txt): the
engine's timers are computed by SpiffWorkflow from the system clock.

Incidents come the way they come in production: for two office hours about two thirds into the
period the mail server is "down" (the `notify.customer` handler raises ConnectionError), so the
e-mails of that window fail, are retried by their jobs' policy and end as incidents, which stay
open for the incidents page to retry.
"""

import heapq
import itertools
import logging
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.clock import utcnow
from app.demo import scenarios
from app.engine import (
    EngineError,
    cancel_instance,
    complete_task,
    deliver_message,
    instance_of_ticket,
    next_wakeup,
    record_feedback,
    start_process,
)
from app.extensions import db
from app.handlers import HANDLERS
from app.models import Customer, FeedbackRequest, HumanTask, Incident, Ticket, User
from app.transactions import write_transaction
from app.worker import drain

log = logging.getLogger(__name__)
PERIOD = re.compile(r"^\s*(\d{1,4})\s*([dwmy])\s*$")
DAYS_PER_UNIT = {"d": 1, "w": 7, "m": 30, "y": 365}
OFFICE_HOURS = (8, 17)  # UTC; staff steps wait for them, customers act from 07:00 to 22:00
RETRIES = 3  # a step whose task is not open yet is tried again this many times, 4 hours apart
MAIL_OPERATOR = "notify.customer"
OUTAGE = timedelta(hours=2)


def parse_period(text: str) -> int:
    """Days in '6m', '3m', '30d', '2w', '1y' (a month is 30 days).

    Raises:
        ValueError: not a number followed by d, w, m or y, or outside 1 day to 3 years.
    """
    match = PERIOD.match(text or "")
    if not match:
        raise ValueError(f"'{text}' is not a period such as 6m, 3m, 30d or 2w")
    days = int(match.group(1)) * DAYS_PER_UNIT[match.group(2)]
    if not 1 <= days <= 3 * 365:
        raise ValueError(f"'{text}' is outside 1 day to 3 years")
    return days


@dataclass
class HistorySummary:
    """What a run made, for the command's last lines and the tests."""

    tickets: Counter = field(default_factory=Counter)  # by type
    paths: Counter = field(default_factory=Counter)
    steps: int = 0
    skipped: int = 0
    ratings: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        closed = db.session.execute(db.select(Ticket.status, db.func.count()).group_by(Ticket.status)).all()
        breached = db.session.execute(db.select(db.func.count()).where(Ticket.sla_met.is_(False))).scalar()
        incidents = db.session.execute(db.select(db.func.count()).select_from(Incident)).scalar()
        return [
            "tickets: " + ", ".join(f"{t} {n}" for t, n in sorted(self.tickets.items())),
            "statuses now: " + ", ".join(f"{s} {n}" for s, n in sorted(closed)),
            f"SLA breached (finished late): {breached}; ratings: {self.ratings}; incidents: {incidents}",
            f"steps played: {self.steps} ({self.skipped} skipped: the ticket had moved on)",
        ]


@dataclass(order=True)
class _Event:
    when: datetime
    seq: int
    run: "_TicketRun | None" = field(compare=False, default=None)


@dataclass
class _TicketRun:
    scenario: scenarios.Scenario
    customer_id: int
    ticket_id: int | None = None
    retries: int = 0


class _Clock:
    """time-machine's traveller, moved forward only."""

    def __init__(self, start: datetime):
        import time_machine  # only this command moves the clock; it ships in requirements.txt

        self.traveller = time_machine.travel(start, tick=False)
        self.coordinates = None
        self.now = start

    def __enter__(self):
        self.coordinates = self.traveller.start()
        return self

    def __exit__(self, *exc):
        self.traveller.stop()

    def move_to(self, when: datetime) -> None:
        if when > self.now:
            self.coordinates.move_to(when)
            self.now = when


def seed_history(
    days: int, seed: int = 7, per_day: float = 14.0, progress: Callable[[str], None] | None = None
) -> HistorySummary:
    """Generate `days` of tickets ending now (about `per_day` on a weekday, fewer at weekends).

    Needs the shipped processes deployed and the demo teams and agents (`flask seed`). Tickets
    whose steps would fall after now stay open where they are, as on a real desk.
    """
    import time

    started = time.perf_counter()
    rng = random.Random(seed)
    end = utcnow()
    start = (end - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    summary, say = HistorySummary(), progress or (lambda _text: None)
    manager = (
        db.session.execute(
            db.select(User).where(User.role.in_(("manager", "admin"))).order_by(User.role.desc())
        )
        .scalars()
        .first()
    )
    if manager is None:
        raise RuntimeError("no manager or admin to act for: run `flask seed` first")
    manager_id = manager.id
    counter = itertools.count()
    outage = _office(rng, start + (end - start) * 2 / 3)
    mail = HANDLERS[MAIL_OPERATOR]
    with _Clock(start) as clock, _MailOutage(mail, outage, outage + OUTAGE, clock):
        customer_ids = _customers(rng, max(20, int(days * per_day / 12)))
        queue = [_Event(when, next(counter), None) for when in _arrivals(rng, start, end, per_day)]
        heapq.heapify(queue)
        total, opened = len(queue), 0
        say(f"history: {days} days from {start:%Y-%m-%d}, about {total} tickets (seed {seed})")
        while queue:
            event = heapq.heappop(queue)
            if event.when > end:
                continue  # after now: the ticket stays where it is
            _advance(clock, event.when)
            if event.run is None:
                run = _TicketRun(scenarios.pick(rng), rng.choice(customer_ids))
                opened += 1
                if opened % max(1, total // 20) == 0:
                    say(
                        f"  {clock.now:%Y-%m-%d}: {opened}/{total} tickets opened ({time.perf_counter() - started:.0f} s)"
                    )
                next_after = _open(run, summary)
            else:
                next_after = _play(run := event.run, rng, manager_id, summary)
            drain()
            db.session.remove()
            if next_after is not None:
                step = run.scenario.steps[0]
                when = (
                    _office(rng, clock.now + timedelta(hours=next_after))
                    if step.staff
                    else _awake(clock.now + timedelta(hours=next_after))
                )
                heapq.heappush(queue, _Event(when, next(counter), run))
        _advance(clock, end)
    summary.seconds = time.perf_counter() - started
    return summary


class _MailOutage:
    """The `notify.customer` handler fails while the clock is inside [start, end)."""

    def __init__(self, handler, start: datetime, end: datetime, clock: "_Clock"):
        self.handler, self.start, self.end, self.clock = handler, start, end, clock

    def __call__(self, params: dict, ctx):
        if self.start <= self.clock.now < self.end:
            raise ConnectionError("mail server unreachable (demo outage)")
        return self.handler(params, ctx)

    def __enter__(self):
        HANDLERS[MAIL_OPERATOR] = self
        return self

    def __exit__(self, *exc):
        HANDLERS[MAIL_OPERATOR] = self.handler


def _customers(rng: random.Random, count: int) -> list[int]:
    """The demo customers plus `count` generated ones."""
    with write_transaction():
        for i in range(count):
            db.session.add(Customer(**scenarios.customer(rng, i)))
    return list(db.session.execute(db.select(Customer.id)).scalars())


def _arrivals(rng: random.Random, start: datetime, end: datetime, per_day: float) -> list[datetime]:
    times, day = [], start.replace(hour=0)
    while day < end:
        weekday = day.weekday() < 5
        count = max(0, round(rng.gauss(per_day if weekday else per_day / 3, per_day / 5)))
        for _ in range(count):
            when = day + timedelta(hours=rng.uniform(7, 21) if weekday else rng.uniform(9, 19))
            if start <= when < end:
                times.append(when)
        day += timedelta(days=1)
    return sorted(times)


def _office(rng: random.Random, when: datetime) -> datetime:
    """`when`, or the next weekday's office hours when it falls outside them."""
    while when.weekday() >= 5 or not OFFICE_HOURS[0] <= when.hour < OFFICE_HOURS[1]:
        nxt = when.replace(hour=OFFICE_HOURS[0], minute=0, second=0, microsecond=0)
        if when.hour >= OFFICE_HOURS[0]:
            nxt += timedelta(days=1)
        when = nxt + timedelta(minutes=rng.randint(0, 120))
    return when


def _awake(when: datetime) -> datetime:
    if when.hour < 7:
        return when.replace(hour=7)
    if when.hour >= 22:
        return (when + timedelta(days=1)).replace(hour=7)
    return when


def _advance(clock: _Clock, when: datetime) -> None:
    """Fire every timer and run every job due before `when`, each at its own time; then move there."""
    while True:
        due = next_wakeup()
        if due is None or due > when:
            break
        clock.move_to(due)
        if drain() == 0 and due <= clock.now:  # a held lease: the worker will see it later
            break
    clock.move_to(when)


def _open(run: _TicketRun, summary: HistorySummary) -> float | None:
    scenario = run.scenario
    try:
        ticket, _ = start_process(
            scenario.ticket_type, run.customer_id, scenario.subject, dict(scenario.data), actor="customer"
        )
    except EngineError as exc:
        log.warning("demo ticket not opened: %s", exc)
        return None
    run.ticket_id = ticket.id
    summary.tickets[scenario.ticket_type] += 1
    summary.paths[scenario.path] += 1
    return scenario.steps[0].after if scenario.steps else None


def _play(run: _TicketRun, rng: random.Random, manager_id: int, summary: HistorySummary) -> float | None:
    """Do the run's next step; returns hours until the one after, or None when the run ends."""
    step = run.scenario.steps[0]
    done = _do(step, run, rng, manager_id, summary)
    if not done:
        if step.kind in ("task", "rate", "message") and run.retries < RETRIES:
            run.retries += 1
            return 4.0 if step.kind == "task" else 24.0
        summary.skipped += 1
        return None
    summary.steps += 1
    run.retries = 0
    run.scenario.steps.pop(0)
    if (
        step.kind == "task"
        and not run.scenario.steps
        and step.names not in (("follow_up",), ("reach_out",), ("chase_delivery",), ("resolve_payment",))
    ):
        run.scenario.steps.extend(scenarios.feedback_steps(rng, run.scenario.path))
    return run.scenario.steps[0].after if run.scenario.steps else None


def _do(step, run: _TicketRun, rng: random.Random, manager_id: int, summary: HistorySummary) -> bool:
    try:
        if step.kind == "task":
            task = (
                db.session.execute(
                    db.select(HumanTask).where(
                        HumanTask.ticket_id == run.ticket_id, HumanTask.name.in_(step.names)
                    )
                )
                .scalars()
                .first()
            )
            if task is None:
                return False
            user = db.session.get(User, task.assignee_id or manager_id)
            complete_task(task.id, dict(step.data), user)
        elif step.kind == "reply":
            deliver_message(run.ticket_id, "customer_reply", dict(step.data), actor="customer")
        elif step.kind == "message":  # from the shop's back office
            deliver_message(run.ticket_id, step.data["name"], dict(step.data["payload"]), actor="back office")
        elif step.kind == "cancel":
            cancel_instance(instance_of_ticket(run.ticket_id).id, actor="customer")
        elif step.kind == "rate":
            request = (
                db.session.execute(
                    db.select(FeedbackRequest)
                    .where(FeedbackRequest.ticket_id == run.ticket_id, FeedbackRequest.used_at.is_(None))
                    .order_by(FeedbackRequest.id.desc())
                )
                .scalars()
                .first()
            )
            if request is None or request.expires_at <= utcnow():
                return False
            late = db.session.get(Ticket, run.ticket_id).sla_met is False
            value, comment = scenarios.rating(rng, late)
            record_feedback(request.id, value, comment)
            summary.ratings += 1
            if value <= 2:
                run.scenario.steps.append(scenarios.follow_up(rng))
    except EngineError as exc:  # the ticket moved on (a timer won the race): this step is moot
        log.info(
            "demo step %s on ticket %s skipped: %s %s",
            step.kind,
            run.ticket_id,
            exc,
            getattr(exc, "errors", ""),
        )
        db.session.rollback()
        return False
    return True
