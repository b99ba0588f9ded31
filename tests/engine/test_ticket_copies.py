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


def test_the_open_task_follows_its_tickets_status_and_sla_times(app, clock):
    deploy(ESCALATING)
    ticket, _ = start_process("escalating", make_customer().id, "Late", {}, priority="normal")
    task, ticket = _review_and_ticket(ticket.id)
    assert ticket.first_response_due_at is not None and ticket.sla_at_risk_at is not None
    # the start sets the status after the ticket's row is written, before the task's
    assert (task.ticket_type, task.ticket_status) == ("escalating", ticket.status)
    assert task.customer_id == ticket.customer_id
    assert (task.sla_at_risk_at, task.first_response_due_at) == (
        ticket.sla_at_risk_at,
        ticket.first_response_due_at,
    )

    clock.shift(timedelta(hours=1, minutes=1))
    drain()  # waits for the customer: the clock pauses
    task, ticket = _review_and_ticket(ticket.id)
    assert (task.ticket_status, task.sla_at_risk_at) == ("awaiting_customer", None)

    clock.shift(timedelta(days=1))
    drain()
    task, ticket = _review_and_ticket(ticket.id)
    assert (task.ticket_status, task.sla_at_risk_at) == ("in_progress", ticket.sla_at_risk_at)
    assert task.sla_at_risk_at is not None


# start -> fork: `other` stays open; `review`, then an hour later `check`.
ANSWERED = bpmn(
    """
  <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
  <bpmn:parallelGateway id="fork"><bpmn:incoming>f0</bpmn:incoming>
    <bpmn:outgoing>f1</bpmn:outgoing><bpmn:outgoing>f2</bpmn:outgoing></bpmn:parallelGateway>
  <bpmn:userTask id="other" name="Other"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done_other"><bpmn:incoming>f9</bpmn:incoming></bpmn:endEvent>
  <bpmn:userTask id="review" name="Review"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
  <bpmn:intermediateCatchEvent id="an_hour"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:userTask id="check" name="Check"><bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="fork"/>
  <bpmn:sequenceFlow id="f1" sourceRef="fork" targetRef="other"/>
  <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="review"/>
  <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="an_hour"/>
  <bpmn:sequenceFlow id="f4" sourceRef="an_hour" targetRef="check"/>
  <bpmn:sequenceFlow id="f5" sourceRef="check" targetRef="done"/>
  <bpmn:sequenceFlow id="f9" sourceRef="other" targetRef="done_other"/>""",
    "answered",
)


def _titles(client, **args) -> list[str]:
    page = lxml.html.fromstring(client.get("/inbox/", query_string=args).get_data(as_text=True))
    return [row.xpath("string(td[1])").strip() for row in page.xpath("//table[@class='inbox']//tr[td]")]


def test_a_first_answer_reaches_the_open_tasks_and_those_that_open_later(app, clock, client):
    from app.engine import complete_task
    from app.models import TicketStat

    agent = make_user("lena", "admin", password="pw")
    deploy(ANSWERED)
    ticket, _ = start_process("answered", make_customer().id, "Answer me", {}, priority="normal")
    ticket_id = ticket.id

    def tasks() -> dict[str, HumanTask]:
        db.session.expire_all()
        rows = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket_id)).scalars()
        return {row.name: row for row in rows}

    assert {name: row.first_responded_at for name, row in tasks().items()} == {"other": None, "review": None}
    complete_task(tasks()["review"].id, {}, agent)  # the first answer
    answered = db.session.get(TicketStat, ticket_id).first_response_at
    assert answered is not None
    assert tasks()["other"].first_responded_at == answered  # a row the command did not read

    due = db.session.get(Ticket, ticket_id).first_response_due_at
    clock.move_to(due + timedelta(minutes=1))  # the first-response due time passes, answered in time
    drain()  # the timer: `check` opens
    assert {name: row.first_responded_at for name, row in tasks().items()} == {
        "other": answered,
        "check": answered,
    }
    login(client, "lena", "pw")
    assert sorted(_titles(client, view="all", sla="on_track")) == ["Check", "Other"]
    assert _titles(client, view="all", sla="breached") == []
