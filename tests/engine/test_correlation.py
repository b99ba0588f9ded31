"""Messages routed by correlation keys: without a ticket id the payload says which instance waits."""

import json

import pytest

from app.engine import (
    AmbiguousMessage,
    InvalidData,
    NotFound,
    deliver_correlated_message,
    deliver_message,
    deploy,
    start_process,
)
from app.extensions import db
from app.models import HistoryEvent, HumanTask, MessageSubscription
from tests.diagrams import correlated_process
from tests.factories import make_customer


def _open(order_number, process_id="orders", **start):
    ticket, _ = start_process(
        process_id, make_customer().id, f"Order {order_number}", {"order_number": order_number, **start}
    )
    return ticket


def _tasks(ticket):
    return [
        t.name
        for t in db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalars()
    ]


def _subscription(ticket):
    return db.session.execute(
        db.select(MessageSubscription).where(MessageSubscription.ticket_id == ticket.id)
    ).scalar_one()


def _delivered(ticket):
    return [
        h.data
        for h in db.session.execute(
            db.select(HistoryEvent).where(
                HistoryEvent.ticket_id == ticket.id, HistoryEvent.kind == "message_delivered"
            )
        ).scalars()
    ]


def test_the_subscription_stores_what_the_instance_expects_as_canonical_json(app):
    deploy(correlated_process())
    ticket = _open("SO-1")
    row = _subscription(ticket)
    assert row.correlations == {"order": {"order_number": "SO-1"}}
    assert row.correlation_key == '{"order":{"order_number":"SO-1"}}'
    assert row.correlation_key == json.dumps(row.correlations, sort_keys=True, separators=(",", ":"))


def test_delivery_by_payload_reaches_the_ticket_with_that_order_number(app):
    deploy(correlated_process())
    first, second = _open("SO-1"), _open("SO-2")

    delivery = deliver_correlated_message(
        "order_update", {"order_number": "SO-2", "status": "shipped"}, actor="shop"
    )

    assert delivery == {
        "ticket_id": second.id,
        "instance_id": delivery["instance_id"],
        "element_id": "updated",
        "correlations": {"order": {"order_number": "SO-2"}},
    }
    assert _tasks(second) == ["handle"] and _tasks(first) == []
    [data] = _delivered(second)
    assert data["payload"] == {"order_number": "SO-2", "status": "shipped"}
    assert data["correlations"] == {"order": {"order_number": "SO-2"}}
    assert _subscription(first).correlation_key == '{"order":{"order_number":"SO-1"}}'


def test_a_number_nobody_waits_for_is_404_and_delivers_nothing(app):
    deploy(correlated_process())
    ticket = _open("SO-1")
    with pytest.raises(NotFound) as caught:
        deliver_correlated_message("order_update", {"order_number": "SO-9"})
    assert "SO-9" in caught.value.message
    with pytest.raises(NotFound):
        deliver_correlated_message("no_such_message", {"order_number": "SO-1"})
    assert _tasks(ticket) == [] and _subscription(ticket) is not None


def test_two_instances_waiting_for_the_same_keys_is_409_listing_both(app):
    deploy(correlated_process())
    first, second = _open("SO-1"), _open("SO-1")
    _open("SO-2")
    with pytest.raises(AmbiguousMessage) as caught:
        deliver_correlated_message("order_update", {"order_number": "SO-1"})
    assert caught.value.status == 409
    assert [m["ticket_id"] for m in caught.value.matches] == [first.id, second.id]
    assert str(first.id) in caught.value.message and str(second.id) in caught.value.message
    assert _tasks(first) == [] and _tasks(second) == []


def test_a_payload_without_the_property_is_422_naming_property_and_message(app):
    deploy(correlated_process())
    ticket = _open("SO-1")
    with pytest.raises(InvalidData) as caught:
        deliver_correlated_message("order_update", {"status": "shipped"})
    assert "order_number" in caught.value.message and "order_update" in caught.value.message
    assert "order_number" in caught.value.errors["payload"]
    with pytest.raises(InvalidData):  # with a ticket id too: SpiffWorkflow would read it as well
        deliver_message(ticket.id, "order_update", {"status": "shipped"})
    assert _tasks(ticket) == []


def test_a_retrieval_expression_that_fails_on_the_payload_is_422_never_a_crash(app):
    deploy(correlated_process(retrieval='order["number"].upper()'))
    ticket = _open("SO-1")
    for payload in ({"order": {}}, {"order": "text"}, {"order": {"number": 7}}):
        with pytest.raises(InvalidData) as caught:
            deliver_correlated_message("order_update", payload)
        assert "'order_number'" in caught.value.message and "'order_update'" in caught.value.message
        assert 'order["number"].upper()' in caught.value.errors["payload"]
    delivery = deliver_correlated_message("order_update", {"order": {"number": "so-1"}})
    assert delivery["ticket_id"] == ticket.id


def test_the_ticket_id_path_still_works_and_checks_the_keys_too(app):
    deploy(correlated_process())
    first, second = _open("SO-1"), _open("SO-2")
    with pytest.raises(NotFound) as caught:
        deliver_message(first.id, "order_update", {"order_number": "SO-2"})
    assert "correlation keys" in caught.value.message
    assert deliver_message(first.id, "order_update", {"order_number": "SO-1"}, actor="shop") == "updated"
    assert _tasks(first) == ["handle"] and _tasks(second) == []


def test_behind_an_event_based_gateway_the_server_routes_where_spiff_would_accept_anything(app):
    deploy(correlated_process(process_id="gated_orders", gateway=True))
    first, second = _open("SO-1", "gated_orders"), _open("SO-2", "gated_orders")
    assert _subscription(first).correlation_key == '{"order":{"order_number":"SO-1"}}'

    assert deliver_correlated_message("order_update", {"order_number": "SO-2"})["ticket_id"] == second.id
    assert _tasks(second) == ["handle"] and _tasks(first) == []
    with pytest.raises(NotFound):  # the ticket id does not override the keys either
        deliver_message(first.id, "order_update", {"order_number": "SO-2"})
    deliver_message(first.id, "order_update", {"order_number": "SO-1"})
    assert _tasks(first) == ["handle"]


def test_explicit_correlation_keys_route_a_payload_that_does_not_carry_them(app):
    # The message has no retrieval expression: only the catch event's process variable says
    # which order it waits for, so the caller names the key.
    deploy(correlated_process(process_id="tracked", retrieval=None))
    first, second = _open("SO-1", "tracked"), _open("SO-2", "tracked")
    keys = {"order": {"order_number": "SO-2"}}

    delivery = deliver_correlated_message("order_update", {"status": "shipped"}, correlation_keys=keys)

    assert delivery["ticket_id"] == second.id and delivery["correlations"] == keys
    assert _tasks(second) == ["handle"] and _tasks(first) == []
    with pytest.raises(NotFound):  # a message that names no key is for no instance expecting one
        deliver_correlated_message("order_update", {"status": "lost"})
    with pytest.raises(InvalidData) as caught:
        deliver_correlated_message("order_update", {}, correlation_keys={"order": {"sku": "X"}})
    assert "correlation_keys.order.sku" in caught.value.errors
    with pytest.raises(InvalidData):
        deliver_correlated_message("order_update", {}, correlation_keys={"order": "SO-1"})


def test_explicit_keys_must_agree_with_the_payload(app):
    deploy(correlated_process())
    ticket = _open("SO-1")
    with pytest.raises(InvalidData) as caught:
        deliver_correlated_message(
            "order_update", {"order_number": "SO-1"}, correlation_keys={"order": {"order_number": "SO-2"}}
        )
    assert "correlation_keys.order.order_number" in caught.value.errors
    delivery = deliver_correlated_message(
        "order_update", {"order_number": "SO-1"}, correlation_keys={"order": {"order_number": "SO-1"}}
    )
    assert delivery["ticket_id"] == ticket.id


def test_an_instance_that_cannot_compute_its_key_yet_matches_any_message(app):
    # The process variable is missing: the catch event expects nothing yet (NULL key). Behind
    # an event-based gateway SpiffWorkflow does not evaluate it; a plain catch would fail.
    deploy(correlated_process(process_id="gated_orders", process_variable="reference", gateway=True))
    ticket = _open("SO-1", "gated_orders")
    assert _subscription(ticket).correlation_key is None
    assert deliver_correlated_message("order_update", {"order_number": "SO-7"})["ticket_id"] == ticket.id


def test_messages_without_correlation_properties_still_reach_a_single_waiting_ticket(app, clock):
    from tests.engine.test_deadlines import WAIT_FOR_REPLY_OR_DEADLINE

    deploy(WAIT_FOR_REPLY_OR_DEADLINE)
    ticket, _ = start_process("gated", make_customer().id, "Waiting", {})
    assert _subscription(ticket).correlation_key is None
    assert deliver_correlated_message("customer_reply", {"message": "hi"})["ticket_id"] == ticket.id


CANCELLABLE_ORDER = """
  <bpmn:startEvent id="begin"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:intermediateCatchEvent id="updated" name="Order updated">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    <bpmn:messageEventDefinition messageRef="order_update"><bpmn:extensionElements>
      <spiffworkflow:messageVariable>update</spiffworkflow:messageVariable>
      <spiffworkflow:processVariableCorrelation>
        <spiffworkflow:propertyId>order_number</spiffworkflow:propertyId>
        <spiffworkflow:expression>order_number</spiffworkflow:expression>
      </spiffworkflow:processVariableCorrelation>
    </bpmn:extensionElements></bpmn:messageEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:userTask id="handle" name="Handle"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="updated"/>
  <bpmn:sequenceFlow id="f2" sourceRef="updated" targetRef="handle"/>
  <bpmn:sequenceFlow id="f3" sourceRef="handle" targetRef="done"/>
  <bpmn:subProcess id="on_cancel" triggeredByEvent="true">
    <bpmn:startEvent id="cancel_asked" isInterrupting="false"><bpmn:outgoing>e1</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="cancel_order"/></bpmn:startEvent>
    <bpmn:userTask id="handle_cancel" name="Handle the cancellation">
      <bpmn:incoming>e1</bpmn:incoming><bpmn:outgoing>e2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="cancel_done"><bpmn:incoming>e2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="e1" sourceRef="cancel_asked" targetRef="handle_cancel"/>
    <bpmn:sequenceFlow id="e2" sourceRef="handle_cancel" targetRef="cancel_done"/>
  </bpmn:subProcess>"""
CANCELLABLE_EXTRA = """<bpmn:collaboration id="collab"><bpmn:participant id="shop" processRef="cancellable"/>
  <bpmn:correlationKey id="order_key" name="order"><bpmn:correlationPropertyRef>order_number</bpmn:correlationPropertyRef>
  </bpmn:correlationKey></bpmn:collaboration>
<bpmn:correlationProperty id="order_number" name="Order number">
  <bpmn:correlationPropertyRetrievalExpression messageRef="order_update">
    <bpmn:messagePath>order_number</bpmn:messagePath></bpmn:correlationPropertyRetrievalExpression>
  <bpmn:correlationPropertyRetrievalExpression messageRef="cancel_order">
    <bpmn:messagePath>order</bpmn:messagePath></bpmn:correlationPropertyRetrievalExpression>
</bpmn:correlationProperty>
<bpmn:message id="order_update" name="order_update"/>
<bpmn:message id="cancel_order" name="cancel_order"/>
"""


def test_a_message_starting_an_event_subprocess_is_routed_by_the_keys_the_instance_holds(app):
    from tests.diagrams import bpmn

    deploy(bpmn(CANCELLABLE_ORDER, "cancellable", extra=CANCELLABLE_EXTRA))
    first, second = _open("SO-1", "cancellable"), _open("SO-2", "cancellable")
    trigger = db.session.execute(
        db.select(MessageSubscription).where(
            MessageSubscription.ticket_id == second.id, MessageSubscription.name == "cancel_order"
        )
    ).scalar_one()
    assert trigger.correlation_key == '{"order":{"order_number":"SO-2"}}'

    # The cancellation message names the order in its own field, by its own retrieval expression.
    assert deliver_correlated_message("cancel_order", {"order": "SO-2"})["ticket_id"] == second.id
    assert _tasks(second) == ["handle_cancel"] and _tasks(first) == []
