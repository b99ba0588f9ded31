"""Types and drafts through HTTP: list, create from the template, save with checks, discard, deploy."""

from pathlib import Path

import pytest

from app.extensions import db
from app.models import ProcessDefinition
from tests.factories import deploy_shipped, login, make_customer_user, make_user


def test_the_template_is_a_draft_that_passes_the_checks_and_deploys(analyst):
    created = analyst.post("/studio/api/types", {"key": "warranty", "name": "Warranty claim"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json() == {"key": "warranty"}
    draft = analyst.get("/studio/api/types/warranty/draft").get_json()
    assert draft["saved"] is True and draft["base_version"] is None
    assert set(draft["files"]) == {"warranty.bpmn", "warranty_start.json"}
    checked = analyst.post("/studio/api/types/warranty/check", {"files": draft["files"]}).get_json()
    assert [p for p in checked["problems"] if p["severity"] == "error"] == []
    listed = analyst.get("/studio/api/types").get_json()["types"]
    assert [t["key"] for t in listed] == ["warranty"]
    assert listed[0]["has_draft"] is True and listed[0]["latest_version"] is None
    deployed = analyst.post("/studio/api/types/warranty/deploy", {"comment": "first"})
    assert deployed.status_code == 200, deployed.get_json()
    assert deployed.get_json() == {"version": 1, "unchanged": False}
    after = analyst.get("/studio/api/types").get_json()["types"][0]
    assert after["latest_version"] == 1 and after["has_draft"] is False and after["deployed_by"] == "ann"
    again = analyst.get("/studio/api/types/warranty/draft").get_json()
    assert again["saved"] is False and again["base_version"] == 1
    assert again["files"]["warranty.bpmn"] == draft["files"]["warranty.bpmn"]


@pytest.mark.parametrize("key", ["", "1abc", "a-b", "a b", "x" * 64, None, 5])
def test_a_bad_key_is_422_naming_key(analyst, key):
    answer = analyst.post("/studio/api/types", {"key": key})
    assert answer.status_code == 422
    assert "key" in answer.get_json()["errors"]


def test_a_taken_key_is_422(analyst):
    deploy_shipped("general")
    answer = analyst.post("/studio/api/types", {"key": "general"})
    assert answer.status_code == 422 and "taken" in answer.get_json()["errors"]["key"]


def test_saving_runs_the_checks_and_reports_problems_by_element(analyst):
    deploy_shipped("general")
    files = analyst.get("/studio/api/types/general/draft").get_json()["files"]
    assert analyst.get("/studio/api/types/general/draft").get_json()["saved"] is False
    broken = files["general.bpmn"].replace(
        'id="ticket.set_status" resultVariable="ticket_status">', 'id="no.such_operator">', 1
    )
    answer = analyst.put("/studio/api/types/general/draft", {"files": {**files, "general.bpmn": broken}})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["saved"] is True
    errors = [p for p in body["problems"] if p["severity"] == "error"]
    assert errors, body
    assert errors[0]["element_id"] == "set_status_new" and errors[0]["file"] == "general.bpmn"
    assert set(errors[0]) == {"severity", "file", "element_id", "message"}
    draft = analyst.get("/studio/api/types/general/draft").get_json()
    assert (
        draft["saved"] is True
        and draft["base_version"] == 1
        and "no.such_operator" in draft["files"]["general.bpmn"]
    )
    refused = analyst.post("/studio/api/types/general/deploy", {})
    assert refused.status_code == 422 and refused.get_json()["problems"][0]["element_id"] == "set_status_new"
    versions = db.session.execute(
        db.select(ProcessDefinition.version).where(ProcessDefinition.key == "general")
    )
    assert list(versions.scalars()) == [1]
    assert analyst.delete("/studio/api/types/general/draft").get_json() == {"discarded": True}
    assert analyst.get("/studio/api/types/general/draft").get_json()["saved"] is False


def test_drafts_are_per_user(analyst, other_analyst):
    analyst.post("/studio/api/types", {"key": "mine_only"})
    assert other_analyst.get("/studio/api/types/mine_only/draft").status_code == 404
    assert other_analyst.get("/studio/api/types").get_json()["types"] == []


def test_deploying_an_unchanged_draft_says_unchanged(analyst):
    deploy_shipped("general")
    files = analyst.get("/studio/api/types/general/draft").get_json()["files"]
    analyst.put("/studio/api/types/general/draft", {"files": files})
    answer = analyst.post("/studio/api/types/general/deploy", {"comment": "nothing"})
    assert answer.get_json() == {"version": 1, "unchanged": True}


def test_deploy_without_a_saved_draft_is_422(analyst):
    deploy_shipped("general")
    answer = analyst.post("/studio/api/types/general/deploy", {})
    assert answer.status_code == 422 and "draft" in answer.get_json()["errors"]


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ("x", "object"),
        ({"../evil.bpmn": ""}, "file name"),
        ({"a.exe": ""}, "file name"),
        ({"a.json": 5}, "text"),
        ({"a.json": "x" * (2 * 1024 * 1024 + 1)}, "larger"),
        ({f"f{i}.json": "{}" for i in range(201)}, "at most"),
    ],
)
def test_bad_files_are_422_naming_files(analyst, files, words):
    analyst.post("/studio/api/types", {"key": "t"})
    for method in ("PUT", "POST"):
        url = "/studio/api/types/t/draft" if method == "PUT" else "/studio/api/types/t/check"
        answer = analyst.send(method, url, {"files": files})
        if answer.status_code == 413:  # larger than a request may be at all (MAX_CONTENT_LENGTH)
            continue
        assert answer.status_code == 422
        assert words in answer.get_json()["errors"]["files"]


def test_a_body_that_is_not_an_object_is_422(analyst):
    answer = analyst.client.put(
        "/studio/api/types/t/draft",
        data="[1]",
        content_type="application/json",
        headers={"X-CSRFToken": analyst.token},
    )
    assert answer.status_code in (400, 422)


@pytest.mark.parametrize("role", ["agent", "customer", "manager"])
def test_others_get_404(app, role):
    if role == "customer":
        make_customer_user("cus")
        name = "cus"
    else:
        make_user("someone", role, password="pw")
        name = "someone"
    client = app.test_client()
    login(client, name)
    for url in ("/studio/api/types", "/studio/api/catalog"):
        assert client.get(url).status_code == 404


def test_writes_without_the_csrf_token_are_refused(analyst):
    answer = analyst.client.post("/studio/api/types", json={"key": "nocsrf"})
    assert answer.status_code == 400


def test_a_draft_deploys_only_its_own_type_and_what_it_calls(analyst):
    analyst.post("/studio/api/types", {"key": "warranty"})
    files = analyst.get("/studio/api/types/warranty/draft").get_json()["files"]
    general = (Path(__file__).resolve().parents[2] / "processes" / "general.bpmn").read_text()
    analyst.put("/studio/api/types/warranty/draft", {"files": {**files, "general.bpmn": general}})
    answer = analyst.post("/studio/api/types/warranty/deploy", {})
    assert answer.status_code == 422, answer.get_json()
    assert [p["element_id"] for p in answer.get_json()["problems"]] == ["general"]
    assert db.session.execute(db.select(ProcessDefinition.id)).first() is None


def test_a_draft_without_its_process_is_422(analyst):
    analyst.post("/studio/api/types", {"key": "warranty"})
    files = analyst.get("/studio/api/types/warranty/draft").get_json()["files"]
    renamed = {
        "other.bpmn": files["warranty.bpmn"]
        .replace('id="warranty"', 'id="other"')
        .replace('processRef="warranty"', 'processRef="other"'),
        "warranty_start.json": files["warranty_start.json"],
    }
    analyst.put("/studio/api/types/warranty/draft", {"files": renamed})
    answer = analyst.post("/studio/api/types/warranty/deploy", {})
    assert answer.status_code == 422 and "warranty" in answer.get_json()["problems"][0]["message"]
