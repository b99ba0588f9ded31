"""Tiny timer diagrams for the worker tests, each small enough to read in the test that uses it."""

from tests.diagrams import bpmn

MESSAGE = '<bpmn:message id="customer_reply" name="customer_reply"/>\n'


def timer_definition(kind: str, value: str) -> str:
    """A timerEventDefinition of `kind` (timeDuration, timeDate, timeCycle) with an expression."""
    return f"<bpmn:timerEventDefinition><bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition>"


def intermediate_timer(kind: str, value: str, process_id: str = "wait") -> bytes:
    """start -> timer catch `pause` -> user task `after` -> end."""
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:intermediateCatchEvent id="pause" name="Pause">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    {timer_definition(kind, value)}
  </bpmn:intermediateCatchEvent>
  <bpmn:userTask id="after" name="After"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pause"/>
  <bpmn:sequenceFlow id="f2" sourceRef="pause" targetRef="after"/>
  <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="done"/>""",
        process_id,
    )


def tiny_timer(duration: str = '"PT1H"', process_id: str = "tick") -> bytes:
    """start -> timer catch `pause` (a duration) -> end: the cheapest timer there is."""
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:intermediateCatchEvent id="pause" name="Pause">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    {timer_definition("timeDuration", duration)}
  </bpmn:intermediateCatchEvent>
  <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pause"/>
  <bpmn:sequenceFlow id="f2" sourceRef="pause" targetRef="done"/>""",
        process_id,
    )


def boundary_timer(kind: str, value: str, interrupting: bool, process_id: str = "bound") -> bytes:
    """start -> user task `work` with boundary timer `nudge` -> user task `chase`; work -> end."""
    cancel = "true" if interrupting else "false"
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="work" name="Work"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:boundaryEvent id="nudge" name="Nudge" attachedToRef="work" cancelActivity="{cancel}">
    <bpmn:outgoing>f3</bpmn:outgoing>
    {timer_definition(kind, value)}
  </bpmn:boundaryEvent>
  <bpmn:userTask id="chase" name="Chase"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:endEvent id="chased"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
  <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="done"/>
  <bpmn:sequenceFlow id="f3" sourceRef="nudge" targetRef="chase"/>
  <bpmn:sequenceFlow id="f4" sourceRef="chase" targetRef="chased"/>""",
        process_id,
    )


def race_of_reply_and_timeout(duration: str = '"PT2H"', process_id: str = "race") -> bytes:
    """start -> event-based gateway `which`: message `reply` -> task `answered`, timer `timeout` -> task `give_up`."""
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:eventBasedGateway id="which"><bpmn:incoming>f1</bpmn:incoming>
    <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:eventBasedGateway>
  <bpmn:intermediateCatchEvent id="reply" name="Reply">
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    <bpmn:messageEventDefinition id="reply_definition" messageRef="customer_reply">
      <bpmn:extensionElements><spiffworkflow:messageVariable>customer_reply</spiffworkflow:messageVariable></bpmn:extensionElements>
    </bpmn:messageEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:intermediateCatchEvent id="timeout" name="Timeout">
    <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
    {timer_definition("timeDuration", duration)}
  </bpmn:intermediateCatchEvent>
  <bpmn:userTask id="answered" name="Answered"><bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:userTask>
  <bpmn:userTask id="give_up" name="Give up"><bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f7</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end_answered"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
  <bpmn:endEvent id="end_give_up"><bpmn:incoming>f7</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="which"/>
  <bpmn:sequenceFlow id="f2" sourceRef="which" targetRef="reply"/>
  <bpmn:sequenceFlow id="f3" sourceRef="which" targetRef="timeout"/>
  <bpmn:sequenceFlow id="f4" sourceRef="reply" targetRef="answered"/>
  <bpmn:sequenceFlow id="f5" sourceRef="timeout" targetRef="give_up"/>
  <bpmn:sequenceFlow id="f6" sourceRef="answered" targetRef="end_answered"/>
  <bpmn:sequenceFlow id="f7" sourceRef="give_up" targetRef="end_give_up"/>""",
        process_id,
        extra=MESSAGE,
    )


def timer_then_timer(second: str, process_id: str = "twice") -> bytes:
    """start -> timer `first` (PT1H) -> timer `second` (expression `second`) -> user task `after` -> end."""
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:intermediateCatchEvent id="first" name="First">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    {timer_definition("timeDuration", '"PT1H"')}
  </bpmn:intermediateCatchEvent>
  <bpmn:intermediateCatchEvent id="second" name="Second">
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    {timer_definition("timeDuration", second)}
  </bpmn:intermediateCatchEvent>
  <bpmn:userTask id="after" name="After"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first"/>
  <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="second"/>
  <bpmn:sequenceFlow id="f3" sourceRef="second" targetRef="after"/>
  <bpmn:sequenceFlow id="f4" sourceRef="after" targetRef="done"/>""",
        process_id,
    )


def parallel_timers(process_id: str = "pair") -> bytes:
    """start -> fork -> timers `one` and `two` (both PT1H) -> join -> end: two timers of one instance."""
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:parallelGateway id="fork"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:parallelGateway>
  <bpmn:intermediateCatchEvent id="one"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    {timer_definition("timeDuration", '"PT1H"')}</bpmn:intermediateCatchEvent>
  <bpmn:intermediateCatchEvent id="two"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
    {timer_definition("timeDuration", '"PT1H"')}</bpmn:intermediateCatchEvent>
  <bpmn:parallelGateway id="join"><bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:parallelGateway>
  <bpmn:endEvent id="done"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fork"/>
  <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="one"/>
  <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="two"/>
  <bpmn:sequenceFlow id="f4" sourceRef="one" targetRef="join"/>
  <bpmn:sequenceFlow id="f5" sourceRef="two" targetRef="join"/>
  <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="done"/>""",
        process_id,
    )
