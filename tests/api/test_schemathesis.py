"""schemathesis over the OpenAPI document, against the in-process app on seeded data.

Every operation gets 25 generated requests (positive and negative, a fixed seed), each sent with
the tokens of an admin, a returns agent and a customer (or with none when the case is made to go
without one), and every built-in check runs: no 5xx, documented status codes, content types and
headers, answers that match their schema, schema-valid requests accepted (2xx, or the 401, 403,
404, 409 and 422 that depend on data the schema cannot know: deployed types, existing customers,
task states) and schema-violating requests refused.

The schema is loaded from `document()` at collection and sends to whichever app the running test
made (`CURRENT`): schemathesis' own fixture loader does not work with this pytest.
"""

import copy

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config._checks import PositiveDataAcceptanceConfig

from app.api.openapi import document
from app.worker import drain
from tests.engine.conftest import RETURN_START
from tests.factories import deploy_shipped, make_customer_user, make_user, token_for

ROLES = ("admin", "agent", "customer")


class CurrentApp:
    """A WSGI app that forwards to the app of the running test."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


CURRENT = CurrentApp()
schema = schemathesis.openapi.from_dict(copy.deepcopy(document()))
schema.app = CURRENT
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=["2xx", "401", "403", "404", "409", "422"]
)


@pytest.fixture
def tokens(app, clock):
    """The shipped processes, an admin, a returns agent, a customer with a ticket; their tokens."""
    CURRENT.app = app
    deploy_shipped()
    admin = make_user("admin", "admin")
    agent = make_user("alice", "agent", teams=("returns",))
    user, customer = make_customer_user("jane")
    tokens = {"admin": token_for(admin), "agent": token_for(agent), "customer": token_for(user)}
    opened = app.test_client().post(
        "/api/v1/tickets",
        json={"type": "return", "subject": "Broken kettle", "data": RETURN_START},
        headers={"Authorization": f"Bearer {tokens['customer']}"},
    )
    assert opened.status_code == 201, opened.json
    drain()  # its first task opens
    return tokens


@schema.parametrize()
@settings(
    max_examples=25, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
)
def test_api_answers_every_generated_request_as_documented(case, tokens):
    if schema.is_security_param_negated(case):  # a case made to go without its token
        case.call_and_validate()
        return
    for role in ROLES:
        case.call_and_validate(headers={"Authorization": f"Bearer {tokens[role]}"})
