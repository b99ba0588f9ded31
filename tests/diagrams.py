"""Tiny BPMN documents for tests: one process, written inline so each test shows its diagram."""

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="defs" targetNamespace="http://ticketflow.test">\n'
)


def bpmn(body: str, process_id: str = "tiny", extra: str = "") -> bytes:
    """A definitions document with one executable process holding `body`."""
    return (
        f'{HEADER}{extra}<bpmn:process id="{process_id}" isExecutable="true">\n{body}\n'
        "</bpmn:process>\n</bpmn:definitions>\n"
    ).encode()


def user_task_process(task_extensions: str = "", process_id: str = "tiny") -> bytes:
    """start -> user task `do_it` -> end."""
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="do_it" name="Do it">
    <bpmn:extensionElements>{task_extensions}</bpmn:extensionElements>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="do_it"/>
  <bpmn:sequenceFlow id="f2" sourceRef="do_it" targetRef="done"/>""",
        process_id,
    )


def service_task_process(
    operator: str, params: str = "", retries: int = 3, process_id: str = "svc", retry: str | None = None
) -> bytes:
    """start -> service task `call` (operator) -> user task `after` -> end.

    `retry` replaces the `spiffworkflow:retry` element (`retries` times, base 2) with its own
    text; "" leaves it out.
    """
    if retry is None:
        retry = f'<spiffworkflow:retry retries="{retries}" backoff_base="2"/>'
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:serviceTask id="call" name="Call">
    <bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="result">
        <spiffworkflow:parameters>{params}</spiffworkflow:parameters>
        {retry}
      </spiffworkflow:serviceTaskOperator>
    </bpmn:extensionElements>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:serviceTask>
  <bpmn:userTask id="after" name="After"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
  <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="after"/>
  <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="done"/>""",
        process_id,
    )


def gateway_process(condition: str, process_id: str = "gw") -> bytes:
    """start -> user task `decide` -> exclusive gateway (condition on flow `to_yes`) -> yes/no tasks."""
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="decide" name="Decide"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:exclusiveGateway id="which" default="to_no"><bpmn:incoming>f2</bpmn:incoming>
    <bpmn:outgoing>to_yes</bpmn:outgoing><bpmn:outgoing>to_no</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:userTask id="yes" name="Yes"><bpmn:incoming>to_yes</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
  <bpmn:userTask id="no" name="No"><bpmn:incoming>to_no</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end_yes"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
  <bpmn:endEvent id="end_no"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide"/>
  <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="which"/>
  <bpmn:sequenceFlow id="to_yes" sourceRef="which" targetRef="yes">
    <bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="to_no" sourceRef="which" targetRef="no"/>
  <bpmn:sequenceFlow id="f5" sourceRef="yes" targetRef="end_yes"/>
  <bpmn:sequenceFlow id="f6" sourceRef="no" targetRef="end_no"/>""",
        process_id,
    )


def timer_process(duration: str, process_id: str = "timed") -> bytes:
    """start -> user task `work` with an interrupting boundary timer `sla` -> escalation task."""
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="work" name="Work"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:boundaryEvent id="sla" name="SLA" attachedToRef="work">
    <bpmn:outgoing>f3</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:userTask id="escalated" name="Escalated"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:endEvent id="done_late"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
  <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="done"/>
  <bpmn:sequenceFlow id="f3" sourceRef="sla" targetRef="escalated"/>
  <bpmn:sequenceFlow id="f4" sourceRef="escalated" targetRef="done_late"/>""",
        process_id,
    )


def parallel_process(process_id: str = "par") -> bytes:
    """start -> fork -> user tasks `left` and `right` -> join -> user task `after` -> end."""
    return bpmn(
        """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:parallelGateway id="fork"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:parallelGateway>
  <bpmn:userTask id="left" name="Left"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:userTask id="right" name="Right"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
  <bpmn:parallelGateway id="join"><bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:parallelGateway>
  <bpmn:userTask id="after" name="After"><bpmn:incoming>f6</bpmn:incoming><bpmn:outgoing>f7</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f7</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fork"/>
  <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="left"/>
  <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="right"/>
  <bpmn:sequenceFlow id="f4" sourceRef="left" targetRef="join"/>
  <bpmn:sequenceFlow id="f5" sourceRef="right" targetRef="join"/>
  <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="after"/>
  <bpmn:sequenceFlow id="f7" sourceRef="after" targetRef="done"/>""",
        process_id,
    )


def correlated_process(
    process_id: str = "orders",
    retrieval: str | None = "order_number",
    process_variable: str = "order_number",
    gateway: bool = False,
) -> bytes:
    """start -> catch message `order_update` (correlation key `order`, property `order_number`) -> `handle`.

    The message's property is read from the payload with `retrieval` (None: the message has
    no retrieval expression, only the catch event's process variable); the catch event
    expects `spiffworkflow:processVariableCorrelation` `process_variable`. With `gateway` the
    catch waits behind an event-based gateway next to a one-day timer `gave_up`.
    """
    prop = (
        '<bpmn:correlationProperty id="order_number" name="Order number">'
        '<bpmn:correlationPropertyRetrievalExpression messageRef="order_update">'
        f"<bpmn:messagePath>{retrieval}</bpmn:messagePath>"
        "</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>\n"
        if retrieval is not None
        else ""
    )
    extra = (
        f'<bpmn:collaboration id="collab"><bpmn:participant id="shop" processRef="{process_id}"/>'
        '<bpmn:correlationKey id="order_key" name="order">'
        "<bpmn:correlationPropertyRef>order_number</bpmn:correlationPropertyRef>"
        "</bpmn:correlationKey></bpmn:collaboration>\n"
        f'{prop}<bpmn:message id="order_update" name="order_update"/>\n'
    )
    catch = f"""
  <bpmn:intermediateCatchEvent id="updated" name="Order updated">
    <bpmn:incoming>{"g1" if gateway else "f1"}</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    <bpmn:messageEventDefinition messageRef="order_update"><bpmn:extensionElements>
      <spiffworkflow:messageVariable>update</spiffworkflow:messageVariable>
      <spiffworkflow:processVariableCorrelation>
        <spiffworkflow:propertyId>order_number</spiffworkflow:propertyId>
        <spiffworkflow:expression>{process_variable}</spiffworkflow:expression>
      </spiffworkflow:processVariableCorrelation>
    </bpmn:extensionElements></bpmn:messageEventDefinition>
  </bpmn:intermediateCatchEvent>"""
    if gateway:
        waits = f"""
  <bpmn:eventBasedGateway id="update_or_give_up"><bpmn:incoming>f1</bpmn:incoming>
    <bpmn:outgoing>g1</bpmn:outgoing><bpmn:outgoing>g2</bpmn:outgoing></bpmn:eventBasedGateway>{catch}
  <bpmn:intermediateCatchEvent id="gave_up" name="Gave up"><bpmn:incoming>g2</bpmn:incoming>
    <bpmn:outgoing>g3</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:endEvent id="given_up"><bpmn:incoming>g3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="update_or_give_up"/>
  <bpmn:sequenceFlow id="g1" sourceRef="update_or_give_up" targetRef="updated"/>
  <bpmn:sequenceFlow id="g2" sourceRef="update_or_give_up" targetRef="gave_up"/>
  <bpmn:sequenceFlow id="g3" sourceRef="gave_up" targetRef="given_up"/>"""
    else:
        waits = f"""{catch}
  <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="updated"/>"""
    return bpmn(
        f"""
  <bpmn:startEvent id="begin"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>{waits}
  <bpmn:userTask id="handle" name="Handle the update"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f2" sourceRef="updated" targetRef="handle"/>
  <bpmn:sequenceFlow id="f3" sourceRef="handle" targetRef="done"/>""",
        process_id,
        extra=extra,
    )
