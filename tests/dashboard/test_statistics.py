"""GET /api/v1/process-definitions/{key}/statistics: per element of a version over a period."""

import pytest

from tests.factories import make_user, token_for

URL = "/api/v1/process-definitions/{key}/statistics"


def get(client, token, key="general", **query):
    return client.get(URL.format(key=key), query_string=query, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def manager_token(desk):
    return token_for(desk.manager)


def by_id(answer):
    return {e["element_id"]: e for e in answer.get_json()["elements"]}


def test_counts_and_time_spent_per_element(desk, week, client, manager_token):
    answer = get(client, manager_token, **{"from": "2026-11-23", "to": "2026-11-29"})
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["key"], body["version"], body["from"], body["to"]) == (
        "general",
        1,
        "2026-11-23",
        "2026-11-29",
    )
    elements = by_id(answer)
    # answer_question: 1 h (quick), 2 h (slow, "not yet"), 22 h (slow, the answer on Tuesday).
    task = elements["answer_question"]
    assert (task["completed"], task["cancelled"], task["active"], task["incidents"]) == (3, 0, 0, 0)
    assert task["median_seconds"] == pytest.approx(7200, rel=0.1)
    assert task["p90_seconds"] == pytest.approx(22 * 3600, rel=0.1)
    assert elements["follow_up"]["active"] == 1  # slow's low rating waits for a follow-up
    complaint = by_id(
        get(client, manager_token, key="complaint", **{"from": "2026-11-23", "to": "2026-11-29"})
    )
    # The first response went overdue: the boundary timer cancelled the task, a lead's task is open.
    assert complaint["initial_response"]["cancelled"] == 1
    assert complaint["lead_initial_response"]["active"] == 1
    assert complaint["first_response_overdue"]["completed"] == 1


def test_a_period_without_activity_shows_only_what_is_active(desk, week, client, manager_token):
    elements = by_id(get(client, manager_token, **{"from": "2026-10-01", "to": "2026-10-31"}))
    assert elements["answer_question"]["completed"] == 0 if "answer_question" in elements else True
    assert elements["follow_up"] == {
        "element_id": "follow_up",
        "active": 1,
        "completed": 0,
        "cancelled": 0,
        "incidents": 0,
        "median_seconds": None,
        "p90_seconds": None,
    }


def test_who_may_read_it(desk, client):
    for role, status in (("analyst", 200), ("admin", 200), ("agent", 403), ("customer", 403)):
        assert get(client, token_for(make_user(f"someone-{role}", role))).status_code == status
    assert client.get(URL.format(key="general")).status_code == 401


@pytest.mark.parametrize(
    "query, field",
    [
        ({"version": "0"}, "version"),
        ({"version": "x"}, "version"),
        ({"from": "2026-02-30"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-1-1"}, "to"),
        ({"from": "2026-11-05", "to": "2026-11-01"}, "from"),
        ({"from": "2025-01-01", "to": "2026-11-01"}, "to"),
    ],
)
def test_bad_parameters_are_422_naming_them(desk, client, manager_token, query, field):
    answer = get(client, manager_token, **query)
    assert answer.status_code == 422
    assert field in answer.get_json()["errors"]


def test_unknown_process_or_version_is_404(desk, client, manager_token):
    assert get(client, manager_token, key="nope").status_code == 404
    assert get(client, manager_token, version="9").status_code == 404


def test_dates_at_the_edges_of_the_calendar(desk, client, manager_token):
    assert get(client, manager_token, to="0001-01-05").status_code == 422
    assert get(client, manager_token, **{"from": "0001-01-01", "to": "0001-01-05"}).status_code == 200
    assert get(client, manager_token, **{"from": "9999-12-01", "to": "9999-12-31"}).status_code == 200


def test_a_manager_of_some_teams_sees_their_types(desk, client):
    """General and complaint belong to support (their SLA policy's team); return to nobody here."""
    support = token_for(make_user("mia", "manager", teams=("support",)))
    returns = token_for(make_user("rob", "manager", teams=("returns",)))
    assert get(client, support).status_code == 200
    assert get(client, support, key="complaint").status_code == 200
    assert get(client, support, key="return").status_code == 404
    assert get(client, returns).status_code == 404


def test_the_heatmap_page_lists_the_types_a_lead_sees(desk, app, client):
    from tests.factories import login

    login(client, "lena")  # leads support
    page = client.get("/dashboard/heatmap").get_data(as_text=True)
    assert '<option value="general"' in page and '<option value="complaint"' in page
    assert '<option value="return"' not in page
    assert client.get("/dashboard/heatmap?type=return").status_code == 422
    manager = app.test_client()
    login(manager, "max")  # sees everything
    assert '<option value="return"' in manager.get("/dashboard/heatmap").get_data(as_text=True)
