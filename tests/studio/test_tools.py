"""The studio's helpers through HTTP: catalog, diff (SpecDiff), form preview, decision trial, timer preview."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.factories import deploy_shipped, make_user

ROOT = Path(__file__).resolve().parents[2]


def test_the_catalog_lists_operators_with_parameters_teams_forms_and_retry_defaults(analyst):
    deploy_shipped("general")
    make_user("alice", "agent", teams=("support",), password="pw")
    catalog = analyst.get("/studio/api/catalog").get_json()
    operators = {o["name"]: o["parameters"] for o in catalog["operators"]}
    assert {"name": "status", "type": "str", "required": True} in operators["ticket.set_status"]
    assert {"name": "resolution", "type": "str", "required": False} in operators["ticket.set_status"]
    assert {"key": "support", "name": "support"}["key"] in [t["key"] for t in catalog["teams"]]
    assert "general_start.json" in catalog["forms"]
    assert catalog["retry_defaults"]["retries"] == 3
    assert isinstance(catalog["decisions"], list)


def test_the_diff_names_added_removed_and_changed_elements_and_diffs_forms(analyst):
    analyst.post("/studio/api/types", {"key": "warranty", "name": "Warranty"})
    assert analyst.post("/studio/api/types/warranty/deploy", {}).status_code == 200
    files = analyst.get("/studio/api/types/warranty/draft").get_json()["files"]
    bpmn = (
        files["warranty.bpmn"]
        .replace("<bpmn:instructionsForEndUser>", "<bpmn:instructionsForEndUser>")
        .replace("Read the request and do what it asks.", "Read the request, then act.")
    )
    form = files["warranty_start.json"].replace('"Description"', '"What happened"')
    analyst.put(
        "/studio/api/types/warranty/draft", {"files": {"warranty.bpmn": bpmn, "warranty_start.json": form}}
    )
    answer = analyst.get("/studio/api/types/warranty/diff?from=1&to=draft")
    assert answer.status_code == 200, answer.get_json()
    diff = answer.get_json()
    assert diff["changed"] == ["handle_request"]
    assert diff["added"] == [] and diff["removed"] == []
    assert '-      "title": "Description"' in diff["forms"]["warranty_start.json"]
    assert '+      "title": "What happened"' in diff["forms"]["warranty_start.json"]
    same = analyst.get("/studio/api/types/warranty/diff?from=1&to=1").get_json()
    assert same == {"added": [], "removed": [], "changed": [], "forms": {}}


@pytest.mark.parametrize("key", ["return", "credit", "general", "complaint"])
def test_a_shipped_type_opened_and_saved_unedited_passes_and_diffs_to_nothing(analyst, key):
    deploy_shipped(key)
    files = analyst.get(f"/studio/api/types/{key}/draft").get_json()["files"]
    saved = analyst.put(f"/studio/api/types/{key}/draft", {"files": files}).get_json()
    assert [p for p in saved["problems"] if p["severity"] == "error"] == []
    diff = analyst.get(f"/studio/api/types/{key}/diff?from=1&to=draft").get_json()
    assert diff == {"added": [], "removed": [], "changed": [], "forms": {}}
    assert analyst.post(f"/studio/api/types/{key}/deploy", {}).get_json() == {"version": 1, "unchanged": True}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "from"),
        ("?from=1", "to"),
        ("?from=x&to=1", "from"),
        ("?from=1&to=7", "to"),
        ("?from=1&to=draft", "to"),
    ],
)
def test_a_bad_diff_side_is_422_naming_it(analyst, query, field):
    deploy_shipped("general")
    answer = analyst.get(f"/studio/api/types/general/diff{query}")
    assert answer.status_code == 422 and field in answer.get_json()["errors"]


def test_the_form_preview_is_our_renderer_with_the_errors_of_the_sample(analyst):
    schema = {
        "type": "object",
        "properties": {"amount": {"type": "number", "title": "Amount", "minimum": 1}},
        "required": ["amount"],
    }
    answer = analyst.post("/studio/api/forms/preview", {"schema": schema, "data": {"amount": 0}})
    assert answer.status_code == 200
    body = answer.get_json()
    assert 'name="amount"' in body["html"] and "Amount" in body["html"]
    assert set(body["errors"]) == {"amount"}
    clean = analyst.post("/studio/api/forms/preview", {"schema": schema}).get_json()
    assert clean["errors"] == {} and 'class="form-fields"' in clean["html"]


@pytest.mark.parametrize("schema", [None, [], {"type": 5}, {"properties": {"a": {"type": "nope"}}}])
def test_a_bad_schema_is_422_naming_schema(analyst, schema):
    answer = analyst.post("/studio/api/forms/preview", {"schema": schema})
    assert answer.status_code == 422 and "schema" in answer.get_json()["errors"]


def test_a_decision_table_is_tried_on_inputs(analyst):
    dmn = (ROOT / "processes" / "priority.dmn").read_text()
    inputs = {
        "ticket_type": "complaint",
        "severity": "critical",
        "tier": "gold",
        "amount": 0,
        "order_count": 1,
    }
    answer = analyst.post("/studio/api/decisions/evaluate", {"dmn": dmn, "inputs": inputs})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["outputs"] == {"priority": "urgent"}
    assert (
        analyst.post(
            "/studio/api/decisions/evaluate", {"dmn": dmn, "decision_id": "nope", "inputs": {}}
        ).status_code
        == 422
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dmn": "", "inputs": {}}, "dmn"),
        ({"dmn": "<x/>", "inputs": []}, "inputs"),
        ({"dmn": "<x/>", "decision_id": "a b"}, "decision_id"),
    ],
)
def test_bad_decision_input_is_422_naming_it(analyst, body, field):
    answer = analyst.post("/studio/api/decisions/evaluate", body)
    assert answer.status_code == 422 and field in answer.get_json()["errors"]


def test_a_broken_decision_table_is_422_with_problems(analyst):
    answer = analyst.post("/studio/api/decisions/evaluate", {"dmn": "<definitions/>", "inputs": {}})
    assert answer.status_code == 422 and answer.get_json()["problems"]


def test_a_timer_preview_gives_the_next_due_time(analyst, clock):
    now = datetime.now(UTC)  # frozen at CLOCK_START
    for expression, due in [
        ('"PT48H"', (now + timedelta(hours=48)).isoformat()),
        ('"P1D"', (now + timedelta(days=1)).isoformat()),
        ('"R3/PT1H"', (now + timedelta(hours=1)).isoformat()),
        ('"2030-06-01T12:00:00Z"', "2030-06-01T12:00:00+00:00"),
    ]:
        answer = analyst.post("/studio/api/timers/preview", {"expression": expression})
        assert answer.status_code == 200, (expression, answer.get_json())
        assert answer.get_json()["next_due"] == due, expression


@pytest.mark.parametrize(
    "expression", ["PT48H", '"P48X"', "import os", "", None, 5, '"' + "x" * 2000 + '"', "due_at"]
)
def test_a_bad_timer_is_422_naming_expression(analyst, expression):
    answer = analyst.post("/studio/api/timers/preview", {"expression": expression})
    assert answer.status_code == 422 and "expression" in answer.get_json()["errors"]


def test_the_instructions_preview_is_the_inbox_html_rendered_with_the_sample_data(analyst):
    text = "Call {{ customer.name }} about <b>order</b> {{ order }}.\nThen decide."
    answer = analyst.post(
        "/studio/api/instructions/preview", {"text": text, "data": {"customer": {"name": "Jane"}, "order": 7}}
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {
        "html": '<div class="instructions">\n<p>Call Jane about &lt;b&gt;order&lt;/b&gt; 7.\nThen decide.</p>\n</div>',
        "warning": None,
    }
    without_data = analyst.post("/studio/api/instructions/preview", {"text": text}).get_json()
    assert without_data["html"].startswith('<div class="instructions">\n<p>Call  about')


def test_instructions_that_fail_only_with_this_data_show_their_source_as_the_inbox_does(analyst):
    text = "Refund {{ amount + 1 }}."
    body = analyst.post(
        "/studio/api/instructions/preview", {"text": text, "data": {"amount": "x"}}
    ).get_json()
    assert body["html"] == '<div class="instructions">\n<p>Refund {{ amount + 1 }}.</p>\n</div>'
    assert "agents would see their source" in body["warning"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "{% for x in %}"}, "text"),
        ({"text": "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}"}, "text"),
        ({"text": 5}, "text"),
        ({"text": "x" * 20_001}, "text"),
        ({"text": "Hi", "data": [1]}, "data"),
        ({"text": "Hi", "data": {"_x": 1}}, "data._x"),
    ],
)
def test_bad_instructions_or_data_are_422_naming_them(analyst, body, field):
    answer = analyst.post("/studio/api/instructions/preview", body)
    assert answer.status_code == 422 and field in answer.get_json()["errors"], answer.get_json()


def test_the_instructions_preview_is_for_analysts_and_needs_the_csrf_token(app, analyst):
    make_user("alice", "agent", password="pw")
    from tests.studio.conftest import Studio

    agent = Studio(app, "alice")
    assert agent.post("/studio/api/instructions/preview", {"text": "Hi"}).status_code == 404
    no_token = analyst.client.post("/studio/api/instructions/preview", json={"text": "Hi"})
    assert no_token.status_code == 400
