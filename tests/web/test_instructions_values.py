"""What a customer typed fills task instructions as literal text: the diagram's own Markdown renders,
a customer's link or heading does not (app/engine/expressions/templates.py `markdown_values`)."""

from app.engine import deploy, start_process
from app.engine.expressions import render_bounded
from app.extensions import db
from app.models import HumanTask
from tests.diagrams import user_task_process
from tests.factories import login, make_customer, make_user
from tests.web.test_inbox import page_of

HOSTILE = "[click](http://evil.example) # Heading"
INSTRUCTIONS = "**Read first:** the customer wrote: {{ description }}"


def test_a_customers_link_and_heading_show_as_typed_in_the_instructions_the_diagrams_markdown_renders(
    client, app
):
    deploy(
        user_task_process(
            f"<spiffworkflow:instructionsForEndUser>{INSTRUCTIONS}</spiffworkflow:instructionsForEndUser>"
        ),
        actor="test",
    )
    ticket, _ = start_process("tiny", make_customer().id, "Hostile", {"description": HOSTILE}, actor="test")
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    make_user("carol", "agent", password="pw")
    login(client, "carol")
    page = page_of(client.get(f"/inbox/tasks/{task.id}"))
    [card] = page.xpath("//section[contains(@class, 'task-card')]")
    assert card.xpath("string(.//strong)") == "Read first:"  # the diagram's Markdown
    assert HOSTILE in " ".join(card.text_content().split())  # the customer's, literally
    assert not card.xpath(".//a[contains(@href, 'evil.example')]")
    assert not card.xpath(".//h1 | .//h2[not(@id='task-heading')] | .//h3")


def test_other_templates_render_values_as_they_are():
    assert render_bounded("Dear {{ name }}", {"name": "[Jane](x) *Doe*"}) == "Dear [Jane](x) *Doe*"
