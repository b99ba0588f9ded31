"""The hostile-diagram battery, against a live server process (embedded worker, SQLite).

Every bomb of issue 9 and every hostile payload of the expression battery is deployed through
the API and a ticket is started: each ends as a 422 at deploy naming its element, or as an
incident naming its element within 1 s of the start, while a thread asking `GET /healthz`
keeps getting answers (typically within 100 ms; none waits a second, as it would behind a frozen
server) and no payload ever runs a shell command. One answer can be slower than 100 ms on a
loaded machine with nothing frozen, so the typical answer is held to 100 ms and every one to 1 s.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.diagrams import bpmn, service_task_process
from tests.engine.test_bounds import (
    BOMB_DATA,
    DATA_BOMBS,
    LOOP,
    TEMPLATE_BOMBS,
    _instructions,
    _multi_instance,
)
from tests.engine.test_expressions_battery import DATA, DEPLOY, HOSTILE

ROOT = Path(__file__).resolve().parent.parent.parent
# Seconds from the start request. The budgets are CPU seconds of the working thread (a script's
# 0.5 s, the engine steps' 0.5 s: app/work_clock.py), so on a loaded machine the wall time
# stretches; an unbounded bomb still never ends within this.
INCIDENT_WITHIN = 3.0
HEALTH_TYPICAL = 0.1  # the median answer
HEALTH_WORST = 1.0  # every answer
ENGINE_NAMES = {
    "ticket_id",
    "ticket_type",
    "subject",
    "priority",
    "customer",
    "feedback_delay",
    "feedback_reminder_delay",
    "feedback_deadline_delay",
}


class Server:
    """The spawned server's address, its admin token and an HTTP client for it."""

    def __init__(self, port: int, token: str, customer_id: int):
        self.base = f"http://127.0.0.1:{port}"
        self.token = token
        self.customer_id = customer_id

    def call(self, method: str, path: str, body: bytes | dict | None = None, timeout: float = 10):
        headers = {"Authorization": f"Bearer {self.token}"}
        if isinstance(body, dict):
            body, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        elif body is not None:
            headers["Content-Type"] = "application/xml"
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def incidents_of(self, ticket_id: int) -> list[dict]:
        status, body = self.call("GET", "/api/v1/incidents")
        assert status == 200, body
        return [i for i in body["incidents"] if i["ticket_id"] == ticket_id]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("live") / "battery.db"
    env = {**os.environ, "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.security.live_server", str(db_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline()  # the server prints one line when it listens
        if not line:
            pytest.fail("the live server did not start")
        yield Server(**json.loads(line))
    finally:
        process.terminate()
        process.wait(timeout=10)


class HealthWatch:
    """Asks GET /healthz in a loop while a case runs; records each answer's latency."""

    def __init__(self, base: str):
        self.base = base
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=5) as answer:
                    answer.read()
                    ok = answer.status == 200
            except Exception as exc:  # noqa: BLE001 - reported by the test
                self.failures.append(repr(exc))
                continue
            self.latencies.append(time.perf_counter() - started)
            if not ok:
                self.failures.append("status")
            self._stop.wait(0.01)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc):
        deadline = time.perf_counter() + 2  # a median needs a few answers, however fast the case was
        while len(self.latencies) + len(self.failures) < 5 and time.perf_counter() < deadline:
            self._stop.wait(0.01)
        self._stop.set()
        self._thread.join()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _condition_process(process_id: str, condition: str) -> bytes:
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:exclusiveGateway id="which" default="to_no"><bpmn:incoming>f1</bpmn:incoming>
    <bpmn:outgoing>to_yes</bpmn:outgoing><bpmn:outgoing>to_no</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:userTask id="yes" name="Yes"><bpmn:incoming>to_yes</bpmn:incoming></bpmn:userTask>
  <bpmn:userTask id="no" name="No"><bpmn:incoming>to_no</bpmn:incoming></bpmn:userTask>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="which"/>
  <bpmn:sequenceFlow id="to_yes" sourceRef="which" targetRef="yes">
    <bpmn:conditionExpression>{_escape(condition)}</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="to_no" sourceRef="which" targetRef="no"/>""",
        process_id,
    )


def _script_process(process_id: str, script: str) -> bytes:
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:scriptTask id="run"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    <bpmn:script>{_escape(script)}</bpmn:script></bpmn:scriptTask>
  <bpmn:userTask id="after" name="After"><bpmn:incoming>f2</bpmn:incoming></bpmn:userTask>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="run"/>
  <bpmn:sequenceFlow id="f2" sourceRef="run" targetRef="after"/>""",
        process_id,
    )


def _with_id(diagram: bytes, process_id: str) -> bytes:
    return (
        diagram.replace(b'<bpmn:process id="tiny"', f'<bpmn:process id="{process_id}"'.encode())
        .replace(b'<bpmn:process id="multi"', f'<bpmn:process id="{process_id}"'.encode())
        .replace(b'<bpmn:process id="loop"', f'<bpmn:process id="{process_id}"'.encode())
    )


AMOUNT = '<spiffworkflow:parameter id="amount" type="float" value="5"/>'
MARKER = f"/tmp/ticketflow-battery-marker-{os.getpid()}"
PAYLOAD_DATA = {k: v for k, v in DATA.items() if k not in ENGINE_NAMES}
PAYLOAD_DATA["evil"] = [e.replace("touch M", f"touch {MARKER}") for e in PAYLOAD_DATA["evil"]]


def _cases():
    """(id, diagram, start data, expected: "deploy" or the element id of the incident)."""
    for name, template in TEMPLATE_BOMBS.items():
        yield f"template-{name}", _with_id(_instructions(template), f"t_{name}"), {}, "deploy"
    for name, template in DATA_BOMBS.items():
        yield f"template-{name}", _with_id(_instructions(template), f"t_{name}"), BOMB_DATA, "do_it"
    constant = _multi_instance("<bpmn:loopCardinality>1000000</bpmn:loopCardinality>")
    yield "multi-instance-constant", _with_id(constant, "mi_constant"), {}, "deploy"
    computed = _multi_instance("<bpmn:loopCardinality>n</bpmn:loopCardinality>", before="n = 1000000")
    yield "multi-instance-computed", _with_id(computed, "mi_computed"), {}, "each"
    collection = _multi_instance(
        '<bpmn:loopDataInputRef>orders</bpmn:loopDataInputRef><bpmn:inputDataItem id="order"/>'
    )
    yield "multi-instance-collection", _with_id(collection, "mi_collection"), {"orders": [0] * 1001}, "each"
    yield "gateway-loop", bpmn(LOOP, "gateway_loop"), {}, "again"
    # Behind a service task the bomb goes off in the worker, which must not freeze either.
    behind = service_task_process("refund.issue", AMOUNT, process_id="behind_job").replace(
        b'<bpmn:userTask id="after" name="After">',
        b'<bpmn:userTask id="after" name="After"><bpmn:extensionElements><spiffworkflow:instructionsForEndUser>'
        + _escape(DATA_BOMBS["nested_data"]).encode()
        + b"</spiffworkflow:instructionsForEndUser></bpmn:extensionElements>",
    )
    yield "template-behind-a-job", behind, BOMB_DATA, "after"
    for case_id, mode, payload, outcome, _message in HOSTILE:
        payload = payload.replace("touch M", f"touch {MARKER}")
        process_id = f"p_{case_id.lower()}"
        if mode == "eval":
            diagram, element = _condition_process(process_id, payload), "which"
        else:
            diagram, element = _script_process(process_id, payload), "run"
        yield f"payload-{case_id}", diagram, PAYLOAD_DATA, "deploy" if outcome == DEPLOY else element


CASES = list(_cases())


@pytest.mark.parametrize(("diagram", "data", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bomb_ends_as_a_422_or_an_incident_while_the_server_keeps_answering(server, diagram, data, expected):
    with HealthWatch(server.base) as health:
        status, body = server.call("POST", "/api/v1/process-definitions", diagram)
        if expected == "deploy":
            assert status == 422, body
            assert body["errors"] and all(e["element_id"] for e in body["errors"]), body
        else:
            assert status == 201, body
            started = time.perf_counter()
            key = body["key"]
            status, ticket = server.call(
                "POST",
                "/api/v1/tickets",
                {"type": key, "customer_id": server.customer_id, "subject": "bomb", "data": data},
            )
            assert status == 201, ticket
            incidents = server.incidents_of(ticket["id"])
            while not incidents and time.perf_counter() - started < INCIDENT_WITHIN:
                incidents = server.incidents_of(ticket["id"])
            elapsed = time.perf_counter() - started
            assert incidents, f"no incident within {INCIDENT_WITHIN} s"
            assert elapsed < INCIDENT_WITHIN, f"the incident took {elapsed:.2f} s"
            assert incidents[0]["element_id"] == expected, incidents
    assert not health.failures, health.failures
    assert health.latencies, "GET /healthz never answered"
    latencies = sorted(health.latencies)
    assert latencies[len(latencies) // 2] < HEALTH_TYPICAL, f"/healthz answers: {latencies}"
    assert latencies[-1] < HEALTH_WORST, f"/healthz answers: {latencies}"
    assert not Path(MARKER).exists(), "a hostile payload ran a shell command"
