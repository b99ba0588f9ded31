"""What the studio's panel writes for Ticketflow, read by the engine: SLA targets declared on the
process (stored as the type's sla_policy when the version deploys), a message's correlation
(SpiffArena's correlationProperty and processVariableCorrelation) and the customer-visible status."""

import pytest

from app.engine import deliver_correlated_message, start_process
from app.extensions import db
from app.models import SlaPolicy, Ticket
from tests.diagrams import correlated_process
from tests.factories import make_customer, make_team

SLA = (
    "<bpmn:extensionElements><spiffworkflow:properties>{}</spiffworkflow:properties></bpmn:extensionElements>"
)


def with_sla(bpmn: str, key: str, **props: str) -> str:
    rows = "".join(f'<spiffworkflow:property name="{n}" value="{v}"/>' for n, v in props.items())
    opening = f'<bpmn:process id="{key}" name="Warranty" isExecutable="true">'
    assert opening in bpmn
    return bpmn.replace(opening, opening + SLA.format(rows))


def draft_files(analyst, key="warranty"):
    analyst.post("/studio/api/types", {"key": key, "name": "Warranty"})
    return analyst.get(f"/studio/api/types/{key}/draft").get_json()["files"]


def test_sla_targets_declared_on_the_process_become_the_types_policy_when_deployed(app, analyst):
    make_team("returns")
    files = draft_files(analyst)
    bpmn = with_sla(
        files["warranty.bpmn"],
        "warranty",
        **{
            "sla.normal.first_response_minutes": "30",
            "sla.normal.resolution_minutes": "120",
            "sla.urgent.resolution_minutes": "60",
            "sla.team": "returns",
        },
    )
    saved = analyst.put("/studio/api/types/warranty/draft", {"files": {**files, "warranty.bpmn": bpmn}})
    assert [p for p in saved.get_json()["problems"] if p["severity"] == "error"] == []
    assert analyst.post("/studio/api/types/warranty/deploy", {"comment": "SLA"}).status_code == 200
    policies = {
        p.priority: (p.first_response_minutes, p.resolution_minutes, p.team_key)
        for p in db.session.execute(db.select(SlaPolicy).where(SlaPolicy.ticket_type == "warranty")).scalars()
    }
    # urgent names only its resolution: its first response keeps the default (4 business hours)
    assert policies == {"normal": (30, 120, "returns"), "urgent": (240, 60, "returns")}
    ticket, _ = start_process(
        "warranty", make_customer().id, "Kettle", {"description": "Broken"}, actor="test", priority="normal"
    )
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.sla_target_seconds == 120 * 60 and ticket.sla_team_key == "returns"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("sla.normal.resolution_minutes", "two days", "whole number of business minutes"),
        ("sla.normal.resolution_minutes", "0", "whole number of business minutes"),
        ("sla.someday.resolution_minutes", "60", "is unknown"),
        ("sla.normal.deadline", "60", "is unknown"),
        ("sla.team", "nobody", "no team 'nobody'"),
    ],
)
def test_a_bad_sla_target_is_an_error_on_the_process_naming_the_property(analyst, name, value, says):
    files = draft_files(analyst)
    bpmn = with_sla(files["warranty.bpmn"], "warranty", **{name: value})
    problems = analyst.put("/studio/api/types/warranty/draft", {"files": {**files, "warranty.bpmn": bpmn}})
    errors = [p for p in problems.get_json()["problems"] if p["severity"] == "error"]
    assert [(p["element_id"], p["file"]) for p in errors] == [("warranty", "warranty.bpmn")]
    assert name in errors[0]["message"] and says in errors[0]["message"]
    assert analyst.post("/studio/api/types/warranty/deploy", {}).status_code == 422


def test_a_correlation_as_the_panel_writes_it_deploys_from_a_draft_and_routes_messages(analyst):
    # bpmn-moddle (the studio, SpiffArena) writes the message path as <bpmn:formalExpression>.
    xml = correlated_process().decode().replace("bpmn:messagePath", "bpmn:formalExpression")
    saved = analyst.put("/studio/api/types/orders/draft", {"files": {"orders.bpmn": xml}}).get_json()
    assert [p for p in saved["problems"] if p["severity"] == "error"] == []
    assert analyst.post("/studio/api/types/orders/deploy", {"comment": "orders"}).status_code == 200
    customer = make_customer()
    first, _ = start_process("orders", customer.id, "Order 1", {"order_number": "SO-1"}, actor="test")
    second, _ = start_process("orders", customer.id, "Order 2", {"order_number": "SO-2"}, actor="test")
    delivery = deliver_correlated_message("order_update", {"order_number": "SO-2"}, actor="shop")
    assert delivery["ticket_id"] == second.id and delivery["element_id"] == "updated"
