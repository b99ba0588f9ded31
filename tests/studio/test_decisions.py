"""Decision tables in the studio through HTTP: a deployed decision copied into a draft, trying a
table (the matched rule, the input a failing cell reads), and a new decision deployed with a type."""

from pathlib import Path

from app.engine import deploy
from app.engine.rules.dmn import decide

ROOT = Path(__file__).resolve().parents[2]
PRIORITY = (ROOT / "processes" / "priority.dmn").read_text()

NEW_DECISION = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="discount_definitions"
    name="Discount" namespace="https://ticketflow.example/dmn">
  <decision id="discount" name="Discount">
    <decisionTable id="discount_table" hitPolicy="FIRST">
      <input id="discount_in_tier" label="Customer tier">
        <inputExpression id="discount_in_tier_expr" typeRef="string"><text>tier</text></inputExpression>
      </input>
      <output id="discount_out" label="Result" name="result" typeRef="string" />
      <rule id="discount_rule_1">
        <description>gold and platinum customers</description>
        <inputEntry id="discount_rule_1_tier"><text>? in ["gold", "platinum"]</text></inputEntry>
        <outputEntry id="discount_rule_1_result"><text>"yes"</text></outputEntry>
      </rule>
      <rule id="discount_rule_2">
        <inputEntry id="discount_rule_2_tier"><text>-</text></inputEntry>
        <outputEntry id="discount_rule_2_result"><text>"no"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_a_deployed_decision_is_given_as_its_dmn_file(analyst):
    deploy(PRIORITY.encode(), actor="test", filename="priority.dmn")
    answer = analyst.get("/studio/api/decisions/priority")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["decision_id"] == "priority" and body["file"] == "priority.dmn"
    assert body["dmn"] == PRIORITY


def test_an_unknown_decision_is_404(analyst):
    assert analyst.get("/studio/api/decisions/nothing_here").status_code == 404
    assert analyst.get("/studio/api/decisions/bad%20id").status_code == 404


def test_trying_a_table_names_the_rule_that_matched(analyst):
    inputs = {"ticket_type": "return", "severity": None, "tier": "silver", "amount": 900, "order_count": 1}
    answer = analyst.post("/studio/api/decisions/evaluate", {"dmn": PRIORITY, "inputs": inputs})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["outputs"] == {"priority": "high"}
    assert body["rule_id"] == "priority_rule_8" and body["row"] == 8
    assert body["rule"] == "priority#8 (return over 500)"


def test_a_cell_failing_on_the_inputs_is_422_naming_the_input(analyst):
    inputs = {"ticket_type": "return", "severity": None, "tier": None, "amount": "lots", "order_count": 1}
    answer = analyst.post("/studio/api/decisions/evaluate", {"dmn": PRIORITY, "inputs": inputs})
    assert answer.status_code == 422
    errors = answer.get_json()["errors"]
    assert list(errors) == ["inputs.amount"] and "row 8" in errors["inputs.amount"]


def test_a_new_decision_saved_in_a_draft_is_checked_and_deploys_with_the_type(analyst):
    analyst.post("/studio/api/types", {"key": "warranty", "name": "Warranty"})
    files = analyst.get("/studio/api/types/warranty/draft").get_json()["files"]
    broken = NEW_DECISION.replace('"yes"', "import os")
    saved = analyst.put("/studio/api/types/warranty/draft", {"files": {**files, "discount.dmn": broken}})
    assert [p["element_id"] for p in saved.get_json()["problems"]] == ["discount_rule_1_result"]
    saved = analyst.put(
        "/studio/api/types/warranty/draft", {"files": {**files, "discount.dmn": NEW_DECISION}}
    )
    assert [p for p in saved.get_json()["problems"] if p["severity"] == "error"] == []
    assert analyst.post("/studio/api/types/warranty/deploy", {"comment": "discount"}).status_code == 200
    assert decide("discount", {"tier": "gold"}) == {"result": "yes"}
    assert analyst.get("/studio/api/decisions/discount").get_json()["file"] == "discount.dmn"
    again = analyst.get("/studio/api/types/warranty/draft").get_json()["files"]
    assert "discount.dmn" not in again  # a type's bundle holds the decisions its diagram calls
