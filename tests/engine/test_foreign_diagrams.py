"""Diagrams made in other tools deploy and run when they use supported elements; otherwise
they are refused with the element named."""

from pathlib import Path

import pytest

from app.engine import DiagramRejected, complete_task, deploy, start_process
from app.extensions import db
from app.models import HumanTask, ProcessInstance
from tests.factories import make_customer

CAMUNDA = (Path(__file__).parent / "foreign" / "camunda_modeler.bpmn").read_bytes()


def test_camunda_modeler_diagram_deploys_and_runs(app):
    definition, _ = deploy(CAMUNDA)
    assert definition.key == "callback_request"
    ticket, instance = start_process("callback_request", make_customer().id, "Call me", {})
    task = db.session.execute(db.select(HumanTask)).scalar_one()
    assert (task.name, task.title, task.team) == ("Activity_call", "Call the customer", None)
    complete_task(task.id, {}, None)  # no form: the task is completed without data
    assert db.session.execute(db.select(HumanTask.name)).scalars().all() == ["Activity_retry"]


def test_camunda_juel_condition_is_refused_naming_the_flow(app):
    source = CAMUNDA.replace(b"priority == &quot;urgent&quot;", b"${reached}")
    with pytest.raises(DiagramRejected) as caught:
        deploy(source)
    assert [p.element_id for p in caught.value.problems] == ["Flow_yes"]


def test_camunda_java_service_task_is_refused_naming_the_task(app):
    source = CAMUNDA.replace(
        b'<bpmn:userTask id="Activity_retry" name="Try again later">',
        b'<bpmn:serviceTask id="Activity_retry" name="Try again later" camunda:class="com.acme.Retry">',
    ).replace(
        b'</bpmn:userTask>\n    <bpmn:endEvent id="Event_gave_up"',
        b'</bpmn:serviceTask>\n    <bpmn:endEvent id="Event_gave_up"',
    )
    with pytest.raises(DiagramRejected) as caught:
        deploy(source)
    assert caught.value.problems[0].element_id == "Activity_retry"
    assert db.session.execute(db.select(ProcessInstance)).first() is None
