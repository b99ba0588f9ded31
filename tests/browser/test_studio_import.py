"""Diagrams made elsewhere (tests/fixtures/foreign/: one exported by SpiffArena, one by Camunda
Modeler) imported through the editor's "Import files…" button and saved without edits: every
element, extension element and attribute outside the diagram interchange is kept, in Chromium
under the studio's CSP, against the stand-in endpoints (studio_fake.py)."""

from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from tests.browser.test_studio import open_editor, studio  # noqa: F401 (fixture)

FOREIGN = Path(__file__).resolve().parents[1] / "fixtures" / "foreign"
DI = (
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI",
)


def meaning(xml: str) -> Counter:
    """Every element outside the diagram interchange as (path of ids, tag, attributes, text):
    compared as a multiset, so whitespace, order and DI do not count."""
    found = Counter()

    def walk(node, path):
        if not isinstance(node.tag, str) or etree.QName(node).namespace in DI:
            return
        here = (*path, node.get("id") or etree.QName(node).localname)
        attrs = tuple(sorted((k, v) for k, v in node.attrib.items()))
        found[(here, node.tag, attrs, (node.text or "").strip())] += 1
        for child in node:
            walk(child, here)

    walk(etree.fromstring(xml.encode()), ())
    return found


@pytest.mark.parametrize(
    ("fixture", "extensions"),
    [
        ("spiffarena_onboarding_with_user_task.bpmn", ["instructionsForEndUser", "postScript", "property"]),
        (
            "camunda_invoice_approval.bpmn",
            ["camunda:formKey", "camunda:assignee", "camunda:historyTimeToLive"],
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
    lost, added = meaning(original) - meaning(saved), meaning(saved) - meaning(original)
    assert (lost, added) == (Counter(), Counter())


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
