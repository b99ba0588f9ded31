"""Run the public foreign-BPMN corpus through bare SpiffWorkflow and through Ticketflow's API.

`python -m bench.corpus [--corpus PATH] [--only S01,S02] [--markdown docs/compatibility.md] [--variants]
[--json rows.json]`

For each diagram of the corpus (default `../shared/corpus/foreign-bpmn`, never copied into the
project) the driver builds a bundle (the diagram, its called process from `companions/`, the
DMN files whose decisions it calls, the forms it names) and

1. runs it on bare SpiffWorkflow 3.2 as a plain user would (stock `SpiffBpmnParser` without a
   validator, stock script engine, service calls answer `{}`): parse error, runs to end, or
   stalls/fails and where;
2. deploys it to a fresh Ticketflow (temporary SQLite) through `POST /api/v1/deployments`,
   opens one ticket and drives it through the API only: completes tasks with recipe data
   (`bench/corpus_recipes.py`), delivers the messages it waits for, moves the clock with
   time-machine for its timers and drains the worker.

Each run happens in a forked child with a time budget, so a hostile or looping diagram costs a
row, never the bench. It prints one row per diagram and the totals; `--markdown` also writes
them to docs/compatibility.md.
"""

import argparse
import json
import logging
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

from lxml import etree

from bench.corpus_recipes import RECIPES

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "foreign-bpmn"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
MAX_ROUNDS = 200
BARE_BUDGET = 20.0  # seconds per diagram on bare SpiffWorkflow
TICKETFLOW_BUDGET = 90.0  # seconds per diagram through the API (app, schema, deploy, drive)
DEFAULT_ORDER = ("task", "message", "timer")
READ_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
# Words a refusal uses when it tells the modeller what to do instead.
REMEDY_WORDS = re.compile(
    r"\b(use|instead|rename|quote|set|add|remove|replace|write|drop|deploy|send|"
    r"start|give|declare|move|name|known:|this server has)\b",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------- bundles


@dataclass
class Bundle:
    """The files one diagram is deployed with."""

    id: str
    diagram: Path
    companion: Path | None = None
    dmn: list[Path] = field(default_factory=list)
    forms: list[Path] = field(default_factory=list)
    missing_forms: list[str] = field(default_factory=list)
    missing_decisions: list[str] = field(default_factory=list)

    def files(self) -> list[Path]:
        """Every file, DMN and forms first, then the called process, then the diagram."""
        return [*self.dmn, *self.forms, *([self.companion] if self.companion else []), self.diagram]

    def bpmn_files(self) -> list[Path]:
        return [*([self.companion] if self.companion else []), self.diagram]


def read_tree(path: Path):
    try:
        return etree.parse(str(path), READ_XML)
    except etree.XMLSyntaxError:
        return None


def decisions_named(tree) -> set[str]:
    """Decision ids a diagram calls: spiffworkflow:calledDecisionId text or a decisionRef attribute."""
    found = set()
    for element in tree.getroot().iter():
        if not isinstance(element.tag, str):
            continue
        if etree.QName(element).localname == "calledDecisionId" and element.text:
            found.add(element.text.strip())
        for name, value in element.attrib.items():
            if etree.QName(name).localname == "decisionRef" and value.strip():
                found.add(value.strip())
    return found


def forms_named(tree) -> set[str]:
    """Form files named by spiffworkflow:property formJsonSchemaFilename / formUiSchemaFilename."""
    return {
        el.get("value")
        for el in tree.getroot().iter("{*}property")
        if el.get("name") in ("formJsonSchemaFilename", "formUiSchemaFilename") and el.get("value")
    }


def dmn_index(corpus: Path) -> dict[str, list[Path]]:
    """decision id -> DMN files of the corpus defining it."""
    index = defaultdict(list)
    for path in sorted((corpus / "dmn").glob("*.dmn")):
        tree = read_tree(path)
        if tree is None:
            continue
        for decision in tree.getroot().iter("{*}decision"):
            index[decision.get("id")].append(path)
    return index


def build_bundle(
    corpus: Path, diagram_id: str, decisions: dict[str, list[Path]], variant: Path | None = None
) -> Bundle:
    """The bundle of a corpus diagram; a variant (its call activity merged in) comes without companion."""
    companion = corpus / "companions" / f"{diagram_id}.callee.bpmn"
    if variant is not None:
        bundle = Bundle(diagram_id, variant)
    else:
        bundle = Bundle(diagram_id, corpus / f"{diagram_id}.bpmn", companion if companion.is_file() else None)
    trees = [t for t in (read_tree(p) for p in bundle.bpmn_files()) if t is not None]
    camunda = any("camunda.org" in (ns or "") for t in trees for ns in t.getroot().nsmap.values())
    for tree in trees:
        for decision in sorted(decisions_named(tree)):
            candidates = decisions.get(decision, [])
            if not candidates:
                bundle.missing_decisions.append(decision)
                continue
            # The same decision exported by two modelers: take the one of the diagram's dialect.
            preferred = [p for p in candidates if p.name.startswith("camunda_") == camunda] or candidates
            if preferred[0] not in bundle.dmn:
                bundle.dmn.append(preferred[0])
        for name in sorted(forms_named(tree)):
            path = corpus / "forms" / name
            if path.is_file():
                if path not in bundle.forms:
                    bundle.forms.append(path)
            elif name not in bundle.missing_forms:
                bundle.missing_forms.append(name)
    return bundle


def operators_in(bundle: Bundle) -> list[str]:
    """The service operators the bundle's diagrams name."""
    trees = [t for t in (read_tree(p) for p in bundle.bpmn_files()) if t is not None]
    return sorted(
        {el.get("id") for t in trees for el in t.getroot().iter("{*}serviceTaskOperator") if el.get("id")}
    )


def top_process(trees: list, known: list[str]) -> tuple[list[str], list[str]]:
    """(top-level candidates, collaboration ids): executable processes no call activity calls."""
    called = {el.get("calledElement") for t in trees for el in t.getroot().iter(f"{BPMN}callActivity")}
    collaborations = [el.get("id") for t in trees for el in t.getroot().iter(f"{BPMN}collaboration")]
    return [pid for pid in known if pid not in called], collaborations


# --------------------------------------------------------------------------- data


def sample(schema: dict):
    """A value a person could type into a field of this schema."""
    if not isinstance(schema, dict):
        return "sample"
    if "default" in schema:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            return sample(schema[key][0])
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object":
        return form_data(schema, {})
    if kind == "array":
        return [sample(schema.get("items", {})) for _ in range(max(int(schema.get("minItems", 0)), 0))]
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        low = schema.get(
            "minimum", schema.get("exclusiveMinimum", 0) + (1 if "exclusiveMinimum" in schema else 0)
        )
        value = max(low, 1)
        if "maximum" in schema:
            value = min(value, schema["maximum"])
        return int(value) if kind == "integer" else float(value)
    formats = {
        "date": "2026-01-15",
        "date-time": "2026-01-15T10:00:00+00:00",
        "email": "jane@example.com",
        "uri": "https://example.com",
        "time": "10:00:00",
    }
    text = formats.get(schema.get("format"), "sample")
    return text.ljust(int(schema.get("minLength", 0)), "x")


def form_data(schema: dict | None, recipe: dict) -> dict:
    """Form data: defaults and samples for required fields, the recipe's fields laid over them."""
    data = {}
    if isinstance(schema, dict):
        properties = schema.get("properties") or {}
        for name in schema.get("required") or []:
            data[name] = sample(properties.get(name, {}))
        for name, prop in properties.items():
            if isinstance(prop, dict) and "default" in prop and name not in data:
                data[name] = prop["default"]
    data.update(recipe)
    return data


class Recipe:
    """One diagram's recipe, with a visit counter per task for looping diagrams."""

    def __init__(self, diagram_id: str):
        # A variant ("A11-merged") uses the recipe of its diagram unless it has its own.
        self.raw = RECIPES.get(diagram_id) or RECIPES.get(diagram_id.split("-")[0], {})
        self.visits: Counter = Counter()
        self.order = tuple(self.raw.get("order", DEFAULT_ORDER))

    @property
    def start(self) -> dict:
        return dict(self.raw.get("start", {}))

    def task(self, element_id: str) -> dict:
        return self._next("tasks", element_id)

    def message(self, name: str) -> dict:
        return self._next("messages", name)

    def _next(self, section: str, name: str) -> dict:
        """The data for this visit of a task (or delivery of a message); a list gives one per visit."""
        value = self.raw.get(section, {}).get(name, {})
        if isinstance(value, list):
            value = value[min(self.visits[section, name], len(value) - 1)] if value else {}
        self.visits[section, name] += 1
        return dict(value)


def load_form(bundle_forms: dict[str, Path], name: str | None) -> dict | None:
    if not name or name not in bundle_forms:
        return None
    try:
        return json.loads(bundle_forms[name].read_text())
    except (OSError, json.JSONDecodeError):
        return None


# --------------------------------------------------------------------------- isolation


def isolated(fn, args: tuple, budget: float) -> dict:
    """Run fn(*args) in a forked child; its dict result, or an error row on timeout or crash."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(fn, args, sender), daemon=True)
    child.start()
    sender.close()
    try:
        if receiver.poll(budget):
            return receiver.recv()
        return {"error": f"no answer within {budget:.0f} s (stopped)"}
    except EOFError:
        return {"error": f"the run crashed (exit code {child.exitcode})"}
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receiver.close()


def _child(fn, args, sender) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)  # diagrams' print() calls stay out of the table
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")
    try:
        result = fn(*args)
    except BaseException as exc:  # the row says what broke; the bench goes on
        result = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc(limit=6)}
    try:
        sender.send(result)
    finally:
        sender.close()
        os._exit(0)


# --------------------------------------------------------------------------- bare SpiffWorkflow


def run_bare(bundle: Bundle) -> dict:
    """Parse and drive the bundle on bare SpiffWorkflow 3.2. Returns {result, where, process}."""
    import warnings

    from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
    from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
    from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
        CycleTimerEventDefinition,
        TimeDateEventDefinition,
        TimerEventDefinition,
    )
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.util.task import TaskState

    warnings.simplefilter("ignore")

    class ServiceAnswersEmpty(PythonScriptEngine):
        def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
            return json.dumps({})

    recipe = Recipe(bundle.id)
    forms = {p.name: p for p in bundle.forms}
    parser = SpiffBpmnParser()
    try:
        for path in bundle.dmn:
            parser.add_dmn_file(str(path))
        for path in bundle.bpmn_files():
            parser.add_bpmn_file(str(path))
        trees = [read_tree(p) for p in bundle.bpmn_files()]
        ids = parser.get_process_ids()
        candidates, collaborations = top_process([t for t in trees if t is not None], ids)
        if not ids:  # ask for the first process anyway: the library says why it will not run
            first = next(iter(parser.process_parsers), None)
            if first is None:
                return {"result": "parse error", "where": "no process in the file"}
            parser.get_spec(first)
        if len(candidates) > 1 and collaborations:
            process = collaborations[0]
            spec, subprocess_specs = parser.get_collaboration(process)
        else:
            process = (candidates or ids)[0]
            spec, subprocess_specs = parser.get_spec(process), parser.get_subprocess_specs(process)
    except Exception as exc:
        return {"result": "parse error", "where": describe_exception(exc)}

    wf = BpmnWorkflow(spec, subprocess_specs, script_engine=ServiceAnswersEmpty())
    wf.task_tree.data.update(recipe.start)

    def all_tasks():
        yield from wf.tasks.values()
        for sub in wf.subprocesses.values():
            yield from sub.tasks.values()

    def definitions(task):
        definition = task.task_spec.event_definition
        if isinstance(definition, MultipleEventDefinition):
            return definition.event_definitions
        return [definition]

    def due_of(task, definition):
        value = task.internal_data.get("event_value")
        if value is None:
            return None
        if isinstance(definition, CycleTimerEventDefinition):
            return None if value["cycles"] == 0 else datetime.fromisoformat(value["next"])
        if isinstance(definition, TimeDateEventDefinition):
            return TimerEventDefinition.parse_time_or_duration(value)
        return TimerEventDefinition.get_datetime(value)

    def act(kind) -> str | None:
        """Do one kind of thing; returns a note of what was done, or None."""
        if kind == "task":
            # One task per round: completing one may cancel another (first approval wins).
            task = next((t for t in all_tasks() if t.state == TaskState.READY and t.task_spec.manual), None)
            if task is None:
                return None
            props = (getattr(task.task_spec, "extensions", None) or {}).get("properties", {})
            schema = load_form(forms, props.get("formJsonSchemaFilename"))
            data = (
                form_data(schema, recipe.task(task.task_spec.bpmn_id))
                if schema
                else recipe.task(task.task_spec.bpmn_id)
            )
            task.set_data(**data)
            task.run()
            return f"completed {task.task_spec.bpmn_id}"
        waiting = list(wf.event_manager.tasks.values())
        if kind == "message":
            for task in waiting:
                for definition in definitions(task):
                    if isinstance(definition, MessageEventDefinition):
                        payload = recipe.message(definition.name)
                        try:
                            correlations = definition.calculate_correlations(
                                wf.script_engine, definition.correlation_properties, payload
                            )
                        except Exception:
                            correlations = {}
                        wf.send_event(BpmnEvent(definition, payload, correlations))
                        return f"sent {definition.name}"  # one per round: it may end the others' wait
            return None
        timers = [
            (due_of(t, d), t, d)
            for t in waiting
            for d in definitions(t)
            if isinstance(d, TimerEventDefinition)
        ]
        timers = [x for x in timers if x[0] is not None]
        if not timers:
            return None
        first = min(due for due, _, _ in timers)
        past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        for due, task, _ in timers:
            if due <= first:
                value = task.internal_data.get("event_value")
                if isinstance(value, dict):
                    value["next"] = past
                else:
                    task.internal_data["event_value"] = past
        wf.refresh_timers()
        return "fired timer"

    try:
        wf.do_engine_steps()
        for _ in range(MAX_ROUNDS):
            if wf.is_completed():
                return {"result": "runs to end", "process": process}
            done = next((note for kind in recipe.order if (note := act(kind))), None)
            wf.do_engine_steps()
            if done is None:
                break
        else:
            return {
                "result": "stalls",
                "where": f"still running after {MAX_ROUNDS} rounds",
                "process": process,
            }
        if wf.is_completed():
            return {"result": "runs to end", "process": process}
        return {
            "result": "stalls",
            "where": bare_open(all_tasks(), TaskState, definitions),
            "process": process,
        }
    except Exception as exc:
        return {"result": "fails", "where": describe_exception(exc), "process": process}


def bare_open(tasks, TaskState, definitions) -> str:
    """What a stalled bare workflow still has open."""
    parts = []
    for task in tasks:
        spec = task.task_spec
        bpmn_id = getattr(spec, "bpmn_id", None)
        if bpmn_id is None:
            continue
        if task.state == TaskState.WAITING and getattr(spec, "event_definition", None) is not None:
            kinds = ", ".join(
                f"{type(d).__name__.replace('EventDefinition', '').lower()} "
                f"{getattr(d, 'name', '') or ''}".strip()
                for d in definitions(task)
            )
            parts.append(f"{bpmn_id} waits ({kinds})")
        elif task.state in (TaskState.STARTED, TaskState.ERROR):
            parts.append(f"{bpmn_id} {TaskState.get_name(task.state)}")
    return "; ".join(dict.fromkeys(parts)) or "nothing open, not completed"


def describe_exception(exc: BaseException) -> str:
    """'<element id>: message' for library errors, 'Type: message' otherwise; one line."""
    task = getattr(exc, "task", None)
    element = getattr(getattr(task, "task_spec", None), "bpmn_id", None) or getattr(exc, "id", None)
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if element:
        return f"{element}: {message}"
    return f"{type(exc).__name__}: {message}"


# --------------------------------------------------------------------------- Ticketflow


class CapturedLog(logging.Handler):
    """Keeps the app's warnings and errors so a 5xx row can say what broke."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
        self.records.append(text)


class Api:
    """The Flask test client with the token, answering (status, JSON)."""

    def __init__(self, client, token: str, log: CapturedLog):
        self.client, self.headers, self.log = client, {"Authorization": f"Bearer {token}"}, log

    def call(self, method: str, url: str, **kwargs) -> tuple[int, dict]:
        mark = len(self.log.records)
        response = self.client.open(url, method=method, headers=self.headers, **kwargs)
        body = response.get_json(silent=True)
        body = body if isinstance(body, dict) else {"text": response.get_data(as_text=True)[:300]}
        if response.status_code >= 500:
            body["logged"] = self.log.records[mark:][-1:] or ["(nothing logged)"]
        return response.status_code, body


def run_ticketflow(bundle: Bundle, bare_process: str | None, folder: str) -> dict:
    """Deploy the bundle to a fresh Ticketflow (SQLite in `folder`) and drive one ticket through the API."""
    import time_machine

    log = CapturedLog()
    root = logging.getLogger()
    root.handlers[:] = [log]
    root.setLevel(logging.WARNING)
    os.environ["LOG_LEVEL"] = "WARNING"
    traveller = time_machine.travel(datetime.now(UTC), tick=True)
    clock = traveller.start()
    try:
        from app import create_app
        from app.extensions import db
        from tests.factories import TEAMS, make_customer, make_user, token_for

        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/corpus.db"})
        logging.getLogger("app").setLevel(logging.WARNING)
        with app.app_context():
            db.create_all()
            admin = make_user("corpus", "admin", teams=TEAMS)
            customer_id, token = make_customer().id, token_for(admin)
            db.session.remove()
        from app.handlers import HANDLERS

        api = Api(app.test_client(), token, log)
        row = {"accepted": False, "known_operators": sorted(HANDLERS)}
        key, errors = deploy_bundle(api, bundle, bare_process)
        if errors:
            return {**row, "errors": errors}
        row["accepted"] = True
        row.update(drive_ticket(app, api, bundle, key, customer_id, clock))
        return row
    finally:
        traveller.stop()


def deploy_bundle(api: Api, bundle: Bundle, bare_process: str | None) -> tuple[str | None, list[dict]]:
    """(process key to start, refusal errors) for the bundle, deployed in one POST /deployments."""
    files = [(BytesIO(p.read_bytes()), p.name) for p in bundle.files()]
    status, body = api.call(
        "POST", "/api/v1/deployments", data={"file": files}, content_type="multipart/form-data"
    )
    if status in (200, 201):
        keys = [p.get("key") for p in body.get("processes", [])]
        return pick_key(keys, bundle, bare_process), []
    return None, refusal_errors(status, body)


def pick_key(keys: list[str], bundle: Bundle, bare_process: str | None) -> str | None:
    """The process to open the ticket with: the bundle's top-level process among the deployed keys.

    A collaboration deploys each participant as its own key; the ticket starts the first one in
    the diagram that a person can start (a start event without a message, signal or timer).
    """
    if bare_process in keys:
        return bare_process
    trees = [
        t
        for t in (read_tree(p) for p in (bundle.diagram, *([bundle.companion] if bundle.companion else [])))
        if t is not None
    ]
    called = {el.get("calledElement") for t in trees for el in t.getroot().iter(f"{BPMN}callActivity")}
    processes = [
        p
        for t in trees
        for p in t.getroot().iter(f"{BPMN}process")
        if p.get("id") in keys and p.get("id") not in called
    ]

    def plain_start(process) -> bool:
        starts = process.findall(f"{BPMN}startEvent")
        return any(not any(etree.QName(c).localname.endswith("EventDefinition") for c in s) for s in starts)

    ranked = [p for p in processes if plain_start(p)] or processes
    return ranked[0].get("id") if ranked else (keys[0] if keys else None)


def refusal_errors(status: int, body: dict) -> list[dict]:
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        return [
            {"file": e.get("file"), "element_id": e.get("element_id"), "message": str(e.get("message"))}
            for e in errors
            if isinstance(e, dict)
        ]
    message = body.get("error") or body.get("text") or "no answer"
    if body.get("logged"):
        message += " — " + "; ".join(body["logged"])
    return [{"file": None, "element_id": None, "message": f"HTTP {status}: {message}"}]


def drive_ticket(app, api: Api, bundle: Bundle, key: str | None, customer_id: int, clock) -> dict:
    """Open one ticket and drive it to its end. Returns {ran_to_end, where, notes}."""
    from app.worker import drain

    recipe = Recipe(bundle.id)
    notes: list[str] = []

    def work() -> None:
        with app.app_context():
            try:
                drain()
            except Exception as exc:
                notes.append(f"drain: {type(exc).__name__}: {exc}")

    status, body = api.call(
        "POST",
        "/api/v1/tickets",
        json={
            "type": key,
            "customer_id": customer_id,
            "subject": f"Corpus {bundle.id}",
            "data": recipe.start,
        },
    )
    if status == 422 and recipe.start and "data" in json.dumps(body.get("errors", "")):
        notes.append(f"start data refused ({short(body)}); opened without it")
        status, body = api.call(
            "POST",
            "/api/v1/tickets",
            json={"type": key, "customer_id": customer_id, "subject": f"Corpus {bundle.id}", "data": {}},
        )
    if status != 201:
        return {"ran_to_end": False, "where": f"start: HTTP {status} {short(body)}", "notes": notes}
    ticket_id = body["id"]
    work()
    still, last = 0, None
    for _ in range(MAX_ROUNDS):
        status, ticket = api.call("GET", f"/api/v1/tickets/{ticket_id}")
        if status != 200:
            return {
                "ran_to_end": False,
                "where": f"GET ticket: HTTP {status} {short(ticket)}",
                "notes": notes,
            }
        instance = ticket.get("instance") or {}
        if instance.get("status") == "completed":
            return {"ran_to_end": True, "where": "", "notes": notes}
        if instance.get("status") not in ("running", "incident"):
            return {"ran_to_end": False, "where": f"instance {instance.get('status')}", "notes": notes}
        if ticket.get("incidents"):
            return {
                "ran_to_end": False,
                "where": "incident "
                + "; ".join(f"{i.get('element_id')}: {i.get('message')}" for i in ticket["incidents"]),
                "notes": notes,
            }
        _, listing = api.call("GET", f"/api/v1/tasks?ticket_id={ticket_id}")
        tasks = listing.get("tasks", [])
        waiting = ticket.get("waiting") or {}
        fingerprint = json.dumps(
            [instance, [t["id"] for t in tasks], waiting, len(ticket.get("history", []))], sort_keys=True
        )
        still = still + 1 if fingerprint == last else 0
        if still >= 2:
            return {"ran_to_end": False, "where": ticketflow_open(tasks, waiting, notes), "notes": notes}
        last = fingerprint
        # One thing per round: completing a task may cancel another, a message may end other waits.
        for kind in recipe.order:
            if kind == "task" and tasks:
                any(complete(api, task, recipe, notes) for task in tasks)
                break
            if kind == "message" and waiting.get("messages"):
                any(
                    deliver(api, ticket_id, name, recipe, notes)
                    for name in dict.fromkeys(m["name"] for m in waiting["messages"])
                )
                break
            if kind == "timer" and any(t.get("due_at") for t in waiting.get("timers", [])):
                due = min(datetime.fromisoformat(t["due_at"]) for t in waiting["timers"] if t.get("due_at"))
                if due.tzinfo is None:
                    due = due.replace(tzinfo=UTC)
                if due + timedelta(seconds=1) > datetime.now(UTC):
                    clock.move_to(due + timedelta(seconds=1))
                break
        work()
    return {"ran_to_end": False, "where": f"still running after {MAX_ROUNDS} rounds", "notes": notes}


def complete(api: Api, task: dict, recipe: Recipe, notes: list[str]) -> bool:
    """Complete a task with its form's data and the recipe's; False (and a note) when refused."""
    data = (
        form_data(task["form"], recipe.task(task["name"])) if task.get("form") else recipe.task(task["name"])
    )
    status, body = api.call("POST", f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    if status == 422 and data and not task.get("form") and "no form" in json.dumps(body):
        notes.append(f"{task['name']}: data for a task without a form refused; sent {{}}")
        status, body = api.call("POST", f"/api/v1/tasks/{task['id']}/complete", json={"data": {}})
    if status != 200:
        notes.append(f"complete {task['name']}: HTTP {status} {short(body)}")
    return status == 200


def deliver(api: Api, ticket_id: int, name: str, recipe: Recipe, notes: list[str]) -> bool:
    """Deliver a message the ticket waits for with the recipe's payload; False (and a note) when refused."""
    status, body = api.call(
        "POST",
        "/api/v1/messages",
        json={"name": name, "ticket_id": ticket_id, "payload": recipe.message(name)},
    )
    if status != 200:
        notes.append(f"message {name}: HTTP {status} {short(body)}")
    return status == 200


def ticketflow_open(tasks: list[dict], waiting: dict, notes: list[str]) -> str:
    parts = [f"task {t['name']} open" for t in tasks]
    parts += [f"waits message {m['name']} at {m['element_id']}" for m in waiting.get("messages", [])]
    parts += [f"waits timer {t['element_id']} (due {t.get('due_at')})" for t in waiting.get("timers", [])]
    where = "; ".join(parts) or "nothing open, not completed"
    return f"{where} [{notes[-1]}]" if notes else where


def short(body: dict) -> str:
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        return "; ".join(f"{e.get('element_id') or ''}: {e.get('message')}".strip(": ") for e in errors[:3])
    if isinstance(errors, dict):
        return "; ".join(f"{k}: {v}" for k, v in list(errors.items())[:3])
    text = body.get("error") or body.get("text") or ""
    return text + (" — " + "; ".join(body["logged"]) if body.get("logged") else "")


# --------------------------------------------------------------------------- rows and report


@dataclass
class Row:
    id: str
    source: str
    bare: str
    bare_where: str
    accepted: bool
    errors: list
    ran_to_end: bool
    where: str
    notes: list
    bundle: str
    broken: bool = False
    operators: list = field(default_factory=list)  # spiffworkflow:serviceTaskOperator ids in the bundle
    known_operators: list = field(default_factory=list)  # operators the Ticketflow under test handles

    @property
    def bare_runs(self) -> bool:
        return self.bare == "runs to end"

    @property
    def by_design(self) -> bool:
        """Refused only for service operators Ticketflow has no handler for (named as such)."""
        return (
            bool(self.errors)
            and all("serviceTaskOperator" in e["message"] for e in self.errors)
            and not set(self.operators) & set(self.known_operators)
        )

    @property
    def refused(self) -> bool:
        return not self.accepted and not self.broken

    @property
    def server_error(self) -> bool:
        """The deploy answered 5xx: a crash, never a justified refusal."""
        return any(e["message"].startswith("HTTP 5") for e in self.errors)

    @property
    def false_refusal(self) -> bool:
        return self.refused and self.bare_runs and not self.by_design

    @property
    def verdict(self) -> str:
        if self.accepted:
            return "accepted"
        if self.broken:
            return "DRIVER ERROR"
        if self.server_error:
            return "DEPLOY 5xx"
        return "FALSE REFUSAL" if self.false_refusal else "refused"


def run_one(corpus: Path, diagram_id: str, source: str, decisions, variant: Path | None = None) -> Row:
    bundle = build_bundle(corpus, diagram_id, decisions, variant)
    bare = isolated(run_bare, (bundle,), BARE_BUDGET)
    if "error" in bare:
        bare = {"result": "fails", "where": bare["error"]}
    with tempfile.TemporaryDirectory(prefix="ticketflow-corpus-") as folder:  # removed even after a kill
        tf = isolated(run_ticketflow, (bundle, bare.get("process"), folder), TICKETFLOW_BUDGET)
    if "error" in tf:  # the run broke (timeout, import error, crash): neither accepted nor refused
        tf = {"accepted": False, "errors": [], "ran_to_end": False, "where": tf["error"], "broken": True}
    files = [p.name for p in bundle.files()]
    extra = [f"missing form {n}" for n in bundle.missing_forms] + [
        f"missing decision {d}" for d in bundle.missing_decisions
    ]
    return Row(
        diagram_id,
        source,
        bare["result"],
        bare.get("where", ""),
        tf.get("accepted", False),
        tf.get("errors", []),
        tf.get("ran_to_end", False),
        tf.get("where", ""),
        tf.get("notes", []) + extra,
        ", ".join(files),
        tf.get("broken", False),
        operators_in(bundle),
        tf.get("known_operators", []),
    )


def reasons(row: Row, limit: int = 2) -> str:
    shown = [f"{e.get('element_id') or e.get('file') or '-'}: {e['message']}" for e in row.errors[:limit]]
    more = len(row.errors) - limit
    return "; ".join(shown) + (f" (+{more} more)" if more > 0 else "")


def explains(error: dict) -> tuple[bool, bool]:
    """(names a BPMN element, says what to do instead) for one refusal reason."""
    return bool(error.get("element_id")), bool(REMEDY_WORDS.search(error["message"]))


def totals(rows: list[Row]) -> dict:
    accepted = [r for r in rows if r.accepted]
    ran = [r for r in accepted if r.ran_to_end]
    return {
        "diagrams": len(rows),
        "accepted": len(accepted),
        "accepted_pct": 100 * len(accepted) / len(rows) if rows else 0.0,
        "bare_runs": sum(r.bare_runs for r in rows),
        "false_refusals": [r.id for r in rows if r.false_refusal],
        "ran_to_end": len(ran),
        "ran_pct": 100 * len(ran) / len(accepted) if accepted else 0.0,
        "stalled": [r.id for r in accepted if not r.ran_to_end],
        "bare_runs_ticketflow_not": [r.id for r in accepted if r.bare_runs and not r.ran_to_end],
        "broken": [r.id for r in rows if r.broken],
        "justified": [r.id for r in rows if r.refused and not r.false_refusal and not r.server_error],
        "unexplained": [
            r.id
            for r in rows
            if r.refused
            and not r.false_refusal
            and not r.server_error
            and not all(all(explains(e)) for e in r.errors)
        ],
        "server_errors": [r.id for r in rows if r.server_error],
    }


def clip(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def stalled_note(t: dict) -> str:
    """Which accepted-but-stalled diagrams bare SpiffWorkflow does run to their end."""
    if not t["stalled"]:
        return ""
    if not t["bare_runs_ticketflow_not"]:
        return " (bare SpiffWorkflow does not reach their end either)"
    return f" (bare SpiffWorkflow reaches the end of {', '.join(t['bare_runs_ticketflow_not'])})"


def print_table(rows: list[Row], with_totals: bool = True) -> None:
    width = max([4, *(len(r.id) for r in rows)])
    print(f"{'id':{width}} {'source':28} {'bare Spiff':12} {'Ticketflow':14} {'end':4} reason / where")
    for r in rows:
        end = ("yes" if r.ran_to_end else "no") if r.accepted else "-"
        detail = r.where if r.accepted or r.broken else reasons(r)
        if not r.bare_runs:
            detail = (detail + " | bare: " if detail else "bare: ") + r.bare_where
        print(
            f"{r.id:{width}} {clip(r.source, 28):28} {r.bare:12} {r.verdict:14} {end:4} {clip(detail, 150)}"
        )
    if not with_totals:
        return
    t = totals(rows)
    print()
    print(
        f"accepted {t['accepted']}/{t['diagrams']} ({t['accepted_pct']:.0f} %); "
        f"false refusals {len(t['false_refusals'])} {t['false_refusals'] or ''}; "
        f"ran to end {t['ran_to_end']}/{t['accepted']} of accepted ({t['ran_pct']:.0f} %); "
        f"bare SpiffWorkflow runs {t['bare_runs']}/{t['diagrams']} to end"
    )
    if t["stalled"]:
        print(f"accepted but not at their end: {', '.join(t['stalled'])}{stalled_note(t)}")
    print(
        f"justified refusals {len(t['justified'])}; a reason without element or remedy: "
        f"{', '.join(t['unexplained']) or 'none'}"
    )
    if t["broken"]:
        print(f"driver errors (neither accepted nor refused): {', '.join(t['broken'])}")


def md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def revision() -> str:
    """The commit the run measured, and whether the working tree differed from it."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "app"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "an unknown revision"
    return f"commit {sha}" + (" with uncommitted changes in app/" if dirty else "")


def table_lines(rows: list[Row]) -> list[str]:
    lines = [
        "| id | source | bare SpiffWorkflow | Ticketflow | ran to end | reasons / where it stopped |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        end = ("yes" if r.ran_to_end else "no") if r.accepted else "–"
        detail = r.where if r.accepted or r.broken else reasons(r, 3)
        bare = r.bare if r.bare_runs else f"{r.bare}: {clip(r.bare_where, 160)}"
        lines.append(
            f"| {r.id} | {md_cell(r.source)} | {md_cell(bare)} | {r.verdict} | {end} | {md_cell(clip(detail, 300))} |"
        )
    return lines


def markdown(rows: list[Row], variants: list[Row], seconds: float) -> str:
    t = totals(rows)
    lines = [
        "# Compatibility with BPMN made elsewhere",
        "",
        f"The measure is a public corpus of {t['diagrams']} diagrams collected from other projects "
        "(SpiffWorkflow's and spiff-example-cli's test and tutorial data, SpiffArena test models, "
        "sartography sample models, Camunda 7 and 8 examples, bpmn-js examples, Flowable test "
        "resources, a Camunda Modeler fixture), with the forms, decision tables and called processes "
        "they name. It lives outside the project in `../shared/corpus/foreign-bpmn` "
        "(`manifest.tsv` names the source of each diagram) and is never copied in.",
        "",
        "For every diagram, `bench/corpus.py` builds a bundle (the diagram, its called process from "
        "`companions/`, the DMN files whose decisions it calls, the forms it names), then",
        "",
        "- runs it on **bare SpiffWorkflow 3.2** as a plain user would: the stock `SpiffBpmnParser` "
        "without validator, the stock Python script engine, service calls answering `{}`, tasks "
        "completed with the recipe data, messages delivered, timers forced;",
        "- deploys it to a fresh **Ticketflow** (temporary SQLite) through `POST /api/v1/deployments`, "
        "opens one ticket and drives it through the API only: tasks completed with the recipe data "
        "(form defaults and samples for required fields underneath), `POST /api/v1/messages` for the "
        "messages it waits for, the clock moved past each timer's due time and the worker drained.",
        "",
        "The data each diagram needs to reach an end (its gateway conditions, scripts and forms read "
        "by hand) is in `bench/corpus_recipes.py`; it is data only, never an outcome. A refusal is "
        "*false* when bare SpiffWorkflow runs the diagram to its end and Ticketflow refuses it for "
        "anything else than a service operator it has no handler for (refused by design).",
        "",
        "Reproduce:",
        "",
        "```sh",
        ".venv/bin/python -m bench.corpus --variants --markdown docs/compatibility.md   # --only S01,S02 for a few",
        "```",
        "",
        "To see what the deploy checks say about one bundle without deploying it (on a migrated "
        "database, as `make run` leaves it):",
        "",
        "```sh",
        "C=../shared/corpus/foreign-bpmn",
        ".venv/bin/flask --app wsgi processes check $C/E03.bpmn $C/companions/E03.callee.bpmn "
        "$C/dmn/shipping_costs.dmn $C/forms/*.json",
        "```",
        "",
        "## Totals",
        "",
        "| | |",
        "| --- | --- |",
        f"| diagrams | {t['diagrams']} |",
        f"| bare SpiffWorkflow 3.2 runs to end | {t['bare_runs']} |",
        f"| accepted by Ticketflow | {t['accepted']} ({t['accepted_pct']:.0f} %) |",
        f"| false refusals (target 0) | {len(t['false_refusals'])}"
        f"{': ' + ', '.join(t['false_refusals']) if t['false_refusals'] else ''} |",
        f"| accepted diagrams run to their end (target ≥ 90 %) | {t['ran_to_end']} of {t['accepted']} "
        f"({t['ran_pct']:.0f} %) |",
        f"| accepted, not at their end | {', '.join(t['stalled']) or 'none'}{stalled_note(t)} |",
        f"| justified refusals | {len(t['justified'])}; not naming the element or the remedy in every reason: "
        f"{', '.join(t['unexplained']) or 'none'} |",
        "",
        f"Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {revision()}, {seconds:.0f} s for the whole corpus.",
        "",
        "## Every diagram",
        "",
    ]
    lines += table_lines(rows)
    lines += [
        "",
        "## Justified refusals",
        "",
        "Refusals of diagrams bare SpiffWorkflow does not run to its end either, and of service "
        "operators without a Ticketflow handler, grouped by reason. *element* says whether the "
        "refusal names a BPMN element, *remedy* whether it says what to do instead.",
        "",
    ]
    groups: dict[str, list] = defaultdict(list)
    for r in rows:
        if not r.refused or r.false_refusal or r.server_error:
            continue
        for e in r.errors:
            groups[reason_group(e["message"])].append((r.id, e))
    for group, items in sorted(groups.items(), key=lambda kv: (-len({i for i, _ in kv[1]}), kv[0])):
        ids = sorted({i for i, _ in items})
        named = all(explains(e)[0] for _, e in items)
        remedy = all(explains(e)[1] for _, e in items)
        lines.append(
            f"- **{md_cell(group)}** ({len(ids)}: {', '.join(ids)}) — element: "
            f"{'yes' if named else 'not always'}, remedy: {'yes' if remedy else 'not always'}. "
            f"Example: `{md_cell(clip(items[0][1]['message'], 200))}`"
        )
    if t["false_refusals"]:
        lines += ["", "## False refusals", ""]
        for r in rows:
            if r.false_refusal:
                lines.append(f"- **{r.id}**: {md_cell(reasons(r, 5))}")
    if variants:
        lines += [
            "",
            "## Variants",
            "",
            "Minimal edits of a few diagrams from `variants/` (a call activity merged into one file, "
            "resource assignment stripped, a timer left unquoted), run the same way with the recipe "
            "of their diagram; not counted in the totals.",
            "",
        ]
        lines += table_lines(variants)
    return "\n".join(lines) + "\n"


def reason_group(message: str) -> str:
    """A refusal message without its particulars (ids, names, numbers), to group alike reasons."""
    text = re.sub(r"^'.*' is an? ", "… is a ", message)  # a quoted expression may hold quotes itself
    text = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`|\{[^}]*\}", "…", text)
    text = re.sub(r"\(line \d+\)|\d+", "", text)
    text = text.split(";")[0]
    return " ".join(text.split())[:120]


def read_manifest(corpus: Path) -> list[tuple[str, str]]:
    rows = []
    for line in (corpus / "manifest.tsv").read_text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].strip():
            rows.append((parts[0].strip(), parts[1].strip()))
    return rows


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="the corpus folder (default: ../shared/corpus/foreign-bpmn)",
    )
    parser.add_argument("--only", default="", help="comma-separated diagram ids, e.g. S01,S02")
    parser.add_argument("--markdown", type=Path, help="also write the report as Markdown to this file")
    parser.add_argument(
        "--variants",
        action="store_true",
        help="also run variants/ (minimal edits of a few diagrams), reported apart from the totals",
    )
    parser.add_argument("--json", type=Path, help="also write the rows as JSON (for comparing runs)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    corpus = args.corpus.resolve()
    if not (corpus / "manifest.tsv").is_file():
        print(f"corpus not found: {corpus} has no manifest.tsv (pass --corpus PATH)", file=sys.stderr)
        return 2
    manifest = read_manifest(corpus)
    wanted = {x.strip() for x in args.only.split(",") if x.strip()}
    if wanted - {i for i, _ in manifest}:
        print(f"unknown ids: {', '.join(sorted(wanted - {i for i, _ in manifest}))}", file=sys.stderr)
        return 2
    decisions = dmn_index(corpus)
    started = time.perf_counter()
    jobs = [(i, source, None) for i, source in manifest if not wanted or i in wanted]
    if args.variants:
        jobs += [
            (p.stem, f"variant of {p.stem.split('-')[0]}", p)
            for p in sorted((corpus / "variants").glob("*.bpmn"))
            if not wanted or p.stem.split("-")[0] in wanted
        ]
    rows, variants = [], []
    for diagram_id, source, variant in jobs:
        row = run_one(corpus, diagram_id, source, decisions, variant)
        (variants if variant else rows).append(row)
        print(
            f"  {row.id}: bare {row.bare}; {row.verdict}"
            f"{'; ran to end' if row.ran_to_end else ''} ({time.perf_counter() - started:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    seconds = time.perf_counter() - started
    print_table(rows)
    if variants:
        print("\nvariants (not in the totals):")
        print_table(variants, with_totals=False)
    if args.markdown:
        args.markdown.write_text(markdown(rows, variants, seconds))
        print(f"wrote {args.markdown}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows + variants], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
