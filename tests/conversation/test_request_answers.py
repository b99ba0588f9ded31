"""The request as people read it: the customer sees what they submitted, the agent the whole request."""

from tests.factories import login

RETURN = {
    "order_number": "SO-1001",
    "items": [{"sku": "SHOE-42", "qty": 1}, {"sku": "SOCK-1", "qty": 2}],
    "reason": "wrong_item",
    "amount": 89.9,
    "preferred_resolution": "credit_note",
}


def test_the_customer_sees_their_answers_labelled_with_the_forms_titles(client, desk):
    ticket = desk.open("return", RETURN, subject="Wrong shoes")
    login(client, "jane")
    html = client.get(f"/portal/tickets/{ticket.id}").get_data(as_text=True)
    assert "What you asked us" in html
    for shown in ("Order number", "SO-1001", "Reason for the return", "Wrong item", "89.90", "Credit note"):
        assert shown in html
    assert "Article number (SKU): SHOE-42; Quantity: 1" in html and "SOCK-1" in html
    assert "not given" not in html  # the optional description the customer left out is not listed


def test_the_agent_sees_every_field_of_the_request_with_the_empty_ones_marked(client, desk):
    ticket = desk.open("return", RETURN, subject="Wrong shoes")
    [task] = desk.tasks(ticket)
    login(client, "alice")
    for page in (f"/inbox/tasks/{task.id}", f"/inbox/tickets/{ticket.id}"):
        html = client.get(page).get_data(as_text=True)
        assert "The request" in html and "SO-1001" in html and "Wrong item" in html
        description = html.index("<dt>Description</dt>")
        assert '<dd class="empty">not given</dd>' in html[description : description + 80]
