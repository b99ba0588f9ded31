"""The studio's process tests over HTTP: "Run tests" on the draft's files, and the deploy gate (a
failing test refuses the deploy unless overridden; the override is recorded with the version)."""

import json
from pathlib import Path

import pytest

from app.extensions import db
from app.models import Deployment, HistoryEvent, ProcessDefinition
from tests.factories import deploy_shipped

ROOT = Path(__file__).resolve().parents[2]
TESTS = json.loads((ROOT / "processes" / "general.tests.json").read_text())


def draft_with(analyst, document: dict) -> dict:
    files = analyst.get("/studio/api/types/general/draft").get_json()["files"]
    files["general.tests.json"] = json.dumps(document)
    saved = analyst.put("/studio/api/types/general/draft", {"files": files})
    assert saved.status_code == 200, saved.get_json()
    return files


def broken() -> dict:
    """The shipped scenarios, one expecting a resolution the process never sets."""
    document = json.loads(json.dumps(TESTS))
    document["scenarios"][0]["expect"]["ticket"]["resolution"] = "solved"
    return document


@pytest.fixture
def general(app, clock):
    deploy_shipped("general")


def latest_version() -> int:
    return db.session.execute(
        db.select(db.func.max(ProcessDefinition.version)).where(ProcessDefinition.key == "general")
    ).scalar()


def test_run_tests_answers_each_scenario_with_its_path(analyst, general):
    files = draft_with(analyst, TESTS)
    answer = analyst.post("/studio/api/types/general/tests", {"files": files})
    assert answer.status_code == 200, answer.get_json()
    result = answer.get_json()["result"]
    assert result["passed"] is True and result["counts"] == {"passed": 4, "failed": 0}
    assert result["scenarios"][0]["path"][:3] == ["start_general", "set_status_new", "set_status_in_progress"]


def test_run_tests_names_the_failing_element_and_says_why(analyst, general):
    files = draft_with(analyst, broken())
    result = analyst.post("/studio/api/types/general/tests", {}).get_json()["result"]  # the saved draft
    assert result["counts"] == {"passed": 3, "failed": 1}
    [failed] = [s for s in result["scenarios"] if not s["passed"]]
    assert failed["failed_element"] == "close_answered"
    assert failed["message"] == (
        "the ticket's resolution was to be 'solved', but it is 'answered' (set at 'close_answered')"
    )
    sent = analyst.post("/studio/api/types/general/tests", {"files": files}).get_json()["result"]
    assert [(s["name"], s["passed"], s["path"]) for s in sent["scenarios"]] == [
        (s["name"], s["passed"], s["path"]) for s in result["scenarios"]
    ]


def test_a_draft_without_a_test_file_has_no_result(analyst, general):
    answer = analyst.post("/studio/api/types/general/tests", {}).get_json()
    assert answer == {"result": None, "message": "the draft has no test file 'general.tests.json'"}


def test_a_failing_test_blocks_the_deploy(analyst, general):
    draft_with(analyst, broken())
    refused = analyst.post("/studio/api/types/general/deploy", {"comment": "new answer step"})
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["error"] == "1 process test(s) fail: fix them, or deploy anyway (the override is recorded)"
    assert body["errors"] == {"tests": "1 failing: answered"}
    assert body["tests"]["scenarios"][0]["failed_element"] == "close_answered"
    assert latest_version() == 1
    assert analyst.get("/studio/api/types/general/draft").get_json()["saved"] is True


def test_an_override_deploys_and_is_recorded_with_the_version(analyst, general):
    draft_with(analyst, broken())
    deployed = analyst.post(
        "/studio/api/types/general/deploy", {"comment": "hotfix", "override_tests": True}
    ).get_json()
    assert deployed["version"] == 2 and deployed["tests"]["passed"] is False
    recorded = db.session.execute(db.select(Deployment).order_by(Deployment.id.desc()).limit(1)).scalar()
    assert recorded.tests == {"passed": 3, "failed": 1, "failing": ["answered"], "overridden": True}
    [row] = db.session.execute(
        db.select(HistoryEvent).where(HistoryEvent.kind == "tests_overridden")
    ).scalars()
    assert (
        row.actor == "ann"
        and row.data["deployment_id"] == recorded.id
        and row.data["failing"] == ["answered"]
    )
    versions = analyst.get("/studio/api/types/general/versions").get_json()["versions"]
    assert versions[0]["version"] == 2 and versions[0]["tests"]["overridden"] is True
    assert versions[1]["tests"] is None  # deployed outside the studio: no tests ran
    assert json.loads(
        analyst.get("/studio/api/types/general/versions/2").get_json()["files"]["general.tests.json"]
    )


def test_passing_tests_deploy_and_are_recorded(analyst, general):
    draft_with(analyst, TESTS)
    deployed = analyst.post("/studio/api/types/general/deploy", {"comment": "with tests"})
    assert deployed.status_code == 200, deployed.get_json()
    assert deployed.get_json()["tests"]["counts"] == {"passed": 4, "failed": 0}
    recorded = db.session.execute(db.select(Deployment).order_by(Deployment.id.desc()).limit(1)).scalar()
    assert recorded.tests == {"passed": 4, "failed": 0, "failing": [], "overridden": False}
    assert (
        db.session.execute(db.select(HistoryEvent).where(HistoryEvent.kind == "tests_overridden")).first()
        is None
    )


@pytest.mark.parametrize("override", ["yes", 1, None])
def test_override_tests_is_true_or_false(analyst, general, override):
    draft_with(analyst, broken())
    answer = analyst.post("/studio/api/types/general/deploy", {"comment": "x", "override_tests": override})
    assert answer.status_code == 422
    if override is None:
        assert "tests" in answer.get_json()["errors"]
    else:
        assert answer.get_json()["errors"] == {"override_tests": "must be true or false"}
    assert latest_version() == 1


def test_a_broken_test_file_is_a_deploy_problem_naming_scenario_and_field(analyst, general):
    document = {"scenarios": [{"name": "odd", "events": [{"advance": "soon"}]}]}
    draft_with(analyst, document)
    answer = analyst.post("/studio/api/types/general/deploy", {"comment": "x", "override_tests": True})
    assert answer.status_code == 422
    [problem] = [p for p in answer.get_json()["problems"] if p["file"] == "general.tests.json"]
    assert problem["message"].startswith("scenario 'odd' field events[0].advance: 'soon' is not an ISO-8601")


def test_only_analysts_and_admins_run_tests(app, general):
    from tests.factories import make_user
    from tests.studio.conftest import Studio

    make_user("alice", "agent", password="pw")
    assert Studio(app, "alice").post("/studio/api/types/general/tests", {}).status_code == 404
