"""Diagrams in the shape other modelers export (tests/fixtures/foreign/: ours, written by hand, one
as SpiffArena writes them, one as Camunda Modeler writes them) imported through the editor's
"Import files…" button and saved without edits: every element, extension element and attribute
outside the diagram interchange is kept, in Chromium under the studio's CSP, against the stand-in
endpoints (studio_fake.py). The real exports of the public corpus go through the same comparison
(tests/bpmn_meaning.py) in bench/studio_roundtrip.py."""

from collections import Counter
from pathlib import Path

import pytest

from tests.bpmn_meaning import differences, first_difference
from tests.browser.test_studio import open_editor, studio  # noqa: F401 (fixture)
from tests.studio.conftest import Studio

FOREIGN = Path(__file__).resolve().parents[1] / "fixtures" / "foreign"


@pytest.mark.parametrize(
    ("fixture", "extensions"),
    [
        (
            "ours_spiffarena_style.bpmn",
            [
                "spiffworkflow:instructionsForEndUser",
                "spiffworkflow:preScript",
                "spiffworkflow:postScript",
                "spiffworkflow:property",
                "spiffworkflow:serviceTaskOperator",
                "spiffworkflow:parameter",
                "bpmn:laneSet",
                'exporter="Camunda Modeler"',
            ],
        ),
        (
            "ours_spiff_multiinstance_style.bpmn",
            [
                "<bpmn:loopDataInputRef>parts</bpmn:loopDataInputRef>",
                "<bpmn:loopDataOutputRef>prices</bpmn:loopDataOutputRef>",
                "<bpmn:loopDataInputRef>prices</bpmn:loopDataInputRef>",
                "<bpmn:loopDataOutputRef>confirmed</bpmn:loopDataOutputRef>",
                '<bpmn:inputDataItem id="part" name="part"',
                '<bpmn:outputDataItem id="answer" name="answer"',
            ],
        ),
        (
            "ours_camunda_modeler_style.bpmn",
            [
                "camunda:formKey",
                "camunda:assignee",
                "camunda:historyTimeToLive",
                "camunda:inputOutput",
                "camunda:inputParameter",
                "camunda:property",
                'modeler:executionPlatform="Camunda Platform"',
                'xsi:type="bpmn:tFormalExpression"',
            ],
        ),
    ],
)
def test_a_foreign_diagram_imported_and_saved_unedited_keeps_everything(studio, fixture, extensions):  # noqa: F811
    page, fake, _ = studio
    original = (FOREIGN / fixture).read_text()
    open_editor(page)
    page.set_input_files("#import-files", str(FOREIGN / fixture))
    page.wait_for_selector("#status:has-text('Imported')")
    assert page.locator(".djs-element[data-element-id=StartEvent_1]").count() == 1
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#status:has-text('Saved')")
    saved = fake.bodies("PUT", "/types/return/draft")[-1]["files"]["return.bpmn"]
    for name in extensions:
        assert name in saved
    assert first_difference(original, saved) is None
    assert differences(original, saved) == (Counter(), Counter())


def test_a_loop_over_process_variables_opens_without_warning_and_saves_as_the_deploy_check_wants(
    studio,  # noqa: F811
    app,
):
    """SpiffWorkflow's multi-instance tasks name process variables as their loop input and output,
    which bpmn-js reads as references to elements that do not exist: they are kept as written."""
    page, fake, _ = studio
    warned = []
    page.on("console", lambda msg: warned.append(msg.text) if msg.type == "warning" else None)
    fixture = FOREIGN / "ours_spiff_multiinstance_style.bpmn"
    open_editor(page)
    page.set_input_files("#import-files", str(fixture))
    page.wait_for_selector("#status:has-text('Imported')")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#status:has-text('Saved')")
    saved = fake.bodies("PUT", "/types/return/draft")[-1]["files"]["return.bpmn"]
    assert [w for w in warned if "unresolved reference" in w or w.startswith("import warnings")] == []
    loop = page.evaluate(
        """() => window.studioModeler.get('elementRegistry').get('Activity_price_parts')
             .businessObject.loopCharacteristics.loopDataInputRef.id"""
    )
    assert loop == "parts"
    analyst = Studio(app, "ana")  # the real deploy checks, on what the studio saved
    answer = analyst.post("/studio/api/types/return/check", {"files": {"return.bpmn": saved}})
    assert answer.get_json() == {"problems": []}


def test_forms_and_decisions_import_into_the_draft_beside_the_diagram(studio, tmp_path):  # noqa: F811
    page, fake, _ = studio
    form = tmp_path / "warranty_check.json"
    form.write_text('{"type": "object", "properties": {"note": {"type": "string"}}}')
    open_editor(page)
    page.set_input_files("#import-files", [str(form)])
    page.wait_for_selector("#status:has-text('Imported warranty_check.json')")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#status:has-text('Saved')")
    files = fake.bodies("PUT", "/types/return/draft")[-1]["files"]
    assert files["warranty_check.json"] == form.read_text()
    assert files["return.bpmn"]  # the diagram stays
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    page.set_input_files("#import-files", [str(bad)])
    page.wait_for_selector("#status:has-text('only .bpmn, .dmn and .json files')")
