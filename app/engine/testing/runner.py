"""Running a process's test scenarios: each one on a fresh test ticket, through the real
commands, inside a transaction that is rolled back (`sandbox.rolled_back`).

The bundle is deployed inside that transaction (a draft is tested as it would run once
deployed), a test customer opens the ticket, and the scenario drives it (`drive.Ticket`): user
tasks complete with the scenario's data, service operators it names return its results (their
handler is never called; an operator it does not name runs its own handler, whose writes are
rolled back with the rest: no refund stays, no e-mail leaves), messages arrive, time passes.
Each scenario is bounded in steps (PROCESS_TEST_STEPS) and the whole run in time
(PROCESS_TEST_SECONDS): a looping diagram fails its scenario, never hangs the caller.
"""

import logging
import time
from dataclasses import dataclass, field

from flask import current_app

from app.engine.commands.deploy import check_files, deploy_bundle
from app.engine.commands.messages import deliver_message
from app.engine.commands.states import COMPLETED_KINDS
from app.engine.commands.tasks import complete_task
from app.engine.commands.tickets import start_process
from app.engine.errors import DiagramRejected, InvalidData, NotFound, StepFailed
from app.engine.runtime.inline import INLINE_MOCKED
from app.engine.testing import schema
from app.engine.testing.drive import Budget, ScenarioFailed, Ticket, listed
from app.engine.testing.expect import check_expectations
from app.engine.testing.sandbox import rolled_back
from app.extensions import db
from app.models import Customer, HistoryEvent

log = logging.getLogger(__name__)
ACTOR = "process test"
DEFAULT_STEPS = 500
DEFAULT_SECONDS = 60


@dataclass
class ScenarioResult:
    name: str
    passed: bool
    path: list[str] = field(default_factory=list)
    failed_element: str | None = None
    message: str = ""
    waiting_at: list[str] = field(default_factory=list)
    mocked: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "passed": self.passed,
            "path": self.path,
            "failed_element": self.failed_element,
            "message": self.message,
            "waiting_at": self.waiting_at,
            "mocked": self.mocked,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class ProcessTestResult:
    process: str
    file: str
    scenarios: list[ScenarioResult] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(s.passed for s in self.scenarios)

    def as_dict(self) -> dict:
        return {
            "process": self.process,
            "file": self.file,
            "passed": self.passed,
            "problems": self.problems,
            "scenarios": [s.as_dict() for s in self.scenarios],
            "counts": {
                "passed": sum(s.passed for s in self.scenarios),
                "failed": sum(not s.passed for s in self.scenarios),
            },
        }


def tested_processes(files: dict[str, str]) -> list[str]:
    """The process keys of a bundle that carry a test file, in file order."""
    return [schema.process_key_of(name) for name in files if schema.is_tests_file(name)]


def run_process_tests(
    files: dict[str, str], keys: list[str] | None = None, scenario: str | None = None
) -> list[ProcessTestResult]:
    """Run the scenarios of every test file of a bundle (or of the processes `keys`).

    Args:
        files: the bundle, {file name: text}: diagrams, decisions, forms and `<key>.tests.json`.
        keys: only these processes; a key without a test file gives a result with a problem.
        scenario: only the scenarios of this name.

    Returns:
        One result per process: its scenarios (passed or failed, the path taken, the failing
        element and why) or the problems that kept them from running. Nothing is written.
    """
    config = current_app.config
    seconds = config.get("PROCESS_TEST_SECONDS", DEFAULT_SECONDS)
    steps = config.get("PROCESS_TEST_STEPS", DEFAULT_STEPS)
    uploads = [(name, text.encode()) for name, text in files.items()]
    keys = keys if keys is not None else tested_processes(files)
    results = []
    checked, bundle_problems = _checked(uploads)
    for key in keys:
        name = schema.tests_file_of(key)
        result = ProcessTestResult(key, name)
        results.append(result)
        if name not in files:
            result.problems.append(_problem(None, f"the process '{key}' has no test file '{name}'", name))
            continue
        document, problems = schema.parse_tests(name, files[name])
        if problems or bundle_problems:
            result.problems.extend(p.as_dict() for p in problems)
            result.problems.extend(bundle_problems)
            continue
        deadline = time.perf_counter() + seconds  # each process's tests have the whole budget
        own = _uploads_of(key, uploads, checked)
        for given in document["scenarios"]:
            if scenario is None or given["name"] == scenario:
                result.scenarios.append(_run_scenario(key, own, given, Budget(steps, deadline)))
    return results


def _uploads_of(key: str, uploads, checked) -> list:
    """The part of the bundle process `key` runs with: its diagram and what it calls (at any depth),
    the decisions and the forms; other processes and their tests stay out (a faster deploy)."""
    processes = checked.processes if checked is not None else []  # None: only a test file had problems
    by_key = {p.key: p for p in processes}
    needed, todo = set(), [key]
    while todo:
        process = by_key.get(todo.pop())
        if process is not None and process.file not in needed:
            needed.add(process.file)
            todo.extend(process.calls or [])
    other = {p.file for p in processes} - needed
    return [
        (name, data)
        for name, data in uploads
        if name not in other and (not schema.is_tests_file(name) or name == schema.tests_file_of(key))
    ]


def _problem(element_id, message, file) -> dict:
    return {"file": file, "element_id": element_id, "message": message}


def _checked(uploads) -> tuple:
    """(the checked bundle, []) or (None, its problems) when it does not pass the deploy checks."""
    try:
        return check_files(uploads), []
    except DiagramRejected as exc:
        return None, [
            _problem(p.element_id, f"the bundle does not pass the deploy checks: {p.message}", p.file)
            for p in exc.problems
            if not schema.is_tests_file(p.file or "")  # reported by the test file's own check
        ]


def _run_scenario(key: str, uploads, scenario: dict, budget: Budget) -> ScenarioResult:
    started = time.perf_counter()
    result = ScenarioResult(scenario["name"], passed=False)
    try:
        with rolled_back() as session:
            # the operators and tasks the scenario answers stay jobs, even those a server runs inline
            session.info[INLINE_MOCKED] = set(scenario.get("services") or ())
            ticket = None
            try:
                ticket = _open_ticket(key, uploads, scenario, budget)
                _drive(ticket, scenario)
                result.waiting_at = ticket.waiting_at()
                result.path = passed_elements(ticket.instance_id)
                check_expectations(ticket, scenario.get("expect") or {}, result.path)
                result.passed, result.message = True, "passed"
            except ScenarioFailed as failed:
                result.failed_element, result.message = failed.element_id, failed.message
                if ticket is not None:
                    db.session.rollback()
                    result.path = result.path or passed_elements(ticket.instance_id)
                    result.waiting_at = result.waiting_at or ticket.waiting_at()
            if ticket is not None:
                result.mocked = [f"{element_id} ({operator})" for element_id, operator in ticket.mocked]
    except Exception as exc:  # the test must report, never take the caller down
        log.exception("process test '%s' of %s could not run", scenario.get("name"), key)
        result.passed, result.message = False, f"the scenario could not run: {type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - started
    return result


def _open_ticket(key: str, uploads, scenario: dict, budget: Budget) -> Ticket:
    deploy_bundle(uploads, actor=ACTOR, comment="process test (rolled back)")
    profile = {"name": "Test Customer", **(scenario.get("customer") or {})}
    customer = Customer(email="test.customer@example.com", **profile)
    db.session.add(customer)
    db.session.commit()
    try:
        ticket, instance = start_process(
            key,
            customer.id,
            scenario.get("subject") or f"Process test: {scenario['name']}",
            scenario.get("start") or {},
            actor=ACTOR,
            priority=scenario.get("priority"),
        )
    except InvalidData as exc:
        raise ScenarioFailed(None, f"the start data is refused: {_errors(exc)}") from None
    except StepFailed as exc:
        raise ScenarioFailed(exc.element_id, exc.message) from None
    tasks = {
        task_id: [dict(d) for d in (given if isinstance(given, list) else [given])]
        for task_id, given in (scenario.get("tasks") or {}).items()
    }
    services = {
        name: [dict(r) for r in (given if isinstance(given, list) else [given])]
        for name, given in (scenario.get("services") or {}).items()
    }
    return Ticket(ticket.id, instance.id, tasks, services, budget)


def _errors(exc: InvalidData) -> str:
    errors = getattr(exc, "errors", None) or {}
    return "; ".join(f"{k}: {v}" for k, v in errors.items()) or exc.message


def _describe(event: dict) -> str:
    if "message" in event:
        return f"the message '{event['message']}'"
    if "advance" in event:
        return f"time passing ({event['advance']})"
    return f"time passing until the timer '{event['until']}' fires"


def _drive(ticket: Ticket, scenario: dict) -> None:
    """Complete tasks and apply events until the scenario has nothing more to give."""
    events = list(scenario.get("events") or [])
    while True:
        ticket.run_due()
        if ticket.status() != "running":
            break
        waiting = ticket.waiting_at()
        ticket.budget.tick(waiting[0] if waiting else None)
        event = events[0] if events else None
        if event is not None and event.get("at") in waiting:
            _apply(ticket, events.pop(0), waiting)
            continue
        task = next((t for t in ticket.open_tasks() if ticket.tasks.get(t.name)), None)
        if task is not None:
            _complete(ticket, task, ticket.tasks[task.name].pop(0))
            continue
        if event is not None and "at" not in event:
            _apply(ticket, events.pop(0), waiting)
            continue
        if event is not None:
            raise ScenarioFailed(
                event["at"],
                f"{_describe(event)} was to happen when the process waits at '{event['at']}', "
                f"but it waits at {listed(waiting)}",
            )
        break
    incident = ticket.incident()
    if incident is not None and (events or (scenario.get("expect") or {}).get("status") != "incident"):
        raise ScenarioFailed(
            incident.element_id, f"an incident opened at '{incident.element_id}': {incident.message}"
        )
    if events:
        status = ticket.status()
        raise ScenarioFailed(
            events[0].get("at") or events[0].get("until"),
            f"the process {'ended' if status != 'running' else 'stopped'} ({status}) before "
            f"{_describe(events[0])} (event {len(scenario.get('events') or []) - len(events) + 1})",
        )


def _complete(ticket: Ticket, task, data: dict) -> None:
    try:
        complete_task(task.id, data, None)
    except InvalidData as exc:
        raise ScenarioFailed(task.name, f"user task '{task.name}' refuses the data: {_errors(exc)}") from None
    except StepFailed as exc:
        raise ScenarioFailed(exc.element_id or task.name, exc.message) from None


def _apply(ticket: Ticket, event: dict, waiting: list[str]) -> None:
    if "message" in event:
        try:
            deliver_message(ticket.ticket_id, event["message"], event.get("payload") or {}, actor=ACTOR)
        except NotFound:
            raise ScenarioFailed(
                event.get("at"),
                f"the message '{event['message']}' arrived but nothing waits for it "
                f"(the process waits at {listed(waiting)})",
            ) from None
        except (InvalidData, StepFailed) as exc:
            raise ScenarioFailed(getattr(exc, "element_id", None) or event.get("at"), exc.message) from None
    elif "advance" in event:
        ticket.advance(event["advance"])
    else:
        ticket.until(event["until"])


def passed_elements(instance_id: int) -> list[str]:
    """The element ids the instance passed, in order (a task done twice appears twice)."""
    rows = db.session.execute(
        db.select(HistoryEvent.element_id)
        .where(HistoryEvent.instance_id == instance_id, HistoryEvent.kind.in_(COMPLETED_KINDS))
        .order_by(HistoryEvent.id)
    ).scalars()
    path: list[str] = []
    for element_id in rows:  # a catch is delivered and then completed: one passage
        if element_id and (not path or path[-1] != element_id):
            path.append(element_id)
    return path
