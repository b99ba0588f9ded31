"""What the API refuses at its edge, before any view or the engine sees it: JSON with NaN or
Infinity, JSON nested too deeply, text that is not valid Unicode or holds a NUL, integers out of
range or of the wrong type, non-ASCII digits, control characters in query strings. Each answer
names the field; nothing is stored."""

import pytest

from app.extensions import db
from app.models import Ticket

JSON = {"Content-Type": "application/json"}


def _post_raw(api, url: str, body: str | bytes):
    return api.client.post(url, data=body, headers={**api._headers(), **JSON})


def _ticket_body(customer_id, subject='"Broken"', data="{}") -> str:
    return f'{{"type": "general", "customer_id": {customer_id}, "subject": {subject}, "data": {data}}}'


def _no_ticket_stored() -> bool:
    return db.session.execute(db.select(Ticket)).first() is None


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_a_json_body_are_400(staff, shipped, constant):
    answer = _post_raw(
        staff["admin"], "/api/v1/tickets", _ticket_body(shipped.id, data=f'{{"amount": {constant}}}')
    )

    assert answer.status_code == 400
    assert constant.lstrip("-") in answer.json["errors"]["body"]
    assert _no_ticket_stored()


def test_a_thousand_nested_brackets_are_400_not_a_recursion_error(staff):
    answer = _post_raw(staff["admin"], "/api/v1/tickets", "[" * 1000 + "]" * 1000)

    assert answer.status_code == 400
    assert "nested too deeply" in answer.json["errors"]["body"]


def test_nesting_within_the_limit_is_read(staff, shipped):
    answer = _post_raw(staff["admin"], "/api/v1/tickets", _ticket_body(shipped.id, data='{"a": [[[["x"]]]]}'))

    assert answer.status_code == 422  # the general start form decides, not the parser
    assert "body" not in answer.json["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_ticket_body(1, subject='"x\\ud800y"'), "subject"),
        (_ticket_body(1, data='{"notes": ["ok", "x\\udc00"]}'), "data.notes[1]"),
        (_ticket_body(1, data='{"x\\ud800": 1}'), "data.x\\ud800"),
        (_ticket_body(1, subject='"a\\u0000b"'), "subject"),
    ],
)
def test_text_that_is_not_valid_unicode_or_holds_nul_is_400_naming_the_field(staff, shipped, body, field):
    answer = _post_raw(staff["admin"], "/api/v1/tickets", body)

    assert answer.status_code == 400
    assert list(answer.json["errors"]) == [field]
    assert _no_ticket_stored()


def test_a_body_that_is_not_utf8_is_400(staff):
    answer = _post_raw(staff["admin"], "/api/v1/tickets", b'{"subject": "\xed\xa0\x80"}')

    assert answer.status_code == 400 and "UTF-8" in answer.json["errors"]["body"]


def test_lone_surrogates_in_a_message_payload_never_reach_the_engine(staff, shipped):
    answer = _post_raw(
        staff["admin"],
        "/api/v1/messages",
        '{"name": "customer_reply", "ticket_id": 1, "payload": {"m": "\\ud800"}}',
    )

    assert answer.status_code == 400 and list(answer.json["errors"]) == ["payload.m"]


@pytest.mark.parametrize("value", ["true", "false", str(2**70), "2147483648", "-1", "1.0", '"1"'])
def test_customer_id_must_be_a_whole_number_in_range(staff, shipped, value):
    answer = _post_raw(staff["admin"], "/api/v1/tickets", _ticket_body(value))

    assert answer.status_code == 422
    assert "customer_id" in answer.json["errors"]
    assert _no_ticket_stored()


@pytest.mark.parametrize("value", ["true", str(2**70), "2147483648"])
def test_a_message_ticket_id_must_be_a_whole_number_in_range(staff, value):
    answer = _post_raw(
        staff["admin"], "/api/v1/messages", f'{{"name": "customer_reply", "ticket_id": {value}}}'
    )

    assert answer.status_code == 422 and "ticket_id" in answer.json["errors"]


def test_a_subject_longer_than_300_characters_is_422(staff, shipped):
    answer = staff["admin"].post(
        "/api/v1/tickets",
        json={"type": "general", "customer_id": shipped.id, "subject": "x" * 301, "data": {}},
    )

    assert answer.status_code == 422 and "subject" in answer.json["errors"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/tickets/１",
        "/api/v1/tickets/٣",
        "/api/v1/tickets/2147483648",
        f"/api/v1/tickets/{2**70}",
        "/api/v1/process-definitions/return/versions/１",
        f"/api/v1/process-definitions/return/versions/{2**70}",
        "/api/v1/tasks/a%00b/claim",
        "/api/v1/forms/a%00b",
    ],
)
def test_non_ascii_digits_huge_ids_and_nul_in_paths_are_404(staff, shipped, url):
    method = "post" if url.endswith("/claim") else "get"

    assert getattr(staff["admin"], method)(url).status_code == 404


def test_a_huge_incident_id_is_404(staff):
    assert staff["admin"].post(f"/api/v1/incidents/{2**70}/retry").status_code == 404


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/tasks?ticket_id=null", "ticket_id"),
        ("/api/v1/tasks?ticket_id=", "ticket_id"),
        ("/api/v1/tasks?ticket_id=１", "ticket_id"),
        (f"/api/v1/tasks?ticket_id={2**70}", "ticket_id"),
        ("/api/v1/tasks?limit=501", "limit"),
        ("/api/v1/tasks?state=maybe", "state"),
        (f"/api/v1/tickets?offset={2**70}", "offset"),
        (f"/api/v1/tickets?customer_id={2**70}", "customer_id"),
        ("/api/v1/tickets?customer_id=true", "customer_id"),
        ("/api/v1/tickets?limit=0", "limit"),
        ("/api/v1/forms/return_start.json?version=²", "version"),
        ("/api/v1/incidents?all=yes", "all"),
    ],
)
def test_query_integers_and_choices_out_of_range_are_422_naming_the_parameter(staff, shipped, url, name):
    answer = staff["admin"].get(url)

    assert answer.status_code == 422
    assert list(answer.json["errors"]) == [name]


@pytest.mark.parametrize("value", ["a%00b", "a%0Ab", "a%7Fb", "%ED%A0%80", "%FF"])
def test_control_characters_and_invalid_utf8_in_query_strings_are_400_naming_the_parameter(staff, value):
    answer = staff["admin"].get(f"/api/v1/tasks?team={value}")

    assert answer.status_code == 400
    assert list(answer.json["errors"]) == ["team"]


def test_a_json_body_above_the_limit_is_413(app, staff):
    app.config["MAX_JSON_BYTES"] = 1000
    answer = staff["admin"].post("/api/v1/tickets", json={"subject": "x" * 2000})

    assert answer.status_code == 413 and "body" in answer.json["errors"]


def test_api_405_answers_carry_allow(staff):
    answer = staff["admin"].client.delete("/api/v1/tickets", headers=staff["admin"]._headers())

    assert answer.status_code == 405
    assert set(answer.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert answer.is_json
