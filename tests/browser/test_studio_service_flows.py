"""In a real Chromium: the studio draws the onboarding and order diagrams with no lint problem
(bpmnlint with the ticketflow rules) and exports them as SVG.

With SCREENSHOTS=1 the exported drawings are saved as docs/screenshots/diagram-onboarding.png and
diagram-order.png (the README shows them).
"""

import os

import pytest

from tests.browser.studio_fake import shipped_files
from tests.browser.test_studio import ROOT, open_editor, studio  # noqa: F401  (the imported fixture)

EXPORT = """async () => {
  const { svg } = await window.studioModeler.saveSVG();
  return svg;
}"""


@pytest.mark.parametrize("key", ["onboarding", "order"])
def test_the_service_flow_opens_clean_and_exports_its_drawing(studio, key):  # noqa: F811
    page, fake, _ = studio
    fake.key, fake.files = key, shipped_files(key)
    open_editor(page, key)
    assert page.locator("#problems li.problem-none").is_visible()  # no bpmnlint or server problem
    svg = page.evaluate(EXPORT)
    assert svg.startswith("<?xml") and svg.rstrip().endswith("</svg>")
    if os.environ.get("SCREENSHOTS") == "1":
        drawing = page.context.new_page()
        drawing.set_viewport_size({"width": 1600, "height": 600})
        drawing.set_content(f"<html><body style='margin:0;background:#fff'>{svg}</body></html>")
        drawing.locator("svg").first.screenshot(
            path=str(ROOT / "docs" / "screenshots" / f"diagram-{key}.png")
        )
        drawing.close()
