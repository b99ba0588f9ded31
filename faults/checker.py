"""Reading the database and the provider's ledger after a scenario: waiting for the backlog to
settle, and the invariants every scenario ends with."""

import time
from collections import Counter

from app.extensions import db
from app.models import HistoryEvent, HumanTask, Incident, Job, LedgerEntry, ProcessInstance, Ticket, Timer


def backlog() -> dict:
    """Jobs and timers still to run (due or not), open incidents; read fresh."""
    db.session.rollback()
    count = lambda q: db.session.execute(q).scalar() or 0  # noqa: E731
    return {
        "jobs": count(db.select(db.func.count(Job.id)).where(Job.status.in_(("pending", "running")))),
        "timers": count(db.select(db.func.count(Timer.id))),
        "incidents": count(db.select(db.func.count(Incident.id)).where(Incident.resolved_at.is_(None))),
    }


def confirm_tasks() -> list[str]:
    db.session.rollback()
    return list(db.session.execute(db.select(HumanTask.id).where(HumanTask.name == "confirm")).scalars())


def wait_until(predicate, timeout: float, step: float = 0.2) -> float | None:
    """Seconds until `predicate()` held, or None if it did not within `timeout`."""
    started = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            return None
        time.sleep(step)


def settle(timeout: float = 120) -> float | None:
    """Wait until no job or timer is left (each ticket waits in `confirm` or has ended)."""
    return wait_until(lambda: not (b := backlog())["jobs"] and not b["timers"], timeout)


def retry_job_incidents() -> int:
    """Retry every open job incident once (what an operator does after the cause is fixed)."""
    from app.engine import retry_incident

    db.session.rollback()
    ids = list(
        db.session.execute(
            db.select(Incident.id).where(Incident.resolved_at.is_(None), Incident.kind == "job")
        ).scalars()
    )
    for incident_id in ids:
        retry_incident(incident_id, actor="faults")
    return len(ids)


def check(
    provider,
    acked_tickets: list[int],
    acked_completions: list[str] = (),
    provider_paid: bool = True,
    timer_elements: tuple[str, ...] = ("wait",),
    load_limit: int | None = None,
) -> dict:
    """The invariants; returns figures and `problems` (empty when every invariant holds).

    `timer_elements`: the timers each instance passes (each fires at most once per instance);
    `load_limit`: load the stored state of at most this many instances (evenly spread; None: all).
    """
    from app.engine import process_data

    db.session.rollback()
    problems = []
    tickets = set(db.session.execute(db.select(Ticket.id)).scalars())
    lost = [t for t in acked_tickets if t not in tickets]
    if lost:
        problems.append(f"{len(lost)} acknowledged ticket(s) missing: {lost[:10]}")
    ledger = db.session.execute(db.select(LedgerEntry.ticket_id, LedgerEntry.idempotency_key)).all()
    per_ticket = Counter(t for t, _ in ledger)
    doubled = [t for t, n in per_ticket.items() if n > 1]
    if doubled:
        problems.append(f"tickets refunded twice in our ledger: {doubled[:10]}")
    figures = {
        "tickets": len(tickets),
        "acknowledged": len(acked_tickets),
        "lost": len(lost),
        "ledger": len(ledger),
    }
    if provider is not None and provider_paid:
        duplicates = provider.duplicates()
        paid = {p["key"] for p in provider.ledger()["payments"]}
        ours = {k for _, k in ledger}
        figures.update(
            provider_payments=len(paid), provider_calls=provider.ledger()["calls"], duplicates=len(duplicates)
        )
        if duplicates:
            problems.append(f"provider paid a ticket twice: {duplicates[:10]}")
        if paid != ours:
            problems.append(
                f"provider and ledger differ: {len(paid - ours)} paid but not recorded, "
                f"{len(ours - paid)} recorded but not paid"
            )
    fired_at = Counter(
        db.session.execute(
            db.select(HistoryEvent.instance_id, HistoryEvent.element_id).where(
                HistoryEvent.kind == "timer_fired", HistoryEvent.element_id.in_(timer_elements)
            )
        ).all()
    )
    fired = Counter(instance_id for instance_id, _ in fired_at.elements())
    ran = Counter(
        db.session.execute(
            db.select(HistoryEvent.instance_id, HistoryEvent.element_id).where(
                HistoryEvent.kind == "service_completed"
            )
        ).all()
    )
    jobs_twice = [key for key, n in ran.items() if n > 1]
    if jobs_twice:
        problems.append(f"jobs completed more than once: {len(jobs_twice)} {jobs_twice[:10]}")
    instances = db.session.execute(db.select(ProcessInstance.id, ProcessInstance.status)).all()
    open_tasks = Counter(db.session.execute(db.select(HumanTask.instance_id)).scalars())
    waiting = set(db.session.execute(db.select(Timer.instance_id)).scalars())
    pending_jobs = set(db.session.execute(db.select(Job.instance_id)).scalars())
    twice = sorted({i for (i, _), n in fired_at.items() if n > 1})
    if twice:
        problems.append(f"timers fired more than once: {len(twice)} instance(s) {twice[:10]}")
    # One timer (faultflow): every instance not before it has fired it. Several (the return flow,
    # whose timers follow its tasks): every completed instance has fired each of them.
    missed = [
        i
        for i, status in instances
        if fired[i] < len(timer_elements)
        and i not in waiting
        and i not in pending_jobs
        and (len(timer_elements) == 1 or status == "completed")
    ]
    if missed:
        problems.append(f"instances past their timer without it firing: {missed[:10]}")
    unloadable, mismatched = [], []
    step = max(1, len(instances) // load_limit) if load_limit else 1
    for n, (instance_id, status) in enumerate(instances):
        try:
            if n % step == 0:
                process_data(instance_id)
        except Exception as error:  # noqa: BLE001 (reported)
            unloadable.append((instance_id, f"{type(error).__name__}: {error}"[:120]))
        if status == "completed" and (open_tasks[instance_id] or instance_id in waiting):
            mismatched.append(instance_id)
        if status == "running" and open_tasks[instance_id] > 1:
            mismatched.append(instance_id)
    if unloadable:
        problems.append(f"stored state does not load: {unloadable[:5]}")
    if mismatched:
        problems.append(f"projections do not match the state: {mismatched[:10]}")
    paid_at = db.session.execute(
        db.select(HistoryEvent.at, Ticket.created_at)
        .join(Ticket, Ticket.id == HistoryEvent.ticket_id)
        .where(HistoryEvent.kind == "service_completed", HistoryEvent.element_id == "pay")
    ).all()
    if paid_at:  # from the ticket's start to its refund recorded: a crash shows as a lease's wait
        figures["slowest_payment_s"] = round(max((p - c).total_seconds() for p, c in paid_at), 1)
    completed = {i for i, s in instances if s == "completed"}
    figures.update(
        instances=len(instances),
        completed=len(completed),
        timers_fired=sum(fired.values()),
        timers_fired_twice=len(twice),
        jobs_completed=sum(ran.values()),
        jobs_completed_twice=len(jobs_twice),
        open_incidents=backlog()["incidents"],
        completions_acknowledged=len(acked_completions),
    )
    if acked_completions:
        still_open = set(db.session.execute(db.select(HumanTask.id)).scalars()) & set(acked_completions)
        if still_open:
            problems.append(f"{len(still_open)} acknowledged completion(s) not applied")
    figures["problems"] = problems
    return figures
