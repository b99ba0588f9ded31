"""The fault suite's world: a fresh database (PostgreSQL or SQLite) migrated to head, the
`faultflow` diagram deployed, an admin with an API token and a customer; read access for the
checker through an app of its own."""

import uuid
from dataclasses import dataclass

from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db

# start -> pay (refund.issue, the amount the ticket opened with) -> wait (a short timer) ->
# confirm (a user task the suite completes) -> end. Retries: 1 s, 2 s, 4 s, then an incident.
FAULTFLOW = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="faults" targetNamespace="http://ticketflow.test">
<bpmn:process id="faultflow" name="Fault flow" isExecutable="true">
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:serviceTask id="pay" name="Pay the refund">
    <bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="refund.issue" resultVariable="payment">
        <spiffworkflow:parameters>
          <spiffworkflow:parameter id="amount" type="float" value="amount"/>
        </spiffworkflow:parameters>
        <spiffworkflow:retry retries="4" backoff_base="2" initial_interval="1"/>
      </spiffworkflow:serviceTaskOperator>
    </bpmn:extensionElements>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:serviceTask>
  <bpmn:intermediateCatchEvent id="wait" name="Wait">
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>delay</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:userTask id="confirm" name="Confirm"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pay"/>
  <bpmn:sequenceFlow id="f2" sourceRef="pay" targetRef="wait"/>
  <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="confirm"/>
  <bpmn:sequenceFlow id="f4" sourceRef="confirm" targetRef="done"/>
</bpmn:process>
</bpmn:definitions>
"""
# start -> wait (timer) -> confirm -> end: the downtime scenario's escalations and reminders.
TIMERFLOW = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="faults" targetNamespace="http://ticketflow.test">
<bpmn:process id="timerflow" name="Timer flow" isExecutable="true">
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:intermediateCatchEvent id="wait" name="Wait">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>delay</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:userTask id="confirm" name="Confirm"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
  <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="confirm"/>
  <bpmn:sequenceFlow id="f4" sourceRef="confirm" targetRef="done"/>
</bpmn:process>
</bpmn:definitions>
"""


@dataclass
class World:
    url: str
    token: str
    customer_id: int

    def app(self):
        """An app on the world's database for reading (and for the engine's read commands)."""
        return create_app({"SQLALCHEMY_DATABASE_URI": self.url})


def fresh_postgres_database(server_url: str) -> str:
    """A new empty database on the suite's PostgreSQL server; its URL."""
    name = f"f_{uuid.uuid4().hex[:10]}"
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def prepare(url: str, shipped: tuple[str, ...] = ()) -> World:
    """Migrate `url` to head, deploy the suite's diagrams (and the shipped types `shipped`:
    processes/<key>.bpmn), make an admin (and token) and a customer."""
    from flask_migrate import upgrade

    from app.engine import deploy
    from tests.factories import deploy_shipped, make_customer, make_user, token_for

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        deploy(FAULTFLOW.encode(), actor="faults")
        deploy(TIMERFLOW.encode(), actor="faults")
        if shipped:
            deploy_shipped(*shipped)
        admin = make_user("faults-admin", "admin")
        token = token_for(admin)
        customer = make_customer("Fault Customer")
        world = World(url, token, customer.id)
        db.session.remove()
        db.engine.dispose()
    return world
