"""Every route that takes an object id, called by every kind of outsider, never shows the other's data.

Generated from the URL map: every route in ROUTES (tests/web/test_access.py, whose
`test_every_route_with_an_object_id_is_covered` fails when a route with an id is missing from
it) is called with Jane's objects (her return ticket of team returns, its task, attachment and
incident) as anonymous, as an agent and a manager of the support team, and as another customer,
through a session for pages and a bearer token for the API. None may answer 2xx or show her
data: only 401, 403, 404 or a redirect to the sign-in page.

The routes that take an id in the body or the query string (messages' ticket_id, the incident
list, the ticket and task lists' filters) are in BODY_ROUTES; the OpenAPI document says which
those are, so a new one fails `test_every_api_id_in_a_body_or_query_is_covered`.
"""

import re

import pytest

from app.accounts import new_token
from app.api.openapi import document
from app.engine import complete_task, start_process
from app.extensions import db
from app.models import (
    CannedReply,
    Customer,
    HistoryEvent,
    HumanTask,
    Incident,
    SavedFilter,
    Team,
    Ticket,
    User,
)
from app.worker import drain
from tests.engine.conftest import RETURN_START
from tests.factories import (
    PATH_VALUES,
    add_photo,
    deploy_shipped,
    login,
    make_customer_user,
    make_user,
    token_for,
)
from tests.web.test_access import ROUTES

SECRET = "Zebra-4711"  # in the subject, the attachment and the incident: never shown to an outsider
OUTSIDERS = ("anonymous", "support_agent", "support_manager", "other_customer")
# Not owned by anyone (shared by design): only the anonymous visitor is refused.
SHARED = ("a ticket type", "diagrams are shared", "forms are shared", "a signed capability link", "public")

# endpoint -> what in its body or query string names an object, and how it is scoped.
BODY_ROUTES = {
    "api.post_message": "ticket_id in the body: only tickets the caller may act on (app.access)",
    "api.list_tickets": "customer_id in the query: a filter within the caller's visible tickets",
    "api.list_tasks": "ticket_id in the query: a filter within the caller's visible tasks",
    "api.open_ticket": "customer_id in the body: staff open tickets for any customer; customers for themselves",
}


@pytest.fixture
def jane(app, clock):
    """Jane's two return tickets (team returns): one with an open review task, an attachment and
    an incident; one waiting for her reply after Alice asked a question."""
    deploy_shipped()
    alice = make_user("alice", "agent", teams=("returns",), password="pw")
    make_user("dave", "agent", teams=("support",), password="pw")
    make_user("mallory", "manager", teams=("support",), password="pw")
    make_user("root", "admin", password="pw")
    user, profile = make_customer_user("jane", name="Jane Doe")
    make_customer_user("omar")
    open_ticket, instance = start_process("return", profile.id, f"{SECRET} shoes", RETURN_START, actor="jane")
    waiting, _ = start_process("return", profile.id, f"{SECRET} socks", RETURN_START, actor="jane")
    drain()
    task = _task_of(open_ticket.id)
    complete_task(_task_of(waiting.id).id, {"decision": "more_info", "question": "Photo?"}, alice)
    drain()
    make_user("bob", "agent", teams=("returns",), password="pw")  # of the team, never worked on them
    attachment = add_photo(open_ticket.id, user.id, SECRET.encode())
    incident = Incident(
        instance_id=instance.id, ticket_id=open_ticket.id, kind="job", message=f"{SECRET} failed"
    )
    db.session.add(incident)
    reply = CannedReply(name=f"{SECRET} sorry", body="Dear {{ customer.name }}", team_key="returns")
    saved = SavedFilter(user_id=alice.id, name=f"{SECRET} returns", query="view=team&type=return")
    db.session.add_all([reply, saved])
    db.session.commit()
    return {
        "reply_id": reply.id,
        "filter_id": saved.id,
        "ticket_id": open_ticket.id,
        "waiting_id": waiting.id,
        "task_id": task.id,
        "attachment_id": attachment.id,
        "incident_id": incident.id,
        "user_id": alice.id,
        "team_id": db.session.execute(db.select(Team.id).where(Team.key == "returns")).scalar(),
        "mail_id": 1,
        **PATH_VALUES,
    }


def _task_of(ticket_id):
    return db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket_id)).scalar_one()


def _user(username):
    return db.session.execute(db.select(User).where(User.username == username)).scalar_one()


class Caller:
    """One person calling routes: pages through a signed-in session, the API with their token."""

    USERNAMES = {"support_agent": "dave", "support_manager": "mallory", "other_customer": "omar"}

    def __init__(self, app, who):
        self.client = app.test_client()
        self.username = self.USERNAMES.get(who, who)
        self.token = None
        if who != "anonymous":
            login(self.client, self.username)
            self.token = token_for(_user(self.username))

    def headers(self, url, scopes=""):
        """The session's cookie for pages; for the API the person's token, or a new one with `scopes`."""
        if not url.startswith("/api/") or not self.token:
            return {}
        token = self.token
        if scopes:
            token = new_token(_user(self.username), scopes=tuple(scopes.split()))
            db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    def call(self, method, url, json=None, scopes=""):
        headers = self.headers(url, scopes)
        if method == "GET":
            return self.client.get(url, headers=headers)
        if url.startswith("/api/"):
            return self.client.post(url, headers=headers, json=json if json is not None else {})
        return self.client.post(url, headers=headers, data={"csrf_token": self._csrf()})

    def _csrf(self):
        for page in ("/inbox/", "/portal/", "/login"):
            answer = self.client.get(page)
            match = re.search(r'name="csrf_token" value="([^"]+)"', answer.get_data(as_text=True))
            if answer.status_code == 200 and match:
                return match.group(1)
        return ""


def _url(app, endpoint, objects):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(objects[name]), url)
    return ("GET" if "GET" in rule.methods else "POST"), url


def _refused(answer) -> bool:
    if answer.status_code in (302, 303):
        return "/login" in answer.headers["Location"]
    return answer.status_code in (401, 403, 404)


def _owned(endpoint):
    return endpoint != "static" and not any(word in ROUTES[endpoint] for word in SHARED)


CASES = [
    (endpoint, who)
    for endpoint in sorted(ROUTES)
    for who in OUTSIDERS
    if endpoint != "static"
    and (_owned(endpoint) or (who == "anonymous" and "capability" not in ROUTES[endpoint]))
]


@pytest.mark.parametrize(("endpoint", "who"), CASES)
def test_an_outsider_is_refused_and_sees_nothing_of_janes(app, jane, endpoint, who):
    method, url = _url(app, endpoint, jane)
    answer = Caller(app, who).call(method, url)
    assert _refused(answer), (who, method, url, answer.status_code)
    assert SECRET not in answer.get_data(as_text=True)


# ------------------------------------------------------------------------------- the body routes


def test_every_api_id_in_a_body_or_query_is_covered(app):
    """An API operation with an `*_id` parameter or body property must be listed in BODY_ROUTES."""
    endpoints = {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()}
    named = set()
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            names += list(schema.get("schema", {}).get("properties", {}))
            if any(name.endswith("_id") for name in names):
                named.add(endpoints[re.sub(r"\{(\w+)\}", r"<\1>", path)])
    assert named - set(BODY_ROUTES) == set(), "add the new routes to BODY_ROUTES with their owner check"


def _deliver(caller, ticket_id=None, name="customer_reply", scopes=""):
    body = {"name": name, "payload": {"message": "Here"}}
    if ticket_id is not None:
        body["ticket_id"] = ticket_id
    return caller.call("POST", "/api/v1/messages", json=body, scopes=scopes)


def _waits(ticket_id):
    from app.engine import instance_of_ticket, waiting_of

    return [m["name"] for m in waiting_of(instance_of_ticket(ticket_id).id)["messages"]]


@pytest.mark.parametrize("who", ["support_agent", "support_manager", "other_customer"])
@pytest.mark.parametrize("by_ticket_id", [True, False])
def test_an_outsider_cannot_deliver_a_message_to_janes_ticket(app, jane, who, by_ticket_id):
    answer = _deliver(Caller(app, who), jane["waiting_id"] if by_ticket_id else None)
    assert answer.status_code == 404, answer.json
    assert str(jane["waiting_id"]) not in answer.json["error"] or by_ticket_id
    assert _waits(jane["waiting_id"]) == ["customer_reply"]


def test_anonymous_cannot_deliver_a_message(app, jane):
    assert _deliver(Caller(app, "anonymous"), jane["waiting_id"]).status_code == 401


def test_a_failed_delivery_attempt_leaves_no_trace_and_grants_no_access(app, jane):
    dave = Caller(app, "support_agent")
    _deliver(dave, jane["waiting_id"])
    _deliver(dave)
    assert dave.call("GET", f"/api/v1/tickets/{jane['waiting_id']}").status_code == 404
    actors = db.session.execute(db.select(HistoryEvent.actor).where(HistoryEvent.actor == "dave")).all()
    assert actors == []


def test_an_agent_of_the_tickets_team_delivers_it_even_without_having_worked_on_it(app, jane):
    answer = _deliver(Caller(app, "bob"), jane["waiting_id"])
    assert answer.status_code == 200, answer.json
    assert _waits(jane["waiting_id"]) == []


def test_the_customer_delivers_her_reply_by_correlation_to_her_own_ticket(app, jane):
    answer = _deliver(Caller(app, "jane"))
    assert answer.status_code == 200, answer.json
    assert answer.json["ticket_id"] == jane["waiting_id"]


def test_the_customer_may_send_only_customer_messages(app, jane):
    answer = _deliver(Caller(app, "jane"), jane["waiting_id"], name="feedback_received")
    assert answer.status_code == 404


def test_a_token_with_the_messages_scope_delivers_to_any_ticket_but_does_not_see_it(app, jane):
    dave = Caller(app, "support_agent")
    answer = _deliver(dave, jane["waiting_id"], scopes="messages")
    assert answer.status_code == 200, answer.json
    assert dave.call("GET", f"/api/v1/tickets/{jane['waiting_id']}").status_code == 404
    inbox = dave.client.get(f"/inbox/tickets/{jane['waiting_id']}")
    assert inbox.status_code == 404


def test_an_admin_delivers_to_any_ticket(app, jane):
    assert _deliver(Caller(app, "root"), jane["waiting_id"]).status_code == 200


# ----------------------------------------------------------------------------------- incidents


def _incident_ids(caller, all_=True):
    answer = caller.call("GET", "/api/v1/incidents" + ("?all=1" if all_ else ""))
    assert answer.status_code == 200, answer.json
    return [i["id"] for i in answer.json["incidents"]]


@pytest.mark.parametrize("who", ["support_agent", "support_manager"])
def test_the_incident_list_hides_other_teams_incidents(app, jane, who):
    assert _incident_ids(Caller(app, who)) == []
    assert _incident_ids(Caller(app, who), all_=False) == []


def test_the_incident_list_shows_the_teams_and_an_admin_all(app, jane):
    assert _incident_ids(Caller(app, "bob")) == [jane["incident_id"]]
    assert _incident_ids(Caller(app, "root")) == [jane["incident_id"]]


def test_customers_and_anonymous_get_no_incident_list(app, jane):
    assert Caller(app, "other_customer").call("GET", "/api/v1/incidents").status_code == 403
    assert Caller(app, "anonymous").call("GET", "/api/v1/incidents").status_code == 401


def test_a_manager_of_another_team_cannot_retry_the_incident(app, jane):
    answer = Caller(app, "support_manager").call("POST", f"/api/v1/incidents/{jane['incident_id']}/retry")
    assert answer.status_code == 404
    assert db.session.get(Incident, jane["incident_id"]).resolved_at is None


@pytest.mark.parametrize(
    "url",
    ["/api/v1/tickets?customer_id={customer}", "/api/v1/tasks?ticket_id={ticket}"],
)
def test_list_filters_by_id_show_nothing_of_another_team(app, jane, url):
    customer = db.session.execute(db.select(Customer.id).where(Customer.name == "Jane Doe")).scalar()
    answer = Caller(app, "support_agent").call("GET", url.format(customer=customer, ticket=jane["ticket_id"]))
    assert answer.status_code == 200
    assert SECRET not in answer.get_data(as_text=True)


# ------------------------------------------------------------------------- whose ticket it is


def test_an_agent_of_the_team_sees_its_ticket_while_it_waits_for_the_customer(app, jane):
    """The ticket has no open task, but team returns had one on it: Bob (returns) sees it."""
    bob = Caller(app, "bob")
    assert bob.call("GET", f"/api/v1/tickets/{jane['waiting_id']}").status_code == 200
    assert bob.client.get(f"/inbox/tickets/{jane['waiting_id']}").status_code == 200


def test_the_team_its_sla_policy_names_sees_the_ticket(app, jane):
    ticket = db.session.get(Ticket, jane["waiting_id"])
    ticket.sla_team_key = "support"
    db.session.commit()
    dave = Caller(app, "support_agent")
    assert dave.call("GET", f"/api/v1/tickets/{jane['waiting_id']}").status_code == 200
    assert dave.call("GET", f"/api/v1/tickets/{jane['ticket_id']}").status_code == 404
