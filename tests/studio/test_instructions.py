"""Task instructions are Markdown, rendered by one sanitized renderer (app/web/markdown.py) for the
inbox's task page and the studio's preview: the same HTML in both, no HTML or script from the text,
links to http, https and mailto only, and bounded in size and time (a 422 naming `text` on the
preview, plain text in the inbox)."""

from xml.sax.saxutils import escape

import lxml.html
import pytest

from app.engine import deploy, start_process
from app.extensions import db
from app.models import HumanTask
from app.web.markdown import LINK_REL
from tests.diagrams import user_task_process
from tests.factories import login, make_customer, make_user

MARKDOWN = """# Check the order

Call **{{ who }}** about the *refund*:

- look up the order
- read [the policy](https://example.com/policy) or [mail us](mailto:help@example.com)

1. first
2. second

Quote `SO-1001` in the reply:

```
refund(order)
```
"""
HOSTILE = (
    "<script>alert(1)</script>\n\n"
    '<img src=x onerror="alert(2)">\n\n'
    '<b onmouseover="alert(3)">bold</b> <a href="https://example.com" onclick="alert(4)">raw</a>\n\n'
    "[a](javascript:alert(5)) [b](JaVaScRiPt:alert(6)) <javascript:alert(7)> [c](java\tscript:alert(8))\n"
    "[d](data:text/html;base64,PHNjcmlwdD4=) [e](vbscript:x) [f](/inbox/) ![g](https://example.com/x.png)\n"
    '[h](https://example.com/" onmouseover="alert(9)) {{ who }}'
)


def preview(analyst, text, data=None):
    return analyst.post("/studio/api/instructions/preview", {"text": text, "data": data or {"who": "Jane"}})


def task_page(client, instructions: str) -> str:
    """The inbox page of a task whose instructions are `instructions` (started with who=Jane)."""
    extensions = (
        f"<spiffworkflow:instructionsForEndUser>{escape(instructions)}</spiffworkflow:instructionsForEndUser>"
    )
    deploy(user_task_process(extensions), actor="test")
    ticket, _ = start_process("tiny", make_customer().id, "Anything", {"who": "Jane"}, actor="test")
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    make_user("alice", "agent", password="pw")
    login(client, "alice")
    answer = client.get(f"/inbox/tasks/{task.id}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_headings_lists_emphasis_links_and_code_render_as_html(analyst):
    answer = preview(analyst, MARKDOWN)
    assert answer.status_code == 200, answer.get_json()
    block = lxml.html.fragment_fromstring(answer.get_json()["html"])
    assert block.get("class") == "instructions"
    assert block.xpath("h1/text()") == ["Check the order"]
    assert block.xpath("p/strong/text()") == ["Jane"] and block.xpath("p/em/text()") == ["refund"]
    assert block.xpath("ul/li[1]/text()") == ["look up the order"] and len(block.xpath("ol/li")) == 2
    links = {a.text: (a.get("href"), a.get("rel")) for a in block.iter("a")}
    assert links == {
        "the policy": ("https://example.com/policy", LINK_REL),
        "mail us": ("mailto:help@example.com", LINK_REL),
    }
    assert block.xpath("p/code/text()") == ["SO-1001"] and block.xpath("pre/code/text()") == [
        "refund(order)\n"
    ]


def test_html_scripts_event_attributes_and_other_links_never_reach_the_page(analyst, client):
    answer = preview(analyst, HOSTILE)
    assert answer.status_code == 200, answer.get_json()
    shown = answer.get_json()["html"]
    page = task_page(client, HOSTILE)
    assert shown in page  # the inbox gives the same HTML
    for html in (
        shown,
        lxml.html.tostring(lxml.html.fromstring(page).find_class("instructions")[0]).decode(),
    ):
        block = lxml.html.fragment_fromstring(html)
        assert not block.xpath("//script | //img | //b | //iframe | //style")
        assert not [a for e in block.iter() for a in e.attrib if a.lower().startswith("on")]
        links = [(a.text, a.get("href"), a.get("rel")) for a in block.iter("a")]
        assert links == [("g", "https://example.com/x.png", LINK_REL)]  # the picture, never loaded
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text
        assert "Jane" in html


def test_the_inbox_task_page_and_the_preview_give_the_same_html(analyst, client):
    shown = preview(analyst, MARKDOWN).get_json()["html"]
    assert shown.startswith('<div class="instructions">\n<h1>Check the order</h1>')
    assert shown in task_page(client, MARKDOWN)


@pytest.mark.parametrize("text", ["x" * 1_000_000, "Read this. " * 2_000])
def test_instructions_too_long_are_422_naming_text_on_the_preview(analyst, text):
    answer = preview(analyst, text)
    assert answer.status_code == 422 and "longer than 20000 characters" in answer.get_json()["errors"]["text"]


def test_instructions_longer_than_the_markdown_bound_are_plain_shortened_text_in_the_inbox(
    app, analyst, client
):
    app.config["INSTRUCTIONS_MAX_CHARS"] = 100
    text = "**Read** this.\n" * 10  # 150 characters: the template allows them, Markdown does not
    answer = preview(analyst, text)
    assert answer.status_code == 422
    assert "longer than 100 characters" in answer.get_json()["errors"]["text"]
    page = lxml.html.fromstring(task_page(client, text))
    (block,) = page.find_class("instructions")
    assert block.tag == "p" and "instructions-plain" in block.get("class")
    assert block.text == text[:100] and not block.xpath(".//strong")


@pytest.mark.parametrize("text", ["![" * 9_000, "[" * 18_000])
def test_a_pathological_text_is_stopped_at_the_deadline_422_on_preview_plain_in_the_inbox(
    app, analyst, client, text
):
    app.config["INSTRUCTIONS_RENDER_SECONDS"] = 0.02  # these take seconds unbounded (quadratic label scans)
    answer = preview(analyst, text)
    assert answer.status_code == 422
    assert "longer than 0.02 s to render as Markdown" in answer.get_json()["errors"]["text"]
    page = lxml.html.fromstring(task_page(client, text))
    (block,) = page.find_class("instructions")
    assert "instructions-plain" in block.get("class") and block.text == text
