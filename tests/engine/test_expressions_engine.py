"""Safe expressions inside SpiffWorkflow: real runs on SafeEnvironment, and the deploy-time linter.

Diagrams are tiny inline BPMN/DMN strings parsed with SpiffWorkflow's own parser; timers are made
due by setting their due time, never by sleeping. No database, no Flask.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from app.engine.expressions import (
    ExpressionError,
    ExpressionLimitError,
    SafeEnvironment,
    check_timer_value,
    iter_expression_slots,
    lint_specs,
    timer_kind_for,
)

# -- SafeEnvironment inside a real SpiffWorkflow run ---------------------------------------------

BPMN_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="defs" targetNamespace="http://bpmn.io/schema/bpmn">'
)

ROUTING = (
    BPMN_HEAD
    + """
  <bpmn:process id="routing" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f_start</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="price" />
    <bpmn:scriptTask id="price">
      <bpmn:incoming>f_start</bpmn:incoming><bpmn:outgoing>f_price</bpmn:outgoing>
      <bpmn:script>total = 0
for i in items:
    total += i["qty"] * i["price"]
label = f"Ticket {ticket_id}: {total:.2f}"</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f_price" sourceRef="price" targetRef="route" />
    <bpmn:exclusiveGateway id="route" default="f_low">
      <bpmn:incoming>f_price</bpmn:incoming>
      <bpmn:outgoing>f_high</bpmn:outgoing><bpmn:outgoing>f_low</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f_high" sourceRef="route" targetRef="sla">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_low" sourceRef="route" targetRef="end_low" />
    <bpmn:intermediateCatchEvent id="sla">
      <bpmn:incoming>f_high</bpmn:incoming><bpmn:outgoing>f_sla</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f_sla" sourceRef="sla" targetRef="escalate" />
    <bpmn:scriptTask id="escalate">
      <bpmn:incoming>f_sla</bpmn:incoming><bpmn:outgoing>f_escalate</bpmn:outgoing>
      <bpmn:script>status = "escalated"</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f_escalate" sourceRef="escalate" targetRef="end_high" />
    <bpmn:endEvent id="end_high"><bpmn:incoming>f_escalate</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_low"><bpmn:incoming>f_low</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""
)

LEGIT_CONDITION = 'total &gt; 30 and customer["tier"] in ["gold", "platinum"]'
START_DATA = {
    "ticket_id": "T-42",
    "items": [{"qty": 2, "price": 10.0}, {"qty": 1, "price": 15.0}],
    "customer": {"tier": "gold"},
}


class TimerCheckingEngine(PythonScriptEngine):
    """How a script engine applies the timer check: after evaluating a timer's own expression."""

    def evaluate(self, task, expression, external_context=None):
        value = super().evaluate(task, expression, external_context)
        kind = timer_kind_for(task, expression)
        if kind is not None:
            check_timer_value(kind, value)
        return value


def parse(bpmn: str, process_id: str, dmn: str | None = None):
    parser = SpiffBpmnParser()
    if dmn is not None:
        parser.add_dmn_str(dmn.encode())
    parser.add_bpmn_str(bpmn.encode())
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def start_routing(condition=LEGIT_CONDITION, duration='"PT48H"', engine=None, **data) -> BpmnWorkflow:
    spec, subprocesses = parse(
        ROUTING.replace("{condition}", condition).replace("{duration}", duration), "routing"
    )
    engine = engine or PythonScriptEngine(environment=SafeEnvironment())
    workflow = BpmnWorkflow(spec, subprocesses, script_engine=engine)
    workflow.task_tree.data.update({**START_DATA, **data})
    return workflow


def waiting_timer(workflow: BpmnWorkflow):
    (timer,) = [t for t in workflow.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == "sla"]
    return timer


def test_legitimate_diagram_runs_end_to_end_on_the_safe_environment():
    workflow = start_routing()

    workflow.do_engine_steps()
    timer = waiting_timer(workflow)
    due = datetime.fromisoformat(timer.internal_data["event_value"])
    assert timedelta(hours=47) < due - datetime.now(UTC) <= timedelta(hours=48)

    timer.internal_data["event_value"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    workflow.refresh_timers()
    workflow.do_engine_steps()

    assert workflow.is_completed()
    assert workflow.data["total"] == 35.0
    assert workflow.data["label"] == "Ticket T-42: 35.00"
    assert workflow.data["status"] == "escalated"


def test_false_condition_takes_the_default_flow():
    workflow = start_routing(customer={"tier": "bronze"})

    workflow.do_engine_steps()

    assert workflow.is_completed()
    assert "status" not in workflow.data


def test_hostile_gateway_condition_does_not_execute_and_surfaces_as_error(tmp_path):
    marker = tmp_path / "x"
    workflow = start_routing(condition=f'__import__("os").system("touch {marker}")')

    with pytest.raises(SpiffWorkflowException) as failed:
        workflow.do_engine_steps()

    assert not marker.exists()
    assert failed.value.error_type == "ExpressionError"
    assert "method '.system()' is not whitelisted" in str(failed.value.__context__)


def test_hostile_script_task_fails_and_leaves_task_data_unchanged(tmp_path):
    marker = tmp_path / "x"
    bpmn = ROUTING.replace(
        "total = 0\nfor i in items:", f'total = 0\nimport os\nos.system("touch {marker}")\nfor i in items:'
    )
    spec, subprocesses = parse(
        bpmn.replace("{condition}", LEGIT_CONDITION).replace("{duration}", '"PT48H"'), "routing"
    )
    workflow = BpmnWorkflow(
        spec, subprocesses, script_engine=PythonScriptEngine(environment=SafeEnvironment())
    )
    workflow.task_tree.data.update(START_DATA)

    with pytest.raises(SpiffWorkflowException, match="method '.system\\(\\)' is not whitelisted"):
        workflow.do_engine_steps()

    assert not marker.exists()
    (price,) = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "price"]
    assert price.state == TaskState.ERROR
    assert "total" not in price.data


def test_runaway_condition_is_stopped_by_a_guard():
    workflow = start_routing(condition="sum(1 for a in items * 50000 for b in items * 50000) &gt; 0")

    with pytest.raises(SpiffWorkflowException) as failed:
        workflow.do_engine_steps()

    assert isinstance(failed.value.__context__, ExpressionLimitError)
    # Which guard trips first depends on the machine's load: the budget or the 50 ms limit.
    assert re.search(
        r"operation budget \(100000\) exceeded|time limit \(50 ms\) exceeded", str(failed.value.__context__)
    )


def test_engine_refuses_a_timer_that_spiff_would_loop_over_for_hours():
    workflow = start_routing(
        duration="sla_text",
        engine=TimerCheckingEngine(environment=SafeEnvironment()),
        sla_text="P1000000000Y",
    )

    with pytest.raises(ExpressionError, match="longer than 120 months"):
        workflow.do_engine_steps()


def test_engine_accepts_a_timer_computed_from_data():
    workflow = start_routing(
        duration='"P1D" if priority == "high" else "P3D"',
        priority="high",
        engine=TimerCheckingEngine(environment=SafeEnvironment()),
    )

    workflow.do_engine_steps()

    due = datetime.fromisoformat(waiting_timer(workflow).internal_data["event_value"])
    assert timedelta(hours=23) < due - datetime.now(UTC) <= timedelta(days=1)


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dmn_defs" name="Discount"
             namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="discount_decision" name="Discount">
    <decisionTable id="discount_table" hitPolicy="UNIQUE">
      <input id="in_amount" label="Amount">
        <inputExpression id="in_amount_expr" typeRef="number"><text>amount</text></inputExpression>
      </input>
      <input id="in_tier" label="Tier">
        <inputExpression id="in_tier_expr" typeRef="string"><text>customer["tier"]</text></inputExpression>
      </input>
      <output id="out_discount" label="Discount" name="discount" typeRef="string" />
      <rule id="rule_small">
        <inputEntry id="cell_small_amount"><text>&lt;= 500</text></inputEntry>
        <inputEntry id="cell_small_tier"><text>? in ["gold", "platinum"]</text></inputEntry>
        <outputEntry id="out_small"><text>"ten percent"</text></outputEntry>
      </rule>
      <rule id="rule_other">
        <inputEntry id="cell_other_amount"><text>{cell}</text></inputEntry>
        <inputEntry id="cell_other_tier"><text>-</text></inputEntry>
        <outputEntry id="out_other"><text>{output}</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>"""

DECIDE = (
    BPMN_HEAD
    + """
  <bpmn:process id="decide" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="rate" />
    <bpmn:businessRuleTask id="rate">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>discount_decision</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f2" sourceRef="rate" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""
)


def test_dmn_cells_run_on_the_safe_environment():
    spec, subprocesses = parse(
        DECIDE, "decide", DMN.replace("{cell}", "&gt; 500").replace("{output}", '"none"')
    )
    workflow = BpmnWorkflow(
        spec, subprocesses, script_engine=PythonScriptEngine(environment=SafeEnvironment())
    )
    workflow.task_tree.data.update(amount=120, customer={"tier": "gold"})

    workflow.do_engine_steps()

    assert workflow.data["discount"] == "ten percent"


# -- deploy-time linter --------------------------------------------------------------------------

HOSTILE_DIAGRAM = (
    BPMN_HEAD
    + """
  <bpmn:signal id="sig_paid" name="paid">
    <bpmn:extensionElements>
      <spiffworkflow:payloadExpression>globals()</spiffworkflow:payloadExpression>
    </bpmn:extensionElements>
  </bpmn:signal>
  <bpmn:process id="hostile" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f_start</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="prepare" />
    <bpmn:scriptTask id="prepare">
      <bpmn:incoming>f_start</bpmn:incoming><bpmn:outgoing>f_prepare</bpmn:outgoing>
      <bpmn:script>import os
os.system("id")</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f_prepare" sourceRef="prepare" targetRef="gw1" />
    <bpmn:exclusiveGateway id="gw1">
      <bpmn:incoming>f_prepare</bpmn:incoming>
      <bpmn:outgoing>f_escalate</bpmn:outgoing><bpmn:outgoing>f_normal</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f_escalate" sourceRef="gw1" targetRef="escalate">
      <bpmn:conditionExpression>().__class__.__base__.__subclasses__()</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_normal" sourceRef="gw1" targetRef="sla">
      <bpmn:conditionExpression>priority == "high"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:intermediateThrowEvent id="escalate">
      <bpmn:incoming>f_escalate</bpmn:incoming><bpmn:outgoing>f_escalated</bpmn:outgoing>
      <bpmn:signalEventDefinition signalRef="sig_paid" />
    </bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f_escalated" sourceRef="escalate" targetRef="end_escalated" />
    <bpmn:endEvent id="end_escalated"><bpmn:incoming>f_escalated</bpmn:incoming></bpmn:endEvent>
    <bpmn:intermediateCatchEvent id="sla">
      <bpmn:incoming>f_normal</bpmn:incoming><bpmn:outgoing>f_sla</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P1000000000Y"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f_sla" sourceRef="sla" targetRef="refund" />
    <bpmn:serviceTask id="refund">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="refund.issue" resultVariable="refund">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="amount" type="float" value="open('/etc/passwd').read()" />
            <spiffworkflow:parameter id="currency" type="str" value="&quot;EUR&quot;" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
        <spiffworkflow:preScript>x = 9**9**9</spiffworkflow:preScript>
      </bpmn:extensionElements>
      <bpmn:incoming>f_sla</bpmn:incoming><bpmn:outgoing>f_refund</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f_refund" sourceRef="refund" targetRef="review" />
    <bpmn:userTask id="review">
      <bpmn:incoming>f_refund</bpmn:incoming><bpmn:outgoing>f_review</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics>
        <bpmn:loopCardinality>sorted(range(10**9))</bpmn:loopCardinality>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f_review" sourceRef="review" targetRef="paid" />
    <bpmn:intermediateCatchEvent id="paid">
      <bpmn:incoming>f_review</bpmn:incoming><bpmn:outgoing>f_paid</bpmn:outgoing>
      <bpmn:conditionalEventDefinition>
        <bpmn:condition>(lambda: 1)()</bpmn:condition>
      </bpmn:conditionalEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f_paid" sourceRef="paid" targetRef="rate" />
    <bpmn:businessRuleTask id="rate">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>discount_decision</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>f_paid</bpmn:incoming><bpmn:outgoing>f_rate</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f_rate" sourceRef="rate" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f_rate</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""
)

HOSTILE_DMN = DMN.replace("{cell}", '"{0.__class__}".format(1)').replace(
    "{output}", "open(&quot;/etc/passwd&quot;).read()"
)


def test_linter_reports_each_hostile_expression_with_its_element_id():
    spec, subprocesses = parse(HOSTILE_DIAGRAM, "hostile", HOSTILE_DMN)

    problems: dict[str, list[str]] = {}
    for element, message in lint_specs(spec, subprocesses):
        problems.setdefault(element, []).append(message)

    assert set(problems) == {
        "prepare", "gw1->escalate", "escalate", "sla", "refund", "review", "paid",
        "cell_other_amount", "out_other",
    }  # fmt: skip
    assert problems["gw1->escalate"] == [
        "[sequenceFlow condition] method '.__subclasses__()' is not whitelisted (line 1 col 0) "
        "in expression '().__class__.__base__.__subclasses__()'"
    ]
    assert problems["sla"] == ["[timer] timer duration 'P1000000000Y' is longer than 120 months"]
    expected_starts = {
        "prepare": "[script] method '.system()' is not whitelisted (line 2 col 0)",
        "escalate": "[payload expression] call to non-whitelisted callable 'globals'",
        "refund": "[service parameter 'amount'] method '.read()' is not whitelisted",
        "review": "[loop cardinality] constant dry run: result of 1000000000 elements exceeds 100000",
        "paid": "[conditional event] call of a computed callable is not allowed",
        "cell_other_amount": "[DMN discount_table row 2 input] method '.format()' is not whitelisted",
        "out_other": "[DMN discount_table row 2 output] method '.read()' is not whitelisted",
    }
    for element, start in expected_starts.items():
        assert any(message.startswith(start) for message in problems[element]), (element, problems[element])
    assert problems["cell_other_amount"][0].endswith(
        "in expression '(amount) == (\"{0.__class__}\".format(1))'"
    )


def test_linter_reports_every_problem_of_one_element():
    spec, subprocesses = parse(HOSTILE_DIAGRAM, "hostile", HOSTILE_DMN)

    refund = [message for element, message in lint_specs(spec, subprocesses) if element == "refund"]

    assert len(refund) == 2
    assert refund[0].startswith("[preScript] constant dry run: integer result of")


def test_linter_passes_a_legitimate_diagram():
    spec, subprocesses = parse(
        DECIDE, "decide", DMN.replace("{cell}", "&gt; 500").replace("{output}", '"none"')
    )
    routing, routing_subprocesses = parse(
        ROUTING.replace("{condition}", LEGIT_CONDITION).replace("{duration}", '"PT48H"'), "routing"
    )

    assert lint_specs(spec, subprocesses) == []
    assert lint_specs(routing, routing_subprocesses) == []


def test_linter_rebuilds_dmn_cells_exactly_as_the_dmn_engine_joins_them():
    spec, subprocesses = parse(
        DECIDE, "decide", DMN.replace("{cell}", "&gt; 500").replace("{output}", '"none"')
    )

    texts = {slot.text for slot in iter_expression_slots(spec, subprocesses)}

    assert {
        "amount<= 500",
        'customer["tier"]',
        'dmninputexpr in ["gold", "platinum"]',
        "amount> 500",
        '"ten percent"',
        '"none"',
    } <= texts


MESSAGING = (
    BPMN_HEAD
    + """
  <bpmn:collaboration id="collab">
    <bpmn:participant id="shop" processRef="messaging" />
    <bpmn:correlationKey name="order_key">
      <bpmn:correlationPropertyRef>order_id</bpmn:correlationPropertyRef>
    </bpmn:correlationKey>
  </bpmn:collaboration>
  <bpmn:message id="order_msg" name="order_msg" />
  <bpmn:correlationProperty id="order_id" name="order id">
    <bpmn:correlationPropertyRetrievalExpression messageRef="order_msg">
      <bpmn:formalExpression>__import__("os").getpid()</bpmn:formalExpression>
    </bpmn:correlationPropertyRetrievalExpression>
  </bpmn:correlationProperty>
  <bpmn:process id="messaging" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="send_order" />
    <bpmn:intermediateThrowEvent id="send_order">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="order_msg">
        <bpmn:extensionElements>
          <spiffworkflow:messagePayload>{"order_id": order_id, "code": eval("1")}</spiffworkflow:messagePayload>
        </bpmn:extensionElements>
      </bpmn:messageEventDefinition>
    </bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="send_order" targetRef="wait_reply" />
    <bpmn:intermediateCatchEvent id="wait_reply">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="order_msg">
        <bpmn:extensionElements>
          <spiffworkflow:processVariableCorrelation>
            <spiffworkflow:propertyId>order_id</spiffworkflow:propertyId>
            <spiffworkflow:expression>order_id.__class__</spiffworkflow:expression>
          </spiffworkflow:processVariableCorrelation>
        </bpmn:extensionElements>
      </bpmn:messageEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="wait_reply" targetRef="check" />
    <bpmn:userTask id="check">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:standardLoopCharacteristics>
        <bpmn:loopCondition>getattr(order_id, "real")</bpmn:loopCondition>
      </bpmn:standardLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f4" sourceRef="check" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""
)


def test_linter_covers_message_payloads_correlations_and_loop_conditions():
    spec, subprocesses = parse(MESSAGING, "messaging")

    problems = [
        (element, re.sub(r"; diagram code may call [a-z, ]+[a-z]", "", message))
        for element, message in lint_specs(spec, subprocesses)
    ]

    assert sorted(problems) == [
        ("check", "[loop condition] call to non-whitelisted callable 'getattr' (line 1 col 0) "
                  "in expression 'getattr(order_id, \"real\")'"),
        ("send_order", "[correlation 'order_id'] method '.getpid()' is not whitelisted (line 1 col 0) "
                       "in expression '__import__(\"os\").getpid()'"),
        ("send_order", "[message payload] call to non-whitelisted callable 'eval' (line 1 col 31) "
                       "in expression '{\"order_id\": order_id, \"code\": eval(\"1\")}'"),
        ("wait_reply", "[correlation 'order_id'] method '.getpid()' is not whitelisted (line 1 col 0) "
                       "in expression '__import__(\"os\").getpid()'"),
        ("wait_reply", "[process correlation 'order_id'] attribute access '.__class__' is not allowed "
                       "(line 1 col 0) in expression 'order_id.__class__'"),
    ]  # fmt: skip
