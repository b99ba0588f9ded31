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
