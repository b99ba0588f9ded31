"""Races: two completions of one task, parallel branches completed at once."""

import threading

import pytest

from app.engine import TaskNotOpen, complete_task, deploy, start_process
from app.extensions import db
from app.models import HistoryEvent, HumanTask, User
from tests.diagrams import parallel_process, user_task_process
from tests.factories import make_customer, make_user


def _race(app, calls):
    """Run callables at the same moment in threads, each with its own app context."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        with app.app_context():
            barrier.wait()
            try:
                results[index] = ("ok", call())
            except Exception as exc:  # collected and asserted by the test
                results[index] = ("error", exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_second_completion_of_a_task_gets_task_not_open(app):
    deploy(user_task_process())
    agent = make_user("a1")
    start_process("tiny", make_customer().id, "Race", {})
    task_id = db.session.execute(db.select(HumanTask.id)).scalar_one()
    complete_task(task_id, {}, agent)
    with pytest.raises(TaskNotOpen):
        complete_task(task_id, {}, agent)


def test_two_simultaneous_completions_one_wins_one_gets_409(app):
    deploy(user_task_process())
    agents = [make_user("a1"), make_user("a2")]
    start_process("tiny", make_customer().id, "Race", {})
    task_id = db.session.execute(db.select(HumanTask.id)).scalar_one()
    db.session.commit()
    ids = [a.id for a in agents]
    results = _race(app, [lambda i=i: complete_task(task_id, {}, db.session.get(User, i)) for i in ids])
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, TaskNotOpen) and error.status == 409
    completions = db.session.execute(
        db.select(db.func.count(HistoryEvent.id)).where(HistoryEvent.kind == "task_completed")
    ).scalar()
    assert completions == 1


def test_parallel_branches_completed_at_once_pass_the_join_once(app):
    deploy(parallel_process())
    agent = make_user("a1")
    start_process("par", make_customer().id, "Parallel", {})
    rows = db.session.execute(db.select(HumanTask.id, HumanTask.name)).all()
    assert sorted(name for _, name in rows) == ["left", "right"]
    db.session.commit()
    agent_id = agent.id
    results = _race(
        app, [lambda tid=tid: complete_task(tid, {}, db.session.get(User, agent_id)) for tid, _ in rows]
    )
    assert [kind for kind, _ in results] == ["ok", "ok"], results
    db.session.expire_all()
    after = db.session.execute(db.select(HumanTask.name)).scalars().all()
    assert after == ["after"]
    joins = db.session.execute(
        db.select(db.func.count(HistoryEvent.id)).where(
            HistoryEvent.kind == "element_completed", HistoryEvent.element_id == "join"
        )
    ).scalar()
    assert joins == 1
