"""Step cost of a ticket at its 1,000th loop pass against its first.

    python -m bench.loop_bench [--passes 1000] [--window 20] [--backends sqlite,postgresql]

One shipped `general` ticket loops its user task: each pass completes `answer_question` with
`information_given` false, so the gateway sends the ticket back to the same task (assigned,
instructions rendered) and the ticket stays open. Every completion is one `complete_task` in a
fresh session, as behind a request. The figures compare the median of the first `--window`
passes with the median of the last `--window`: wall and CPU time, SQL statements, and the
stored workflow's size. The engine compacts the task tree after every command
(app/engine/runtime/compaction.py), so the ratio should stay near 1 (the target is at most 2).
"""

import argparse
import os
import statistics
import sys
import time

from app.engine import complete_task, start_process
from app.extensions import db
from app.models import HistoryEvent, HumanTask, ProcessInstance, User
from bench.measure import QueryCounter
from bench.report import table
from bench.world import ANSWER_LATER, START_DATA, SUBJECT, postgres_url, prepare, quiet_logging, sqlite_url


def loop(world, passes: int) -> dict:
    """Complete the ticket's task `passes` times; per pass: wall s, cpu s, statements, stored chars."""
    with world.app.app_context():
        agent = db.session.get(User, world.agent_id)
        ticket, instance = start_process("general", world.customer_id, SUBJECT, START_DATA["general"])
        ticket_id, instance_id = ticket.id, instance.id
        wall, cpu, statements, size = [], [], [], []
        for _ in range(passes):
            db.session.remove()
            task_id = db.session.execute(
                db.select(HumanTask.id).where(HumanTask.ticket_id == ticket_id)
            ).scalar_one()
            db.session.remove()
            with QueryCounter(db.engine) as counter:
                started, cpu_started = time.perf_counter(), time.process_time()
                complete_task(task_id, ANSWER_LATER, agent)
                wall.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
            statements.append(len(counter.statements))
            size.append(
                db.session.execute(
                    db.select(db.func.length(ProcessInstance.workflow)).where(
                        ProcessInstance.id == instance_id
                    )
                ).scalar()
            )
        history = db.session.execute(
            db.select(db.func.count(HistoryEvent.id)).where(HistoryEvent.ticket_id == ticket_id)
        ).scalar()
        db.session.remove()
    return {"wall": wall, "cpu": cpu, "statements": statements, "size": size, "history": history}


def rows(backend: str, figures: dict, window: int) -> list[list]:
    def median(values, part):
        chosen = values[:window] if part == "first" else values[-window:]
        return statistics.median(chosen)

    out = []
    for name, key, scale in (
        ("wall ms", "wall", 1000),
        ("cpu ms", "cpu", 1000),
        ("statements", "statements", 1),
        ("stored chars", "size", 1),
    ):
        first, last = median(figures[key], "first") * scale, median(figures[key], "last") * scale
        out.append([backend, name, first, last, f"{last / first:.2f}x" if first else "-"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loop_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=1000)
    parser.add_argument("--window", type=int, default=20, help="passes in each median (first and last)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    quiet_logging()
    wanted = [b.strip() for b in args.backends.split(",") if b.strip()]
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Loop passes of one general ticket: {args.passes}; load average {load}\n")
    results = {}
    if "sqlite" in wanted:
        with sqlite_url() as url:
            results["sqlite"] = loop(prepare("sqlite", url), args.passes)
    if "postgresql" in wanted:
        with postgres_url() as url:
            if url is not None:
                results["postgresql"] = loop(prepare("postgresql", url), args.passes)
    out = []
    for backend, figures in results.items():
        out += rows(backend, figures, args.window)
    headers = ["backend", "per completion", f"passes 1-{args.window}", f"last {args.window}", "ratio"]
    print(table(headers, out))
    for backend, figures in results.items():
        print(f"{backend}: {figures['history']} history rows on the ticket after {args.passes} passes")
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the end {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
