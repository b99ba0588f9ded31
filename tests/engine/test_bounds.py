"""What a diagram can make the engine do is bounded: instructions templates, engine steps,
multi-instance tasks and integer sizes. A bomb is refused at deploy (422 naming the element)
when it can be seen there, and otherwise halts its instance with an incident naming the element,
committed by the command that ran into it."""

import pytest

from app.engine import DiagramRejected, complete_task, deploy, retry_incident, start_process
from app.engine.expressions import (
    ExpressionError,
    ExpressionLimitError,
    evaluate_safe,
    execute_safe,
    render_bounded,
)
from app.extensions import db
from app.models import HumanTask, Incident, ProcessInstance
from app.work_clock import work_seconds
from tests.diagrams import bpmn, user_task_process
from tests.factories import make_customer

# Rendered without data these overrun the budget (or do not compile): refused at deploy.
TEMPLATE_BOMBS = {
    "pow": "{{ (9**(9**8)) > 1 }}",
    "pow_right": "{{ 9**(9**9) }}",
    "repeat": "{{ 'a' * 10**9 }}",
    "shift": "{{ 1 << 10**10 }}",
    "nested_range": "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}",
    "macro_recursion": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "loop_recursion": "{% for a in [1] recursive %}{{ loop([1, 1]) }}{% endfor %}",
    "doubling": "{% set ns = namespace(s='a') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}{{ ns.s }}",
    "center": "{{ 'a'|center(999999999) }}",
    "format_width": "{{ '%999999999d'|format(1) }}",
    "str_format": "{{ '{:>999999999}'.format(1) }}",
    "replace": "{{ ('a' * 100000)|replace('', 'a' * 100000) }}",
}
# Only data makes these bombs: they halt at run time.
DATA_BOMBS = {
    "nested_data": "{% for a in items %}{% for b in items %}{% for c in items %}{% endfor %}{% endfor %}{% endfor %}",
    "data_pow": "{{ n ** n ** n }}",
    "data_repeat": "{{ text * (n * n * n) }}",
}
BOMB_DATA = {"items": list(range(1000)), "n": 999, "text": "abc"}


def _instructions(template: str) -> bytes:
    escaped = template.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return user_task_process(
        f"<spiffworkflow:instructionsForEndUser>{escaped}</spiffworkflow:instructionsForEndUser>"
    )


@pytest.mark.parametrize("template", TEMPLATE_BOMBS.values(), ids=TEMPLATE_BOMBS.keys())
def test_instructions_bomb_is_refused_at_deploy_naming_the_task(app, template):
    with pytest.raises(DiagramRejected) as refused:
        deploy(_instructions(template))

    [problem] = refused.value.problems
    assert problem.element_id == "do_it"
    assert problem.message.startswith("instructionsForEndUser: ")


@pytest.mark.parametrize("template", [*TEMPLATE_BOMBS.values(), *DATA_BOMBS.values()])
def test_every_bomb_stops_within_its_budget(template):
    started = work_seconds()  # the clock the budget runs on: this thread's CPU outside the collector
    with pytest.raises((ExpressionLimitError, Exception)) as stopped:
        render_bounded(template, dict(BOMB_DATA))
    assert work_seconds() - started < 0.5  # the budget is 100 ms
    assert not isinstance(stopped.value, MemoryError)


@pytest.mark.parametrize("template", DATA_BOMBS.values(), ids=DATA_BOMBS.keys())
def test_instructions_bomb_in_data_halts_the_ticket_with_an_incident_naming_the_task(app, template):
    deploy(_instructions(template))

    ticket, instance = start_process("tiny", make_customer().id, "Bomb", dict(BOMB_DATA))

    incident = db.session.execute(db.select(Incident)).scalar_one()
    assert (incident.element_id, incident.kind) == ("do_it", "engine")
    assert "instructions: rendering stopped" in incident.message
    assert db.session.get(ProcessInstance, instance.id).status == "incident"
    task = db.session.execute(db.select(HumanTask)).scalar_one()
    assert task.instructions == template  # the agent sees the source, never a half-rendered text


def test_instructions_render_data_filters_and_loops(app):
    template = (
        "Dear {{ customer.name }}, refund {{ '%.2f'|format(amount * 1.1) }} for "
        "{% for i in items %}{{ i.sku|upper }}{{ ', ' if not loop.last }}{% endfor %} "
        "({{ items|map(attribute='qty')|sum }} items, {{ subject.title() }})"
    )
    deploy(_instructions(template))
    data = {"amount": 10, "items": [{"sku": "ab", "qty": 2}, {"sku": "cd", "qty": 1}]}

    start_process("tiny", make_customer(name="Ann").id, "broken shoes", data)

    task = db.session.execute(db.select(HumanTask)).scalar_one()
    assert task.instructions == "Dear Ann, refund 11.00 for AB, CD (3 items, Broken Shoes)"
    assert db.session.execute(db.select(Incident)).first() is None


def test_instructions_cannot_change_the_process_data(app):
    deploy(_instructions("{{ items.append(1) }}{{ items|length }}"))

    start_process("tiny", make_customer().id, "Mutate", {"items": [1]})

    task = db.session.execute(db.select(HumanTask)).scalar_one()
    assert task.instructions == "{{ items.append(1) }}{{ items|length }}"  # refused: the source shows


LOOP = """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:exclusiveGateway id="again" default="f3"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f2</bpmn:incoming>
    <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:endEvent id="done"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="again"/>
  <bpmn:sequenceFlow id="f2" sourceRef="again" targetRef="again">
    <bpmn:conditionExpression>True</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="f3" sourceRef="again" targetRef="done"/>"""


def test_a_loop_without_a_wait_state_stops_at_the_step_limit_with_an_incident(app):
    app.config["MAX_ENGINE_STEPS"] = 200
    app.config["MAX_ENGINE_SECONDS"] = 60  # the step limit, not the time limit, on a busy machine too
    deploy(bpmn(LOOP, "loop"))

    ticket, instance = start_process("loop", make_customer().id, "Loop", {})

    incident = db.session.execute(db.select(Incident)).scalar_one()
    assert (incident.element_id, incident.kind) == ("again", "engine")
    assert "stopped after 200 engine steps (MAX_ENGINE_STEPS)" in incident.message
    assert db.session.get(ProcessInstance, instance.id).status == "incident"


def test_a_loop_that_runs_too_long_stops_with_an_incident(app):
    deploy(bpmn(LOOP, "loop"))
    started = work_seconds()

    ticket, instance = start_process("loop", make_customer().id, "Loop", {})

    # MAX_ENGINE_SECONDS is 0.5 of work; saving comes on top
    assert work_seconds() - started < 5.0
    incident = db.session.execute(db.select(Incident)).scalar_one()
    assert incident.element_id == "again" and "(MAX_ENGINE_SECONDS)" in incident.message
    assert db.session.get(ProcessInstance, instance.id).status == "incident"


def test_a_loop_deeper_than_the_library_walks_is_an_incident_not_a_silent_stall(app):
    # SpiffWorkflow looks for ready tasks only 1000 levels deep: the loop stalled after 1,002
    # history rows, its instance 'running' with nothing to wait for.
    app.config["MAX_ENGINE_SECONDS"] = 60
    deploy(bpmn(LOOP, "loop"))

    ticket, instance = start_process("loop", make_customer().id, "Loop", {})

    incident = db.session.execute(db.select(Incident)).scalar_one()
    assert incident.element_id == "again" and "loops without reaching a wait state" in incident.message
    assert db.session.get(ProcessInstance, instance.id).status == "incident"


def _multi_instance(characteristics: str, before: str = "") -> bytes:
    script = (
        f'<bpmn:scriptTask id="prepare"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>'
        f"<bpmn:script>{before}</bpmn:script></bpmn:scriptTask>"
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="prepare"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="prepare" targetRef="each"/>'
        if before
        else '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="each"/>'
    )
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>{"f0" if before else "f1"}</bpmn:outgoing></bpmn:startEvent>
  {script}
  <bpmn:userTask id="each" name="Each"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    <bpmn:multiInstanceLoopCharacteristics>{characteristics}</bpmn:multiInstanceLoopCharacteristics>
  </bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f2" sourceRef="each" targetRef="done"/>""",
        "multi",
    )


def test_a_constant_cardinality_over_the_cap_is_refused_at_deploy(app):
    with pytest.raises(DiagramRejected) as refused:
        deploy(_multi_instance("<bpmn:loopCardinality>1000000</bpmn:loopCardinality>"))

    [problem] = refused.value.problems
    assert problem.element_id == "each"
    assert "loopCardinality 1000000 exceeds 1000 instances (MAX_MULTI_INSTANCE)" in problem.message


def test_a_computed_cardinality_over_the_cap_halts_before_any_instance_is_made(app):
    deploy(_multi_instance("<bpmn:loopCardinality>n</bpmn:loopCardinality>", before="n = 1000000"))

    ticket, instance = start_process("multi", make_customer().id, "Many", {})

    incident = db.session.execute(db.select(Incident)).scalar_one()
    assert incident.element_id == "each" and "1000000 instances; at most 1000" in incident.message
    assert db.session.execute(db.select(HumanTask)).first() is None


def test_a_collection_over_the_cap_halts_before_any_instance_is_made(app):
    app.config["MAX_MULTI_INSTANCE"] = 50
    deploy(
        _multi_instance(
            '<bpmn:loopDataInputRef>orders</bpmn:loopDataInputRef><bpmn:inputDataItem id="order"/>'
        )
    )

    start_process("multi", make_customer().id, "Many", {"orders": list(range(51))})

    incident = db.session.execute(db.select(Incident)).scalar_one()
    assert incident.element_id == "each" and "'orders' asks for 51 instances; at most 50" in incident.message
    assert db.session.execute(db.select(HumanTask)).first() is None


def test_a_collection_within_the_cap_makes_its_instances(app):
    deploy(
        _multi_instance(
            '<bpmn:loopDataInputRef>orders</bpmn:loopDataInputRef><bpmn:inputDataItem id="order"/>'
        )
    )

    start_process("multi", make_customer().id, "A few", {"orders": [1, 2, 3]})

    assert db.session.execute(db.select(db.func.count(HumanTask.id))).scalar() == 3


@pytest.mark.parametrize(
    "source", ["ten ** 4000", "2 ** (ten * 500)", "int(nines * 4000)", "(ten**2000) * (ten**2000)"]
)
def test_integers_over_the_size_cap_are_errors_in_expressions(source):
    with pytest.raises(ExpressionLimitError, match="exceeds 4096"):
        evaluate_safe(source, {"ten": 10, "nines": "9"})


def test_a_script_cannot_store_an_integer_over_the_size_cap(app):
    data = {"n": 10**1000}
    with pytest.raises(ExpressionLimitError):
        execute_safe("big = n * n * n * n * n", data)
    assert "big" not in data


def test_retrying_a_step_limit_incident_runs_the_engine_on_within_the_new_limit(app):
    app.config["MAX_ENGINE_STEPS"] = 50
    app.config["MAX_ENGINE_SECONDS"] = 60  # the step limit, not the time limit, on a busy machine too
    counter = """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:scriptTask id="count"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f2</bpmn:incoming>
    <bpmn:outgoing>f0</bpmn:outgoing><bpmn:script>n = n + 1 if n else 1</bpmn:script></bpmn:scriptTask>
  <bpmn:exclusiveGateway id="again" default="f3"><bpmn:incoming>f0</bpmn:incoming>
    <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:userTask id="done" name="Done"><bpmn:incoming>f3</bpmn:incoming></bpmn:userTask>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="count"/>
  <bpmn:sequenceFlow id="f0" sourceRef="count" targetRef="again"/>
  <bpmn:sequenceFlow id="f2" sourceRef="again" targetRef="count">
    <bpmn:conditionExpression>n &lt; 40</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="f3" sourceRef="again" targetRef="done"/>"""
    deploy(bpmn(counter, "counter"))
    ticket, instance = start_process("counter", make_customer().id, "Count", {"n": 0})
    incident = db.session.execute(db.select(Incident)).scalar_one()
    assert "(MAX_ENGINE_STEPS)" in incident.message

    app.config["MAX_ENGINE_STEPS"] = 1000
    retry_incident(incident.id, actor="admin")

    assert db.session.get(ProcessInstance, instance.id).status == "running"
    assert db.session.execute(db.select(HumanTask.name)).scalar_one() == "done"
    assert db.session.execute(db.select(db.func.count(Incident.id))).scalar() == 1


def test_retrying_a_budget_incident_runs_the_failed_step_again_into_a_new_incident(app):
    deploy(
        bpmn(
            LOOP.replace("<bpmn:conditionExpression>True", "<bpmn:conditionExpression>n ** n ** n > 1"), "pow"
        )
    )
    ticket, instance = start_process("pow", make_customer().id, "Pow", {"n": 999})
    [first] = db.session.execute(db.select(Incident)).scalars().all()
    assert first.element_id == "again" and "exceeds 4096" in first.message

    retry_incident(first.id, actor="admin")

    incidents = db.session.execute(db.select(Incident).order_by(Incident.id)).scalars().all()
    assert [(i.element_id, i.resolved_at is None) for i in incidents] == [("again", False), ("again", True)]
    assert db.session.get(ProcessInstance, instance.id).status == "incident"


def test_a_bomb_in_a_completed_tasks_post_script_halts_with_an_incident_not_a_422(app):
    deploy(user_task_process("<spiffworkflow:postScript>big = n ** n ** n</spiffworkflow:postScript>"))
    ticket, instance = start_process("tiny", make_customer().id, "Post", {"n": 999})
    task = db.session.execute(db.select(HumanTask)).scalar_one()

    complete_task(task.id, {}, None)

    incident = db.session.execute(db.select(Incident)).scalar_one()
    assert incident.element_id == "do_it" and "exceeds 4096" in incident.message
    assert db.session.get(ProcessInstance, instance.id).status == "incident"


def test_a_script_cannot_pass_on_an_oversized_integer_it_was_given(app):
    data = {"n": 10**2000}
    with pytest.raises(ExpressionError, match="holds an integer of 6644 bits; at most 4096"):
        execute_safe("m = n", data)
    assert "m" not in data
