"""An open task carries its ticket's priority and SLA due time (the inbox sorts and filters by them):
they follow the ticket when an escalation raises the priority or a status pauses and resumes the
clock while the task stays open."""

from datetime import timedelta

import lxml.html

from app.engine import deploy, start_process
from app.extensions import db
from app.models import HumanTask, Ticket
from app.worker import drain
from tests.diagrams import bpmn
from tests.factories import login, make_customer, make_user


def _service(task_id: str, operator: str, params: str, incoming: str, outgoing: str) -> str:
    return f"""
  <bpmn:serviceTask id="{task_id}">
    <bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="{task_id}_result">
        <spiffworkflow:parameters>{params}</spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator>
    </bpmn:extensionElements>
    <bpmn:incoming>{incoming}</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing>
  </bpmn:serviceTask>"""


def _status(value: str) -> str:
    return f'<spiffworkflow:parameter id="status" type="str" value="&quot;{value}&quot;"/>'


# start -> fork: the user task `review` stays open, while on the other branch, an hour later, the
# priority is raised and the ticket waits for the customer (its SLA clock pauses); a day later it
# is in progress again (the clock resumes).
ESCALATING = bpmn(
    f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
  <bpmn:parallelGateway id="fork"><bpmn:incoming>f0</bpmn:incoming>
    <bpmn:outgoing>f1</bpmn:outgoing><bpmn:outgoing>f2</bpmn:outgoing></bpmn:parallelGateway>
  <bpmn:userTask id="review" name="Review"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="reviewed"><bpmn:incoming>f9</bpmn:incoming></bpmn:endEvent>
  <bpmn:intermediateCatchEvent id="an_hour"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  {_service("raise", "ticket.raise_priority", "", "f3", "f4")}
  {_service("wait", "ticket.set_status", _status("awaiting_customer"), "f4", "f5")}
  <bpmn:intermediateCatchEvent id="a_day"><bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  {_service("resume", "ticket.set_status", _status("in_progress"), "f6", "f7")}
  <bpmn:endEvent id="escalated"><bpmn:incoming>f7</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="fork"/>
  <bpmn:sequenceFlow id="f1" sourceRef="fork" targetRef="review"/>
  <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="an_hour"/>
  <bpmn:sequenceFlow id="f3" sourceRef="an_hour" targetRef="raise"/>
  <bpmn:sequenceFlow id="f4" sourceRef="raise" targetRef="wait"/>
  <bpmn:sequenceFlow id="f5" sourceRef="wait" targetRef="a_day"/>
  <bpmn:sequenceFlow id="f6" sourceRef="a_day" targetRef="resume"/>
  <bpmn:sequenceFlow id="f7" sourceRef="resume" targetRef="escalated"/>
  <bpmn:sequenceFlow id="f9" sourceRef="review" targetRef="reviewed"/>""",
    "escalating",
)


def _review_and_ticket(ticket_id: int) -> tuple[HumanTask, Ticket]:
    db.session.expire_all()
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket_id)).scalar_one()
    return task, db.session.get(Ticket, ticket_id)


def test_the_open_task_follows_its_tickets_priority_and_sla_due_time(app, clock):
    deploy(ESCALATING)
    ticket, _ = start_process("escalating", make_customer().id, "Late", {}, priority="normal")
    task, ticket = _review_and_ticket(ticket.id)
    assert ticket.sla_due_at is not None
    assert (task.priority, task.priority_rank, task.sla_due_at) == ("normal", 2, ticket.sla_due_at)

    clock.shift(timedelta(hours=1, minutes=1))
    drain()  # the priority goes up and the clock pauses, in the timer's command
    task, ticket = _review_and_ticket(ticket.id)
    assert (ticket.priority, ticket.status, ticket.sla_due_at) == ("high", "awaiting_customer", None)
    assert (task.name, task.priority, task.priority_rank, task.sla_due_at) == ("review", "high", 1, None)

    clock.shift(timedelta(days=1))
    drain()  # the clock runs again, with a new due time
    task, ticket = _review_and_ticket(ticket.id)
    assert ticket.status == "in_progress" and ticket.sla_due_at is not None
    assert (task.priority, task.sla_due_at) == ("high", ticket.sla_due_at)


def _rows(client, **args) -> list[tuple[str, str]]:
    """(ticket subject, priority badge) of each row of an inbox page, in order."""
    page = lxml.html.fromstring(client.get("/inbox/", query_string=args).get_data(as_text=True))
    return [
        (row.xpath("string(td[2]/span/@title)"), row.xpath("string(td[4]/span)"))
        for row in page.xpath("//table[@class='inbox']//tr[td]")
    ]


def test_the_inbox_sorts_and_filters_by_the_raised_priority(app, clock, client):
    make_user("lena", "admin", password="pw")
    deploy(ESCALATING)
    customer = make_customer()
    start_process("escalating", customer.id, "First", {}, priority="normal")
    clock.shift(timedelta(minutes=30))
    start_process("escalating", customer.id, "Second", {}, priority="high")
    clock.shift(timedelta(minutes=31))
    drain()  # the first ticket's hour has passed: normal -> high
    login(client, "lena", "pw")
    assert _rows(client, view="all", priority="high") == [("First", "high"), ("Second", "high")]
    assert _rows(client, view="all", priority="normal") == []
    clock.shift(timedelta(minutes=30))
    drain()  # the second's: high -> urgent
    assert _rows(client, view="all", sort="priority") == [("Second", "urgent"), ("First", "high")]
    assert _rows(client, view="all", sort="priority", dir="desc") == [("First", "high"), ("Second", "urgent")]
