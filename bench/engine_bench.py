"""Engine commands timed directly: start_process, the worker's jobs (none left by the shipped
general ticket, whose service tasks run inline), complete_task, queries.

Each command runs in a fresh session, as it does behind a web request, so it reads what a
server reads (definition, customer, instance) instead of finding it in a warm identity map.
"""

import time
from dataclasses import dataclass

from app.engine import complete_task, start_process
from app.extensions import db
from app.models import HumanTask, ProcessInstance, User
from app.worker import drain
from bench.measure import QueryCounter, Sample, timed
from bench.world import ANSWER_LATER, START_DATA, SUBJECT, World

WARM_UP = 5
QUERY_CALLS = 3


@dataclass
class EngineFigures:
    """What the engine half of a backend's run measured."""

    starts: dict[str, Sample]  # process key -> start_process calls
    jobs: dict[str, Sample]  # process key -> drain() after its starts, per job
    opens: Sample  # general: start_process, then the worker's round until nothing is due, per ticket
    completions: Sample
    queries: dict[str, str]  # operation -> statements per call, by kind
    stored_bytes: dict[str, int]  # moment -> mean length of process_instance.workflow


def start(world: World, key: str) -> int:
    """Open one ticket of type `key` through the engine; returns the ticket id."""
    ticket, _ = start_process(key, world.customer_id, SUBJECT, START_DATA[key], actor="bench")
    return ticket.id


def open_task_ids(ticket_ids: list[int]) -> list[str]:
    """The open user task of each ticket, in ticket order."""
    rows = db.session.execute(
        db.select(HumanTask.ticket_id, HumanTask.id).where(HumanTask.ticket_id.in_(ticket_ids))
    ).all()
    by_ticket = dict(rows)
    return [by_ticket[t] for t in ticket_ids if t in by_ticket]


def open_general(world: World) -> int:
    """A general ticket from the command to its assigned first task: the start and the worker's
    round after it (the jobs it left, if any; an empty round when its service tasks ran inline)."""
    ticket_id = start(world, "general")
    db.session.remove()
    drain()
    return ticket_id


def timed_drain() -> Sample:
    """Run the worker until nothing is due; one sample of the whole drain, counted per job."""
    started = time.perf_counter()
    handled = drain()
    db.session.remove()
    return Sample(wall=time.perf_counter() - started, calls=handled)


def stored_bytes(ticket_ids: list[int]) -> int:
    sizes = (
        db.session.execute(
            db.select(db.func.length(ProcessInstance.workflow)).where(
                ProcessInstance.ticket_id.in_(ticket_ids)
            )
        )
        .scalars()
        .all()
    )
    return round(sum(sizes) / len(sizes)) if sizes else 0


def count_queries(world: World, agent: User) -> dict[str, str]:
    """SQL statements per command, each counted over a few calls in fresh sessions."""
    engine = db.engine
    counts = {}
    ids = []
    for key in START_DATA:
        with QueryCounter(engine) as counter:
            for _ in range(QUERY_CALLS):
                db.session.remove()
                ids.append(start(world, key))
        counts[f"start_process({key})"] = counter.breakdown(QUERY_CALLS)
    db.session.remove()
    with QueryCounter(engine) as counter:
        jobs = drain()
    counts[f"worker job (drain, {jobs} jobs)"] = counter.breakdown(jobs) if jobs else "no job left"
    with QueryCounter(engine) as counter:
        for _ in range(QUERY_CALLS):
            db.session.remove()
            open_general(world)
    counts["open to first task (general, start + worker round)"] = counter.breakdown(QUERY_CALLS)
    db.session.remove()
    tasks = open_task_ids(ids[:QUERY_CALLS])  # the general tickets
    with QueryCounter(engine) as counter:
        for task_id in tasks:
            db.session.remove()
            complete_task(task_id, ANSWER_LATER, agent)
    counts["complete_task"] = counter.breakdown(len(tasks))
    db.session.remove()
    return counts


def run_engine(world: World, n: int) -> EngineFigures:
    """Time n starts of each benchmarked process, the worker's jobs, and n completions."""
    with world.app.app_context():
        agent = db.session.get(User, world.agent_id)
        warm = {key: [start(world, key) for _ in range(WARM_UP)] for key in START_DATA}
        drain()
        for task_id in open_task_ids(warm["general"]):
            complete_task(task_id, ANSWER_LATER, agent)
        queries = count_queries(world, agent)

        starts, jobs, ticket_ids = {}, {}, {}
        for key in START_DATA:
            starts[key], ticket_ids[key] = timed(
                range(n), lambda _, key=key: start(world, key), before=db.session.remove
            )
            jobs[key] = timed_drain()
        opens, opened = timed(range(n), lambda _: open_general(world), before=db.session.remove)
        assert len(open_task_ids(opened)) == len(opened), "a general ticket did not reach its first task"
        general = ticket_ids["general"]
        before = stored_bytes(general)
        tasks = open_task_ids(general)
        completions, _ = timed(
            tasks, lambda task_id: complete_task(task_id, ANSWER_LATER, agent), before=db.session.remove
        )
        sizes = {
            "general, at its first user task": before,
            "general, after one completion": stored_bytes(general),
        }
        db.session.remove()
    return EngineFigures(starts, jobs, opens, completions, queries, sizes)
