"""POST /api/v1/deployments: a bundle in one call (several files or a .zip), all or nothing;
reading a version's XML and a deployed form."""

import io
import json
import zipfile

from tests.diagrams import user_task_process

FORM = {"type": "object", "properties": {"answer": {"type": "string"}}}
WITH_FORM = (
    '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
    'value="answer.json"/></spiffworkflow:properties>'
)


def _files(*pairs):
    return {"file": [(io.BytesIO(data), name) for name, data in pairs]}


def test_a_bundle_of_several_files_deploys_then_is_a_no_op(staff):
    api = staff["analyst"]
    files = (("tiny.bpmn", user_task_process(WITH_FORM)), ("answer.json", json.dumps(FORM).encode()))
    first = api.post("/api/v1/deployments", data=_files(*files), content_type="multipart/form-data")
    assert first.status_code == 201
    assert (
        first.json["processes"][0] | {"key": "tiny", "version": 1, "new_type": True}
        == first.json["processes"][0]
    )
    assert first.json["forms"] == [{"name": "answer.json", "version": 1, "created": True}]
    again = api.post("/api/v1/deployments", data=_files(*files), content_type="multipart/form-data")
    assert again.status_code == 200 and again.json["deployment_id"] == first.json["deployment_id"]
    version = api.get("/api/v1/process-definitions/tiny/versions/1")
    assert version.status_code == 200 and version.json["forms"] == ["answer.json"]
    assert version.json["xml"].startswith("<?xml")
    form = api.get("/api/v1/forms/answer.json?version=1")
    assert form.status_code == 200 and form.json["schema"]["properties"] == FORM["properties"]
    assert api.get("/api/v1/forms/answer.json?version=9").status_code == 404
    assert api.get("/api/v1/forms/answer.json?version=x").status_code == 422
    assert api.get("/api/v1/process-definitions/tiny/versions/7").status_code == 404


def test_a_zip_is_a_bundle(staff):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bundle/tiny.bpmn", user_task_process(WITH_FORM))
        archive.writestr("bundle/answer.json", json.dumps(FORM))
    answer = staff["admin"].post(
        "/api/v1/deployments",
        data=_files(("bundle.zip", buffer.getvalue())),
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201 and [p["key"] for p in answer.json["processes"]] == ["tiny"]


def test_a_refused_bundle_lists_every_problem_with_its_file_and_stores_nothing(staff):
    api = staff["analyst"]
    answer = api.post(
        "/api/v1/deployments",
        data=_files(
            ("tiny.bpmn", user_task_process(WITH_FORM)),
            ("answer.json", b"{not json"),
            ("notes.txt", b"hello"),
        ),
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    assert {e["file"] for e in answer.json["errors"]} == {"answer.json", "notes.txt"}
    listed = api.get("/api/v1/process-definitions").json["definitions"]
    assert [d["key"] for d in listed] == []


def test_a_bundle_needs_files_and_the_analyst_or_admin_role(staff):
    assert (
        staff["analyst"].post("/api/v1/deployments", data={}, content_type="multipart/form-data").status_code
        == 422
    )
    answer = staff["agent"].post(
        "/api/v1/deployments",
        data=_files(("tiny.bpmn", user_task_process())),
        content_type="multipart/form-data",
    )
    assert answer.status_code == 403
