"""Deploying diagrams: versions, and every kind of bad diagram refused with the element named."""

import pytest

from app.engine import DiagramRejected, deploy, deploy_bundle, start_process
from app.extensions import db
from app.models import ProcessDefinition
from tests.diagrams import (
    HEADER,
    bpmn,
    gateway_process,
    service_task_process,
    timer_process,
    user_task_process,
)
from tests.factories import make_customer


def _problems(source: bytes) -> list[tuple]:
    with pytest.raises(DiagramRejected) as caught:
        deploy(source)
    return [(p.element_id, p.message) for p in caught.value.problems]


def _count() -> int:
    return db.session.execute(db.select(db.func.count(ProcessDefinition.id))).scalar()


def test_identical_bytes_are_not_deployed_twice_and_changes_make_a_new_version(app):
    first, created = deploy(user_task_process())
    again, created_again = deploy(user_task_process())
    changed, created_changed = deploy(
        user_task_process("<spiffworkflow:instructionsForEndUser>Hi</spiffworkflow:instructionsForEndUser>")
    )
    assert (first.version, created) == (1, True)
    assert (again.id, created_again) == (first.id, False)
    assert (changed.version, created_changed) == (2, True)


def test_malformed_xml_is_refused(app):
    [(element, message)] = _problems(b"<bpmn:definitions><oops")
    assert element is None and "well-formed" in message
    assert _count() == 0


def test_xxe_entity_is_refused_and_the_file_is_never_read(app, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file://{secret}">]>'
        + HEADER.split("\n", 1)[1]
        + '<bpmn:process id="x" isExecutable="true">'
        '<bpmn:startEvent id="s"><bpmn:documentation>&e;</bpmn:documentation></bpmn:startEvent>'
        "</bpmn:process></bpmn:definitions>"
    )
    problems = _problems(doc.encode())
    assert "DOCTYPE" in problems[0][1]
    assert "TOP-SECRET" not in str(problems)


def test_entity_bomb_is_refused(app):
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    doc = f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l0 "lol">{lol}]><d>&l9;</d>'
    [(_, message)] = _problems(doc.encode())
    assert "DOCTYPE" in message


def test_missing_form_file_is_a_warning_naming_its_task_and_the_task_takes_data_without_it(app):
    ext = (
        '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
        'value="no_such_form.json"/></spiffworkflow:properties>'
    )
    result = deploy_bundle([("t.bpmn", user_task_process(ext))])
    assert result.created and result.definitions["tiny"].forms == {}
    assert [(w.file, w.element_id) for w in result.warnings] == [("t.bpmn", "do_it")]
    assert "no_such_form.json" in result.warnings[0].message


def test_form_path_outside_forms_folder_is_never_read(app):
    ext = (
        '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
        'value="../requirements.txt"/></spiffworkflow:properties>'
    )
    result = deploy_bundle([("t.bpmn", user_task_process(ext))])
    assert result.definitions["tiny"].forms == {} and result.warnings[0].element_id == "do_it"


def test_unknown_operator_is_named(app):
    [(element, message)] = _problems(service_task_process("payments.steal"))
    assert element == "call" and "unknown service operator 'payments.steal'" in message


def test_syntax_error_in_a_condition_is_named(app):
    problems = _problems(gateway_process('decision === "x"'))
    assert [e for e, _ in problems] == ["to_yes"]


def test_unquoted_timer_is_named(app):
    problems = _problems(timer_process("PT48H"))
    assert problems and problems[0][0] == "sla"


def test_huge_timer_duration_is_refused(app):
    problems = _problems(timer_process('"P1000000000Y"'))
    assert problems and problems[0][0] == "sla"


@pytest.mark.parametrize(
    "expression",
    [
        '__import__("os").system("touch {marker}")',
        "().__class__.__base__.__subclasses__()",
        'open("{marker}", "w")',
    ],
)
def test_hostile_expressions_are_refused_and_never_run(app, tmp_path, expression):
    marker = tmp_path / "marker"
    problems = _problems(gateway_process(expression.format(marker=marker).replace('"', "&quot;")))
    assert problems[0][0] == "to_yes"
    assert not marker.exists()


def test_hostile_service_parameter_is_refused(app, tmp_path):
    marker = tmp_path / "marker"
    param = (
        f'<spiffworkflow:parameter id="status" type="str" '
        f'value="__import__(&quot;os&quot;).system(&quot;touch {marker}&quot;)"/>'
    )
    problems = _problems(service_task_process("ticket.set_status", param))
    assert problems[0][0] == "call"
    assert not marker.exists()


def test_reserved_ids_are_refused(app):
    source = (
        user_task_process()
        .replace(b'id="start"', b'id="Start"')
        .replace(b'sourceRef="start"', b'sourceRef="Start"')
    )
    problems = _problems(source)
    assert "Start" in [e for e, _ in problems]


def test_unsupported_elements_are_named(app):
    source = bpmn("""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:complexGateway id="odd_gateway"><bpmn:incoming>f1</bpmn:incoming></bpmn:complexGateway>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="odd_gateway"/>""")
    [(element, message)] = _problems(source)
    assert element == "odd_gateway" and message.startswith(
        "bpmn:complexGateway is not supported by Ticketflow; "
    )


def test_xsd_violation_the_library_reads_past_is_a_warning_with_its_element_and_line(app):
    source = user_task_process().replace(
        b'<bpmn:startEvent id="start">', b'<bpmn:startEvent id="start" bogus="1">'
    )
    result = deploy_bundle([("t.bpmn", source)])
    [warning] = result.warnings
    assert warning.element_id == "start" and "bogus" in warning.message and "(line " in warning.message
    assert result.created


def test_several_problems_are_all_listed(app):
    source = service_task_process("nope.one").replace(
        b"</bpmn:process>",
        b"""
  <bpmn:complexGateway id="odd"/></bpmn:process>""",
    )
    problems = _problems(source)
    assert "odd" in [e for e, _ in problems]


def test_a_diagram_without_forms_or_lanes_runs(app):
    deploy(user_task_process())
    ticket, instance = start_process("tiny", make_customer().id, "Plain", {})
    assert instance.status == "running"
