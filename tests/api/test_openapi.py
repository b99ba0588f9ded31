"""The OpenAPI document is served without a token and describes exactly the routes that exist."""

import re

import pytest

from app import create_app

API_PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def app():
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get(f"{API_PREFIX}/openapi.json").get_json()


def openapi_path(rule: str) -> str:
    """Flask's `<int:ticket_id>` written the OpenAPI way, `{ticket_id}`."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule)


def api_routes(app) -> dict[str, set[str]]:
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static" and rule.rule.startswith(API_PREFIX):
            routes.setdefault(openapi_path(rule.rule), set()).update(rule.methods - IGNORED_METHODS)
    return routes


def refs_in(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs_in(item)


def test_document_is_served_as_openapi_3_1_json_without_a_token(app):
    response = app.test_client().get(f"{API_PREFIX}/openapi.json")

    assert response.status_code == 200
    assert response.is_json
    assert response.get_json()["openapi"].startswith("3.1.")
    assert response.get_json()["info"]["title"] == "Ticketflow API"


def test_every_api_route_is_described_with_each_of_its_methods(app, spec):
    missing = [
        f"{method} {path}"
        for path, methods in api_routes(app).items()
        for method in sorted(methods)
        if method.lower() not in spec["paths"].get(path, {})
    ]

    assert missing == []


def test_document_describes_no_route_that_does_not_exist(app, spec):
    routes = api_routes(app)
    invented = [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if method != "parameters"
        if method.upper() not in routes.get(path, set())
    ]

    assert invented == []


def test_every_path_parameter_is_declared(spec):
    undeclared = []
    for path, item in spec["paths"].items():
        for name in re.findall(r"{([^}]+)}", path):
            declared = [p["name"] for p in item.get("parameters", []) if p["in"] == "path"]
            if name not in declared:
                undeclared.append(f"{path}: {name}")

    assert undeclared == []


def test_every_ref_resolves_inside_the_document(spec):
    def resolves(ref: str) -> bool:
        if not ref.startswith("#/"):
            return False
        node = spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    broken = [ref for ref in refs_in(spec) if not resolves(ref)]

    assert broken == []


def test_protected_operations_declare_bearer_and_its_401_and_403(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters" or op["security"] == []:
                continue
            assert op["security"] == [{"bearer": []}], f"{method} {path}"
            assert {"401", "403"} <= op["responses"].keys(), f"{method} {path}"
